//! A typed view of the session cookie: who is logged in, the CSRF token and
//! a one-time message. No secret other than the CSRF token ever goes in it.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::time::Duration;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use rand::seq::IndexedRandom;

use super::login_return::{RETURNED, ReturnedForm};
use super::{AppData, WebError};

const CSRF: &str = "csrf";
const FLASH: &str = "flash";
/// The id of the server-side session (see `state::sessions`).
const SESSION_ID: &str = "sid";

/// How long a login lasts: it ends after `idle` without a request (to
/// within [`SessionPolicy::refresh_grain`]), and after `lifetime` whatever
/// happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub lifetime: Duration,
}

impl SessionPolicy {
    /// How stale a session's last-seen time may get before a request
    /// records it again: min(60 s, idle / 10). Checking a session is a
    /// read; it writes only when the last recorded use is older than this,
    /// so a page view costs no write and a session's concurrent requests do
    /// not all write. The idle timeout is thus kept to within one grain: a
    /// session may end up to one grain early (its last requests were not
    /// recorded), never late.
    pub fn refresh_grain(&self) -> Duration {
        (self.idle / 10).min(Duration::from_secs(60))
    }
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30 * 60),
            lifetime: Duration::from_secs(12 * 60 * 60),
        }
    }
}

pub struct UserSession(Session);

impl UserSession {
    pub(super) fn of(session: Session) -> Self {
        Self(session)
    }

    /// Starts a logged-in session with a new cookie and a new CSRF token,
    /// so nothing from before the login carries over.
    /// A form sent after the last session ended stays, for its page to show
    /// again (see `login_return`).
    pub fn log_in(&self, session_id: &str) -> Result<(), WebError> {
        let returned = self.returned_form();
        // `clear`, not `purge`: a purged session cannot be renewed.
        self.0.clear();
        self.0.renew();
        self.0
            .insert(SESSION_ID, session_id)
            .map_err(WebError::internal)?;
        self.keep_returned(returned);
        Ok(())
    }

    /// The login ended (expired, logged out elsewhere): forgets it in this
    /// browser, keeping only `returned`, the form it carried, if any.
    fn ended(&self, returned: Option<ReturnedForm>) {
        if self.session_id().is_some() {
            // `clear`, not `purge`: a purged session keeps nothing.
            self.0.clear();
            self.0.renew();
        }
        self.keep_returned(returned);
    }

    fn returned_form(&self) -> Option<ReturnedForm> {
        self.0.get::<ReturnedForm>(RETURNED).ok().flatten()
    }

    fn keep_returned(&self, returned: Option<ReturnedForm>) {
        if let Some(returned) = returned {
            // A cookie that cannot hold it loses only the typed values.
            let _ = self.0.insert(RETURNED, returned);
        }
    }

    /// Forgets the login in this browser; returns the server-side session
    /// to end.
    pub fn log_out(&self) -> Option<String> {
        let id = self.session_id();
        self.0.purge();
        id
    }

    fn session_id(&self) -> Option<String> {
        self.0.get(SESSION_ID).ok().flatten()
    }

    /// The session's CSRF token, made on first use.
    pub fn csrf_token(&self) -> String {
        if let Ok(Some(token)) = self.0.get::<String>(CSRF) {
            return token;
        }
        let token = random_token();
        // A session that cannot store its token makes every form fail its
        // check, which is the safe way to fail.
        let _ = self.0.insert(CSRF, &token);
        token
    }

    /// Accepts a form only if it carries this session's token. Only
    /// [`super::csrf::CsrfForm`] calls it: handlers get their forms from it.
    pub(super) fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        match self.0.get::<String>(CSRF) {
            Ok(Some(token)) if constant_time_eq(token.as_bytes(), submitted.as_bytes()) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }

    pub fn flash(&self, message: impl Into<String>) {
        let _ = self.0.insert(FLASH, message.into());
    }

    pub fn take_flash(&self) -> Option<String> {
        self.0.remove_as::<String>(FLASH).and_then(Result::ok)
    }
}

impl FromRequest for UserSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(req.get_session())))
    }
}

/// The operator of a logged-in session; requests without a live
/// server-side session (never logged in, expired, logged out, password
/// changed, operator removed) are sent to the login page.
pub struct Operator {
    pub name: String,
    pub session: UserSession,
    /// The client's address, for the audit log.
    pub address: Option<String>,
    /// The server-side session, by its hash (`state::session_hash`):
    /// single-use form ids are bound to it. The id itself stays in the
    /// cookie.
    pub(super) session_hash: String,
    /// How long the session can last at most.
    pub(super) session_lifetime: Duration,
}

impl Operator {
    /// Who the audit log says asked for a change.
    pub fn actor(&self) -> crate::operations::Actor {
        crate::operations::Actor::Operator {
            name: self.name.clone(),
            address: self.address.clone(),
        }
    }
}

impl FromRequest for Operator {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = UserSession(req.get_session());
        let policy = req
            .app_data::<web::Data<SessionPolicy>>()
            .map(|policy| *policy.get_ref())
            .unwrap_or_default();
        let app = req.app_data::<web::Data<AppData>>().cloned();
        let address = super::forwarded::address(req).map(|ip| ip.to_string());
        // Through the login page, back to where the person was going, with
        // what a form held.
        let request = req.clone();
        let login = move |session: &UserSession| {
            let (location, returned) = super::login_return::login_return(&request);
            session.ended(returned);
            WebError::LoginRequired(location)
        };
        Box::pin(async move {
            let Some(id) = session.session_id() else {
                return Err(login(&session));
            };
            let app = app.ok_or_else(|| WebError::internal("the application state is missing"))?;
            let Some(name) = app
                .store
                .check_session(&id, policy.idle, policy.lifetime, policy.refresh_grain())
                .await?
            else {
                // Expired, logged out elsewhere, or its operator is gone.
                return Err(login(&session));
            };
            Ok(Self {
                name,
                session,
                address,
                session_hash: crate::state::session_hash(&id),
                session_lifetime: policy.lifetime,
            })
        })
    }
}

fn random_token() -> String {
    const CHARSET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..43)
        .map(|_| char::from(*CHARSET.choose(&mut rng).unwrap_or(&b'x')))
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle(idle: Duration) -> SessionPolicy {
        SessionPolicy {
            idle,
            ..SessionPolicy::default()
        }
    }

    #[test]
    fn the_refresh_grain_is_a_tenth_of_the_idle_timeout_and_at_most_a_minute() {
        assert_eq!(
            SessionPolicy::default().refresh_grain(),
            Duration::from_secs(60)
        );
        assert_eq!(
            idle(Duration::from_secs(5 * 60)).refresh_grain(),
            Duration::from_secs(30)
        );
        assert_eq!(
            idle(Duration::from_secs(1)).refresh_grain(),
            Duration::from_millis(100)
        );
        assert_eq!(
            idle(Duration::from_secs(12 * 3600)).refresh_grain(),
            Duration::from_secs(60)
        );
    }
}
