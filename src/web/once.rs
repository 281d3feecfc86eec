//! Confirmation forms act once. Each carries a single-use id, made when the
//! page is rendered (nothing is written then); the first POST of it claims
//! the id in the state database before acting, and any later POST of the
//! same form (a reload, the back button, a double click) answers what was
//! done instead of doing it again. A failed action gives its claim up, so
//! the form can be sent again once the cause is fixed.
//!
//! An id is a random nonce and a tag that binds it to the login session
//! that rendered the form, the action and the user it names: an id made up,
//! taken to another session, or sent to another action or user is refused
//! like a stale form, before anything is claimed.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt;
use sha2::Sha256;

use super::login_session::Operator;
use super::pages::{ReplayPage, render};
use super::routes::chrome;
use super::{AppData, WebError};
use crate::domain::Password;
use crate::operations::Done;
use crate::registry::ManagedDatabase;
use crate::roles::RoleError;
use crate::state::{Action, FormClaim, FormKey, FormRequest, FormUse};
use crate::web::list_place::ListPlace;

/// How long a repeated request waits for the first one to finish.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(3);

/// How long the answer to a done change waits for its form to be recorded.
const SETTLE_WITHIN: Duration = Duration::from_secs(5);

/// Bytes of the nonce, and of the tag (HMAC-SHA256 truncated to 128 bits).
const NONCE_LEN: usize = 16;
const TAG_LEN: usize = 16;

/// Labels the key derived from the session key, so that the session key's
/// own bytes serve one purpose only.
const KEY_LABEL: &[u8] = b"pgusers form ids";

/// Issues and checks form ids. Its key comes from the dashboard's session
/// key, so forms rendered before a restart still work after it.
#[derive(Clone)]
pub struct FormIds {
    key: [u8; 32],
}

impl std::fmt::Debug for FormIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FormIds(..)")
    }
}

impl FormIds {
    pub fn new(session_key: &[u8]) -> Self {
        let mut derive = mac(session_key);
        derive.update(KEY_LABEL);
        Self {
            key: derive.finalize().into_bytes().into(),
        }
    }

    /// A new id for a form that does `action` on `user` of `database`, in
    /// the login session whose hash is `session_hash`. The create form names its user in a
    /// field, so its id is bound to the action and the database alone.
    pub fn issue(&self, session_hash: &str, action: Action, database: &str, user: &str) -> String {
        let nonce: [u8; NONCE_LEN] = rand::rng().random();
        let tag = self
            .tag(session_hash, action, database, user, &nonce)
            .finalize()
            .into_bytes();
        hex(&nonce) + &hex(&tag[..TAG_LEN])
    }

    /// The id, if this server issued it in `session_hash` for `action` on
    /// `user` of `database`; otherwise the form is refused like a stale one.
    fn check<'a>(
        &self,
        submitted: &'a str,
        session_hash: &str,
        action: Action,
        database: &str,
        user: &str,
    ) -> Result<&'a str, WebError> {
        let bytes = unhex(submitted).ok_or(WebError::Csrf)?;
        if bytes.len() != NONCE_LEN + TAG_LEN {
            return Err(WebError::Csrf);
        }
        let (nonce, tag) = bytes.split_at(NONCE_LEN);
        self.tag(session_hash, action, database, user, nonce)
            .verify_truncated_left(tag)
            .map_err(|_| WebError::Csrf)?;
        Ok(submitted)
    }

    fn tag(
        &self,
        session_hash: &str,
        action: Action,
        database: &str,
        user: &str,
        nonce: &[u8],
    ) -> Hmac<Sha256> {
        let user = if action == Action::CreateUser {
            ""
        } else {
            user
        };
        let mut tag = mac(&self.key);
        // Each part with its length first, so no two lists of parts read
        // the same.
        for part in [
            session_hash.as_bytes(),
            action.as_str().as_bytes(),
            database.as_bytes(),
            user.as_bytes(),
            nonce,
        ] {
            tag.update(&(part.len() as u64).to_be_bytes());
            tag.update(part);
        }
        tag
    }
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Lower-case hex only: the form as rendered, nothing else.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            };
            Some(digit(pair[0])? << 4 | digit(pair[1])?)
        })
        .collect()
}

