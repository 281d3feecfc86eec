use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::db::{ConnectError, Endpoint};
use crate::failure::{Detail, ErrorKind};

/// Why a role operation did not happen. Every variant means nothing changed.
///
/// Names and PostgreSQL's words are shown through `domain::visible`: they
/// come from the database and may hold terminal escapes or bidi overrides.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("User \"{}\" already exists.", crate::domain::visible(.0))]
    AlreadyExists(String),
    #[error("User \"{}\" does not exist.", crate::domain::visible(.0))]
    NotFound(String),
    #[error(
        "User \"{}\" is the protected default user: it cannot be renamed or deleted, \
         and its password cannot be changed.",
        crate::domain::visible(.0)
    )]
    Protected(String),
    #[error(
        "User \"{}\" owns database {}: pgusers does not rename or delete database \
         owners, nor change their passwords.",
        crate::domain::visible(.user),
        crate::domain::visible(.databases)
    )]
    OwnsDatabase { user: String, databases: String },
    #[error(
        "User \"{}\" is not managed by pgusers: {reason}. pgusers hands out only \
         application users of this database, never more power than it creates.",
        crate::domain::visible(.user)
    )]
    NotManageable {
        user: String,
        reason: super::Restriction,
    },
    #[error(
        "The protected user \"{}\" does not exist in this database server. \
         Check PGUSERS_PROTECTED_USER; pgusers changes nothing until it names a real role.",
        crate::domain::visible(.0)
    )]
    ProtectedUserMissing(String),
    #[error(
        "User \"{}\" still owns objects in other databases of this server; \
         move or drop them there first. PostgreSQL said: {}",
        crate::domain::visible(.user),
        crate::domain::visible(.detail)
    )]
    OwnsObjectsElsewhere { user: String, detail: String },
    /// pgusers' role lacks a privilege a change needs (a non-superuser
    /// administrator, as managed services give), and cannot take it itself.
    #[error(
        "The role pgusers connects as, \"{}\", lacks a privilege this needs: {}. \
         To fix it, have a role that may (a superuser, or the role that made it) run: {}",
        crate::domain::visible(.admin),
        crate::domain::visible(.needs),
        crate::domain::visible(.fix)
    )]
    MissingPrivilege {
        admin: String,
        needs: String,
        fix: String,
    },
    /// Other roles may act as the user (`SET ROLE`), so locking it out
    /// would not stop its code while it is deleted.
    #[error(
        "User \"{}\" can be acted as by {} (members of it, who may act as it or with its \
         rights), who could keep creating objects as it while it is deleted. Revoke it from \
         them first: {}",
        crate::domain::visible(.user),
        crate::domain::visible(.members),
        crate::domain::visible(.revokes)
    )]
    ActedAsByOthers {
        user: String,
        members: String,
        revokes: String,
    },
    /// The user leaves code PostgreSQL runs with its owner's rights, with
    /// nobody acting, which pgusers cannot make safe without changing the
    /// data (see `code`): a person reviews it first.
    #[error(
        "User \"{}\" was not deleted: it leaves code that PostgreSQL would run with the \
         protected user's rights, some with nobody acting (autovacuum's ANALYZE), and that \
         cannot be changed without changing the data: {}. Review those functions; if they are \
         safe to run as the protected user, run (as a superuser, or their owner): {} Then \
         delete again.",
        crate::domain::visible(.user),
        crate::domain::visible(.code),
        crate::domain::visible(.fix)
    )]
    CodeToReview {
        user: String,
        code: String,
        fix: String,
    },
    /// Code running as the user made objects while it was being deleted
    /// (a call of one of its SECURITY DEFINER routines begun before it was
    /// locked out): nothing was deleted.
    #[error(
        "Code running as \"{}\" made objects while it was being deleted ({}); nothing was \
         deleted. Its routines no longer run as it: try again in a moment.",
        crate::domain::visible(.user),
        crate::domain::visible(.objects)
    )]
    ActedWhileDeleted { user: String, objects: String },
    #[error("The database is busy with another change; try again in a moment.")]
    Busy,
    /// Another transaction changed a catalog row this change changes, at
    /// the same moment ("tuple concurrently updated", a deadlock): trying
    /// again goes through.
    #[error("Another change to the same roles or rights ran at that moment; try again.")]
    Concurrent,
    /// Other sessions hold locks on the tables of a user being deleted for
    /// longer than a delete waits; its lock-out was undone.
    #[error(
        "User \"{}\" was not deleted: other sessions hold its tables ({}), perhaps in a long \
         transaction. Nothing changed; try again once they are done, or end them (pgusers ends \
         the sessions of the users it manages from their page).",
        crate::domain::visible(.user),
        crate::domain::visible(.sessions)
    )]
    HeldByOthers { user: String, sessions: String },
    /// The detail says why, and keeps what PostgreSQL or the network said.
    #[error("The database is unavailable: {0}")]
    Unavailable(#[source] Detail),
    /// pgusers' settings cannot work (wrong credentials, a database that
    /// does not exist, a role without the rights pgusers needs): retrying
    /// will not help, fixing them will.
    #[error(transparent)]
    Misconfigured(Detail),
    #[error("PostgreSQL refused the operation: {}", crate::domain::visible(&crate::db::describe(.0)))]
    Database(#[source] tokio_postgres::Error),
}

impl RoleError {
    /// What this error means to whoever asked (the one classification the
    /// dashboard, the API and the CLI answer from).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Protected(_) | Self::OwnsDatabase { .. } | Self::NotManageable { .. } => {
                ErrorKind::Protected
            }
            Self::AlreadyExists(_)
            | Self::OwnsObjectsElsewhere { .. }
            | Self::ActedAsByOthers { .. }
            | Self::CodeToReview { .. } => ErrorKind::Refused,
            Self::Busy
            | Self::Concurrent
            | Self::HeldByOthers { .. }
            | Self::ActedWhileDeleted { .. } => ErrorKind::TryAgain,
            Self::MissingPrivilege { .. } => ErrorKind::AdminLacksPrivilege,
            Self::ProtectedUserMissing(_) | Self::Misconfigured(_) => ErrorKind::Misconfigured,
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Database(_) => ErrorKind::Internal,
        }
    }

    /// Whether the database could not be reached: trying again later may work.
    pub fn is_unavailable(&self) -> bool {
        self.kind() == ErrorKind::Unavailable
    }

    /// Whether pgusers or PostgreSQL said no (as opposed to: could not do it).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::AlreadyExists(_)
                | Self::NotFound(_)
                | Self::Protected(_)
                | Self::OwnsDatabase { .. }
                | Self::NotManageable { .. }
                | Self::ProtectedUserMissing(_)
                | Self::OwnsObjectsElsewhere { .. }
                | Self::ActedAsByOthers { .. }
                | Self::CodeToReview { .. }
        )
    }

    /// Whether pgusers' settings must change before this can work (the CLI
    /// exits 2 on it; `serve` does not start).
    pub fn is_misconfiguration(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Misconfigured | ErrorKind::AdminLacksPrivilege
        )
    }

    /// An error from a query about the server rather than about one user.
    pub(crate) fn server(error: tokio_postgres::Error) -> Self {
        Self::from_postgres(error, "")
    }

    /// Errors that come from PostgreSQL itself keep their meaning (a name
    /// taken by a concurrent creator is still "already exists"); errors with
    /// no server answer mean the server is out of reach.
    pub(crate) fn from_postgres(error: tokio_postgres::Error, user: &str) -> Self {
        match error.code() {
            Some(code)
                if *code == SqlState::DUPLICATE_OBJECT || *code == SqlState::UNIQUE_VIOLATION =>
            {
                Self::AlreadyExists(user.to_owned())
            }
            Some(code) if *code == SqlState::UNDEFINED_OBJECT => Self::NotFound(user.to_owned()),
            // The name itself has a character the database's encoding
            // cannot hold (a LATIN1 database): no role there has it.
            Some(code)
                if !user.is_empty()
                    && (*code == SqlState::UNTRANSLATABLE_CHARACTER
                        || *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE) =>
            {
                Self::NotFound(user.to_owned())
            }
            Some(code)
                if *code == SqlState::LOCK_NOT_AVAILABLE
                    || *code == SqlState::T_R_SERIALIZATION_FAILURE =>
            {
                Self::Busy
            }
            Some(code) if *code == SqlState::T_R_DEADLOCK_DETECTED => Self::Concurrent,
            Some(_) if crate::db::is_concurrent_update(&error) => Self::Concurrent,
            Some(code) if *code == SqlState::DEPENDENT_OBJECTS_STILL_EXIST => {
                Self::OwnsObjectsElsewhere {
                    user: user.to_owned(),
                    detail: error
                        .as_db_error()
                        .and_then(|db| db.detail().map(str::to_owned))
                        .unwrap_or_else(|| error.to_string()),
                }
            }
            // The server going away mid-query (shutdown, crash, lost
            // connection, out of resources) is an outage, not a refusal.
            Some(code) if crate::db::is_outage(code) => Self::Unavailable(Detail::new(
                format!("{}.", crate::domain::visible(&crate::db::describe(&error))),
                error,
            )),
            Some(_) => Self::Database(error),
            None => Self::Unavailable(Detail::new(format!("{error}."), error)),
        }
    }

    /// A failure to get a connection, classified by what PostgreSQL or the
    /// network said.
    pub(crate) fn connecting(error: PoolError, endpoint: &Endpoint) -> Self {
        match crate::db::connect_error(error, endpoint) {
            ConnectError::Settings(message) => Self::Misconfigured(message),
            ConnectError::Unreachable(message) => Self::Unavailable(message),
        }
    }
}
