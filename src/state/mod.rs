//! The dashboard's own state (operators; later the audit log), kept in a
//! PostgreSQL database of its own, never in the managed database.
//!
//! The schema is a list of ordered SQL migrations in `src/state/migrations`,
//! applied by refinery the first time the state is needed. Setting up is
//! retried on every use until it succeeds, so pgusers can start while
//! PostgreSQL is down and recover when it comes back.

mod audit;
mod forms;
mod hashing;
mod login_sessions;
mod logins;
mod operators;
mod tokens;

pub use audit::{Action, EntriesPage, Entry, Event, Outcome, Source};
pub use forms::{FormClaim, FormKey, FormRequest, FormUse};
pub use hashing::{hash_operator_password, verify_password};
pub use login_sessions::session_hash;
pub use logins::{LoginAttempt, LoginPolicy, Throttle, throttling_key};
pub use operators::Operator;
pub use tokens::{TokenHolder, TokenInfo};

use std::sync::Mutex;
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;

use crate::db::Conninfo;
use crate::db::{ConnectError, Endpoint};
use crate::domain::OperatorPassword;
use crate::failure::{Detail, ErrorKind};
use crate::notice::Announce;
use tokio::sync::OnceCell;
use tokio_postgres::error::SqlState;

refinery::embed_migrations!("src/state/migrations");

/// Serialises the setting up of a state database ("pgusers setup").
const SETUP_LOCK: i64 = 0x7067_7573_6572_7301;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The details keep what PostgreSQL or the network said, for the log.
    #[error("The dashboard's state database is unavailable: {0}")]
    Unavailable(#[source] Detail),
    /// It was never created (no dashboard has run yet).
    #[error("The dashboard's state database does not exist yet: {0}")]
    Missing(#[source] Detail),
    /// Its settings cannot work (wrong credentials, a server that refuses
    /// pgusers): retrying will not help, fixing them will.
    #[error("The dashboard's state database cannot be used: {0}")]
    Misconfigured(#[source] Detail),
    #[error("The dashboard's state database refused a query: {}", crate::db::describe(.0))]
    Database(#[source] tokio_postgres::Error),
    #[error("Applying the dashboard's schema migrations failed: {0}")]
    Migration(#[source] refinery::Error),
    #[error("Hashing a password failed: {0}")]
    Hashing(String),
    #[error("Operator \"{0}\" already exists.")]
    OperatorExists(String),
    #[error("Operator \"{0}\" does not exist.")]
    OperatorNotFound(String),
    #[error(
        "Operator \"{0}\" is the last one: add another before removing it, or nobody could log in."
    )]
    LastOperator(String),
    #[error("API token {0} does not exist (`pgusers tokens list` shows them).")]
    TokenNotFound(String),
}

impl From<tokio_postgres::Error> for StateError {
    fn from(error: tokio_postgres::Error) -> Self {
        if error.code() == Some(&SqlState::INVALID_CATALOG_NAME) {
            Self::Missing(Detail::new(crate::db::describe(&error), error))
        } else if error.code().is_some_and(crate::db::is_outage) {
            Self::Unavailable(Detail::new(crate::db::describe(&error), error))
        } else if error.code().is_some() {
            Self::Database(error)
        } else {
            Self::Unavailable(Detail::new(format!("{error}."), error))
        }
    }
}

impl StateError {
    /// Whether pgusers said no to what was asked (rather than failing to
    /// do it).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::OperatorExists(_)
                | Self::OperatorNotFound(_)
                | Self::LastOperator(_)
                | Self::TokenNotFound(_)
        )
    }

    /// Whether pgusers' settings must change before this can work (the CLI
    /// exits 2 on it; `serve` does not start).
    pub fn is_misconfiguration(&self) -> bool {
        self.kind() == ErrorKind::Misconfigured
    }

    /// The database is away for now: trying again may work.
    pub fn is_unavailable(&self) -> bool {
        self.kind() == ErrorKind::Unavailable
    }

    /// What this error means to whoever asked (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Missing(_) | Self::Misconfigured(_) => ErrorKind::Misconfigured,
            Self::Database(_) | Self::Migration(_) | Self::Hashing(_) => ErrorKind::Internal,
            Self::OperatorExists(_) | Self::LastOperator(_) => ErrorKind::Refused,
            Self::OperatorNotFound(_) | Self::TokenNotFound(_) => ErrorKind::NotFound,
        }
    }

    /// A failure to connect, classified by what PostgreSQL or the network
    /// said. A missing state database keeps its meaning: no dashboard has
    /// set it up yet.
    fn connecting(error: crate::db::ConnectError, missing: bool) -> Self {
        match error {
            ConnectError::Settings(message) if missing => Self::Missing(message),
            ConnectError::Settings(message) => Self::Misconfigured(message),
            ConnectError::Unreachable(message) => Self::Unavailable(message),
        }
    }
}

