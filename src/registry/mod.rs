//! The registry: the databases pgusers manages, each with a stable ID, a
//! name to show and its own role manager (one bounded pool each, whose
//! connections are made when first needed).
//!
//! Entries come from the registry file (`PGUSERS_CONFIG`, see [`file`]),
//! else from `DATABASE_URL`, else the embedded cluster; see
//! [`crate::startup::Target`]. A database that is down or misconfigured
//! fails on its own pages only.

pub mod file;

use crate::db::Conninfo;
use crate::domain::{DatabaseId, RoleName, SslMode, visible};
use crate::failure::ErrorKind;
use crate::roles::RoleManager;

/// The administrator connections each database's pool holds at most.
pub const POOL_SIZE: usize = 8;

/// One database as configured: where to connect, never shown.
pub struct DatabaseSettings {
    pub id: DatabaseId,
    /// Shown in pages and lists; the ID when not configured.
    pub name: String,
    /// Administrator connection (a secret: never shown).
    pub admin: Conninfo,
    pub protected: Option<RoleName>,
    /// What to fix when the connection is refused, in words
    /// (`DATABASE_URL`, or the entry of the registry file).
    pub setting: String,
    /// Where clients reach the server, when not where pgusers connects
    /// (`PGUSERS_PUBLIC_HOST`, or the entry's `public_host`).
    pub public: Option<crate::domain::PublicAddress>,
    /// The `sslmode` for clients, when not pgusers' own (`PGUSERS_CLIENT_SSLMODE`,
    /// or the entry's `client_sslmode`).
    pub client_ssl_mode: Option<SslMode>,
}

/// One managed database.
pub struct ManagedDatabase {
    pub id: DatabaseId,
    pub name: String,
    pub roles: RoleManager,
}

/// Why a database ID names nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "There is no database with ID \"{}\": the dashboard's home page, `pgusers databases` \
         and GET /api/databases list those there are.",
        visible(.0)
    )]
    Unknown(String),
    #[error("pgusers manages {} databases: say which with --database <ID> (one of {}).", .0.len(), .0.join(", "))]
    Ambiguous(Vec<String>),
}

impl RegistryError {
    /// What this error means to whoever asked (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unknown(_) => ErrorKind::UnknownDatabase,
            Self::Ambiguous(_) => ErrorKind::Invalid,
        }
    }
}

pub struct Registry {
    databases: Vec<ManagedDatabase>,
}

impl Registry {
    pub fn new(databases: Vec<ManagedDatabase>) -> Self {
        Self { databases }
    }

    /// Every database, in the configured order.
    pub fn all(&self) -> &[ManagedDatabase] {
        &self.databases
    }

    /// The database with ID `id` (case-sensitive, as in URLs).
    pub fn get(&self, id: &str) -> Result<&ManagedDatabase, RegistryError> {
        self.databases
            .iter()
            .find(|database| database.id.as_str() == id)
            .ok_or_else(|| RegistryError::Unknown(id.to_owned()))
    }

    /// The database a command works on: `id`, or the only one.
    pub fn select(&self, id: Option<&str>) -> Result<&ManagedDatabase, RegistryError> {
        match (id, self.databases.as_slice()) {
            (Some(id), _) => self.get(id),
            (None, [only]) => Ok(only),
            (None, many) => Err(RegistryError::Ambiguous(
                many.iter()
                    .map(|database| database.id.to_string())
                    .collect(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(ids: &[&str]) -> Registry {
        Registry::new(
            ids.iter()
                .map(|id| ManagedDatabase {
                    id: DatabaseId::parse(id).unwrap(),
                    name: id.to_uppercase(),
                    roles: RoleManager::new(
                        crate::db::parse_config("host=/nonexistent dbname=x").unwrap(),
                        1,
                        None,
                    ),
                })
                .collect(),
        )
    }

    #[test]
    fn the_only_database_is_selected_without_an_id() {
        let one = registry(&["billing"]);

        assert_eq!(one.select(None).unwrap().id.as_str(), "billing");
        assert_eq!(one.select(Some("billing")).unwrap().name, "BILLING");
        assert_eq!(
            one.select(Some("Billing")).err(),
            Some(RegistryError::Unknown("Billing".into()))
        );
    }

    #[test]
    fn several_databases_need_an_id() {
        let two = registry(&["billing", "crm"]);

        assert_eq!(two.select(Some("crm")).unwrap().id.as_str(), "crm");
        let ambiguous = two.select(None).err().unwrap();
        assert_eq!(
            ambiguous.to_string(),
            "pgusers manages 2 databases: say which with --database <ID> (one of billing, crm)."
        );
    }
}
