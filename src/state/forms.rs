//! Single-use form ids: the first POST of a confirmation form claims its id
//! before acting; any later POST of the same form (a reload, the back
//! button, a double click) finds the claim and acts no more. Rendering a
//! form writes nothing: the id is only stored when a form is sent.

use std::time::Duration;

use super::{Action, StateError, StateStore};

/// Which form of which session.
pub struct FormKey<'a> {
    /// The session's [`super::session_hash`], never its id.
    pub session_hash: &'a str,
    pub form_id: &'a str,
}

/// What a form asks for, recorded with its claim.
pub struct FormRequest<'a> {
    pub operator: &'a str,
    pub action: Action,
    pub target: &'a str,
}

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormClaim {
    /// This request is the first: it acts, then calls `finish_form` or
    /// `release_form`.
    First,
    /// The form was sent before.
    Used(FormUse),
}

/// An earlier use of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormUse {
    /// `Action::as_str` of what it did.
    pub action: String,
    pub target: String,
    /// Done, or still being done by the first request.
    pub done: bool,
    /// Whether its answer showed a generated password.
    pub password_shown: bool,
    /// When it was done (or claimed, while pending), `HH:MM` UTC.
    pub at: String,
}

impl StateStore {
    /// Claims a form for the request that acts on it. Claims older than
    /// `forget_after` (the session lifetime: their forms cannot be sent any
    /// more) are deleted on the way.
    pub async fn claim_form(
        &self,
        key: &FormKey<'_>,
        request: &FormRequest<'_>,
        forget_after: Duration,
    ) -> Result<FormClaim, StateError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM form_uses WHERE claimed_at < now() - make_interval(secs => $1)",
                &[&forget_after.as_secs_f64()],
            )
            .await?;
        // A claim released between the insert and the read is gone: try
        // again, a few times at most.
        for _ in 0..3 {
            let inserted = client
                .execute(
                    "INSERT INTO form_uses (session_hash, form_id, operator, action, target)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (session_hash, form_id) DO NOTHING",
                    &[
                        &key.session_hash,
                        &key.form_id,
                        &request.operator,
                        &request.action.as_str(),
                        &request.target,
                    ],
                )
                .await?;
            if inserted == 1 {
                return Ok(FormClaim::First);
            }
            if let Some(used) = self.form_use(key).await? {
                return Ok(FormClaim::Used(used));
            }
        }
        Err(StateError::Unavailable(
            "a form's claim kept changing; try again".into(),
        ))
    }

    /// The earlier use of a form, if it was sent before.
    pub async fn form_use(&self, key: &FormKey<'_>) -> Result<Option<FormUse>, StateError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT action, target, state = 'done', password_shown,
                        to_char(coalesce(done_at, claimed_at) AT TIME ZONE 'UTC', 'HH24:MI')
                   FROM form_uses WHERE session_hash = $1 AND form_id = $2",
                &[&key.session_hash, &key.form_id],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(FormUse {
            action: row.get(0),
            target: row.get(1),
            done: row.get(2),
            password_shown: row.get(3),
            at: row.get(4),
        }))
    }

    /// Marks a claimed form as done: it will never act again.
    pub async fn finish_form(
        &self,
        key: &FormKey<'_>,
        password_shown: bool,
    ) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE form_uses SET state = 'done', done_at = now(), password_shown = $3
                  WHERE session_hash = $1 AND form_id = $2",
                &[&key.session_hash, &key.form_id, &password_shown],
            )
            .await?;
        Ok(())
    }

    /// Gives a claim up after its action failed, so the same form may be
    /// sent again once the cause is fixed.
    pub async fn release_form(&self, key: &FormKey<'_>) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM form_uses
                  WHERE session_hash = $1 AND form_id = $2 AND state = 'pending'",
                &[&key.session_hash, &key.form_id],
            )
            .await?;
        Ok(())
    }
}
