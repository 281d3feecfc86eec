//! The role-management module: the only code that writes role SQL.
//!
//! # How read-only works
//!
//! Each managed database has one group role, `pgusers-readonly-<database>`
//! (NOLOGIN; the hyphen keeps it out of the names people may create). It has
//! CONNECT on the database, USAGE on `public`, SELECT on the tables and
//! sequences in `public`, and *default privileges* from every role that creates
//! tables here: the protected user (set when the group is made) and every
//! read-write user pgusers creates (set when that user is made). A read-only
//! user is a member of the group and nothing else, so:
//! - it reads tables created later by the protected user or by a read-write
//!   user, because PostgreSQL grants SELECT to the group as each table is made;
//! - it cannot write or create objects in the database, because nothing grants
//!   it more (it keeps PostgreSQL's default right to session-private temporary
//!   tables, which many read-only tools rely on);
//! - "read-only" is a fact stored in the catalog (the membership), which
//!   survives restarts and is what [`RoleManager::list`] reports.
//!
//! # Safety rules enforced here, whatever path calls
//! - The protected user cannot be renamed, deleted or have its password
//!   changed; neither can the owner of any database on the server.
//! - Only application users of this database can be touched: login roles
//!   that are not superusers, not `pg_*` roles, not the role pgusers connects
//!   as, and that nothing makes more than an application user of this
//!   database (see [`standing`] for the rules). Others are listed with the
//!   reason, and every change refuses them. The protected user is always
//!   listed, even when pgusers connects as it.
//! - pgusers' role may be a superuser or a `CREATEROLE` role (managed
//!   services); it takes only the memberships a change needs, never more
//!   (see [`privileges`]), and a privilege it cannot take is a refusal that
//!   names the GRANT to run.
//! - Deleting a user never gives its code the protected user's rights (see
//!   [`code`]).
//! - Every change is one transaction holding the lock of its user's name,
//!   which no other role can hold (see `changes::Lock`): changes of one
//!   user take turns across the server, changes of others go on at once,
//!   and two creates of one name (in any case) give one user and one
//!   "already exists"; a
//!   delete's lock-out is recorded in the catalog, so any process undoes
//!   it when the delete could not (see [`lockout`]).
//! - Passwords reach PostgreSQL only as SCRAM-SHA-256 verifiers.
//!
//! # Where the SQL is
//! Each query is a file of `src/roles/sql/`; [`sql`] says how statements
//! are put together from shared fragments, and how the statements that
//! take no bind parameters quote what they name.

mod admin;
mod changes;
mod code;
mod doctor;
mod error;
mod groups;
mod kept;
mod listing;
mod lockout;
mod privileges;
mod provision;
mod sessions;
mod sql;
mod standing;
mod upgrade;

pub use admin::{
    AdminKind, AdminPower, ServerVersion, UNKNOWN_ENCRYPTION, unknown_encryption_note,
};
pub use changes::{NAME_LOCKS, name_lock_role};
pub use code::LeftCode;
pub use doctor::{Finding, Problem, Severity};
pub use error::RoleError;
pub use kept::KEPT_FOR;
pub use listing::{ListPage, Listing, Window};
pub use provision::{provision_database, random_default_name};
pub use sessions::{Session, Sessions};
#[doc(hidden)]
pub use sql::{Query, every_query};
pub use standing::Restriction;

use deadpool_postgres::{GenericClient, Pool};
use serde::Serialize;
use tokio::sync::OnceCell;
use tokio_postgres::Config;

use crate::db::Conninfo;

use crate::domain::{ConnectionDetails, Host, RoleName};

/// What a new user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    ReadOnly,
}

/// How a user's password is stored by PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PasswordEncryption {
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "MD5")]
    Md5,
    /// The user has no password and cannot log in with one.
    #[serde(rename = "none")]
    NoPassword,
    /// pgusers may not read `pg_authid`, so it cannot tell.
    #[serde(rename = "unknown")]
    Unknown,
}

