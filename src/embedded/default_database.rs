//! The zero-configuration database: a cluster in the data directory,
//! provisioned on first run like a new managed database.

use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Cluster, ClusterOptions, EmbeddedError};
use crate::domain::{Password, Username};
pub use crate::notice::Announce;
use crate::roles::{provision_database, random_default_name};

/// What was provisioned, kept in `<data dir>/database.json`. No password.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Provisioned {
    pub database: String,
    pub protected_user: String,
}

/// A running embedded cluster with its provisioned database.
pub struct DefaultDatabase {
    pub cluster: Cluster,
    pub provisioned: Provisioned,
}

#[derive(Debug, thiserror::Error)]
pub enum DefaultDatabaseError {
    #[error(transparent)]
    Cluster(#[from] EmbeddedError),
    #[error("provisioning the default database failed: {0}")]
    Provision(#[from] crate::roles::RoleError),
    #[error("{context}: {message}")]
    File { context: String, message: String },
}

impl DefaultDatabase {
    /// Opens (creating on first run) and starts the cluster under
    /// `data_dir/postgres`, and provisions the default database once.
    pub async fn start(data_dir: &Path, announce: Announce) -> Result<Self, DefaultDatabaseError> {
        let root = data_dir.join("postgres");
        let mut cluster = {
            let root = root.clone();
            tokio::task::spawn_blocking(move || -> Result<Cluster, EmbeddedError> {
                let mut cluster = Cluster::open(&root, &ClusterOptions::default())?;
                cluster.start()?;
                Ok(cluster)
            })
            .await
            .map_err(|e| DefaultDatabaseError::File {
                context: "starting PostgreSQL".into(),
                message: e.to_string(),
            })??
        };
        let record = data_dir.join("database.json");
        let provisioned = match read_record(&record) {
            Ok(Some(provisioned)) => Ok(provisioned),
            Ok(None) => provision(&cluster, &record, announce).await,
            Err(error) => Err(error),
        };
        let provisioned = match provisioned {
            Ok(provisioned) => provisioned,
            Err(error) => {
                // Never leave a server running behind a failed start.
                let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
                return Err(error);
            }
        };
        Ok(Self {
            cluster,
            provisioned,
        })
    }

    /// The administrator's connection to the provisioned database.
    pub fn admin_config(&self) -> tokio_postgres::Config {
        self.cluster.admin_config(&self.provisioned.database)
    }
}

fn read_record(path: &PathBuf) -> Result<Option<Provisioned>, DefaultDatabaseError> {
    match fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| DefaultDatabaseError::File {
                context: format!("reading {}", path.display()),
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(DefaultDatabaseError::File {
            context: format!("reading {}", path.display()),
            message: e.to_string(),
        }),
    }
}

async fn provision(
    cluster: &Cluster,
    record: &Path,
    announce: Announce,
) -> Result<Provisioned, DefaultDatabaseError> {
    let name: Username = random_default_name();
    let password = Password::generate();
    provision_database(
        &cluster.admin_config("postgres"),
        name.as_str(),
        &name,
        &password,
    )
    .await?;
    let provisioned = Provisioned {
        database: name.to_string(),
        protected_user: name.to_string(),
    };
    let json = serde_json::to_string_pretty(&provisioned).unwrap_or_default();
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(record)
        .and_then(|mut file| std::io::Write::write_all(&mut file, json.as_bytes()))
        .map_err(|e| DefaultDatabaseError::File {
            context: format!("writing {}", record.display()),
            message: e.to_string(),
        })?;
    // The protected user's password is shown once and not kept anywhere.
    let notice = format!(
        "Created database \"{name}\" with protected user \"{name}\".\n\
         Its password, shown only this once: {password}\n\
         Connection URL: postgresql://{name}:{password}@127.0.0.1:{port}/{name}",
        password = password.expose(),
        port = cluster.port()
    );
    announce.say(&notice);
    Ok(provisioned)
}
