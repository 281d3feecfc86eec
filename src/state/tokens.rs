//! API tokens: created and revoked by operators (the CLI, later a page),
//! checked on every API request. Only a token's SHA-256 is stored; the
//! token itself is shown once, by whoever created it.

use serde::Serialize;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;

use super::{StateError, StateStore};
use crate::domain::{ApiToken, OperatorName, TokenId, TokenLabel};

/// One token, as listed: never its secret, which pgusers does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: String,
    /// The operator it acts for.
    pub operator: String,
    pub label: String,
    /// Whether it may only read (list users).
    pub read_only: bool,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub created_at: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS`, to the minute; `None` if never used.
    pub last_used_at: Option<String>,
}

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolder {
    /// The token's id (to name it in the audit log).
    pub id: String,
    pub operator: String,
    pub read_only: bool,
}

/// The columns of a [`TokenInfo`], in its order.
const INFO: &str = "id, operator, label, read_only,
    to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
    to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')";

/// How many ids to draw before giving up: 40 random bits make a clash
/// unlikely, not impossible.
const ID_DRAWS: usize = 3;

impl StateStore {
    /// A new token for `operator`, who must exist. The token is returned
    /// once, here; only its hash is stored. A hash of a 256-bit secret
    /// gives nothing away, so the statement need not be kept out of the
    /// server's log.
    pub async fn create_token(
        &self,
        operator: &OperatorName,
        label: &TokenLabel,
        read_only: bool,
    ) -> Result<(TokenInfo, ApiToken), StateError> {
        let client = self.client().await?;
        let statement = format!(
            "INSERT INTO api_tokens (id, operator, label, read_only, secret_hash)
             VALUES ($1, $2, $3, $4, $5) RETURNING {INFO}"
        );
        let mut draws = 0;
        loop {
            draws += 1;
            let token = ApiToken::generate();
            let hash = token.hash();
            let inserted = client
                .query_one(
                    &statement,
                    &[
                        &token.id().as_str(),
                        &operator.as_str(),
                        &label.as_str(),
                        &read_only,
                        &hash.as_slice(),
                    ],
                )
                .await;
            match inserted {
                Ok(row) => return Ok((info(&row), token)),
                // No such operator (or it was removed meanwhile).
                Err(error) if error.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
                    return Err(StateError::OperatorNotFound(operator.to_string()));
                }
                // The id was taken: draw another token.
                Err(error)
                    if error.code() == Some(&SqlState::UNIQUE_VIOLATION) && draws < ID_DRAWS => {}
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Every token, oldest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StateError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("SELECT {INFO} FROM api_tokens ORDER BY created_at, id"),
                &[],
            )
            .await?;
        Ok(rows.iter().map(info).collect())
    }

    /// Deletes a token: it stops working at once. Returns what it was.
    pub async fn revoke_token(&self, id: &TokenId) -> Result<TokenInfo, StateError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("DELETE FROM api_tokens WHERE id = $1 RETURNING {INFO}"),
                &[&id.as_str()],
            )
            .await?;
        row.map(|row| info(&row))
            .ok_or_else(|| StateError::TokenNotFound(id.to_string()))
    }

    /// Who `token` speaks for, if it is a token that exists; records its
    /// use. A string of another shape is no token and is never sent to
    /// PostgreSQL (it may be another secret pasted in the wrong place).
    ///
    /// The token is found by its SHA-256 through the unique index, not
    /// compared in constant time: how long the lookup takes can only tell
    /// about the hash, and a hash of 256 random bits gives no way back to a
    /// secret. The hash covers the whole token, id included, so a token
    /// with any character changed matches nothing.
    ///
    /// The last use is written at most once a minute per token, so that a
    /// busy script does not turn every request into a write.
    pub async fn authenticate(&self, token: &str) -> Result<Option<TokenHolder>, StateError> {
        let Ok(token) = ApiToken::parse(token) else {
            return Ok(None);
        };
        let hash = token.hash();
        let client = self.client().await?;
        // Prepared once per connection: every API request asks.
        let statement = client
            .prepare_cached(
                "WITH found AS (
                     SELECT id, operator, read_only, last_used_at
                       FROM api_tokens WHERE secret_hash = $1
                 ), used AS (
                     UPDATE api_tokens SET last_used_at = now()
                      WHERE id IN (SELECT id FROM found
                                    WHERE last_used_at IS NULL
                                       OR last_used_at < now() - interval '1 minute')
                 )
                 SELECT id, operator, read_only FROM found",
            )
            .await?;
        let row = client.query_opt(&statement, &[&hash.as_slice()]).await?;
        Ok(row.map(|row| TokenHolder {
            id: row.get(0),
            operator: row.get(1),
            read_only: row.get(2),
        }))
    }
}

fn info(row: &Row) -> TokenInfo {
    TokenInfo {
        id: row.get(0),
        operator: row.get(1),
        label: row.get(2),
        read_only: row.get(3),
        created_at: row.get(4),
        last_used_at: row.get(5),
    }
}