impl PasswordEncryption {
    fn from_catalog(value: Option<&str>) -> Self {
        match value {
            Some("scram") => Self::ScramSha256,
            Some("md5") => Self::Md5,
            Some("none") => Self::NoPassword,
            _ => Self::Unknown,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::Md5 => "MD5",
            Self::NoPassword => "none",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for PasswordEncryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// One row of the users list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatabaseUser {
    pub username: String,
    pub read_only: bool,
    /// pgusers refuses to change this user: the protected default user, or
    /// the owner of a database.
    pub protected: bool,
    pub password_encryption: PasswordEncryption,
    /// Why pgusers does not manage this user, when it does not: it is more
    /// than an application user of this database.
    pub not_manageable: Option<Restriction>,
    /// How many sessions it has open on the server now.
    pub sessions: u64,
    /// When its password stops working (`VALID UNTIL`), in UTC
    /// (`2027-01-31T00:00:00Z`); `None` when never.
    pub expires: Option<String>,
    /// Whether that moment has passed: it cannot log in with a password.
    pub expired: bool,
    /// How many sessions it may open at once; `None` when unlimited.
    pub connection_limit: Option<i32>,
}

impl DatabaseUser {
    /// When its password expires, as shown: the day alone when it is
    /// midnight UTC (as pgusers sets it), else the day and time.
    pub fn expires_shown(&self) -> Option<String> {
        self.expires.as_deref().map(|at| {
            at.strip_suffix("T00:00:00Z").map_or_else(
                || at.trim_end_matches('Z').replacen('T', " ", 1),
                str::to_owned,
            )
        })
    }
}

impl DatabaseUser {
    /// Whether pgusers offers to change this user at all.
    pub fn manageable(&self) -> bool {
        !self.protected && self.not_manageable.is_none()
    }

    /// Whether pgusers ends its sessions: those of any user it lists but
    /// the protected ones, however much more than an application user it
    /// is (see [`RoleManager::end_sessions`]).
    pub fn sessions_endable(&self) -> bool {
        !self.protected
    }
}

/// What a user owns, as shown before deleting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    /// Objects in this database (and shared ones), described by PostgreSQL.
    pub objects: Vec<String>,
    /// Code among them that could act with its owner's rights, and what the
    /// deletion does about each.
    pub code: Vec<LeftCode>,
    /// Why deleting it would be refused now, though it is manageable:
    /// other roles may act as it (see [`RoleError::ActedAsByOthers`]), or
    /// it leaves code a person must review first
    /// ([`RoleError::CodeToReview`]).
    pub refused: Option<String>,
}

/// Manages the users of the database a pool connects to.
pub struct RoleManager {
    pool: Pool,
    /// Where the pool connects, for messages that say what went wrong.
    endpoint: crate::db::Endpoint,
    /// The protected default user, when configured; else the database owner.
    protected: Option<RoleName>,
    protected_checked: OnceCell<()>,
    database: OnceCell<String>,
    /// Which kind of administrator pgusers connects as, once asked:
    /// forgotten when PostgreSQL refuses what it allowed
    /// ([`RoleManager::forget_kind_if_refused`]).
    admin_kind: std::sync::RwLock<Option<AdminKind>>,
    /// Every user, judged, for the pages ([`kept`]).
    kept_users: kept::Keeper<std::sync::Arc<[DatabaseUser]>>,
    /// Settings › Health's findings, kept alike.
    kept_findings: kept::Keeper<std::sync::Arc<[Finding]>>,
    /// Whether this manager made sure its lock roles exist
    /// ([`RoleManager::change_client`]).
    locks_made: std::sync::atomic::AtomicBool,
    /// Where this manager's last looks at what the groups hold and lack
    /// found nothing to do: the next look only at what changed since.
    looks: privileges::Looks,
    /// Where clients reach the server, shown with the connection details.
    address: (Host, u16),
    /// The `sslmode` the connection URIs shown to clients carry.
    client_ssl_mode: Option<crate::domain::SslMode>,
    /// pgusers' own TLS settings, to say what its connection checks.
    tls: crate::db::tls::TlsSettings,
    /// Whether the pool's connections went through TLS.
    links: crate::db::Links,
    /// Whether pgusers reaches the server over Unix sockets only (then
    /// nothing of its connection crosses a network, whatever a pooler does).
    sockets_only: bool,
}

/// The facts every change needs, read inside its transaction.
struct Facts {
    database: String,
    protected: String,
    readers: String,
    /// The read-write group: its members write what the protected user and
    /// the read-write users make (see [`groups`]).
    writers: String,
    /// The role whose members are the users pgusers made here (see [`upgrade`]).
    mark: String,
    /// The last upgrade step applied to this database (0: none yet).
    step: i32,
    version_num: i32,
    /// The role pgusers connects as, and whether it is a superuser (else
    /// a CREATEROLE role, as managed services give).
    admin: String,
    admin_super: bool,
}

/// An administrator connection's settings, safe for the module's SQL: with
/// `search_path` set to `pg_catalog, pg_temp`, so no function, operator or
/// table a user creates (in `public`, or in a schema named after the
/// administrator) can stand in for a built-in one and run with the
/// administrator's rights. JIT is off: the module's catalog queries never
/// gain from it, and once the catalogs are analyzed at ten thousand roles
/// PostgreSQL would compile a filtered list's query on every call (seconds).
/// Prepared statements keep one generic plan: the module's queries read
/// catalogs by names and oids, whose best plan does not depend on the
/// values, and the list's query takes PostgreSQL about 7 ms to plan at ten
/// thousand roles, more than it takes to run; by default PostgreSQL would
/// plan it again at every call.
pub fn admin_config(conninfo: Conninfo) -> Conninfo {
    conninfo.map_config(|config| {
        crate::db::with_session_options(
            config,
            "-c search_path=pg_catalog,pg_temp -c jit=off -c plan_cache_mode=force_generic_plan",
        )
    })
}

/// The first host and port of a configuration, with libpq's defaults.
fn client_address(config: &Config) -> (Host, u16) {
    use tokio_postgres::config::Host as PgHost;
    let host = match (config.get_hosts().first(), config.get_hostaddrs().first()) {
        (Some(PgHost::Tcp(name)), _) => Host::Tcp(name.clone()),
        (Some(PgHost::Unix(dir)), _) => Host::Socket(dir.clone()),
        (None, Some(address)) => Host::Tcp(address.to_string()),
        (None, None) => Host::Tcp("localhost".to_owned()),
    };
    (host, config.get_ports().first().copied().unwrap_or(5432))
}

impl RoleManager {
    /// A manager over a pool of at most `pool_size` administrator
    /// connections made with `config` (through [`admin_config`], always).
    pub fn new(
        conninfo: impl Into<Conninfo>,
        pool_size: usize,
        protected: Option<RoleName>,
    ) -> Self {
        let conninfo = conninfo.into();
        let address = client_address(conninfo.config());
        let (pool, links) = crate::db::pool_with_links(admin_config(conninfo.clone()), pool_size);
        Self {
            endpoint: crate::db::Endpoint::of(&conninfo, "DATABASE_URL"),
            address,
            client_ssl_mode: conninfo.stated_ssl_mode(),
            tls: conninfo.tls().clone(),
            pool,
            links,
            sockets_only: conninfo.sockets_only(),
            protected,
            protected_checked: OnceCell::new(),
            database: OnceCell::new(),
            admin_kind: std::sync::RwLock::new(None),
            kept_users: kept::Keeper::default(),
            kept_findings: kept::Keeper::default(),
            locks_made: std::sync::atomic::AtomicBool::new(false),
            looks: privileges::Looks::default(),
        }
    }

