//! A typed view of the session cookie: who is logged in, the CSRF token and
//! a one-time message. No secret other than the CSRF token ever goes in it.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use rand::seq::IndexedRandom;

use super::{AppState, WebError};

const OPERATOR: &str = "operator";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";
const LOGGED_IN_AT: &str = "logged_in_at";
const SEEN_AT: &str = "seen_at";

/// How long a login lasts: it ends after `idle` without a request, and
/// after `lifetime` whatever happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub lifetime: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30 * 60),
            lifetime: Duration::from_secs(12 * 60 * 60),
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub struct UserSession(Session);

impl UserSession {
    pub fn operator(&self) -> Option<String> {
        self.0.get(OPERATOR).ok().flatten()
    }

    /// Starts a logged-in session with a new id and a new CSRF token, so
    /// nothing from before the login carries over.
    pub fn log_in(&self, operator: &str) -> Result<(), WebError> {
        // `clear`, not `purge`: a purged session cannot be renewed.
        self.0.clear();
        self.0.renew();
        self.0
            .insert(OPERATOR, operator)
            .map_err(WebError::internal)?;
        let now = now();
        self.0
            .insert(LOGGED_IN_AT, now)
            .map_err(WebError::internal)?;
        self.0.insert(SEEN_AT, now).map_err(WebError::internal)?;
        Ok(())
    }

    pub fn log_out(&self) {
        self.0.purge();
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

    /// Accepts a form only if it carries this session's token.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        match self.0.get::<String>(CSRF) {
            Ok(Some(token)) if constant_time_eq(token.as_bytes(), submitted.as_bytes()) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }

    /// The logged-in operator, if the login has not expired; records this
    /// request as activity. An expired login is ended.
    fn current_operator(&self, policy: &SessionPolicy) -> Option<String> {
        let operator = self.operator()?;
        let now = now();
        let logged_in_at: u64 = self.0.get(LOGGED_IN_AT).ok().flatten()?;
        let seen_at: u64 = self.0.get(SEEN_AT).ok().flatten()?;
        let expired = now.saturating_sub(logged_in_at) > policy.lifetime.as_secs()
            || now.saturating_sub(seen_at) > policy.idle.as_secs();
        if expired {
            self.log_out();
            return None;
        }
        // Refreshing once a minute is precise enough and spares a new cookie per request.
        if now.saturating_sub(seen_at) >= 60 {
            let _ = self.0.insert(SEEN_AT, now);
        }
        Some(operator)
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

/// The operator of a logged-in session; requests without one, with an
/// expired one, or of an operator removed since, are sent to the login page.
pub struct Operator {
    pub name: String,
    pub session: UserSession,
    /// The client's address, for the audit log.
    pub address: Option<String>,
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
        let app = req.app_data::<web::Data<AppState>>().cloned();
        let address = req.peer_addr().map(|addr| addr.ip().to_string());
        Box::pin(async move {
            let name = session
                .current_operator(&policy)
                .ok_or(WebError::LoginRequired)?;
            let app = app.ok_or_else(|| WebError::internal("the application state is missing"))?;
            if !app.state.operator_exists(&name).await? {
                session.log_out();
                return Err(WebError::LoginRequired);
            }
            Ok(Self {
                name,
                session,
                address,
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
