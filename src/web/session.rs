//! A typed view of the session cookie: who is logged in, the CSRF token and
//! a one-time message. No secret other than the CSRF token ever goes in it.

use std::future::{Ready, ready};

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use rand::seq::IndexedRandom;

use super::WebError;

const OPERATOR: &str = "operator";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";

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

/// The operator of a logged-in session; requests without one are sent to
/// the login page.
pub struct Operator {
    pub name: String,
    pub session: UserSession,
}

impl FromRequest for Operator {
    type Error = WebError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = UserSession(req.get_session());
        ready(match session.operator() {
            Some(name) => Ok(Self { name, session }),
            None => Err(WebError::LoginRequired),
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