    /// Names the setting to fix when connecting is refused (by default
    /// `DATABASE_URL`).
    pub fn configured_by(mut self, setting: impl Into<String>) -> Self {
        self.endpoint = self.endpoint.with_setting(setting);
        self
    }

    /// A pooled connection; a failure says what PostgreSQL or the network said.
    async fn client(&self) -> Result<deadpool_postgres::Client, RoleError> {
        self.pool
            .get()
            .await
            .map_err(|error| RoleError::connecting(error, &self.endpoint))
    }

    /// Checks that the settings can work: pgusers connects, the protected
    /// user exists, and the role it connects as may create roles.
    pub async fn check(&self) -> Result<(), RoleError> {
        let client = self.client().await?;
        self.facts(&client).await?;
        let row = client
            .query_one(sql::ADMIN_MAY_CREATE_ROLES, &[])
            .await
            .map_err(RoleError::server)?;
        if !row.get::<_, bool>(1) {
            return Err(RoleError::Misconfigured(
                format!(
                    "User \"{}\" that pgusers connects as may not create roles: it needs \
                 CREATEROLE (or to be a superuser). Grant it, or use another user in {}.",
                    crate::domain::visible(row.get(0)),
                    self.endpoint.setting()
                )
                .into(),
            ));
        }
        Ok(())
    }

    /// Says clients reach the server at `host:port`, when that is not
    /// where pgusers connects (the embedded cluster: pgusers uses its
    /// owner-only socket, clients its loopback TCP port).
    pub fn with_client_address(mut self, host: Host, port: u16) -> Self {
        self.address = (host, port);
        self
    }

    /// Says clients should connect with `mode` (the settings'
    /// `client_sslmode`), whatever pgusers' own connection uses.
    pub fn with_client_ssl_mode(mut self, mode: crate::domain::SslMode) -> Self {
        self.client_ssl_mode = Some(mode);
        self
    }

    /// The looks this manager recorded (see `privileges::Looks`): each
    /// look's name, key and floor. For the tests that the next look reads
    /// only what changed since.
    #[doc(hidden)]
    pub fn looks_recorded(&self) -> Vec<(String, String, String)> {
        self.looks.recorded()
    }

