//! The role-management module: the only code that writes role SQL.
//!
//! # How read-only works
//!
//! Each managed database has one group role, `pgusers-readonly-<database>`
//! (NOLOGIN; the hyphen keeps it out of the names people may create). It has
//! CONNECT on the database, USAGE on `public`, SELECT on every table and
//! sequence in `public`, and *default privileges* from every role that creates
//! tables here: the protected user (set when the group is made) and every
//! read-write user pgusers creates (set when that user is made). A read-only
//! user is a member of the group and nothing else, so:
//! - it reads tables created later by the protected user or by a read-write
//!   user, because PostgreSQL grants SELECT to the group as each table is made;
//! - it cannot write or create, because nothing grants it more;
//! - "read-only" is a fact stored in the catalog (the membership), which
//!   survives restarts and is what [`RoleManager::list`] reports.
//!
//! # Safety rules enforced here, whatever path calls
//! - The protected user cannot be renamed, deleted or have its password changed.
//! - Only managed users can be touched: login roles that are not superusers,
//!   not `pg_*` roles and not the role pgusers connects as.
//! - Every change is one transaction, serialised with the others by an
//!   advisory lock, so two creates of one name give one user and one
//!   "already exists".
//! - Passwords reach PostgreSQL only as SCRAM-SHA-256 verifiers.

mod error;
mod provision;
mod sql;

pub use error::RoleError;
pub use provision::{provision_database, random_default_name};

use deadpool_postgres::{Pool, Transaction};
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::domain::{NewPassword, Password, RoleName, Username};
use sql::ident;

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
    pub protected: bool,
    pub password_encryption: PasswordEncryption,
}

/// What a user owns, as shown before deleting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    /// Objects in this database (and shared ones), described by PostgreSQL.
    pub objects: Vec<String>,
    /// Objects in other databases of the server, which block the deletion.
    pub elsewhere: i64,
}

/// Manages the users of the database a pool connects to.
pub struct RoleManager {
    pool: Pool,
    /// The protected default user, when configured; else the database owner.
    protected: Option<RoleName>,
    authid_readable: OnceCell<bool>,
    database: OnceCell<String>,
}

/// Serialises pgusers' changes on a server (the value spells "pgusers").
const LOCK_KEY: i64 = 0x0070_6775_7365_7273;

/// The current database, its owner and the name of its readers group, in SQL,
/// so the list query and the changes agree on the group's name.
const DATABASE_FACTS: &str = "
    SELECT d.datname::text AS database,
           pg_get_userbyid(d.datdba)::text AS owner,
           CASE WHEN octet_length(d.datname) <= 46
                THEN 'pgusers-readonly-' || d.datname
                ELSE 'pgusers-readonly-' || d.oid::text END AS readers
      FROM pg_database d
     WHERE d.datname = current_database()";

/// The roles pgusers may manage, by their columns in `pg_roles`/`pg_authid`.
const MANAGED: &str =
    "r.rolcanlogin AND NOT r.rolsuper AND r.rolname !~ '^pg_' AND r.rolname <> current_user";

/// The facts every change needs, read inside its transaction.
struct Facts {
    database: String,
    protected: String,
    readers: String,
}

impl RoleManager {
    pub fn new(pool: Pool, protected: Option<RoleName>) -> Self {
        Self {
            pool,
            protected,
            authid_readable: OnceCell::new(),
            database: OnceCell::new(),
        }
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), RoleError> {
        let client = self.pool.get().await?;
        client
            .simple_query("SELECT 1")
            .await
            .map_err(|e| RoleError::from_postgres(e, ""))?;
        Ok(())
    }

    /// The name of the managed database (asked once, then remembered).
    pub async fn database_name(&self) -> Result<String, RoleError> {
        self.database
            .get_or_try_init(|| async {
                let client = self.pool.get().await?;
                let row = client
                    .query_one("SELECT current_database()::text", &[])
                    .await
                    .map_err(|e| RoleError::from_postgres(e, ""))?;
                Ok(row.get(0))
            })
            .await
            .cloned()
    }

