//! API tokens: what a script sends instead of an operator's password.
//!
//! A token reads `pgu_<id>_<secret>`: the prefix says what it is (to a
//! person, and to secret scanners), the id is public (lists show it,
//! `tokens revoke` takes it), and the secret is 43 characters from
//! `[A-Za-z0-9]`, drawn from the CSPRNG-seeded thread generator: 62^43 is
//! just over 2^256, as many as 32 random bytes. pgusers keeps only the
//! SHA-256 of the whole token; the token itself is shown once.

use std::fmt;

use rand::seq::IndexedRandom;
use sha2::{Digest, Sha256};

const PREFIX: &str = "pgu_";
const ID_LENGTH: usize = 10;
const SECRET_LENGTH: usize = 43;
const ID_CHARSET: &[u8] = b"0123456789abcdef";
const SECRET_CHARSET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// An API token. It never prints: `Debug` shows its id only, and
/// [`ApiToken::expose`] is the one way to the whole text.
#[derive(Clone)]
pub struct ApiToken {
    id: TokenId,
    text: String,
}

/// Why a string is not a token. It never quotes the string, which may be a
/// real token with a typo, or another secret pasted in the wrong place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error(
        "This is not a pgusers API token (pgu_, a 10-character ID, _ and 43 letters or digits)."
    )]
    Malformed,
}

impl ApiToken {
    /// A new token with a random id and secret.
    pub fn generate() -> Self {
        let id = TokenId(random(ID_CHARSET, ID_LENGTH));
        let text = format!("{PREFIX}{id}_{}", random(SECRET_CHARSET, SECRET_LENGTH));
        Self { id, text }
    }

    /// Checks the shape only: whether such a token exists is for the state
    /// store to say.
    pub fn parse(input: &str) -> Result<Self, TokenError> {
        let rest = input.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
        let (id, secret) = rest.split_once('_').ok_or(TokenError::Malformed)?;
        let id = TokenId::parse(id).map_err(|_| TokenError::Malformed)?;
        if secret.len() != SECRET_LENGTH || !secret.bytes().all(|b| SECRET_CHARSET.contains(&b)) {
            return Err(TokenError::Malformed);
        }
        Ok(Self {
            id,
            text: input.to_owned(),
        })
    }

    pub fn id(&self) -> &TokenId {
        &self.id
    }

    /// The SHA-256 of the whole token, as stored. A fast hash is enough:
    /// the secret has 256 random bits, so there is nothing to guess.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.text.as_bytes()).into()
    }

    /// The token's text. Call it only to show a new token once.
    pub fn expose(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiToken")
            .field("id", &self.id.as_str())
            .field("secret", &format_args!("<redacted>"))
            .finish()
    }
}

fn random(charset: &[u8], length: usize) -> String {
    let mut rng = rand::rng();
    (0..length)
        .map(|_| char::from(*charset.choose(&mut rng).unwrap_or(&b'0')))
        .collect()
}

/// A token's public id: 10 characters from `[0-9a-f]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenId(String);

/// Why a string is not a token id; it never quotes the string, which may be
/// a whole token pasted where its id was asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenIdError {
    #[error(
        "API token IDs are 10 characters, digits and the letters a to f, as `pgusers tokens list` shows them."
    )]
    Malformed,
}