pub enum Claim {
    /// This request acts, then settles its ticket.
    First(Ticket),
    /// The form was sent before: what became of it, for the answer.
    Replay(FormUse),
}

/// The right to act on a form, held by its first request.
pub struct Ticket {
    session_hash: String,
    form_id: String,
}

/// A confirmation form about user `target` of `database`, as sent.
pub struct UserForm<'a> {
    pub ids: &'a FormIds,
    pub operator: &'a Operator,
    pub database: &'a ManagedDatabase,
    pub form_id: &'a str,
    pub action: Action,
    pub target: &'a str,
    /// Where in the users list the person came from.
    pub place: &'a ListPlace,
}

/// How a user form's change went: done now (with its result), or the
/// form was sent before and this is the page that says what its first
/// sending did.
pub enum Once<T> {
    Acted(Result<T, RoleError>),
    Replayed(HttpResponse),
}

/// Whether a change's result showed a generated password, which a form
/// sent again cannot show a second time.
pub trait ShowsPassword {
    fn shows_password(&self) -> bool;
}

impl ShowsPassword for Option<Password> {
    fn shows_password(&self) -> bool {
        self.is_some()
    }
}

impl ShowsPassword for Password {
    fn shows_password(&self) -> bool {
        true
    }
}

impl ShowsPassword for () {
    fn shows_password(&self) -> bool {
        false
    }
}

impl ShowsPassword for u64 {
    fn shows_password(&self) -> bool {
        false
    }
}

impl UserForm<'_> {
    /// Does `change` once: claims the form, runs the change, settles the
    /// claim by its result. A form sent again runs nothing.
    pub async fn act<'o, 'a: 'o, T: ShowsPassword>(
        &self,
        app: &web::Data<AppData>,
        change: impl Future<Output = Done<'o, 'a, T>>,
    ) -> Result<Once<T>, WebError> {
        let claimed = claim(
            app,
            self.ids,
            self.operator,
            self.database.id.as_str(),
            self.form_id,
            self.action,
            self.target,
        )
        .await?;
        let ticket = match claimed {
            Claim::First(ticket) => ticket,
            Claim::Replay(used) => {
                return replay_page(self.operator, self.database, used, self.place)
                    .map(Once::Replayed);
            }
        };
        let done = change.await;
        // Settled before the audit entry is written: a form sent again
        // meanwhile is told at once what this one did.
        ticket
            .settle(app, done.result(), ShowsPassword::shows_password)
            .await;
        Ok(Once::Acted(done.recorded().await))
    }
}