/// Where the state lives and how to set it up.
pub struct StateSettings {
    /// The state database.
    pub config: Conninfo,
    /// When set, an administrator's connection to the same server, used to
    /// create the state database if it is missing.
    pub create_with: Option<Conninfo>,
    /// The first operator's password; generated and announced once when absent.
    pub admin_password: Option<OperatorPassword>,
    /// Where a generated first password is shown.
    pub announce: Announce,
    /// Whether to create the operator `admin` when there is none.
    pub bootstrap_operator: bool,
}

pub struct StateStore {
    pool: Pool,
    /// Where the pool connects, for messages that say what went wrong.
    endpoint: Endpoint,
    settings: StateSettings,
    ready: OnceCell<()>,
    /// Audit entries older than this are deleted.
    audit_retention: Duration,
    /// When this process last deleted old audit entries.
    audit_pruned_at: Mutex<Option<Instant>>,
    /// When the state database last answered [`StateStore::check`]; held
    /// while one is asked, so that requests at once share its answer.
    answered_at: tokio::sync::Mutex<Option<Instant>>,
}

/// How long an answer of the state database vouches for it: a flood of
/// login pages costs it one `SELECT 1` per this long, not one each.
const CHECK_VALID_FOR: Duration = Duration::from_secs(2);

/// The state database's connection settings, whatever the role's or the
/// database's own (`ALTER ROLE/DATABASE … SET search_path`): built-in
/// functions and operators first (`pg_catalog`, unlisted, is searched
/// first), then the state's tables in `public`, where the migrations create
/// them, and session-private temporary tables last, so nothing planted in
/// another schema changes what pgusers' statements mean.
fn pinned(conninfo: Conninfo) -> Conninfo {
    conninfo.map_config(|config| {
        crate::db::with_session_options(config, "-c search_path=public,pg_temp")
    })
}

/// How long audit entries are kept unless told otherwise.
pub const DEFAULT_AUDIT_RETENTION: Duration = Duration::from_secs(90 * 86_400);

impl StateStore {
    pub fn new(mut settings: StateSettings) -> Self {
        settings.config = pinned(settings.config);
        settings.create_with = settings.create_with.map(pinned);
        // Without a server to create it on, the state database's settings
        // come from PGUSERS_STATE_URL; else from the managed server's.
        let setting = if settings.create_with.is_some() {
            "DATABASE_URL"
        } else {
            "PGUSERS_STATE_URL"
        };
        Self {
            endpoint: Endpoint::of(&settings.config, setting),
            pool: crate::db::pool(settings.config.clone(), 4),
            settings,
            ready: OnceCell::new(),
            audit_retention: DEFAULT_AUDIT_RETENTION,
            audit_pruned_at: Mutex::new(None),
            answered_at: tokio::sync::Mutex::new(None),
        }
    }

    /// Names the setting to fix when connecting is refused.
    pub fn configured_by(mut self, setting: impl Into<String>) -> Self {
        self.endpoint = self.endpoint.with_setting(setting);
        self
    }

    /// Keeps audit entries for `retention` (instead of 90 days).
    pub fn with_audit_retention(mut self, retention: Duration) -> Self {
        self.audit_retention = retention;
        self
    }

    /// Creates the database if needed, applies migrations and makes sure an
    /// operator exists. Runs once; a failure is retried at the next call.
    pub async fn ensure_ready(&self) -> Result<(), StateError> {
        self.ready
            .get_or_try_init(|| self.set_up())
            .await
            .map(|_| ())
    }

