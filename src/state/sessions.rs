//! Operators' sessions, kept on the server. The cookie only carries a random
//! session id: logging out, changing an operator's password or removing it
//! ends its sessions everywhere, and idle and absolute time limits are
//! enforced here, where a copied cookie cannot stretch them.

use std::time::Duration;

use rand::seq::IndexedRandom;

use super::{StateError, StateStore};

impl StateStore {
    /// Starts a session for `operator`; returns its id for the cookie.
    pub async fn start_session(&self, operator: &str) -> Result<String, StateError> {
        let id = session_id();
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO operator_sessions (id, operator) VALUES ($1, $2)",
                &[&id, &operator],
            )
            .await?;
        Ok(id)
    }

    /// The operator of a live session, marking it as used now; `None` when it
    /// does not exist or has expired (it is then deleted).
    pub async fn touch_session(
        &self,
        id: &str,
        idle: Duration,
        lifetime: Duration,
    ) -> Result<Option<String>, StateError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "UPDATE operator_sessions SET seen_at = now()
                  WHERE id = $1
                    AND seen_at > now() - make_interval(secs => $2)
                    AND created_at > now() - make_interval(secs => $3)
                RETURNING operator",
                &[&id, &idle.as_secs_f64(), &lifetime.as_secs_f64()],
            )
            .await?;
        if row.is_none() {
            client
                .execute("DELETE FROM operator_sessions WHERE id = $1", &[&id])
                .await?;
        }
        Ok(row.map(|row| row.get(0)))
    }

    pub async fn end_session(&self, id: &str) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM operator_sessions WHERE id = $1", &[&id])
            .await?;
        Ok(())
    }

    /// Ends every session of `operator` (after a password change).
    pub async fn end_sessions_of(&self, operator: &str) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM operator_sessions WHERE operator = $1",
                &[&operator],
            )
            .await?;
        Ok(())
    }

    /// Forgets sessions nobody can use any more.
    pub async fn forget_expired_sessions(&self, lifetime: Duration) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM operator_sessions WHERE created_at < now() - make_interval(secs => $1)",
                &[&lifetime.as_secs_f64()],
            )
            .await?;
        Ok(())
    }
}

fn session_id() -> String {
    const CHARSET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..43)
        .map(|_| char::from(*CHARSET.choose(&mut rng).unwrap_or(&b'x')))
        .collect()
}
