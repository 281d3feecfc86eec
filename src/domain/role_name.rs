use std::fmt;

/// The name of a role that already exists, as PostgreSQL spells it.
///
/// Unlike [`super::Username`], this follows PostgreSQL's own limits only: users
/// created outside pgusers keep names that the creation rules would refuse,
/// and they must still be listed, reset and deleted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleNameError {
    #[error("A user name is required.")]
    Empty,
    #[error("User names are at most 63 bytes long in PostgreSQL.")]
    TooLong,
    #[error("User names cannot contain control characters.")]
    Control,
}

/// PostgreSQL's NAMEDATALEN - 1.
const MAX_BYTES: usize = 63;

impl RoleName {
    pub fn parse(input: &str) -> Result<Self, RoleNameError> {
        if input.is_empty() {
            return Err(RoleNameError::Empty);
        }
        if input.len() > MAX_BYTES {
            return Err(RoleNameError::TooLong);
        }
        if input.chars().any(char::is_control) {
            return Err(RoleNameError::Control);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<super::Username> for RoleName {
    fn from(name: super::Username) -> Self {
        Self(name.as_str().to_owned())
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RoleName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_names_outside_the_creation_rules_are_accepted() {
        assert!(RoleName::parse("app").is_ok());
        assert!(RoleName::parse("Reporting-Team").is_ok());
    }

    #[test]
    fn names_postgresql_could_not_hold_are_refused() {
        assert_eq!(RoleName::parse(""), Err(RoleNameError::Empty));
        assert_eq!(
            RoleName::parse(&"a".repeat(64)),
            Err(RoleNameError::TooLong)
        );
        assert_eq!(RoleName::parse("a\nb"), Err(RoleNameError::Control));
    }
}
