//! Turning settings into running parts: which server to manage (the
//! embedded default or `DATABASE_URL`), where the state lives, the session
//! key. `serve` and the CLI share it.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, bail};
use rand::RngExt;
use tokio_postgres::Config;

use crate::config::Settings;
use crate::domain::RoleName;
use crate::embedded::DefaultDatabase;
use crate::roles::RoleManager;
use crate::state::{OperatorSecret, StateSettings, StateStore};
use crate::web::SESSION_KEY_LEN;

/// The database pgusers manages, and how it got there.
pub struct Target {
    /// Administrator connection to the managed database.
    pub admin: Config,
    pub protected: Option<RoleName>,
    /// The embedded cluster, when pgusers runs its own.
    pub embedded: Option<DefaultDatabase>,
}

impl Target {
    pub async fn resolve(settings: &Settings) -> anyhow::Result<Self> {
        let protected = settings
            .protected_user
            .as_deref()
            .map(RoleName::parse)
            .transpose()
            .context("PGUSERS_PROTECTED_USER")?;
        if let Some(url) = &settings.database_url {
            let admin = crate::db::parse_config(url.expose())
                .context("DATABASE_URL is not a valid connection string")?;
            return Ok(Self {
                admin,
                protected,
                embedded: None,
            });
        }
        let data_dir = settings.data_dir();
        fs::create_dir_all(&data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let embedded = DefaultDatabase::start(&data_dir).await?;
        let protected =
            protected.or_else(|| RoleName::parse(&embedded.provisioned.protected_user).ok());
        Ok(Self {
            admin: embedded.admin_config(),
            protected,
            embedded: Some(embedded),
        })
    }

    pub fn role_manager(&self) -> RoleManager {
        RoleManager::new(
            crate::db::pool(self.admin.clone(), 8),
            self.protected.clone(),
        )
    }

    /// The state store: `PGUSERS_STATE_URL`, else database `pgusers` on the
    /// managed server, created if missing.
    pub fn state_store(&self, settings: &Settings) -> anyhow::Result<StateStore> {
        let admin_password = settings
            .admin_password
            .as_ref()
            .map(|secret| OperatorSecret::new(secret.expose().to_owned()));
        let (config, create_with) = match &settings.state_url {
            Some(url) => (
                crate::db::parse_config(url.expose())
                    .context("PGUSERS_STATE_URL is not a valid connection string")?,
                None,
            ),
            None => {
                let mut config = self.admin.clone();
                config.dbname("pgusers");
                (config, Some(self.admin.clone()))
            }
        };
        Ok(StateStore::new(StateSettings {
            config,
            create_with,
            admin_password,
        }))
    }

    /// Stops the embedded cluster if this process started it.
    pub fn shut_down(&mut self) {
        if let Some(embedded) = &mut self.embedded
            && let Err(error) = embedded.cluster.stop()
        {
            tracing::error!(%error, "stopping the embedded PostgreSQL failed");
        }
    }
}

/// The session key: `PGUSERS_SESSION_KEY`, else a key generated once and
/// kept (mode 0600) in the data directory, so restarts keep people logged in.
pub fn session_key(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(key) = &settings.session_key {
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
