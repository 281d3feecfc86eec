//! What API clients get when something fails: JSON, with the status a
//! script can act on. Never a page, never a password. Each error keeps its
//! cause as its `source()`, for the request log to write once.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::failure::{Detail, ErrorKind};
use crate::operations::answers;
use crate::registry::RegistryError;
use crate::roles::RoleError;
use crate::state::StateError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token, or one that is not (or no longer) valid.
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    NotFound(String),
    /// A change refused, or a thing not there, as [`ErrorKind`] says; its
    /// status is the API's in the one table ([`crate::operations::answers`]).
    #[error("{1}")]
    Refused(ErrorKind, String),
    /// The body is not JSON, or not of the expected shape and types.
    #[error("{0}")]
    BadRequest(String),
    /// Fields that break the rules, each with all its messages.
    #[error("Some fields are not valid.")]
    Invalid(BTreeMap<&'static str, Vec<String>>),
    /// What the client is told; the cause (host, user, PostgreSQL's words)
    /// is kept for the log.
    #[error(transparent)]
    Unavailable(Detail),
    #[error("The body is larger than 16 KiB.")]
    TooLarge,
    /// A field of the body or query is longer than any valid value.
    #[error("{0}")]
    FieldTooLarge(String),
    #[error("The body took too long to arrive.")]
    TimedOut,
    #[error("Something went wrong. The details are in the server log.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// `{"error": "…"}`
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

/// `{"errors": {"field": ["message", …]}}`
#[derive(Serialize, ToSchema)]
pub struct InvalidBody {
    /// Each wrong field with every problem it has, in the form's words.
    pub errors: BTreeMap<String, Vec<String>>,
}

impl ApiError {
    /// An unexpected failure: a generic answer, the cause kept for the log.
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(error.into())
    }
}

impl From<RoleError> for ApiError {
    fn from(error: RoleError) -> Self {
        match error.kind() {
            // The details (host, user, file, PostgreSQL's words) go to the
            // log: any token, read-only too, may see this answer.
            ErrorKind::Misconfigured => Self::Unavailable(Detail::new(
                "pgusers cannot work with this database right now: its settings need \
                 fixing. The server log says what.",
                error,
            )),
            ErrorKind::Unavailable => Self::Unavailable(Detail::new(
                "The database is unavailable right now: PostgreSQL cannot be reached or \
                 refuses connections for now. Try again in a moment; the server log says why.",
                error,
            )),
            ErrorKind::Internal => Self::internal(error),
            kind => Self::Refused(kind, error.to_string()),
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        Self::Refused(error.kind(), error.to_string())
    }
}

impl From<StateError> for ApiError {
    fn from(error: StateError) -> Self {
        match error.kind() {
            ErrorKind::Unavailable | ErrorKind::Misconfigured => Self::Unavailable(Detail::new(
                "pgusers' own state database is unavailable right now; try again in a moment.",
                error,
            )),
            ErrorKind::Internal => Self::internal(error),
            kind => Self::Refused(kind, error.to_string()),
        }
    }
}

/// The request limits' refusals (see `web::limits`), as JSON.
impl From<crate::web::WebError> for ApiError {
    fn from(error: crate::web::WebError) -> Self {
        match error {
            crate::web::WebError::PayloadTooLarge => Self::TooLarge,
            crate::web::WebError::RequestTimeout => Self::TimedOut,
            field @ crate::web::WebError::FieldTooLarge(_) => {
                Self::FieldTooLarge(field.to_string())
            }
            other => Self::internal(other),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Refused(kind, _) => StatusCode::from_u16(answers(*kind).api)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooLarge | Self::FieldTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TimedOut => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((CACHE_CONTROL, "no-store"));
        if let Self::Unauthorized(_) = self {
            response.insert_header((WWW_AUTHENTICATE, "Bearer"));
        }
        match self {
            Self::Invalid(errors) => response.json(InvalidBody {
                errors: errors
                    .iter()
                    .map(|(field, messages)| ((*field).to_owned(), messages.clone()))
                    .collect(),
            }),
            other => response.json(ErrorBody {
                error: other.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_database_answers_in_general_words_and_keeps_postgresqls_for_the_log() {
        let postgres = "port=x"
            .parse::<tokio_postgres::Config>()
            .expect_err("not a port");
        let said = postgres.to_string();

        let error = ApiError::from(RoleError::from_postgres(postgres, ""));

        assert!(matches!(error, ApiError::Unavailable(_)), "{error:?}");
        assert!(!error.to_string().contains(&said), "{error}");
        assert!(
            crate::failure::chain(&error).contains(&said),
            "{}",
            crate::failure::chain(&error)
        );
    }
}
