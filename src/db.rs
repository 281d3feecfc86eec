//! Connections to PostgreSQL: pools for the server pgusers manages and for its
//! own state, and single connections for one-off work.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::{Client, Config, NoTls};

/// How long pgusers waits for PostgreSQL before it says the database is unavailable.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A pool that gives up after [`TIMEOUT`] instead of hanging a page when the
/// server is down, and drops connections the server closed so it recovers
/// by itself when the server is back.
pub fn pool(mut config: Config, max_size: usize) -> Pool {
    config.connect_timeout(TIMEOUT);
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(TIMEOUT))
        .create_timeout(Some(TIMEOUT))
        .recycle_timeout(Some(TIMEOUT))
        .build()
        .expect("a pool with a runtime and timeouts always builds")
}

/// Keeps the rest of the current transaction out of the server's log, when
/// the connecting role may say so (a superuser; others' statements are
/// logged as the server is configured). Statements carrying a password
/// verifier or an argon2 hash run after it: neither is a password, but both
/// can be attacked offline, and `log_statement = all` (or a failing
/// statement, with `log_min_error_statement`) would write them out.
pub const UNLOGGED: &str = "SELECT set_config('log_statement', 'none', true),
        set_config('log_min_duration_statement', '-1', true),
        set_config('log_min_error_statement', 'panic', true)
   FROM pg_catalog.pg_roles WHERE rolname = current_user AND rolsuper";

/// One connection, its driver running on the current runtime.
pub async fn connect(config: &Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "PostgreSQL connection closed");
        }
    });
    Ok(client)
}

/// Parses a `postgres://` URL or a `key=value` connection string.
pub fn parse_config(url: &str) -> Result<Config, tokio_postgres::Error> {
    url.parse::<Config>()
}

/// The name of the database a configuration connects to: its `dbname`, else
/// its user's name, as libpq does.
pub fn database_name(config: &Config) -> Option<&str> {
    config.get_dbname().or_else(|| config.get_user())
}

/// An error as a sentence: the server's own message when it sent one
/// (`tokio_postgres` displays only "db error" then).
pub fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => error.to_string(),
    }
}
