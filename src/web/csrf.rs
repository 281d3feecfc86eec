//! Every form the dashboard takes carries the session's CSRF token. The
//! check is in the extractor: a handler gets its form only through
//! [`CsrfForm`], which refuses the request before the handler runs when
//! the token is not this session's, so no handler can forget it. (The
//! API, under `/api`, reads no cookie and takes no form.)

use std::future::Future;
use std::pin::Pin;

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::login_session::UserSession;

/// A urlencoded form whose `csrf_token` field was this session's token;
/// the handler sees the other fields, `T`. Decoded as `web::Form` does,
/// with the dashboard's form settings (size limit, error pages).
pub struct CsrfForm<T>(pub T);

impl<T> CsrfForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for CsrfForm<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A form with no field but its token (logout, revoke).
#[derive(Deserialize)]
pub struct NoFields {}

/// What is sent: the token, and the handler's fields.
#[derive(Deserialize)]
struct Sent<T> {
    csrf_token: String,
    #[serde(flatten)]
    fields: T,
}

/// The handler's fields of a form body, decoded as the extractor's
/// `web::Form` does (serde_urlencoded), the token aside. For the fuzz
/// targets (`pgusers::web::fuzzing`).
pub(super) fn fields_of<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_urlencoded::from_bytes::<Sent<T>>(body)
        .ok()
        .map(|sent| sent.fields)
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<Sent<T>>::from_request(req, payload);
        let session = UserSession::of(req.get_session());
        Box::pin(async move {
            let Sent { csrf_token, fields } = form.await?.into_inner();
            session.check_csrf(&csrf_token)?;
            Ok(Self(fields))
        })
    }
}
