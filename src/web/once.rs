//! Confirmation forms act once. Each carries a single-use id, made when the
//! page is rendered (nothing is written then); the first POST of it claims
//! the id in the state database before acting, and any later POST of the
//! same form (a reload, the back button, a double click) answers what was
//! done instead of doing it again. A failed action gives its claim up, so
//! the form can be sent again once the cause is fixed.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use rand::RngExt;

use super::pages::{ReplayPage, render};
use super::routes::chrome;
use super::session::Operator;
use super::{AppState, WebError};
use crate::roles::RoleError;
use crate::state::{Action, FormClaim, FormKey, FormRequest, FormUse};

/// How long a repeated request waits for the first one to finish.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(3);

/// A new form id: 128 random bits, in hex.
pub fn new_form_id() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A form without a well-formed id was not rendered by this version of the
/// dashboard: it is refused like a stale form.
fn parse(submitted: &str) -> Result<&str, WebError> {
    let well_formed = submitted.len() == 32
        && submitted
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if well_formed {
        Ok(submitted)
    } else {
        Err(WebError::Csrf)
    }
}

pub enum Claim {
    /// This request acts, then settles its ticket.
    First(Ticket),
    /// The form was sent before: the answer says what became of it.
    Replay(HttpResponse),
}

/// The right to act on a form, held by its first request.
pub struct Ticket {
    session_id: String,
    form_id: String,
}

/// Claims the form `form_id` for `action` on `target`.
pub async fn claim(
    app: &web::Data<AppState>,
    operator: &Operator,
    form_id: &str,
    action: Action,
    target: &str,
) -> Result<Claim, WebError> {
    let key = FormKey {
        session_id: &operator.session_id,
        form_id: parse(form_id)?,
    };
    let request = FormRequest {
        operator: &operator.name,
        action,
        target,
    };
    let started = tokio::time::Instant::now();
    let mut used = match app
        .state
        .claim_form(&key, &request, operator.session_lifetime)
        .await?
    {
        FormClaim::First => {
            return Ok(Claim::First(Ticket {
                session_id: operator.session_id.clone(),
                form_id: key.form_id.to_owned(),
            }));
        }
        FormClaim::Used(used) => used,
    };
    // A double click: the first request is still acting. Its answer may
    // never be seen (the browser shows the last one), so wait for it to say
    // what it did.
    while !used.done && started.elapsed() < WAIT_FOR_FIRST {
        tokio::time::sleep(Duration::from_millis(100)).await;
        match app.state.form_use(&key).await? {
            Some(now) => used = now,
            // It failed and gave its claim up: this request may act.
            None => return Box::pin(claim(app, operator, form_id, action, target)).await,
        }
    }
    tracing::info!(
        operator = %operator.name,
        action = %used.action,
        user = %used.target,
        done = used.done,
        "a form was sent again; nothing was done again"
    );
    Ok(Claim::Replay(replay_page(app, operator, used).await?))
}

impl Ticket {
    /// Records how the action ended: done (never again), or failed (the
    /// claim is given up). Returns the action's result.
    pub async fn settle<T>(
        self,
        app: &AppState,
        result: Result<T, RoleError>,
        shows_password: impl FnOnce(&T) -> bool,
    ) -> Result<T, RoleError> {
        let key = FormKey {
            session_id: &self.session_id,
            form_id: &self.form_id,
        };
        let recorded = match &result {
            Ok(value) => app.state.finish_form(&key, shows_password(value)).await,
            Err(_) => app.state.release_form(&key).await,
        };
        if let Err(error) = recorded {
            // The action's answer matters more; a replay of this form will
            // say it is still being done, and act no more.
            tracing::warn!(%error, "could not record how a form's action ended");
        }
        result
    }
}

async fn replay_page(
    app: &web::Data<AppState>,
    operator: &Operator,
    used: FormUse,
) -> Result<HttpResponse, WebError> {
    let what = match used.action.as_str() {
        a if a == Action::CreateUser.as_str() => "created",
        a if a == Action::DeleteUser.as_str() => "deleted",
        _ => "reset",
    };
    let status = if used.done {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    let page = ReplayPage {
        chrome: chrome(app, operator).await?,
        username: used.target,
        what,
        done: used.done,
        password_shown: used.password_shown,
        at: used.at,
    };
    render(status, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_form_id_is_128_random_bits_that_parse_back() {
        let id = new_form_id();
        assert_eq!(parse(&id).ok(), Some(id.as_str()));
        assert_ne!(id, new_form_id());
    }

    #[test]
    fn a_missing_or_malformed_form_id_is_refused_as_a_stale_form() {
        for bad in ["", "xyz", &"A".repeat(32), &"0".repeat(31), &"0".repeat(33)] {
            assert!(matches!(parse(bad), Err(WebError::Csrf)), "{bad:?}");
        }
    }
}
