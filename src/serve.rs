//! The dashboard process `serve` runs: its listener, its databases checked
//! and brought up to date, its state database, its session key, its HTTP
//! server and, when it runs the embedded PostgreSQL, the supervisor that
//! restarts that after a crash (`embedded/supervisor.rs`). `main` and the
//! tests build it the same way ([`Application`]), so the tests run what
//! `serve` runs. The command line shares [`crate::startup`] with it, and
//! nothing of the web stack.

use std::fs;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use actix_web::dev::{Server, ServerHandle};
use anyhow::{Context, bail};
use rand::RngExt;

use crate::config::Settings;
use crate::embedded::supervisor::Policy;
use crate::embedded::{Announce, Supervisor};
use crate::registry::{ManagedDatabase, Registry};
use crate::roles::RoleError;
use crate::startup::{StartupError, StateUse, Target};
use crate::state::{LoginPolicy, StateStore};
use crate::web::{AppData, RequestLimits, SESSION_KEY_LEN, SessionPolicy, WebSettings};

/// The dashboard, built from settings: listening, its databases checked,
/// its HTTP server made but not yet running. `main` and the tests both
/// build it this way, so the tests run what `serve` runs.
pub struct Application {
    address: SocketAddr,
    server: Server,
    /// Which databases are managed and where, when the settings named them.
    description: Option<String>,
    /// The embedded cluster, when pgusers runs one: watched and restarted
    /// after a crash while serving, stopped when this goes (after the
    /// server has stopped, or when building failed).
    embedded: Option<Supervisor>,
}

impl Application {
    /// The dashboard `serve` runs with `settings`.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::builder(settings).build().await
    }

    /// A dashboard from `settings`, with what is not a setting (the login
    /// policy, the request limits, given databases) changed first.
    pub fn builder(settings: Settings) -> ApplicationBuilder {
        ApplicationBuilder {
            settings,
            parts: None,
            logins: LoginPolicy::default(),
            limits: RequestLimits::default(),
        }
    }

    /// Where the dashboard listens (its port, when port 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Which databases are managed and where, when the settings named them
    /// (see [`Target::describe`]).
    pub fn describe(&self) -> Option<String> {
        self.description.clone()
    }

    /// Stops the server when asked (`stop(true)`: gracefully).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped through [`Application::handle`],
    /// then stops the embedded cluster if this process started it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            server, embedded, ..
        } = self;
        let result = server.await;
        drop(embedded);
        result
    }
}

/// Builds an [`Application`]; see [`Application::builder`].
pub struct ApplicationBuilder {
    settings: Settings,
    parts: Option<(Registry, StateStore)>,
    logins: LoginPolicy,
    limits: RequestLimits,
}

impl ApplicationBuilder {
    /// Serves these databases and this state store instead of those the
    /// settings name (tests make theirs with pool sizes and protected users
    /// of their own).
    pub fn parts(mut self, databases: Registry, state: StateStore) -> Self {
        self.parts = Some((databases, state));
        self
    }

    /// When failed logins slow down and lock out.
    pub fn logins(mut self, logins: LoginPolicy) -> Self {
        self.logins = logins;
        self
    }

