//! Operators: who may use the dashboard. Passwords are argon2id hashes,
//! computed off the async runtime (see `hashing`).

use serde::Serialize;

use super::hashing::{hash_operator_password, verify_password};
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
    /// time as known ones. A name no operator can have is never sent to
    /// PostgreSQL: it may be a password typed in the wrong field, which
    /// would land in the server's log (`log_statement = all`), or hold a NUL
    /// byte, which PostgreSQL refuses with an error.
    pub async fn verify_operator(&self, name: &str, password: String) -> Result<bool, StateError> {
        let Ok(name) = OperatorName::parse(name) else {
            return verify_password(password, None).await;
        };
        let hash: Option<String> = self
            .client()
            .await?
            .query_opt(
                "SELECT password_hash FROM operators WHERE name = $1",
                &[&name.as_str()],
            )
            .await?
            .map(|row| row.get(0));
        // The connection went back to the pool above: a flood of logins
        // waiting for the hashing threads must not hold every connection
        // the dashboard's pages need.
        verify_password(password, hash).await
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
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.batch_execute(crate::db::UNLOGGED).await?;
        let changed = tx.execute(statement, &[&name.as_str(), &hash]).await?;
        tx.commit().await?;
        match changed {
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
