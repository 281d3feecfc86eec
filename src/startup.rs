//! Turning settings into running parts: which server to manage (the
//! embedded default or `DATABASE_URL`), where the state lives. `serve`
//! ([`crate::serve`]) and the CLI share it; nothing here depends on the
//! web stack.

use std::fs;

use anyhow::{Context, bail};
use tokio_postgres::Config;

use crate::db::Conninfo;

use crate::config::Settings;
use crate::domain::OperatorPassword;
use crate::domain::{DatabaseId, RoleName, visible};
use crate::embedded::{Announce, DefaultDatabase, DefaultDatabaseError};
use crate::failure::Detail;
use crate::registry::{DatabaseSettings, ManagedDatabase, Registry};
use crate::roles::{RoleError, RoleManager};
use crate::state::{StateError, StateSettings, StateStore};

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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[&str]) -> Settings {
        crate::config::settings_of(args)
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
