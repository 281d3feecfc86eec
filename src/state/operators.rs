//! Operators: who may use the dashboard. Passwords are argon2id hashes,
//! computed off the async runtime.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::Serialize;

use super::{StateError, StateStore};
use crate::domain::{OperatorName, OperatorPassword};

/// One operator, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub name: String,
    /// When it was added, UTC, `YYYY-MM-DD HH:MM:SS`.
    pub created_at: String,
}

impl StateStore {
    /// Checks an operator's name and password. Unknown names cost the same
    /// time as known ones.
    pub async fn verify_operator(&self, name: &str, password: String) -> Result<bool, StateError> {
        let client = self.client().await?;
        let hash: Option<String> = client
            .query_opt(
                "SELECT password_hash FROM operators WHERE name = $1",
                &[&name],
            )
            .await?
            .map(|row| row.get(0));
        verify(password, hash).await
    }

    pub async fn operator_exists(&self, name: &str) -> Result<bool, StateError> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT 1 FROM operators WHERE name = $1", &[&name])
            .await?;
        Ok(row.is_some())
    }

    pub async fn list_operators(&self) -> Result<Vec<Operator>, StateError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT name, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
                   FROM operators ORDER BY name",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| Operator {
                name: row.get(0),
                created_at: row.get(1),
            })
            .collect())
    }

    pub async fn add_operator(
        &self,
        name: &OperatorName,
        password: &OperatorPassword,
    ) -> Result<(), StateError> {
        let statement = "INSERT INTO operators (name, password_hash) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
        self.write_password(statement, name, password, StateError::OperatorExists)
            .await
    }

    pub async fn set_operator_password(
        &self,
        name: &OperatorName,
        password: &OperatorPassword,
    ) -> Result<(), StateError> {
        let statement = "UPDATE operators SET password_hash = $2 WHERE name = $1";
        self.write_password(statement, name, password, StateError::OperatorNotFound)
            .await?;
        // Whoever knew the old password is logged out.
        self.end_sessions_of(name.as_str()).await
    }

    /// Runs `statement` with the operator's name and a new hash; `none`
    /// says why no row changed.
    async fn write_password(
        &self,
        statement: &str,
        name: &OperatorName,
        password: &OperatorPassword,
        none: fn(String) -> StateError,
    ) -> Result<(), StateError> {
        let hash = hash_operator_password(password.expose()).await?;
        let client = self.client().await?;
        match client.execute(statement, &[&name.as_str(), &hash]).await? {
            1 => Ok(()),
            _ => Err(none(name.to_string())),
        }
    }

    /// Removes an operator, unless it is the last one: somebody must always
    /// be able to log in.
    pub async fn remove_operator(&self, name: &OperatorName) -> Result<(), StateError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Two removals at once must not leave nobody.
        tx.batch_execute("LOCK TABLE operators IN EXCLUSIVE MODE")
            .await?;
        let count: i64 = tx
            .query_one("SELECT count(*) FROM operators", &[])
            .await?
            .get(0);
        let exists = tx
            .query_opt("SELECT 1 FROM operators WHERE name = $1", &[&name.as_str()])
            .await?
            .is_some();
        if !exists {
            return Err(StateError::OperatorNotFound(name.to_string()));
        }
        if count <= 1 {
            return Err(StateError::LastOperator(name.to_string()));
        }
        tx.execute("DELETE FROM operators WHERE name = $1", &[&name.as_str()])
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane), which are
/// OWASP's recommended minimum.
pub async fn hash_operator_password(password: &str) -> Result<String, StateError> {
    let password = password.to_owned();
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| StateError::Hashing(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| StateError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| StateError::Hashing(e.to_string()))?
}

/// At most this many argon2 computations (19 MiB each) at once, whatever
/// arrives: a flood of logins waits instead of exhausting memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// A hash to verify against when the operator does not exist, so that the
/// answer takes as long as for a real operator.
static FALLBACK_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"pgusers-fallback-password")
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

async fn verify(password: String, hash: Option<String>) -> Result<bool, StateError> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| StateError::Hashing(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| FALLBACK_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        known && matches
    })
    .await
    .map_err(|e| StateError::Hashing(e.to_string()))
}
