//! Turning settings into running parts: which server to manage (the
//! embedded default or `DATABASE_URL`), where the state lives, the session
//! key. `serve` and the CLI share it; [`Application`] is the dashboard
//! `serve` runs, built the same way by `main` and by the tests.

use std::fs;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use actix_web::dev::{Server, ServerHandle};

use anyhow::{Context, bail};
use rand::RngExt;
use tokio_postgres::Config;

use crate::db::Conninfo;

use crate::config::Settings;
use crate::domain::OperatorPassword;
use crate::domain::{DatabaseId, RoleName, visible};
use crate::embedded::{Announce, DefaultDatabase, DefaultDatabaseError};
use crate::failure::Detail;
use crate::registry::{DatabaseSettings, ManagedDatabase, Registry};
use crate::roles::{RoleError, RoleManager};
use crate::state::{LoginPolicy, StateError, StateSettings, StateStore};
use crate::web::{AppState, RequestLimits, SESSION_KEY_LEN, SessionPolicy, WebSettings};

/// Why the managed database could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// A setting is wrong: fix the configuration.
    #[error(transparent)]
    Settings(Detail),
    /// The embedded PostgreSQL could not be started.
    #[error(transparent)]
    Unavailable(#[from] DefaultDatabaseError),
}

/// Why the dashboard did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Target(#[from] TargetError),
    /// A managed database's settings cannot work.
    #[error(transparent)]
    Roles(#[from] RoleError),
    /// The state database's settings cannot work.
    #[error(transparent)]
    State(#[from] StateError),
    /// Another setting (the listen address, the session key, the state
    /// URL), or the server itself.
    #[error("{0:#}")]
    Other(anyhow::Error),
}

impl From<anyhow::Error> for StartupError {
    fn from(error: anyhow::Error) -> Self {
        Self::Other(error)
    }
}

/// The dashboard, built from settings: listening, its databases checked,
/// its HTTP server made but not yet running. `main` and the tests both
/// build it this way, so the tests run what `serve` runs.
pub struct Application {
    address: SocketAddr,
    server: Server,
    /// The embedded cluster (if pgusers started one) is stopped when this
    /// goes: after the server has stopped, or when building failed.
    target: Option<RunningTarget>,
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
        self.target.as_ref().map(|target| target.0.describe())
    }

    /// Stops the server when asked (`stop(true)`: gracefully).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped through [`Application::handle`],
    /// then stops the embedded cluster if this process started it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self { server, target, .. } = self;
        let result = server.await;
        drop(target);
        result
    }
}

/// A resolved [`Target`] that shuts itself down when dropped.
struct RunningTarget(Target);