    /// How long and how large a request may be.
    pub fn limits(mut self, limits: RequestLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Binds the listen address (port 0: any free port), resolves the
    /// databases, checks them and builds the server. Settings that cannot
    /// work stop here, before anything is served; a database that is merely
    /// down is waited for.
    pub async fn build(self) -> Result<Application, StartupError> {
        let Self {
            settings,
            parts,
            logins,
            limits,
        } = self;
        // Before anything is started: a taken port fails at once.
        let listen = &settings.dashboard.listen;
        let listener = TcpListener::bind(listen).map_err(|error| {
            if error.kind() == std::io::ErrorKind::AddrInUse {
                anyhow::anyhow!(
                    "listening on {listen}: {error}. Another program listens there (another \
                     pgusers?): choose another address with --listen ADDRESS:PORT or \
                     PGUSERS_LISTEN"
                )
            } else {
                anyhow::Error::new(error).context(format!("listening on {listen}"))
            }
        })?;
        let (embedded, description, databases, state) = match parts {
            Some((databases, state)) => (None, None, databases, state),
            None => {
                let mut target = Target::resolve(&settings, Announce::Stdout).await?;
                let databases = target.registry();
                let description = target.describe();
                // From here on, the supervisor stops the cluster if building fails.
                let embedded = target
                    .embedded
                    .take()
                    .map(|embedded| Supervisor::start(embedded.cluster, Policy::default()));
                let state = target.state_store(&settings, Announce::Stdout, StateUse::Dashboard)?;
                (embedded, Some(description), databases, state)
            }
        };
        check_databases(&databases).await?;
        if let Err(error) = state.ensure_ready().await {
            if error.is_misconfiguration() {
                return Err(error.into());
            }
            tracing::warn!(
                error = %crate::failure::chain(&error),
                "the state database is not ready yet; pgusers will retry"
            );
        }
        let address = listener
            .local_addr()
            .context("reading the listen address")?;
        let web_settings = WebSettings {
            session_key: session_key(&settings)?,
            secure_cookies: settings.dashboard.secure_cookies.applies_to(address),
            sessions: SessionPolicy {
                idle: settings.dashboard.session_idle.0,
                lifetime: settings.dashboard.session_lifetime.0,
            },
            logins,
            limits,
            trusted_proxies: settings
                .dashboard
                .trusted_proxies
                .clone()
                .unwrap_or_default(),
        };
        let server = crate::web::server(
            listener,
            AppData {
                databases,
                store: state,
                embedded: embedded.as_ref().map(Supervisor::state),
            },
            web_settings,
        )
        .context("starting the dashboard's server")?;
        Ok(Application {
            address,
            server,
            description,
            embedded,
        })
    }
}

/// Checks each database at start. With one, settings that cannot work stop
/// pgusers here, before it prints an address or a password; with several,
/// a database that cannot be used is logged and shown as such, and the
/// others are served. A server that is merely down is waited for.
async fn check_databases(databases: &Registry) -> Result<(), RoleError> {
    let single = databases.all().len() == 1;
    for database in databases.all() {
        match database.roles.check().await {
            Ok(()) => {
                log_admin_kind(database).await;
                upgrade(database).await;
            }
            Err(error) if single && error.is_misconfiguration() => return Err(error),
            Err(error) if single => tracing::warn!(
                error = %crate::failure::chain(&error),
                "the managed database is not reachable yet; pgusers will retry"
            ),
            Err(error) => tracing::warn!(
                database = %database.id,
                error = %crate::failure::chain(&error),
                "this database cannot be used yet; its pages say so until it can"
            ),
        }
    }
    Ok(())
}

/// Brings what an older pgusers set up in a database to this version's
/// (see `roles::upgrade`), so existing users lose at start what this
/// version no longer gives. A refusal is logged and serving goes on: the
/// changes that need the upgrade (create, delete, the doctor's fix) try it
/// again and say what is missing; the others work meanwhile.
async fn upgrade(database: &ManagedDatabase) {
    match database.roles.upgrade().await {
        // The role module logs what it brought up to date, and from where.
        Ok(_) => {}
        Err(error) => tracing::warn!(
            database = %database.id,
            error = %crate::failure::chain(&error),
            "upgrading what an older pgusers set up in the database was refused; creating, \
             deleting and the doctor's fix are refused with this reason until it is fixed"
        ),
    }
}

/// Says at start which kind of administrator pgusers runs as, and what
/// that implies, so the log answers "why can't it…?" before it is asked.
async fn log_admin_kind(database: &ManagedDatabase) {
    match database.roles.admin_kind().await {
        Ok(admin) => {
            let mut text = format!("Database {}. Administrator: {admin}.", database.id);
            for sentence in admin.consequences() {
                text.push(' ');
                text.push_str(sentence);
            }
            tracing::info!("{text}");
        }
        Err(error) => tracing::warn!(
            error = %crate::failure::chain(&error),
            "reading which kind of administrator pgusers is"
        ),
    }
}

/// The session key: `PGUSERS_SESSION_KEY`, else a key generated once and
/// kept (mode 0600) in the data directory, so restarts keep people logged in.
pub fn session_key(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(key) = &settings.dashboard.session_key {
        let key = key.expose().as_bytes().to_vec();
        if key.len() < SESSION_KEY_LEN {
            bail!("PGUSERS_SESSION_KEY must be at least {SESSION_KEY_LEN} bytes long");
        }
        return Ok(key);
    }
    let data_dir = settings.data_dir();
    fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    load_or_create_key(&data_dir.join("session.key"))
}

fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    match fs::read(path) {
        Ok(key) if key.len() >= SESSION_KEY_LEN => return Ok(key),
        Ok(_) => bail!(
            "{} is shorter than {SESSION_KEY_LEN} bytes; delete it to get a new key",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let mut key = vec![0u8; SESSION_KEY_LEN];
    rand::rng().fill(&mut key[..]);
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(&key))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[&str]) -> Settings {
        crate::config::settings_of(args)
    }

    #[test]
    fn a_session_key_shorter_than_64_bytes_is_refused() {
        let short = settings(&["--session-key", &"k".repeat(63)]);
        let long = settings(&["--session-key", &"k".repeat(64)]);

        assert!(session_key(&short).is_err());
        assert_eq!(session_key(&long).unwrap(), vec![b'k'; 64]);
    }

    #[test]
    fn a_generated_session_key_is_kept_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.key");

        let first = load_or_create_key(&path).unwrap();
        let second = load_or_create_key(&path).unwrap();

        assert_eq!(first.len(), SESSION_KEY_LEN);
        assert_eq!(first, second, "restarts keep people logged in");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
