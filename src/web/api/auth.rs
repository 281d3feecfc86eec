//! Who is calling the API: `Authorization: Bearer <token>`, and nothing
//! else (no cookie, so no cross-site request can ride on a session).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};

use super::error::ApiError;
use crate::web::AppState;

/// An operator's valid token.
pub struct Caller {
    /// The operator the token acts for: the audit log names them.
    pub operator: String,
    pub token_id: String,
    pub read_only: bool,
    /// The client's address, for the audit log.
    pub address: Option<String>,
}

const MISSING: &str = "This API needs a token: send `Authorization: Bearer <token>` \
     (`pgusers tokens create`, or the dashboard's API tokens page, makes one).";
const INVALID: &str = "This token is not valid: it was revoked, its operator was removed, \
     or it was mistyped.";

impl Caller {
    /// Refuses a read-only token a change.
    pub fn may_change(&self) -> Result<(), ApiError> {
        if self.read_only {
            return Err(ApiError::Forbidden(format!(
                "Token {} is read-only: it may list, not change. Use a token with full access.",
                self.token_id
            )));
        }
        Ok(())
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let app = req.app_data::<web::Data<AppState>>().cloned();
        let address = crate::web::client::address(req).map(|ip| ip.to_string());
        Box::pin(async move {
            let token = token.ok_or(ApiError::Unauthorized(MISSING))?;
            let app = app.ok_or_else(|| ApiError::internal("the application state is missing"))?;
            let holder = app
                .state
                .authenticate(&token)
                .await?
                .ok_or(ApiError::Unauthorized(INVALID))?;
            Ok(Self {
                operator: holder.operator,
                token_id: holder.id,
                read_only: holder.read_only,
                address,
            })
        })
    }
}

/// The token of an `Authorization: Bearer …` header (the scheme in any case).
fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|token| !token.is_empty())
}