impl Drop for RunningTarget {
    fn drop(&mut self) {
        self.0.shut_down();
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
        let listener = TcpListener::bind(&settings.dashboard.listen)
            .with_context(|| format!("listening on {}", settings.dashboard.listen))?;
        let (target, databases, state) = match parts {
            Some((databases, state)) => (None, databases, state),
            None => {
                let target = RunningTarget(Target::resolve(&settings, Announce::Stdout).await?);
                let state =
                    target
                        .0
                        .state_store(&settings, Announce::Stdout, StateUse::Dashboard)?;
                let databases = target.0.registry();
                (Some(target), databases, state)
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
        let server = crate::web::server(listener, AppState { databases, state }, web_settings)
            .context("starting the dashboard's server")?;
        Ok(Application {
            address,
            server,
            target,
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

/// How a process uses the state database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateUse {
    /// The dashboard: create the database if missing, and a first operator.
    Dashboard,
    /// CLI commands that manage operators or their API tokens: create the
    /// database if missing, but no operator of its own accord.
    Operators,
    /// Other CLI commands: only record into a state that already exists.
    Record,
}

/// What to fix when the embedded cluster refuses pgusers' own connections.
const EMBEDDED_SETTINGS: &str = "the embedded cluster's settings (PGUSERS_DATA_DIR)";

/// The databases pgusers manages, and how they got there.
pub struct Target {
    /// From the registry file, else `DATABASE_URL`, else the embedded
    /// cluster; never empty.
    pub databases: Vec<DatabaseSettings>,
    /// The embedded cluster, when pgusers runs its own.
    pub embedded: Option<DefaultDatabase>,
}

impl Target {
    /// `announce` says where a newly provisioned embedded database is announced.
    pub async fn resolve(settings: &Settings, announce: Announce) -> Result<Self, TargetError> {
        let protected = settings
            .protected_user
            .as_deref()
            .map(RoleName::parse)
            .transpose()
            .map_err(|e| TargetError::Settings(format!("PGUSERS_PROTECTED_USER: {e}").into()))?;
        let public = settings
            .public_host
            .as_deref()
            .map(crate::domain::PublicAddress::parse)
            .transpose()
            .map_err(|e| TargetError::Settings(format!("PGUSERS_PUBLIC_HOST: {e}").into()))?;
        let client_ssl_mode = settings
            .client_sslmode
            .as_deref()
            .map(crate::domain::SslMode::from_setting)
            .transpose()
            .map_err(|e| TargetError::Settings(format!("PGUSERS_CLIENT_SSLMODE: {e}").into()))?;
        if let Some(path) = &settings.config {
            if settings.database_url.is_some()
                || protected.is_some()
                || public.is_some()
                || client_ssl_mode.is_some()
            {
                return Err(TargetError::Settings(
                    "PGUSERS_CONFIG lists the databases: DATABASE_URL, \
                     PGUSERS_PROTECTED_USER, PGUSERS_PUBLIC_HOST and PGUSERS_CLIENT_SSLMODE \
                     must not be set with it (give each database its url, protected_user, \
                     public_host and client_sslmode in the file)."
                        .into(),
                ));
            }
            let databases = crate::registry::file::read(path).map_err(TargetError::Settings)?;
            return Ok(Self {
                databases,
                embedded: None,
            });
        }
        if let Some(url) = &settings.database_url {
            let admin = crate::db::parse_config(url.expose()).map_err(|e| {
                TargetError::Settings(
                    format!("DATABASE_URL is not a valid connection string: {e}.").into(),
                )
            })?;
            return Ok(Self {
                databases: vec![DatabaseSettings::single(
                    admin,
                    protected,
                    "DATABASE_URL",
                    public,
                    client_ssl_mode,
                )],
                embedded: None,
            });
        }
        let data_dir = settings.data_dir();
        fs::create_dir_all(&data_dir).map_err(|e| {
            TargetError::Settings(Detail::new(
                format!("creating {}: {e}", data_dir.display()),
                e,
            ))
        })?;
        let embedded = DefaultDatabase::start(&data_dir, announce).await?;
        let protected =
            protected.or_else(|| RoleName::parse(&embedded.provisioned.protected_user).ok());
        Ok(Self {
            databases: vec![DatabaseSettings::single(
                embedded.admin_config().into(),
                protected,
                EMBEDDED_SETTINGS,
                public,
                client_ssl_mode,
            )],
            embedded: Some(embedded),
        })
    }

    /// The databases, each with its own role manager.
    pub fn registry(&self) -> Registry {
        Registry::new(
            self.databases
                .iter()
                .map(|database| {
                    let roles = RoleManager::new(
                        database.admin.clone(),
                        crate::registry::POOL_SIZE,
                        database.protected.clone(),
                    )
                    .configured_by(database.setting.clone());
                    let roles = match &self.embedded {
                        // pgusers uses the owner-only socket; everyone else the loopback port.
                        Some(embedded) => roles.with_client_address(
                            crate::domain::Host::Tcp("127.0.0.1".to_owned()),
                            embedded.cluster.port(),
                        ),
                        None => roles,
                    };
                    let roles = match &database.public {
                        Some(public) => {
                            let port = public.port.unwrap_or(roles.client_address().1);
                            roles.with_client_address(
                                crate::domain::Host::Tcp(public.host.clone()),
                                port,
                            )
                        }
                        None => roles,
                    };
                    let roles = match database.client_ssl_mode {
                        Some(mode) => roles.with_client_ssl_mode(mode),
                        None => roles,
                    };
                    ManagedDatabase {
                        id: database.id.clone(),
                        name: database.name.clone(),
                        roles,
                    }
                })
                .collect(),
        )
    }

    /// The first database: where pgusers keeps its state by default.
    fn first(&self) -> &DatabaseSettings {
        &self.databases[0]
    }

    /// The state store: `PGUSERS_STATE_URL`, else database `pgusers` on the
    /// (first) managed server, created if missing.
    /// `announce` says where a generated first operator password is shown.
    pub fn state_store(
        &self,
        settings: &Settings,
        announce: Announce,
        state_use: StateUse,
    ) -> anyhow::Result<StateStore> {
        let admin_password = settings
            .dashboard
            .admin_password
            .as_ref()
            .map(|secret| OperatorPassword::parse(secret.expose()))
            .transpose()
            .context("PGUSERS_ADMIN_PASSWORD")?;
        let first = self.first();
        let (config, create_with) = match &settings.state_url {
            Some(url) => {
                let config = crate::db::parse_config(url.expose()).map_err(|e| {
                    anyhow::anyhow!("PGUSERS_STATE_URL is not a valid connection string: {e}.")
                })?;
                if let Some(managed) = self
                    .databases
                    .iter()
                    .find(|database| same_database(config.config(), database.admin.config()))
                {
                    bail!(
                        "PGUSERS_STATE_URL points at the managed database \"{}\": the \
                         dashboard's operators must live elsewhere, or the users it manages \
                         could read them",
                        managed.id
                    );
                }
                (config, None)
            }
            None if self.databases.len() > 1 => bail!(
                "PGUSERS_CONFIG lists several databases: set PGUSERS_STATE_URL to where \
                 pgusers keeps its own state (operators, sessions, tokens, audit log), so \
                 that no managed database being down or misconfigured takes the dashboard \
                 down with it"
            ),
            None => {
                let managed_here = |name: &str| {
                    self.databases.iter().any(|database| {
                        same_server(database.admin.config(), first.admin.config())
                            && crate::db::database_name(database.admin.config()) == Some(name)
                    })
                };
                let config = first.admin.clone().map_config(|mut config| {
                    config.dbname(if managed_here("pgusers") {
                        "pgusers_state"
                    } else {
                        "pgusers"
                    });
                    config
                });
                let create = state_use != StateUse::Record;
                (config, create.then(|| first.admin.clone()))
            }
        };
        let state = StateStore::new(StateSettings {
            config,
            create_with,
            admin_password,
            announce,
            bootstrap_operator: state_use == StateUse::Dashboard,
        })
        .with_audit_retention(settings.audit_retention.0);
        Ok(match &settings.state_url {
            None => state.configured_by(first.setting.clone()),
            Some(_) => state,
        })
    }

    /// Which databases are managed and where, for the start of `serve`:
    /// their names, hosts and ports and, for the embedded cluster, its data
    /// directory. Never a password.
    pub fn describe(&self) -> String {
        let lines: Vec<String> = self
            .databases
            .iter()
            .map(|database| self.describe_one(database))
            .collect();
        match lines.as_slice() {
            [one] => format!("Managing {one}"),
            many => format!(
                "Managing {} databases:\n{}",
                many.len(),
                many.iter()
                    .map(|line| format!("  {line}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        }
    }

    fn describe_one(&self, database: &DatabaseSettings) -> String {
        let name = crate::db::database_name(database.admin.config()).unwrap_or("?");
        let mut text = format!("database \"{}\"", visible(name));
        if database.id.as_str() != name {
            text.push_str(&format!(" (ID {})", database.id));
        }
        if let Some(protected) = &database.protected {
            text.push_str(&format!(
                " (protected user \"{}\")",
                visible(protected.as_str())
            ));
        }
        match &self.embedded {
            Some(embedded) => text.push_str(&format!(
                " on the embedded PostgreSQL at 127.0.0.1:{} (data directory {}).",
                embedded.cluster.port(),
                embedded.cluster.data_dir().display(),
            )),
            None => text.push_str(&format!(
                " on {}.",
                visible(crate::db::Endpoint::of(&database.admin, "").address())
            )),
        }
        text
    }

    /// Stops the embedded cluster if this process started it.
    pub fn shut_down(&mut self) {
        if let Some(embedded) = &mut self.embedded
            && let Err(error) = embedded.cluster.stop()
        {
            tracing::error!(
                error = %crate::failure::chain(&error),
                "stopping the embedded PostgreSQL failed"
            );
        }
    }
}

impl DatabaseSettings {
    /// The one database of `DATABASE_URL` or the embedded cluster.
    fn single(
        admin: Conninfo,
        protected: Option<RoleName>,
        setting: &str,
        public: Option<crate::domain::PublicAddress>,
        client_ssl_mode: Option<crate::domain::SslMode>,
    ) -> Self {
        let id = DatabaseId::for_single(crate::db::database_name(admin.config()));
        Self {
            name: id.to_string(),
            id,
            admin,
            protected,
            setting: setting.to_owned(),
            public,
            client_ssl_mode,
        }
    }
}

/// Whether two configurations reach the same server.
fn same_server(a: &Config, b: &Config) -> bool {
    a.get_hosts() == b.get_hosts() && a.get_ports() == b.get_ports()
}

/// Whether two configurations reach the same database of the same server.
fn same_database(a: &Config, b: &Config) -> bool {
    crate::db::database_name(a) == crate::db::database_name(b) && same_server(a, b)
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
    use clap::Parser;

    use super::*;
    use crate::config::Cli;

    fn settings(args: &[&str]) -> Settings {
        let mut argv = vec!["pgusers"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv)
            .expect("valid arguments")
            .into_parts()
            .0
    }

    fn external_target(url: &str) -> Target {
        Target {
            databases: vec![DatabaseSettings::single(
                crate::db::parse_config(url).unwrap(),
                None,
                "DATABASE_URL",
                None,
                None,
            )],
            embedded: None,
        }
    }

    #[test]
    fn a_state_url_pointing_at_the_managed_database_is_refused() {
        let url = "host=/run/pg port=5432 user=admin dbname=app";
        let target = external_target(url);
        let same = settings(&[
            "--database-url",
            url,
            "--state-url",
            "host=/run/pg port=5432 user=other dbname=app",
        ]);
        let elsewhere = settings(&[
            "--database-url",
            url,
            "--state-url",
            "host=/run/pg port=5432 user=admin dbname=ops",
        ]);

        let refused = target
            .state_store(&same, Announce::Stdout, StateUse::Dashboard)
            .err()
            .expect("refused");

        assert!(
            refused
                .to_string()
                .contains("points at the managed database")
        );
        assert!(
            target
                .state_store(&elsewhere, Announce::Stdout, StateUse::Dashboard)
                .is_ok()
        );
    }

    #[test]
    fn a_short_admin_password_is_refused_at_start() {
        let target = external_target("host=/run/pg dbname=app user=admin");
        let short = settings(&["--admin-password", "elevenchars"]);
        let long = settings(&["--admin-password", "twelve-chars"]);

        assert!(
            target
                .state_store(&short, Announce::Stdout, StateUse::Dashboard)
                .is_err()
        );
        assert!(
            target
                .state_store(&long, Announce::Stdout, StateUse::Dashboard)
                .is_ok()
        );
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

    #[test]
    fn a_managed_server_is_described_by_name_host_and_port_without_its_password() {
        let tcp = external_target("postgres://admin:s3cret-pw@db.internal:6543/my_app");
        let socket = external_target("host=/run/pg port=5433 user=admin dbname=app");

        assert_eq!(
            tcp.describe(),
            "Managing database \"my_app\" on db.internal:6543."
        );
        assert!(!tcp.describe().contains("s3cret-pw"));
        assert_eq!(
            socket.describe(),
            "Managing database \"app\" on /run/pg/.s.PGSQL.5433."
        );
    }
}