impl TokenId {
    pub fn parse(input: &str) -> Result<Self, TokenIdError> {
        if input.len() != ID_LENGTH || !input.bytes().all(|b| ID_CHARSET.contains(&b)) {
            return Err(TokenIdError::Malformed);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a token is for, in the operator's words: 1 to 64 characters, none
/// of them hidden (control or format characters, see
/// [`super::is_hidden`]). `api` unless told otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenLabel(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenLabelError {
    #[error("Token labels are 1 to 64 characters long (this one has {0}).")]
    Length(usize),
    #[error("Token labels cannot contain control or invisible characters.")]
    Hidden,
}

impl TokenLabel {
    pub fn parse(input: &str) -> Result<Self, TokenLabelError> {
        let length = input.chars().count();
        if !(1..=64).contains(&length) {
            return Err(TokenLabelError::Length(length));
        }
        if input.chars().any(super::is_hidden) {
            return Err(TokenLabelError::Hidden);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TokenLabel {
    fn default() -> Self {
        Self("api".to_owned())
    }
}

impl fmt::Display for TokenLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> String {
        format!("pgu_0123456789_{}", "aB3".repeat(14) + "z")
    }

    #[test]
    fn a_generated_token_is_pgu_an_id_and_43_letters_or_digits() {
        let token = ApiToken::generate();
        let text = token.expose();

        assert_eq!(text.len(), 4 + 10 + 1 + 43);
        assert!(text.starts_with("pgu_"));
        assert_eq!(&text[4..14], token.id().as_str());
        assert!(text[4..14].bytes().all(|b| ID_CHARSET.contains(&b)));
        assert_eq!(&text[14..15], "_");
        assert!(text[15..].bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn two_generated_tokens_differ_in_id_and_secret() {
        let first = ApiToken::generate();
        let second = ApiToken::generate();

        assert_ne!(first.id(), second.id());
        assert_ne!(first.expose()[15..], second.expose()[15..]);
    }

    #[test]
    fn a_generated_token_parses_back_to_the_same_id_and_hash() {
        let token = ApiToken::generate();
        let parsed = ApiToken::parse(token.expose()).unwrap();

        assert_eq!(parsed.id(), token.id());
        assert_eq!(parsed.hash(), token.hash());
        assert_eq!(parsed.expose(), token.expose());
    }

    #[test]
    fn strings_of_another_shape_are_not_tokens() {
        let good = example();
        assert!(ApiToken::parse(&good).is_ok());
        for bad in [
            String::new(),
            good.replacen("pgu_", "pgx_", 1),
            good.replacen("pgu_", "PGU_", 1),
            good[4..].to_owned(),
            good.replacen("0123456789", "012345678", 1),
            good.replacen("0123456789", "01234567890", 1),
            good.replacen("0123456789", "012345678A", 1),
            good.replacen("0123456789", "012345678g", 1),
            good.replacen("0123456789_", "0123456789-", 1),
            good[..good.len() - 1].to_owned(),
            format!("{good}z"),
            format!("{good}\n"),
            format!(" {good}"),
            good.replacen('B', "_", 1),
            good.replacen('B', "-", 1),
            good.replacen('B', "é", 1),
        ] {
            assert_eq!(
                ApiToken::parse(&bad).unwrap_err(),
                TokenError::Malformed,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_refused_token_is_not_quoted_in_the_error() {
        let almost = format!("{}!", &example()[..example().len() - 1]);
        let message = ApiToken::parse(&almost).unwrap_err().to_string();

        assert!(!message.contains("aB3"), "{message}");
        assert!(!message.contains("0123456789"), "{message}");
    }

    #[test]
    fn a_token_never_shows_in_debug_output_but_its_id_does() {
        let token = ApiToken::parse(&example()).unwrap();
        let shown = format!("{token:?}");

        assert!(!shown.contains("aB3"), "{shown}");
        assert!(shown.contains("0123456789"), "{shown}");
    }

    #[test]
    fn the_hash_is_the_sha256_of_the_whole_token() {
        let token = ApiToken::parse(&example()).unwrap();
        let hex: String = token.hash().iter().map(|b| format!("{b:02x}")).collect();

        // printf '%s' pgu_0123456789_aB3…aB3z | sha256sum
        assert_eq!(hex, EXAMPLE_SHA256);
    }

    const EXAMPLE_SHA256: &str = "ac3069e36e047253d3d208649b2c67f35bd26f922b58db2fc94667d6316d4ef0";

    #[test]
    fn changing_one_character_of_the_secret_or_the_id_changes_the_hash() {
        let token = ApiToken::parse(&example()).unwrap();
        let secret = ApiToken::parse(&example().replacen('z', "y", 1)).unwrap();
        let id = ApiToken::parse(&example().replacen("0123", "1123", 1)).unwrap();

        assert_ne!(token.hash(), secret.hash());
        assert_ne!(token.hash(), id.hash());
    }

    #[test]
    fn token_ids_are_ten_digits_or_letters_a_to_f() {
        assert!(TokenId::parse("0123456789").is_ok());
        assert!(TokenId::parse("abcdefabcd").is_ok());
        for bad in ["", "012345678", "01234567890", "ABCDEFABCD", "012345678g"] {
            assert_eq!(TokenId::parse(bad), Err(TokenIdError::Malformed), "{bad:?}");
        }
        let pasted = TokenId::parse(&example()).unwrap_err().to_string();
        assert!(!pasted.contains("aB3"), "{pasted}");
    }

    #[test]
    fn labels_are_1_to_64_visible_characters_and_api_by_default() {
        assert_eq!(TokenLabel::default().as_str(), "api");
        assert!(TokenLabel::parse("CI deploy (staging)").is_ok());
        assert!(TokenLabel::parse(&"é".repeat(64)).is_ok());
        assert_eq!(TokenLabel::parse(""), Err(TokenLabelError::Length(0)));
        assert_eq!(
            TokenLabel::parse(&"a".repeat(65)),
            Err(TokenLabelError::Length(65))
        );
        for hidden in ["ci\n", "ci\x1b[31m", "ci\u{202e}", "ci\u{200b}"] {
            assert_eq!(TokenLabel::parse(hidden), Err(TokenLabelError::Hidden));
        }
    }
}
