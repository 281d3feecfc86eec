use std::fmt;

use super::Problems;

/// The name of a database user that pgusers is asked to create.
///
/// The rules are the product's (6 to 32 characters, ASCII letters, digits and
/// underscores, starting with a letter) plus the names PostgreSQL reserves.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

/// Why a username was refused. The message is meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("Username is required.")]
    Empty,
    /// Spaces (tabs, line breaks, or characters that show nothing: a
    /// zero-width space, a byte-order mark) before or after the name:
    /// refused rather than trimmed, on every front end, so what is created
    /// is what was typed.
    #[error("Username has spaces or invisible characters before or after it: remove them.")]
    SurroundingSpaces,
    #[error("Username must be between 6 and 32 characters long (it has {0}).")]
    Length(usize),
    #[error("Username must start with a letter from a to z (or A to Z).")]
    FirstCharacter,
    #[error(
        "Username can only contain letters a to z (or A to Z), digits and underscores: it has {}.",
        super::display::characters(.0)
    )]
    Characters(Vec<char>),
    #[error("Username \"{0}\" is reserved by PostgreSQL; choose another name.")]
    Reserved(String),
}

pub const USERNAME_MIN: usize = 6;
pub const USERNAME_MAX: usize = 32;

/// Names PostgreSQL gives a meaning of its own, long enough to pass the length rule.
const RESERVED: &[&str] = &["public", "current_user", "current_role", "session_user"];

impl Username {
    /// The name, or every rule it breaks.
    pub fn parse(input: &str) -> Result<Self, Problems<UsernameError>> {
        let mut found = Vec::new();
        let name = input.trim_matches(blank);
        // The other rules apply to the name between the spaces: each says
        // something of its own.
        if name.is_empty() {
            found.push(UsernameError::Empty);
        } else {
            if name.len() != input.len() {
                found.push(UsernameError::SurroundingSpaces);
            }
            found.extend(rules_broken(name));
        }
        Problems::check(found)?;
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `c` shows as nothing, or as blank space.
fn blank(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// The rules a name without surrounding spaces breaks.
fn rules_broken(name: &str) -> Vec<UsernameError> {
    let mut found = Vec::new();
    let length = name.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&length) {
        found.push(UsernameError::Length(length));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        found.push(UsernameError::FirstCharacter);
    }
    let bad: Vec<char> = name
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
        .collect();
    if !bad.is_empty() {
        found.push(UsernameError::Characters(bad));
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("pg_") || RESERVED.contains(&lower.as_str()) {
        found.push(UsernameError::Reserved(name.to_owned()));
    }
    found
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_around_a_name_are_refused_by_name_not_trimmed() {
        for typed in [
            " alice_x",
            "alice_x ",
            "\talice_x\n",
            "  alice_x  ",
            "\u{feff}alice_x",
            "alice_x\u{200b}",
            "\u{a0}alice_x",
        ] {
            assert_eq!(
                Username::parse(typed),
                Err(UsernameError::SurroundingSpaces.into()),
                "{typed:?}"
            );
        }
        assert_eq!(Username::parse("   "), Err(UsernameError::Empty.into()));
        assert_eq!(
            Username::parse(" 1abcdef"),
            Err(Problems::check(vec![
                UsernameError::SurroundingSpaces,
                UsernameError::FirstCharacter
            ])
            .unwrap_err())
        );
        assert_eq!(
            Username::parse("alice x"),
            Err(UsernameError::Characters(vec![' ']).into()),
            "a space inside is a character the rules refuse"
        );
    }

    #[test]
    fn a_name_of_five_characters_is_too_short() {
        assert_eq!(
            Username::parse("abcde"),
            Err(UsernameError::Length(5).into())
        );
    }

    #[test]
    fn names_of_six_and_thirty_two_characters_are_accepted() {
        assert!(Username::parse("abcdef").is_ok());
        assert!(Username::parse(&format!("a{}", "b".repeat(31))).is_ok());
    }

    #[test]
    fn a_name_of_thirty_three_characters_is_too_long() {
        let name = format!("a{}", "b".repeat(32));
        assert_eq!(
            Username::parse(&name),
            Err(UsernameError::Length(33).into())
        );
    }

    #[test]
    fn a_name_must_start_with_a_letter() {
        assert_eq!(
            Username::parse("1abcdef"),
            Err(UsernameError::FirstCharacter.into())
        );
        assert_eq!(
            Username::parse("_abcdef"),
            Err(UsernameError::FirstCharacter.into())
        );
    }

    #[test]
    fn only_ascii_letters_digits_and_underscores_are_allowed() {
        assert_eq!(
            Username::parse("abc-def"),
            Err(UsernameError::Characters(vec!['-']).into())
        );
        assert_eq!(
            Username::parse("abc def"),
            Err(UsernameError::Characters(vec![' ']).into())
        );
        assert_eq!(
            Username::parse("abcdéf"),
            Err(UsernameError::Characters(vec!['é']).into())
        );
        assert_eq!(
            Username::parse("abc\"def"),
            Err(UsernameError::Characters(vec!['"']).into())
        );
        assert!(Username::parse("My_User_42").is_ok());
    }

    #[test]
    fn every_refused_character_is_named_once_as_a_person_reads_it() {
        let refused = Username::parse("Ümlaut's name-é'é").unwrap_err();
        let words: Vec<String> = refused.all().iter().map(ToString::to_string).collect();
        assert_eq!(
            words,
            [
                "Username must start with a letter from a to z (or A to Z).",
                "Username can only contain letters a to z (or A to Z), digits and underscores: \
                 it has “Ü”, “'”, a space, “-” and “é”.",
            ]
        );
        let many = Username::parse("a!b@c#d$e%f^g&").unwrap_err().to_string();
        assert!(
            many.contains("“!”, “@”, “#”, “$”, “%” and 2 others"),
            "{many}"
        );
        let lines = Username::parse("abc\r\ndef").unwrap_err().to_string();
        assert!(lines.ends_with("it has a line break."), "{lines}");
        let hidden = Username::parse("ab\u{200b}cdef\tg")
            .unwrap_err()
            .to_string();
        assert!(
            hidden.contains("the invisible U+200B and a tab"),
            "{hidden}"
        );
    }

    #[test]
    fn names_postgresql_reserves_are_refused() {
        for name in [
            "pg_reader",
            "PG_reader",
            "public",
            "current_user",
            "Session_User",
        ] {
            assert!(
                matches!(
                    Username::parse(name).unwrap_err().all(),
                    [UsernameError::Reserved(_)]
                ),
                "{name} should be reserved"
            );
        }
    }

    #[test]
    fn every_problem_of_a_name_is_reported_at_once() {
        assert_eq!(
            Username::parse("1-a").unwrap_err().all(),
            [
                UsernameError::Length(3),
                UsernameError::FirstCharacter,
                UsernameError::Characters(vec!['-'])
            ]
        );
    }

    #[test]
    fn an_empty_name_says_it_is_required() {
        assert_eq!(Username::parse(""), Err(UsernameError::Empty.into()));
    }
}
