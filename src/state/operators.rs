//! Operators' passwords: argon2id hashes, computed off the async runtime.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::StateError;

/// An operator's password. It never prints.
#[derive(Clone)]
pub struct OperatorSecret(String);

impl OperatorSecret {
    pub fn new(password: String) -> Self {
        Self(password)
    }

    pub fn generate() -> Self {
        Self(crate::domain::Password::generate().expose()[..32].to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for OperatorSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperatorSecret(<redacted>)")
    }
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane), which are
/// OWASP's recommended minimum.
pub async fn hash_operator_password(password: OperatorSecret) -> Result<String, StateError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| StateError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| StateError::Hashing(e.to_string()))?
}

/// A hash to verify against when the operator does not exist, so that the
/// answer takes as long as for a real operator.
static FALLBACK_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"pgusers-fallback-password")
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

pub(super) async fn verify(
    password: OperatorSecret,
    hash: Option<String>,
) -> Result<bool, StateError> {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| FALLBACK_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let matches = Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok();
        known && matches
    })
    .await
    .map_err(|e| StateError::Hashing(e.to_string()))
}