    /// The server's version, as PostgreSQL reports it.
    pub async fn server_version(&self) -> Result<String, RoleError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one("SELECT current_setting('server_version')", &[])
            .await
            .map_err(|e| RoleError::from_postgres(e, ""))?;
        Ok(row.get(0))
    }

    /// The protected default user: the configured one, else the database's owner.
    pub async fn protected_user(&self) -> Result<String, RoleError> {
        if let Some(name) = &self.protected {
            return Ok(name.to_string());
        }
        let client = self.pool.get().await?;
        let row = client
            .query_one(DATABASE_FACTS, &[])
            .await
            .map_err(|e| RoleError::from_postgres(e, ""))?;
        Ok(row.get("owner"))
    }

    /// The database's users, ordered by name, in one query.
    pub async fn list(&self) -> Result<Vec<DatabaseUser>, RoleError> {
        let client = self.pool.get().await?;
        let authid = *self
            .authid_readable
            .get_or_try_init(|| async {
                client
                    .query_one(
                        "SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT')",
                        &[],
                    )
                    .await
                    .map(|row| row.get::<_, bool>(0))
            })
            .await
            .map_err(|e| RoleError::from_postgres(e, ""))?;
        let (source, encryption) = if authid {
            (
                "pg_authid",
                "CASE WHEN r.rolpassword IS NULL THEN 'none'
                      WHEN r.rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram'
                      WHEN r.rolpassword LIKE 'md5%' THEN 'md5' END",
            )
        } else {
            ("pg_roles", "NULL::text")
        };
        let query = format!(
            "WITH facts AS ({DATABASE_FACTS})
             SELECT r.rolname::text,
                    EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                             WHERE m.member = r.oid AND g.rolname = facts.readers),
                    r.rolname = COALESCE($1, facts.owner),
                    {encryption}
               FROM {source} r, facts
              WHERE {MANAGED}
              ORDER BY r.rolname"
        );
        let protected = self.protected.as_ref().map(RoleName::as_str);
        let rows = client
            .query(&query, &[&protected])
            .await
            .map_err(|e| RoleError::from_postgres(e, ""))?;
        Ok(rows
            .iter()
            .map(|row| DatabaseUser {
                username: row.get(0),
                read_only: row.get(1),
                protected: row.get(2),
                password_encryption: PasswordEncryption::from_catalog(row.get(3)),
            })
            .collect())
    }

    /// One managed user, or [`RoleError::NotFound`].
    pub async fn find(&self, name: &RoleName) -> Result<DatabaseUser, RoleError> {
        self.list()
            .await?
            .into_iter()
            .find(|user| user.username == name.as_str())
            .ok_or_else(|| RoleError::NotFound(name.to_string()))
    }

    /// Creates a user with the password given, or a generated one, which is
    /// returned so it can be shown once.
    pub async fn create(
        &self,
        name: &Username,
        password: NewPassword,
        access: Access,
    ) -> Result<Option<Password>, RoleError> {
        let (password, generated) = resolve(password);
        let user = name.as_str();
        let fail = |e| RoleError::from_postgres(e, user);
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client, user).await?;
        let facts = self.facts(&tx).await?;
        let exists = tx
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&user])
            .await
            .map_err(fail)?;
        if exists.is_some() {
            return Err(RoleError::AlreadyExists(user.to_owned()));
        }
        ensure_readers_group(&tx, &facts).await?;
        let mut statements = format!(
            "CREATE ROLE {} LOGIN {};",
            ident(user),
            sql::password_clause(&password)
        );
        match access {
            Access::ReadWrite => {
                statements.push_str(&sql::read_write_grants(
                    user,
                    &facts.database,
                    &facts.protected,
                ));
                statements.push_str(&sql::readers_follow(user, &facts.readers));
            }
            Access::ReadOnly => {
                statements.push_str(&format!(
                    "GRANT {} TO {};",
                    ident(&facts.readers),
                    ident(user)
                ));
            }
        }
        tx.batch_execute(&statements).await.map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        Ok(generated.then_some(password))
    }

    /// Sets a chosen password.
    pub async fn set_password(
        &self,
        name: &RoleName,
        password: &Password,
    ) -> Result<(), RoleError> {
        self.change_password(name, password).await
    }

    /// Replaces the password with a generated one, returned so it can be shown once.
    pub async fn reset_password(&self, name: &RoleName) -> Result<Password, RoleError> {
        let password = Password::generate();
        self.change_password(name, &password).await?;
        Ok(password)
    }

    /// Sets or generates a password, as a person asked. Returns the generated one.
    pub async fn update_password(
        &self,
        name: &RoleName,
        password: NewPassword,
    ) -> Result<Option<Password>, RoleError> {
        let (password, generated) = resolve(password);
        self.change_password(name, &password).await?;
        Ok(generated.then_some(password))
    }

    async fn change_password(&self, name: &RoleName, password: &Password) -> Result<(), RoleError> {
        let statement = format!(
            "ALTER ROLE {} {}",
            ident(name.as_str()),
            sql::password_clause(password)
        );
        self.alter_managed(name, &statement, name.as_str()).await
    }

    /// Renames a user. (PostgreSQL clears an MD5 password on rename, as its
    /// salt is the name; SCRAM passwords survive.)
    pub async fn rename(&self, name: &RoleName, new_name: &Username) -> Result<(), RoleError> {
        let statement = format!(
            "ALTER ROLE {} RENAME TO {}",
            ident(name.as_str()),
            ident(new_name.as_str())
        );
        self.alter_managed(name, &statement, new_name.as_str())
            .await
    }

    /// Runs one `ALTER ROLE` on a managed, unprotected user, in a change of
    /// its own. `blame` names the user an "already exists" would be about.
    async fn alter_managed(
        &self,
        name: &RoleName,
        statement: &str,
        blame: &str,
    ) -> Result<(), RoleError> {
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client, name.as_str()).await?;
        self.managed_target(&tx, name).await?;
        let fail = |e| RoleError::from_postgres(e, blame);
        tx.batch_execute(statement).await.map_err(fail)?;
        tx.commit().await.map_err(fail)
    }

    /// What a user owns: shown before deleting it, as it will move to the
    /// protected user.
    pub async fn ownership(&self, name: &RoleName) -> Result<Ownership, RoleError> {
        let user = name.as_str();
        let fail = |e| RoleError::from_postgres(e, user);
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await.map_err(fail)?;
        let oid = self.managed_target(&tx, name).await?;
        let rows = tx
            .query(
                "SELECT pg_describe_object(s.classid, s.objid, s.objsubid)
                   FROM pg_shdepend s
                  WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = $1 AND s.deptype = 'o'
                    AND s.dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
                    -- Default privileges are pgusers' own bookkeeping: dropped, not moved.
                    AND s.classid <> 'pg_default_acl'::regclass
                  ORDER BY 1",
                &[&oid],
            )
            .await
            .map_err(fail)?;
        let elsewhere = tx
            .query_one(
                "SELECT count(*) FROM pg_shdepend s
                  WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = $1 AND s.deptype = 'o'
                    AND s.dbid NOT IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))",
                &[&oid],
            )
            .await
            .map_err(fail)?;
        Ok(Ownership {
            objects: rows.iter().map(|row| row.get(0)).collect(),
            elsewhere: elsewhere.get(0),
        })
    }

    /// Deletes a user without losing data: its sessions end, everything it
    /// owns moves to the protected user, its remaining privileges are
    /// dropped, then the role.
    pub async fn delete(&self, name: &RoleName) -> Result<(), RoleError> {
        let user = name.as_str();
        let fail = |e| RoleError::from_postgres(e, user);
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client, user).await?;
        let facts = self.facts(&tx).await?;
        let oid = self.managed_target(&tx, name).await?;
        // Ending sessions first frees the locks they hold on the user's tables,
        // which REASSIGN OWNED would otherwise wait for.
        terminate_sessions(&tx, oid).await.map_err(fail)?;
        let statements = format!(
            "REASSIGN OWNED BY {user} TO {protected}; DROP OWNED BY {user}; DROP ROLE {user};",
            user = ident(user),
            protected = ident(&facts.protected)
        );
        tx.batch_execute(&statements).await.map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        // A session opened while the transaction ran outlives the role; end it too.
        terminate_sessions(&client, oid).await.map_err(fail)?;
        Ok(())
    }

    async fn facts(&self, tx: &Transaction<'_>) -> Result<Facts, RoleError> {
        let row = tx
            .query_one(DATABASE_FACTS, &[])
            .await
            .map_err(|e| RoleError::from_postgres(e, ""))?;
        Ok(Facts {
            database: row.get("database"),
            protected: match &self.protected {
                Some(name) => name.to_string(),
                None => row.get("owner"),
            },
            readers: row.get("readers"),
        })
    }

    /// Refuses the protected user and anything that is not a managed user;
    /// returns the role's oid.
    async fn managed_target(
        &self,
        tx: &Transaction<'_>,
        name: &RoleName,
    ) -> Result<u32, RoleError> {
        let user = name.as_str();
        let facts = self.facts(tx).await?;
        if facts.protected == user {
            return Err(RoleError::Protected(user.to_owned()));
        }
        let query = format!("SELECT r.oid FROM pg_roles r WHERE r.rolname = $1 AND {MANAGED}");
        tx.query_opt(&query, &[&user])
            .await
            .map_err(|e| RoleError::from_postgres(e, user))?
            .map(|row| row.get(0))
            .ok_or_else(|| RoleError::NotFound(user.to_owned()))
    }
}