/// Claims the form `form_id` for `action` on `target` within `scope` (a
/// database's ID; empty for the dashboard's own things, such as tokens).
pub async fn claim(
    app: &web::Data<AppData>,
    ids: &FormIds,
    operator: &Operator,
    scope: &str,
    form_id: &str,
    action: Action,
    target: &str,
) -> Result<Claim, WebError> {
    let key = FormKey {
        session_hash: &operator.session_hash,
        form_id: ids.check(form_id, &operator.session_hash, action, scope, target)?,
    };
    let request = FormRequest {
        operator: &operator.name,
        action,
        target,
    };
    let started = tokio::time::Instant::now();
    let mut used = match app
        .store
        .claim_form(&key, &request, operator.session_lifetime)
        .await?
    {
        FormClaim::First => {
            return Ok(Claim::First(Ticket {
                session_hash: operator.session_hash.clone(),
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
        match app.store.form_use(&key).await? {
            Some(now) => used = now,
            // It failed and gave its claim up: this request may act.
            None => {
                return Box::pin(claim(app, ids, operator, scope, form_id, action, target)).await;
            }
        }
    }
    tracing::info!(
        operator = %operator.name,
        action = %used.action,
        user = %used.target,
        done = used.done,
        "a form was sent again; nothing was done again"
    );
    Ok(Claim::Replay(used))
}

impl Ticket {
    /// Records how the action ended: done (never again), or failed (the
    /// claim is given up). It comes after the change, so it cannot fail
    /// the answer (which may carry the only copy of a generated password):
    /// a failure, or a state database slower than [`SETTLE_WITHIN`], is
    /// logged, and a replay of this form will say it is still being done,
    /// and act no more.
    pub async fn settle<T, E>(
        self,
        app: &AppData,
        result: &Result<T, E>,
        shows_password: impl FnOnce(&T) -> bool,
    ) {
        let key = FormKey {
            session_hash: &self.session_hash,
            form_id: &self.form_id,
        };
        let recorded = async {
            match result {
                Ok(value) => app.store.finish_form(&key, shows_password(value)).await,
                Err(_) => app.store.release_form(&key).await,
            }
        };
        match tokio::time::timeout(SETTLE_WITHIN, recorded).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(error = %crate::failure::chain(&error), "could not record how a form's action ended");
            }
            Err(_) => tracing::warn!(
                "recording how a form's action ended took longer than {} s; not waiting",
                SETTLE_WITHIN.as_secs()
            ),
        }
    }
}

/// The answer to a user form sent again: what its first sending did.
pub fn replay_page(
    operator: &Operator,
    database: &ManagedDatabase,
    used: FormUse,
    place: &ListPlace,
) -> Result<HttpResponse, WebError> {
    let what = match used.action.as_str() {
        a if a == Action::CreateUser.as_str() => "created",
        a if a == Action::DeleteUser.as_str() => "deleted",
        a if a == Action::EndSessions.as_str() => "sessions ended",
        _ => "reset",
    };
    let status = if used.done {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    let page = ReplayPage {
        chrome: chrome(operator, Some(database)).returning_to(place),
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

    fn ids() -> FormIds {
        FormIds::new(&[7; 64])
    }

    #[test]
    fn an_issued_form_id_is_accepted_for_its_session_action_and_user() {
        let id = ids().issue("session", Action::ResetPassword, "db", "alice");
        assert_eq!(id.len(), 2 * (NONCE_LEN + TAG_LEN));
        assert!(
            ids()
                .check(&id, "session", Action::ResetPassword, "db", "alice")
                .is_ok()
        );
        assert_ne!(
            id,
            ids().issue("session", Action::ResetPassword, "db", "alice")
        );
    }

    #[test]
    fn a_form_id_is_refused_in_another_session_action_or_user_or_under_another_key() {
        let id = ids().issue("session", Action::ResetPassword, "db", "alice");
        for (session, action, database, user) in [
            ("other", Action::ResetPassword, "db", "alice"),
            ("session", Action::DeleteUser, "db", "alice"),
            ("session", Action::ResetPassword, "db", "bob"),
            ("session", Action::ResetPassword, "other_db", "alice"),
        ] {
            assert!(
                matches!(
                    ids().check(&id, session, action, database, user),
                    Err(WebError::Csrf)
                ),
                "{session} {action:?} {database} {user}"
            );
        }
        let other_key = FormIds::new(&[8; 64]);
        assert!(
            other_key
                .check(&id, "session", Action::ResetPassword, "db", "alice")
                .is_err()
        );
    }

    #[test]
    fn a_create_form_id_is_bound_to_the_action_not_to_the_name_typed() {
        let id = ids().issue("session", Action::CreateUser, "db", "");
        assert!(
            ids()
                .check(&id, "session", Action::CreateUser, "db", "x_user")
                .is_ok()
        );
        assert!(
            ids()
                .check(&id, "session", Action::CreateUser, "other_db", "x_user")
                .is_err()
        );
    }

    #[test]
    fn a_missing_malformed_or_made_up_form_id_is_refused_as_a_stale_form() {
        let issued = ids().issue("s", Action::DeleteUser, "d", "u");
        let flipped = format!(
            "{}{}",
            &issued[..63],
            if issued.ends_with('0') { '1' } else { '0' }
        );
        for bad in [
            "",
            "xyz",
            &"0".repeat(32),
            &"0".repeat(64),
            &issued.to_uppercase(),
            &issued[..62],
            &format!("{issued}00"),
            &flipped,
        ] {
            assert!(
                matches!(
                    ids().check(bad, "s", Action::DeleteUser, "d", "u"),
                    Err(WebError::Csrf)
                ),
                "{bad:?}"
            );
        }
    }
}