    /// Where clients reach the server (known without connecting).
    pub fn client_address(&self) -> (&Host, u16) {
        (&self.address.0, self.address.1)
    }

    /// How the protected user connects to the managed database, without
    /// its password.
    pub async fn connection_details(&self) -> Result<ConnectionDetails, RoleError> {
        Ok(ConnectionDetails {
            host: self.address.0.clone(),
            port: self.address.1,
            database: self.database_name().await?,
            user: self.protected_user().await?,
            ssl_mode: self.client_ssl_mode,
        })
    }

    /// How `user` connects to the managed database, without its password:
    /// learnt before a change whose answer shows a password once, so
    /// nothing is left to fail after it.
    pub async fn connection_details_as(&self, user: &str) -> Result<ConnectionDetails, RoleError> {
        Ok(ConnectionDetails {
            host: self.address.0.clone(),
            port: self.address.1,
            database: self.database_name().await?,
            user: user.to_owned(),
            ssl_mode: self.client_ssl_mode,
        })
    }

    /// How pgusers' own connection to the database is protected: whether
    /// PostgreSQL sees it encrypted, and what the settings check of the
    /// server's certificate.
    pub async fn connection_security(
        &self,
    ) -> Result<crate::db::tls::ConnectionSecurity, RoleError> {
        let client = self.client().await?;
        let row = client
            .query_one(sql::CONNECTION_TLS, &[])
            .await
            .map_err(RoleError::server)?;
        Ok(crate::db::tls::ConnectionSecurity::of(
            self.links.encrypted().unwrap_or(false),
            row.get(0),
            self.sockets_only,
            &self.tls,
        ))
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), RoleError> {
        let client = self.client().await?;
        client
            .simple_query(sql::PING)
            .await
            .map_err(RoleError::server)?;
        Ok(())
    }

    /// The name of the managed database (asked once, then remembered).
    pub async fn database_name(&self) -> Result<String, RoleError> {
        self.database
            .get_or_try_init(|| async {
                let client = self.client().await?;
                let row = client
                    .query_one(sql::DATABASE_NAME, &[])
                    .await
                    .map_err(RoleError::server)?;
                Ok(row.get(0))
            })
            .await
            .cloned()
    }

    /// The server's version, as PostgreSQL reports it.
    pub async fn server_version(&self) -> Result<String, RoleError> {
        let client = self.client().await?;
        let row = client
            .query_one(sql::SERVER_VERSION, &[])
            .await
            .map_err(RoleError::server)?;
        Ok(row.get(0))
    }

    /// The protected default user: the configured one, else the database's owner.
    pub async fn protected_user(&self) -> Result<String, RoleError> {
        let client = self.client().await?;
        Ok(self.facts(&client).await?.protected)
    }

    /// One managed user; else why not ([`absent`]).
    pub async fn find(&self, name: &RoleName) -> Result<DatabaseUser, RoleError> {
        let found = self
            .list_matching(&Listing::everyone(), Some(name.as_str()))
            .await?;
        if let Some(user) = found.users.into_iter().next() {
            return Ok(user);
        }
        let client = self.client().await?;
        Err(absent(&client, name.as_str()).await)
    }

    /// Whether a user may be changed at all, by the same rules every change
    /// applies: for refusing before asking a person for anything (a
    /// confirmation, a password). The change itself checks again.
    pub async fn ensure_changeable(&self, name: &RoleName) -> Result<(), RoleError> {
        let client = self.client().await?;
        let facts = self.facts(&client).await?;
        managed_target(&client, &facts, name).await.map(|_| ())
    }

    /// What a user owns: shown before deleting it, as it will move to the
    /// protected user.
    pub async fn ownership(&self, name: &RoleName) -> Result<Ownership, RoleError> {
        let fail = |e| RoleError::from_postgres(e, name.as_str());
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(fail)?;
        let facts = self.facts(&tx).await?;
        let oid = managed_target(&tx, &facts, name).await?;
        let rows = tx.query(sql::OWNED_OBJECTS, &[&oid]).await.map_err(fail)?;
        let code = code::find(&tx, oid, &facts.protected, facts.version_num)
            .await
            .map_err(fail)?;
        let refused = match changes::refuse_others_acting_as(&tx, &facts, name.as_str(), oid).await
        {
            Ok(()) => code::refusal(&code, name.as_str()).map(|refusal| refusal.to_string()),
            Err(refusal @ RoleError::ActedAsByOthers { .. }) => Some(refusal.to_string()),
            Err(other) => return Err(other),
        };
        Ok(Ownership {
            // An object dropped while we look has no description: skip it.
            objects: rows.iter().filter_map(|row| row.get(0)).collect(),
            code,
            refused,
        })
    }

