//! The one table from what a failure means ([`ErrorKind`]) to what each
//! front end answers: the dashboard's HTTP status, the API's, and the CLI's
//! exit code. Scripts and Scalingo's clients rely on these: they are frozen
//! (docs/cli.md lists them, and says where the three differ on purpose).

use crate::failure::ErrorKind;

/// The CLI's exit codes, as documented in docs/cli.md.
pub mod exit {
    /// Something unexpected failed; the message says what.
    pub const FAILURE: u8 = 1;
    /// The command line or an input (a name, a password, a database ID) is
    /// wrong, or pgusers' settings are.
    pub const USAGE: u8 = 2;
    /// The database refused: the user exists, does not exist, or is protected.
    pub const REFUSED: u8 = 3;
    /// The database cannot be reached (or is busy): try again later.
    pub const UNAVAILABLE: u8 = 4;
    /// `doctor` found a problem: its own code, so a check can tell it from
    /// a failure to look.
    pub const FINDINGS: u8 = 5;
    /// Reserved: a plan found changes still to apply (for a later
    /// plan/apply command; nothing exits with it yet).
    pub const PENDING: u8 = 6;
}

/// What each front end answers for one kind of failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answers {
    /// The dashboard page's HTTP status.
    pub dashboard: u16,
    /// The API's HTTP status.
    pub api: u16,
    /// The CLI's exit code.
    pub cli: u8,
}

/// The table. Where the three differ, on purpose:
/// - `Protected`: the dashboard says 403 (the page forbids it); the API
///   says 409, as Scalingo's API answers a change it refuses.
/// - `AdminLacksPrivilege`: the dashboard cannot work until an
///   administrator acts (503); the API refuses the one change (409); the
///   CLI calls it a setting to fix (2).
/// - `UnknownDatabase`: a page or an endpoint that is not there (404); on
///   the command line, a wrong `--database` (2).
/// - `ReadOnlyToken` happens only in the API.
pub const fn answers(kind: ErrorKind) -> Answers {
    use ErrorKind as K;
    let (dashboard, api, cli) = match kind {
        K::Invalid => (422, 422, exit::USAGE),
        K::UnknownDatabase => (404, 404, exit::USAGE),
        K::NotFound => (404, 404, exit::REFUSED),
        K::Protected => (403, 409, exit::REFUSED),
        K::Refused => (409, 409, exit::REFUSED),
        K::TryAgain => (409, 409, exit::UNAVAILABLE),
        K::AdminLacksPrivilege => (503, 409, exit::USAGE),
        K::Misconfigured => (503, 503, exit::USAGE),
        K::Unavailable => (503, 503, exit::UNAVAILABLE),
        K::ReadOnlyToken => (403, 403, exit::REFUSED),
        K::Internal => (500, 500, exit::FAILURE),
    };
    Answers {
        dashboard,
        api,
        cli,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_answers_that_mean_what_they_say() {
        for kind in ErrorKind::ALL {
            let Answers {
                dashboard,
                api,
                cli,
            } = answers(kind);
            assert!((400..600).contains(&dashboard), "{kind:?}");
            assert!((400..600).contains(&api), "{kind:?}");
            assert!(
                (exit::FAILURE..=exit::UNAVAILABLE).contains(&cli),
                "{kind:?}"
            );
            // Worth trying again exactly when the CLI says "unavailable".
            assert_eq!(
                cli == exit::UNAVAILABLE,
                matches!(kind, ErrorKind::TryAgain | ErrorKind::Unavailable),
                "{kind:?}"
            );
            // Only what nobody asking can act on is a 500.
            assert_eq!(dashboard == 500, kind == ErrorKind::Internal, "{kind:?}");
            assert_eq!(api == 500, kind == ErrorKind::Internal, "{kind:?}");
        }
    }

    #[test]
    fn the_reserved_codes_are_distinct() {
        let codes = [
            exit::FAILURE,
            exit::USAGE,
            exit::REFUSED,
            exit::UNAVAILABLE,
            exit::FINDINGS,
            exit::PENDING,
        ];
        let distinct: std::collections::HashSet<u8> = codes.into_iter().collect();
        assert_eq!(distinct.len(), codes.len(), "{codes:?}");
        assert_eq!(exit::PENDING, 6);
    }
}
