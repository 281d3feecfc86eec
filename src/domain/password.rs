use std::fmt;

use rand::seq::IndexedRandom;

use super::Problems;

/// A database user's password that satisfies the product's rules: 24 to 64
/// characters, no `'`, no `"`, no control characters.
///
/// It never prints: `Debug` and `Display` are redacted, so a password cannot
/// reach a log line by accident. [`Password::expose`] is the one way out.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Password must be between 24 and 64 characters long (it has {0}).")]
    Length(usize),
    #[error("Password must not contain the character {0}.")]
    Quote(char),
    #[error("Password must not contain control characters (such as tabs or line breaks).")]
    Control,
    #[error("Password and confirmation do not match.")]
    Mismatch,
}

pub const PASSWORD_MIN: usize = 24;
pub const PASSWORD_MAX: usize = 64;
/// Length of the passwords pgusers generates.
pub const GENERATED_LENGTH: usize = 64;
const CHARSET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

impl Password {
    /// The password, or every rule it breaks.
    pub fn parse(input: &str) -> Result<Self, Problems<PasswordError>> {
        Problems::check(problems(input))?;
        Ok(Self(input.to_owned()))
    }

    /// A new random password: 64 characters from `[A-Za-z0-9_]`, drawn from
    /// the operating system's CSPRNG-seeded thread generator.
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let password: String = (0..GENERATED_LENGTH)
            .map(|_| char::from(*CHARSET.choose(&mut rng).unwrap_or(&b'x')))
            .collect();
        Self(password)
    }

    /// The plaintext. Call it only to hash it or to show a generated password once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn problems(input: &str) -> Vec<PasswordError> {
    let mut found = Vec::new();
    let length = input.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&length) {
        found.push(PasswordError::Length(length));
    }
    for quote in ['\'', '"'] {
        if input.contains(quote) {
            found.push(PasswordError::Quote(quote));
        }
    }
    if input.chars().any(char::is_control) {
        found.push(PasswordError::Control);
    }
    found
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// What a person asked for when setting a password: one they chose, or one
/// pgusers generates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewPassword {
    Chosen(Password),
    Generate,
}

impl NewPassword {
    /// Reads a password typed twice. Both empty means "generate one".
    pub fn from_entry(password: &str, confirmation: &str) -> Result<Self, Problems<PasswordError>> {
        if password.is_empty() && confirmation.is_empty() {
            return Ok(Self::Generate);
        }
        let mut found = problems(password);
        if password != confirmation {
            found.push(PasswordError::Mismatch);
        }
        Problems::check(found)?;
        Ok(Self::Chosen(Password(password.to_owned())))
    }
}

/// The problems of a password typed twice, as a form shows them: a
/// mismatch under the confirmation, every other under the password.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EntryProblems {
    pub password: Vec<String>,
    pub confirmation: Vec<String>,
}

impl From<Problems<PasswordError>> for EntryProblems {
    fn from(problems: Problems<PasswordError>) -> Self {
        let (mismatch, rest): (Vec<_>, Vec<_>) = problems
            .into_vec()
            .into_iter()
            .partition(|problem| *problem == PasswordError::Mismatch);
        Self {
            password: rest.iter().map(ToString::to_string).collect(),
            confirmation: mismatch.iter().map(ToString::to_string).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_of_twenty_three_characters_is_too_short() {
        assert_eq!(
            Password::parse(&"a".repeat(23)),
            Err(PasswordError::Length(23).into())
        );
    }

    #[test]
    fn passwords_of_twenty_four_and_sixty_four_characters_are_accepted() {
        assert!(Password::parse(&"a".repeat(24)).is_ok());
        assert!(Password::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn a_password_of_sixty_five_characters_is_too_long() {
        assert_eq!(
            Password::parse(&"a".repeat(65)),
            Err(PasswordError::Length(65).into())
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(Password::parse(&"é".repeat(24)).is_ok());
        assert_eq!(
            Password::parse(&"é".repeat(23)),
            Err(PasswordError::Length(23).into())
        );
    }

    #[test]
    fn quotes_are_refused() {
        let single = format!("{}'", "a".repeat(30));
        let double = format!("{}\"", "a".repeat(30));
        assert_eq!(
            Password::parse(&single),
            Err(PasswordError::Quote('\'').into())
        );
        assert_eq!(
            Password::parse(&double),
            Err(PasswordError::Quote('"').into())
        );
    }

    #[test]
    fn control_characters_are_refused() {
        let tab = format!("{}\t", "a".repeat(30));
        assert_eq!(Password::parse(&tab), Err(PasswordError::Control.into()));
    }

    #[test]
    fn generated_passwords_are_64_characters_of_the_allowed_set_and_differ() {
        let first = Password::generate();
        let second = Password::generate();
        assert_eq!(first.expose().len(), 64);
        assert!(first.expose().bytes().all(|b| CHARSET.contains(&b)));
        assert!(Password::parse(first.expose()).is_ok());
        assert_ne!(first, second);
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let password = Password::parse("correct-horse-battery-staple").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn every_problem_of_a_password_and_its_confirmation_is_reported_at_once() {
        let problems = NewPassword::from_entry("short'one", "other").unwrap_err();
        assert_eq!(
            problems.all(),
            [
                PasswordError::Length(9),
                PasswordError::Quote('\''),
                PasswordError::Mismatch
            ]
        );
        assert_eq!(
            problems.to_string(),
            "Password must be between 24 and 64 characters long (it has 9). \
             Password must not contain the character '. \
             Password and confirmation do not match."
        );
    }

    #[test]
    fn both_entries_empty_means_generate() {
        assert_eq!(NewPassword::from_entry("", ""), Ok(NewPassword::Generate));
    }

    #[test]
    fn a_confirmation_that_differs_is_refused() {
        let typed = "a".repeat(30);
        let other = "b".repeat(30);
        assert_eq!(
            NewPassword::from_entry(&typed, &other),
            Err(PasswordError::Mismatch.into())
        );
        assert_eq!(
            NewPassword::from_entry(&typed, ""),
            Err(PasswordError::Mismatch.into())
        );
    }
}