fn resolve(password: NewPassword) -> (Password, bool) {
    match password {
        NewPassword::Chosen(password) => (password, false),
        NewPassword::Generate => (Password::generate(), true),
    }
}

/// Opens a change: a transaction that waits at most 10 s for locks and holds
/// pgusers' advisory lock until it ends.
async fn begin<'a>(
    client: &'a mut deadpool_postgres::Client,
    user: &str,
) -> Result<Transaction<'a>, RoleError> {
    let fail = |e| RoleError::from_postgres(e, user);
    let tx = client.transaction().await.map_err(fail)?;
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = '10s'; SELECT pg_advisory_xact_lock({LOCK_KEY});"
    ))
    .await
    .map_err(fail)?;
    Ok(tx)
}

/// Makes sure the readers group exists with its grants, and follows the
/// protected user's future tables.
async fn ensure_readers_group(tx: &Transaction<'_>, facts: &Facts) -> Result<(), RoleError> {
    let fail = |e| RoleError::from_postgres(e, &facts.readers);
    let exists = tx
        .query_opt(
            "SELECT 1 FROM pg_roles WHERE rolname = $1",
            &[&facts.readers],
        )
        .await
        .map_err(fail)?;
    let readers = ident(&facts.readers);
    let mut statements = String::new();
    if exists.is_none() {
        statements.push_str(&format!(
            "CREATE ROLE {readers} NOLOGIN;
             COMMENT ON ROLE {readers} IS {comment};",
            comment = postgres_protocol::escape::escape_literal(&format!(
                "pgusers: read-only users of database {}",
                facts.database
            ))
        ));
    }
    statements.push_str(&format!(
        "GRANT CONNECT ON DATABASE {database} TO {readers};
         GRANT USAGE ON SCHEMA public TO {readers};
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {readers};
         GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {readers};",
        database = ident(&facts.database)
    ));
    statements.push_str(&sql::readers_follow(&facts.protected, &facts.readers));
    tx.batch_execute(&statements).await.map_err(fail)
}

async fn terminate_sessions(
    client: &impl deadpool_postgres::GenericClient,
    oid: u32,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE usesysid = $1 AND pid <> pg_backend_pid()",
            &[&oid],
        )
        .await
        .map(|_| ())
}
