//! A new user as a person typed it (a form, a JSON body, a command line),
//! turned into domain values by one set of rules.

use crate::domain::{EntryProblems, Expiry, LimitProblems, Limits, NewPassword, Username};
use crate::roles::Access;

/// What was typed for a new user: each text as it came, empty when left out.
#[derive(Debug, Clone, Copy, Default)]
pub struct NewUserEntry<'a> {
    pub username: &'a str,
    /// With `confirmation`, both empty: generate one.
    pub password: &'a str,
    pub confirmation: &'a str,
    pub read_only: bool,
    /// A day, `YYYY-MM-DD`, not before today; empty: never.
    pub expires: &'a str,
    /// A whole number; empty: no limit.
    pub connection_limit: &'a str,
}

/// A valid request to create a user.
#[derive(Debug)]
pub struct NewUser {
    pub username: Username,
    pub password: NewPassword,
    pub access: Access,
    pub limits: Limits,
}

/// Every problem of a new user's entry, under its field.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NewUserProblems {
    pub username: Vec<String>,
    pub password: Vec<String>,
    pub confirmation: Vec<String>,
    pub expires: Vec<String>,
    pub connection_limit: Vec<String>,
}

impl NewUserProblems {
    /// Every message, field by field.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        [
            &self.username,
            &self.password,
            &self.confirmation,
            &self.expires,
            &self.connection_limit,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
    }
}

/// Each limit's problem under its field.
pub fn limit_messages(problems: &LimitProblems) -> (Vec<String>, Vec<String>) {
    (
        problems.expires.iter().map(ToString::to_string).collect(),
        problems
            .connection_limit
            .iter()
            .map(ToString::to_string)
            .collect(),
    )
}

impl NewUserEntry<'_> {
    /// The new user, or every rule the entry breaks. Nothing is trimmed
    /// from the name: spaces around it are refused by name.
    pub fn read(&self) -> Result<NewUser, NewUserProblems> {
        let username = Username::parse(self.username);
        let password = NewPassword::from_entry(self.password, self.confirmation);
        let limits = Limits::from_entry(self.expires, self.connection_limit, Some(Expiry::today()));
        match (username, password, limits) {
            (Ok(username), Ok(password), Ok(limits)) => Ok(NewUser {
                username,
                password,
                access: if self.read_only {
                    Access::ReadOnly
                } else {
                    Access::ReadWrite
                },
                limits,
            }),
            (username, password, limits) => {
                let password = password.err().map(EntryProblems::from).unwrap_or_default();
                let (expires, connection_limit) = limits
                    .err()
                    .as_ref()
                    .map(limit_messages)
                    .unwrap_or_default();
                Err(NewUserProblems {
                    username: username
                        .err()
                        .map(|problems| problems.all().iter().map(ToString::to_string).collect())
                        .unwrap_or_default(),
                    password: password.password,
                    confirmation: password.confirmation,
                    expires,
                    connection_limit,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_entry_reads_as_the_user_it_names() {
        let user = NewUserEntry {
            username: "report_reader",
            read_only: true,
            connection_limit: "5",
            ..NewUserEntry::default()
        }
        .read()
        .unwrap();

        assert_eq!(user.username.as_str(), "report_reader");
        assert_eq!(user.access, Access::ReadOnly);
        assert!(matches!(user.password, NewPassword::Generate));
        assert_eq!(user.limits.connection_limit.map(|n| n.get()), Some(5));
        assert_eq!(user.limits.expires, None);
    }

    #[test]
    fn every_wrong_field_gets_its_own_messages() {
        let problems = NewUserEntry {
            username: " app_user",
            password: "short",
            confirmation: "other",
            read_only: false,
            expires: "2001-01-01",
            connection_limit: "lots",
        }
        .read()
        .unwrap_err();

        assert_eq!(
            problems.username,
            vec!["Username has spaces or invisible characters before or after it: remove them."]
        );
        assert!(!problems.password.is_empty());
        assert!(!problems.confirmation.is_empty());
        assert_eq!(problems.expires.len(), 1);
        assert_eq!(problems.connection_limit.len(), 1);
        assert_eq!(
            problems.all().count(),
            problems.username.len() + problems.password.len() + problems.confirmation.len() + 2
        );
    }
}
