use std::fmt;

/// The ID of a database pgusers manages: what URLs (`/databases/{id}/…`),
/// the API and `--database` name it by. Stable (it comes from the
/// configuration, never from the server) and URL-safe: 1 to 63 ASCII
/// letters, digits, `_` and `-`, starting with a letter or a digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DatabaseId(String);

pub const DATABASE_ID_MAX: usize = 63;

/// Why a database ID was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseIdError {
    #[error("A database ID is required.")]
    Empty,
    #[error("A database ID has at most {DATABASE_ID_MAX} characters (this one has {0}).")]
    Length(usize),
    #[error("A database ID must start with a letter or a digit.")]
    FirstCharacter,
    #[error(
        "A database ID can only contain letters a to z (or A to Z), digits, “_” and “-”: this one has {}.",
        super::display::characters(.0)
    )]
    Characters(Vec<char>),
}

impl DatabaseId {
    pub fn parse(input: &str) -> Result<Self, DatabaseIdError> {
        let length = input.chars().count();
        if length == 0 {
            return Err(DatabaseIdError::Empty);
        }
        if length > DATABASE_ID_MAX {
            return Err(DatabaseIdError::Length(length));
        }
        let bad: Vec<char> = input
            .chars()
            .filter(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
            .collect();
        if !bad.is_empty() {
            return Err(DatabaseIdError::Characters(bad));
        }
        if !input.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(DatabaseIdError::FirstCharacter);
        }
        Ok(Self(input.to_owned()))
    }

    /// The ID of the one database named by `DATABASE_URL` or the embedded
    /// cluster: its name when that is a valid ID (as before several
    /// databases could be managed), else `default`.
    pub fn for_single(database_name: Option<&str>) -> Self {
        database_name
            .and_then(|name| Self::parse(name).ok())
            .unwrap_or_else(|| Self("default".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatabaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_digits_underscores_and_hyphens_make_an_id() {
        for id in ["billing", "app-prod_2", "7eleven", "A", &"x".repeat(63)] {
            assert_eq!(DatabaseId::parse(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn an_id_that_a_url_would_have_to_escape_is_refused() {
        assert_eq!(DatabaseId::parse(""), Err(DatabaseIdError::Empty));
        assert_eq!(
            DatabaseId::parse(&"x".repeat(64)),
            Err(DatabaseIdError::Length(64))
        );
        assert_eq!(
            DatabaseId::parse("-billing"),
            Err(DatabaseIdError::FirstCharacter)
        );
        assert_eq!(
            DatabaseId::parse("_billing"),
            Err(DatabaseIdError::FirstCharacter)
        );
        for (id, bad) in [
            ("a/b", '/'),
            ("a b", ' '),
            ("é", 'é'),
            ("a.b", '.'),
            ("a%2F", '%'),
        ] {
            assert_eq!(
                DatabaseId::parse(id),
                Err(DatabaseIdError::Characters(vec![bad]))
            );
        }
    }

    #[test]
    fn a_single_database_is_known_by_its_name_when_that_is_a_valid_id() {
        assert_eq!(
            DatabaseId::for_single(Some("tidy_tiger_6462")).as_str(),
            "tidy_tiger_6462"
        );
        assert_eq!(DatabaseId::for_single(Some("my app")).as_str(), "default");
        assert_eq!(DatabaseId::for_single(None).as_str(), "default");
    }
}
