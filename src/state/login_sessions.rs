//! Operators' sessions, kept on the server. The cookie only carries a random
//! session id: logging out, changing an operator's password or removing it
//! ends its sessions everywhere, and idle and absolute time limits are
//! enforced here, where a copied cookie cannot stretch them.
//!
//! Only the SHA-256 of a session id is stored ([`session_hash`]): whoever
//! reads this database (a backup, a replica) finds no id to put in a
//! cookie. Every method takes the id itself and hashes it on the way in.

use std::time::Duration;

use rand::seq::IndexedRandom;
use sha2::{Digest, Sha256};

use super::{StateError, StateStore};

impl StateStore {
    /// Starts a session for `operator`; returns its id for the cookie. The
    /// id is not kept: only its hash is.
    pub async fn start_session(&self, operator: &str) -> Result<String, StateError> {
        let id = session_id();
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO operator_sessions (id_hash, operator) VALUES ($1, $2)",
                &[&session_hash(&id), &operator],
            )
            .await?;
        Ok(id)
    }

    /// The operator of a live session; `None` when it does not exist or has
    /// expired (it is then deleted).
    ///
    /// A read, not a write: its last use is recorded again only once it is
    /// older than `grain`, so a page view costs no write and no commit, and
    /// concurrent requests of one session do not queue on its row. Ending a
    /// session deletes its row, which this read sees at once, in every
    /// process.
    pub async fn check_session(
        &self,
        id: &str,
        idle: Duration,
        lifetime: Duration,
        grain: Duration,
    ) -> Result<Option<String>, StateError> {
        let hash = session_hash(id);
        let client = self.client().await?;
        let check = client
            .prepare_cached(
                "SELECT operator,
                        seen_at > now() - make_interval(secs => $2)
                            AND created_at > now() - make_interval(secs => $3),
                        seen_at < now() - make_interval(secs => $4)
                   FROM operator_sessions
                  WHERE id_hash = $1",
            )
            .await?;
        let (idle, lifetime, grain) = (
            idle.as_secs_f64(),
            lifetime.as_secs_f64(),
            grain.as_secs_f64(),
        );
        let Some(row) = client
            .query_opt(&check, &[&hash, &idle, &lifetime, &grain])
            .await?
        else {
            return Ok(None);
        };
        let (operator, live, stale): (String, bool, bool) = (row.get(0), row.get(1), row.get(2));
        if !live {
            client
                .execute("DELETE FROM operator_sessions WHERE id_hash = $1", &[&hash])
                .await?;
            return Ok(None);
        }
        if stale {
            // Only the first of a session's concurrent requests past the
            // grain writes; the others find it fresh and change nothing. A
            // session that expired meanwhile is not brought back.
            let refresh = client
                .prepare_cached(
                    "UPDATE operator_sessions SET seen_at = now()
                      WHERE id_hash = $1
                        AND seen_at < now() - make_interval(secs => $2)
                        AND seen_at > now() - make_interval(secs => $3)",
                )
                .await?;
            client.execute(&refresh, &[&hash, &grain, &idle]).await?;
        }
        Ok(Some(operator))
    }

    pub async fn end_session(&self, id: &str) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM operator_sessions WHERE id_hash = $1",
                &[&session_hash(id)],
            )
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

    /// Forgets sessions nobody can use any more: past their lifetime, or
    /// idle for longer than `idle` (an abandoned session is never checked
    /// again, so nothing else would delete it before its lifetime ends).
    pub async fn forget_expired_sessions(
        &self,
        idle: Duration,
        lifetime: Duration,
    ) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM operator_sessions
                  WHERE seen_at < now() - make_interval(secs => $1)
                     OR created_at < now() - make_interval(secs => $2)",
                &[&idle.as_secs_f64(), &lifetime.as_secs_f64()],
            )
            .await?;
        Ok(())
    }
}

/// What a session is stored and known by on the server: the SHA-256 of
/// its id, in lower-case hex. Single-use form ids are bound to it too, so
/// the id itself is needed only to find its session.
pub fn session_hash(id: &str) -> String {
    Sha256::digest(id.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn session_id() -> String {
    const CHARSET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..43)
        .map(|_| char::from(*CHARSET.choose(&mut rng).unwrap_or(&b'x')))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_stored_under_the_sha256_of_its_id() {
        // printf '%s' abc | sha256sum
        assert_eq!(
            session_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
