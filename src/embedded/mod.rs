//! A local PostgreSQL cluster that pgusers runs itself.
//!
//! This is what gives `cargo run` its zero-configuration database, and what the
//! tests start their temporary clusters with: one module, so the path people
//! use is the path the tests prove.
//!
//! Layout of a cluster's root directory:
//! - `data/`: the PGDATA directory made by `initdb`;
//! - `run/`: the Unix socket directory (mode 0700);
//! - `server.log`: the server's log;
//! - `in-use.lock`: locked (shared) by every pgusers process using the
//!   server; the last to leave stops it.
//!
//! PostgreSQL refuses to run as root, so when pgusers is root the server
//! programs run as the `postgres` system user, which then owns the root
//! directory.

mod binaries;
mod cluster;
mod default_database;
pub mod supervisor;

pub use binaries::Binaries;
pub use cluster::{Cluster, ClusterOptions, SUPERUSER};
pub use default_database::{Announce, DefaultDatabase, DefaultDatabaseError, Provisioned};
pub use supervisor::{ClusterState, Supervisor};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server programs were not found (looked for `pg_config --bindir` and \
         /usr/lib/postgresql/*/bin). Install them, e.g. `apt-get install postgresql`, \
         or set DATABASE_URL to use an existing server."
    )]
    BinariesMissing,
    #[error("PGUSERS_PG_BINDIR is {0}, which does not hold initdb, pg_ctl and postgres")]
    BinariesNotIn(PathBuf),
    #[error(
        "pgusers runs as root, so PostgreSQL must run as the `postgres` system user, which \
         does not exist. Install the `postgresql` package or create that user."
    )]
    NoPostgresUser,
    #[error(
        "the `postgres` system user cannot reach {path}: {blocking} is not searchable by it. \
         Set PGUSERS_DATA_DIR to a directory it can reach, such as /var/lib/pgusers."
    )]
    Unreachable { path: PathBuf, blocking: PathBuf },
    #[error(
        "the socket path {0} is too long for a Unix socket (limit 107 bytes); \
         choose a shorter PGUSERS_DATA_DIR"
    )]
    SocketPathTooLong(PathBuf),
    #[error("this pgusers process no longer uses the embedded PostgreSQL")]
    NotInUse,
    #[error(
        "PostgreSQL runs on port {running}, not on port {expected} where pgusers connects \
         (another program held that port when it was started): restart pgusers to reach it"
    )]
    OtherPort { running: u16, expected: u16 },
    #[error("{program} failed: {output}")]
    Command { program: String, output: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl EmbeddedError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}