    fn configured_protected(&self) -> Option<&str> {
        self.protected.as_ref().map(RoleName::as_str)
    }

    /// Reads [`Facts`], refusing to go on when the protected user does not
    /// exist: a misspelt `PGUSERS_PROTECTED_USER` must not leave the real
    /// default user unprotected.
    async fn facts(&self, client: &impl GenericClient) -> Result<Facts, RoleError> {
        read_facts(client, self.configured_protected()).await
    }
}

/// [`RoleManager::facts`], for the protected user configured (`None`: the
/// database's owner).
async fn read_facts(
    client: &impl GenericClient,
    protected: Option<&str>,
) -> Result<Facts, RoleError> {
    let row = sql::one(client, sql::DATABASE_FACTS, &[&protected])
        .await
        .map_err(RoleError::server)?;
    let protected: String = row.get("protected");
    if !row.get::<_, bool>("protected_exists") {
        return Err(RoleError::ProtectedUserMissing(protected));
    }
    Ok(Facts {
        database: row.get("database"),
        protected,
        readers: row.get("readers"),
        writers: row.get("writers"),
        mark: row.get("mark"),
        step: row.get("step"),
        version_num: row.get("version_num"),
        admin: row.get("admin"),
        admin_super: row.get("admin_super"),
    })
}

/// Why `user` is not among the users pgusers lists: it does not exist, or
/// it is a role pgusers never manages (so "does not exist" would mislead).
async fn absent(client: &impl GenericClient, user: &str) -> RoleError {
    let row = client.query_opt(sql::UNLISTED_REASON, &[&user]).await;
    let reason = match row {
        Ok(Some(row)) if row.get(0) => Restriction::Administrator,
        Ok(Some(row)) if row.get(1) => Restriction::Superuser,
        Ok(Some(row)) if row.get(2) => Restriction::Predefined,
        Ok(Some(row)) if row.get(3) => Restriction::NoLogin,
        Ok(_) => return RoleError::NotFound(user.to_owned()),
        // No role of a database that cannot hold the name has it.
        Err(error) if listing::unencodable(&error) => return RoleError::NotFound(user.to_owned()),
        Err(error) => return RoleError::from_postgres(error, user),
    };
    RoleError::NotManageable {
        user: user.to_owned(),
        reason,
    }
}

/// Refuses the protected user, database owners and anything that is not an
/// application user of this database; returns the role's oid.
async fn managed_target(
    client: &impl GenericClient,
    facts: &Facts,
    name: &RoleName,
) -> Result<u32, RoleError> {
    let user = name.as_str();
    if facts.protected == user {
        return Err(RoleError::Protected(user.to_owned()));
    }
    let row = sql::at_most_one(
        client,
        sql::MANAGED_TARGET.as_str(),
        &[&facts.protected, &user],
    )
    .await
    .map_err(|e| RoleError::from_postgres(e, user))?;
    let Some(row) = row else {
        return Err(absent(client, user).await);
    };
    if let Some(databases) = row.get::<_, Option<String>>(1) {
        return Err(RoleError::OwnsDatabase {
            user: user.to_owned(),
            databases,
        });
    }
    if let Some(reason) = restriction(&row, 2) {
        return Err(RoleError::NotManageable {
            user: user.to_owned(),
            reason,
        });
    }
    Ok(row.get(0))
}

/// The [`Restriction`] in columns `first..first + 3` (kind, via, detail)
/// of a row joined with `restrictions`.
fn restriction(row: &tokio_postgres::Row, first: usize) -> Option<Restriction> {
    let kind: Option<String> = row.get(first);
    Some(Restriction::from_row(
        &kind?,
        row.get(first + 1),
        row.get(first + 2),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_administrator_connection_pins_search_path_turns_jit_off_and_keeps_given_options() {
        let plain = admin_config(Config::new().into());
        assert_eq!(
            plain.config().get_options(),
            Some(
                "-c search_path=pg_catalog,pg_temp -c jit=off -c plan_cache_mode=force_generic_plan"
            )
        );
        let mut given = Config::new();
        given.options("-c statement_timeout=5s");
        assert_eq!(
            admin_config(given.into()).config().get_options(),
            Some(
                "-c statement_timeout=5s -c search_path=pg_catalog,pg_temp -c jit=off \
                 -c plan_cache_mode=force_generic_plan"
            )
        );
    }
}
