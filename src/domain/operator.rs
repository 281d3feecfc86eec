use std::fmt;

/// The name of a dashboard operator: 3 to 32 characters, lowercase ASCII
/// letters, digits, `_`, `-` and `.`, starting with a letter. Lowercase only,
/// so two operators can never differ by case alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperatorName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorNameError {
    #[error("Operator names are 3 to 32 characters long (this one has {0}).")]
    Length(usize),
    #[error("Operator names start with a lowercase letter.")]
    FirstCharacter,
    #[error(
        "Operator names use lowercase letters a to z, digits, “_”, “-” and “.” only: this one has {}.",
        super::display::characters(.0)
    )]
    Characters(Vec<char>),
}

impl OperatorName {
    pub fn parse(input: &str) -> Result<Self, OperatorNameError> {
        let length = input.chars().count();
        if !(3..=32).contains(&length) {
            return Err(OperatorNameError::Length(length));
        }
        let bad: Vec<char> = input
            .chars()
            .filter(|c| {
                !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
            })
            .collect();
        if !bad.is_empty() {
            return Err(OperatorNameError::Characters(bad));
        }
        if !input.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(OperatorNameError::FirstCharacter);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OperatorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password for an operator: 12 to 128 characters, no control
/// characters. It never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct OperatorPassword(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorPasswordError {
    #[error("Operator passwords are 12 to 128 characters long (this one has {0}).")]
    Length(usize),
    #[error("Operator passwords cannot contain control characters.")]
    Control,
    #[error("Password and confirmation do not match.")]
    Mismatch,
}

pub const OPERATOR_PASSWORD_MIN: usize = 12;

impl OperatorPassword {
    pub fn parse(input: &str) -> Result<Self, OperatorPasswordError> {
        let length = input.chars().count();
        if !(OPERATOR_PASSWORD_MIN..=128).contains(&length) {
            return Err(OperatorPasswordError::Length(length));
        }
        if input.chars().any(char::is_control) {
            return Err(OperatorPasswordError::Control);
        }
        Ok(Self(input.to_owned()))
    }

    /// Reads a password typed twice.
    pub fn from_entry(password: &str, confirmation: &str) -> Result<Self, OperatorPasswordError> {
        let parsed = Self::parse(password)?;
        if password != confirmation {
            return Err(OperatorPasswordError::Mismatch);
        }
        Ok(parsed)
    }

    /// 32 random characters from `[A-Za-z0-9_]`.
    pub fn generate() -> Self {
        Self(super::Password::generate().expose()[..32].to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OperatorPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OperatorPassword(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names_follow_their_rules() {
        assert!(OperatorName::parse("admin").is_ok());
        assert!(OperatorName::parse("jane.doe-2").is_ok());
        assert_eq!(OperatorName::parse("ab"), Err(OperatorNameError::Length(2)));
        assert_eq!(
            OperatorName::parse(&"a".repeat(33)),
            Err(OperatorNameError::Length(33))
        );
        assert_eq!(
            OperatorName::parse("Admin"),
            Err(OperatorNameError::Characters(vec!['A']))
        );
        assert_eq!(
            OperatorName::parse("1admin"),
            Err(OperatorNameError::FirstCharacter)
        );
        assert_eq!(
            OperatorName::parse("ad min"),
            Err(OperatorNameError::Characters(vec![' ']))
        );
    }

    #[test]
    fn operator_passwords_have_at_least_twelve_characters() {
        assert_eq!(
            OperatorPassword::parse("elevenchars"),
            Err(OperatorPasswordError::Length(11))
        );
        assert!(OperatorPassword::parse("twelve-chars").is_ok());
        assert_eq!(
            OperatorPassword::parse("twelve-chars\n"),
            Err(OperatorPasswordError::Control)
        );
        assert_eq!(
            OperatorPassword::from_entry("twelve-chars", "twelve-charz"),
            Err(OperatorPasswordError::Mismatch)
        );
        assert!(
            !format!("{:?}", OperatorPassword::parse("twelve-chars").unwrap()).contains("twelve")
        );
        assert_eq!(OperatorPassword::generate().expose().len(), 32);
    }
}
