//! Who asks for a change: the name the audit log records, and where from.

use crate::state::Source;

/// Who asked for a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The command line, run on this machine (recorded as operator `cli`).
    Cli,
    /// An operator logged in to the dashboard, from `address`.
    Operator {
        name: String,
        address: Option<String>,
    },
    /// A script holding an API token of `operator`, from `address`.
    Token {
        operator: String,
        address: Option<String>,
    },
}

impl Actor {
    /// The name the audit log records.
    pub fn name(&self) -> &str {
        match self {
            Self::Cli => "cli",
            Self::Operator { name, .. } => name,
            Self::Token { operator, .. } => operator,
        }
    }

    pub fn source(&self) -> Source {
        match self {
            Self::Cli => Source::Cli,
            Self::Operator { .. } => Source::Dashboard,
            Self::Token { .. } => Source::Api,
        }
    }

    /// The client's address, when it came over the network.
    pub fn address(&self) -> Option<&str> {
        match self {
            Self::Cli => None,
            Self::Operator { address, .. } | Self::Token { address, .. } => address.as_deref(),
        }
    }
}
