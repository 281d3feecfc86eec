//! One-time notices (a generated password, a new database) and where they go.

/// Where a one-time notice goes: the dashboard's terminal, or standard
/// error for a CLI command, whose standard output belongs to its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announce {
    Stdout,
    Stderr,
}

impl Announce {
    pub fn say(self, text: &str) {
        match self {
            Self::Stdout => println!("{text}"),
            Self::Stderr => eprintln!("{text}"),
        }
    }
}