    async fn set_up(&self) -> Result<(), StateError> {
        if let Some(admin) = &self.settings.create_with {
            create_database_if_missing(admin, &self.settings.config, self.endpoint.setting())
                .await?;
        }
        let mut client = crate::db::connect(&self.settings.config)
            .await
            .map_err(|error| {
                let missing = error.code() == Some(&SqlState::INVALID_CATALOG_NAME);
                StateError::connecting(crate::db::classify(error, &self.endpoint), missing)
            })?;
        // Two pgusers processes starting at once (a dashboard and a CLI
        // command) must not migrate at the same time. The lock ends with
        // this connection.
        client
            .execute("SELECT pg_advisory_lock($1)", &[&SETUP_LOCK])
            .await?;
        // The migrations' `CREATE TABLE IF NOT EXISTS` of their history
        // table sends a NOTICE ("already exists, skipping") on every start
        // after the first, which would be logged as news each time.
        client
            .batch_execute("SET client_min_messages = warning")
            .await?;
        let migrated = migrations::runner()
            .run_async(&mut client)
            .await
            .map_err(StateError::Migration);
        let bootstrapped = match migrated {
            Ok(_) if self.settings.bootstrap_operator => self.bootstrap_operator().await,
            Ok(_) => Ok(()),
            Err(error) => Err(error),
        };
        // Released here rather than with the connection, whose closing may
        // wait for the runtime.
        client
            .execute("SELECT pg_advisory_unlock($1)", &[&SETUP_LOCK])
            .await?;
        bootstrapped
    }

    /// When nobody can log in, creates `admin`.
    async fn bootstrap_operator(&self) -> Result<(), StateError> {
        let mut client = self.connection().await?;
        let count: i64 = client
            .query_one("SELECT count(*) FROM operators", &[])
            .await?
            .get(0);
        if count > 0 {
            return Ok(());
        }
        let (password, generated) = match &self.settings.admin_password {
            Some(password) => (password.clone(), false),
            None => (OperatorPassword::generate(), true),
        };
        let hash = hash_operator_password(password.expose()).await?;
        let tx = client.transaction().await?;
        tx.batch_execute(crate::db::UNLOGGED).await?;
        let inserted = tx
            .execute(
                "INSERT INTO operators (name, password_hash) VALUES ('admin', $1)
                 ON CONFLICT (name) DO NOTHING",
                &[&hash],
            )
            .await?;
        tx.commit().await?;
        if inserted == 1 && generated {
            // Shown once, on the terminal of whoever started pgusers; never logged.
            self.settings.announce.say(&format!(
                "Created the dashboard operator \"admin\" with password \"{}\". \
                 It is shown only this once.",
                password.expose()
            ));
        }
        Ok(())
    }

    /// Whether the state database answers now (the login page needs it).
    /// An answer less than [`CHECK_VALID_FOR`] old stands for one, unless a
    /// connection failed since; one request asks at a time, the others
    /// wait for its answer. A failure is not kept: the next request asks
    /// again.
    pub async fn check(&self) -> Result<(), StateError> {
        let mut answered_at = self.answered_at.lock().await;
        if answered_at.is_some_and(|at| at.elapsed() < CHECK_VALID_FOR) {
            return Ok(());
        }
        *answered_at = None;
        self.client().await?.simple_query("SELECT 1").await?;
        *answered_at = Some(Instant::now());
        Ok(())
    }

    /// A connection, once the state is set up.
    async fn client(&self) -> Result<deadpool_postgres::Client, StateError> {
        self.ensure_ready().await?;
        self.connection().await
    }

    async fn connection(&self) -> Result<deadpool_postgres::Client, StateError> {
        self.pool.get().await.map_err(|error| {
            // The last answer no longer vouches for the database.
            if let Ok(mut answered_at) = self.answered_at.try_lock() {
                *answered_at = None;
            }
            let missing = matches!(&error, deadpool_postgres::PoolError::Backend(e)
                if e.code() == Some(&SqlState::INVALID_CATALOG_NAME));
            StateError::connecting(crate::db::connect_error(error, &self.endpoint), missing)
        })
    }
}

async fn create_database_if_missing(
    admin: &Conninfo,
    state: &Conninfo,
    setting: &str,
) -> Result<(), StateError> {
    let Some(name) = crate::db::database_name(state.config()) else {
        return Ok(());
    };
    let client = crate::db::connect(admin).await.map_err(|error| {
        StateError::connecting(
            crate::db::classify(error, &Endpoint::of(admin, setting)),
            false,
        )
    })?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await?;
    let database = postgres_protocol::escape::escape_identifier(name);
    if exists.is_none() {
        match client
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .await
        {
            // Another process created it first: either code, depending on when.
            Err(error)
                if error.code() == Some(&SqlState::DUPLICATE_DATABASE)
                    || error.code() == Some(&SqlState::UNIQUE_VIOLATION) => {}
            other => other?,
        }
    }
    // Everyone may connect to a new database by default; the users pgusers
    // hands out have no business in its state.
    client
        .batch_execute(&format!("REVOKE ALL ON DATABASE {database} FROM PUBLIC"))
        .await?;
    Ok(())
}
