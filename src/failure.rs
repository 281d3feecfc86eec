//! Keeping an error's cause, and writing its whole chain to the log.
//!
//! A layer that turns a lower error into words for people (`RoleError`,
//! `StateError`, `WebError`…) keeps that error as its `source()`, so the
//! one place that logs a failure (the request log, `main`'s exit) can write
//! what really happened, while the person sees only the words.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// Words for people, and the error they were made from (if any) as the
/// `source()` the log gets.
#[derive(Debug, Clone)]
pub struct Detail {
    message: String,
    cause: Option<Arc<dyn Error + Send + Sync>>,
}

impl Detail {
    /// `message`, made from `cause`.
    pub fn new(message: impl Into<String>, cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            message: message.into(),
            cause: Some(Arc::from(cause.into())),
        }
    }

    /// An error's own words, keeping it as the cause.
    pub fn of(cause: impl Error + Send + Sync + 'static) -> Self {
        Self::new(cause.to_string(), cause)
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Words of pgusers' own, with no lower error behind them.
impl From<String> for Detail {
    fn from(message: String) -> Self {
        Self {
            message,
            cause: None,
        }
    }
}

impl From<&str> for Detail {
    fn from(message: &str) -> Self {
        Self::from(message.to_owned())
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for Detail {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn Error + 'static))
    }
}

/// Two details are the same when they say the same (causes do not compare).
impl PartialEq for Detail {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for Detail {}

/// What a failure means to whoever asked, whatever the front end. Every
/// error pgusers answers with has one ([`crate::roles::RoleError::kind`],
/// [`crate::state::StateError::kind`], [`crate::registry::RegistryError::kind`]),
/// and one table turns it into a dashboard status, an API status and a CLI
/// exit code ([`crate::operations::answers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An input breaks a rule: a name, a password, a limit, a flag.
    Invalid,
    /// No database has the ID asked for.
    UnknownDatabase,
    /// No such user (or operator, or token).
    NotFound,
    /// The protected user, a database's owner, or a role that is more than
    /// an application user: pgusers does not change it.
    Protected,
    /// Refused until someone acts: the name is taken, the user owns
    /// objects elsewhere, others act as it, it leaves code to review.
    Refused,
    /// Held up by others (a lock, a concurrent change): trying again works.
    TryAgain,
    /// The role pgusers connects as lacks a privilege the change needs.
    AdminLacksPrivilege,
    /// pgusers' settings cannot work; fixing them will.
    Misconfigured,
    /// The database cannot be reached now.
    Unavailable,
    /// A read-only API token asked for a change.
    ReadOnlyToken,
    /// Nothing anyone asking can act on: the log says what.
    Internal,
}

impl ErrorKind {
    pub const ALL: [Self; 11] = [
        Self::Invalid,
        Self::UnknownDatabase,
        Self::NotFound,
        Self::Protected,
        Self::Refused,
        Self::TryAgain,
        Self::AdminLacksPrivilege,
        Self::Misconfigured,
        Self::Unavailable,
        Self::ReadOnlyToken,
        Self::Internal,
    ];
}

/// `error` and each of its causes, each after "caused by:", for the log. A cause
/// whose words are already part of what came before (a layer that quotes
/// its cause) is not repeated.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    for cause in std::iter::successors(error.source(), |&cause| cause.source()) {
        let words = cause.to_string();
        if !words.is_empty() && !text.contains(&words) {
            text.push_str(" — caused by: ");
            text.push_str(&words);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detail_keeps_the_error_it_was_made_from_as_its_source() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused by peer");

        let detail = Detail::new("No PostgreSQL is listening there.", io);

        assert_eq!(detail.to_string(), "No PostgreSQL is listening there.");
        let source = detail.source().expect("the cause is kept");
        assert_eq!(
            source
                .downcast_ref::<std::io::Error>()
                .map(std::io::Error::kind),
            Some(std::io::ErrorKind::ConnectionRefused)
        );
    }

    #[test]
    fn the_chain_names_every_cause_once() {
        let io = std::io::Error::other("disk on fire");
        let inner = Detail::new("Reading the file failed.", io);
        let outer = Detail::new("The dashboard cannot start.", inner.clone());
        let quoting = Detail::new("Reading the file failed. Try again.", inner);

        assert_eq!(
            chain(&outer),
            "The dashboard cannot start. — caused by: Reading the file failed. — caused by: \
             disk on fire"
        );
        assert_eq!(
            chain(&quoting),
            "Reading the file failed. Try again. — caused by: disk on fire",
            "words the message already quotes are not repeated"
        );
    }
}
