//! Who is calling the API: `Authorization: Bearer <token>`, and nothing
//! else (no cookie, so no cross-site request can ride on a session).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};

use super::Effect;
use super::error::ApiError;
use crate::failure::ErrorKind;
use crate::operations::Actor;
use crate::web::AppData;

/// An operator's valid token, allowed to call this endpoint: a read-only
/// token calling an endpoint the route table tags as a change is refused
/// here, before its handler runs.
pub struct Caller {
    /// The operator the token acts for: the audit log names them.
    pub operator: String,
    /// The client's address, for the audit log.
    pub address: Option<String>,
}

const MISSING: &str = "This API needs a token: send `Authorization: Bearer <token>` \
     (`pgusers tokens create`, or the dashboard's API tokens page, makes one).";
const INVALID: &str = "This token is not valid: it was revoked, its operator was removed, \
     or it was mistyped.";

impl Caller {
    /// Who the audit log says asked for a change.
    pub fn actor(&self) -> Actor {
        Actor::Token {
            operator: self.operator.clone(),
            address: self.address.clone(),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let app = req.app_data::<web::Data<AppData>>().cloned();
        let address = crate::web::forwarded::address(req).map(|ip| ip.to_string());
        let effect = super::effect_of(req.method(), req.match_pattern().as_deref());
        Box::pin(async move {
            let token = token.ok_or(ApiError::Unauthorized(MISSING))?;
            let app = app.ok_or_else(|| ApiError::internal("the application state is missing"))?;
            let holder = app
                .store
                .authenticate(&token)
                .await?
                .ok_or(ApiError::Unauthorized(INVALID))?;
            if holder.read_only && effect != Effect::Read {
                return Err(ApiError::Refused(
                    ErrorKind::ReadOnlyToken,
                    format!(
                        "Token {} is read-only: it may list, not change. Use a token with \
                         full access.",
                        holder.id
                    ),
                ));
            }
            Ok(Self {
                operator: holder.operator,
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
