//! What the person sees when something fails. Details of unexpected failures
//! go to the log, never to the page: each error keeps its cause as its
//! `source()`, and the request log (`request_log.rs`) writes the whole
//! chain once, when the answer is made.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::pages::{Chrome, ErrorPage};
use crate::failure::Detail;
use crate::roles::RoleError;
use crate::state::StateError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("You need to log in.")]
    LoginRequired,
    #[error(
        "This form has expired or did not come from this dashboard. Go back, reload the page and try again."
    )]
    Csrf,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// pgusers' own settings are wrong; the message says which and how.
    #[error(transparent)]
    Misconfigured(Detail),
    /// The database cannot be reached; the reason says why (never a password).
    #[error(
        "The database is unavailable right now: {0} pgusers reconnects by itself: try again in a moment."
    )]
    Unavailable(#[source] Detail),
    /// A failure nobody can act on from the page: its cause goes to the log.
    #[error("Something went wrong. The details are in the server log.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("The request took too long to arrive. Try again.")]
    RequestTimeout,
    #[error("The form is larger than any form of this dashboard.")]
    PayloadTooLarge,
    /// One field (of a form, a query or a JSON body) is longer than any
    /// value pgusers accepts; it names the field when it has a plain name.
    #[error(
        "{0} is longer than any value pgusers accepts (at most {max} bytes).",
        max = super::limits::FIELD_BYTES
    )]
    FieldTooLarge(String),
    /// A request the dashboard's own pages never send; the message says
    /// which part is wrong.
    #[error("{0}")]
    BadRequest(String),
    #[error(
        "This dashboard takes forms only as its own pages send them (application/x-www-form-urlencoded). Send the form from its page in the dashboard."
    )]
    UnsupportedMediaType,
}

impl WebError {
    /// An unexpected failure: shown as a generic message, kept whole for
    /// the request log.
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(error.into())
    }
}

impl From<RoleError> for WebError {
    fn from(error: RoleError) -> Self {
        match error {
            RoleError::NotFound(_) => Self::NotFound(error.to_string()),
            RoleError::Protected(_)
            | RoleError::OwnsDatabase { .. }
            | RoleError::NotManageable { .. } => Self::Forbidden(error.to_string()),
            RoleError::ProtectedUserMissing(_)
            | RoleError::Misconfigured(_)
            | RoleError::MissingPrivilege { .. } => Self::Misconfigured(Detail::of(error)),
            RoleError::AlreadyExists(_)
            | RoleError::OwnsObjectsElsewhere { .. }
            | RoleError::ActedAsByOthers { .. }
            | RoleError::CodeToReview { .. }
            | RoleError::ActedWhileDeleted { .. }
            | RoleError::HeldByOthers { .. }
            | RoleError::Busy => Self::Conflict(error.to_string()),
            RoleError::Unavailable(detail) => Self::Unavailable(detail),
            RoleError::Database(_) => Self::internal(error),
        }
    }
}

impl From<StateError> for WebError {
    fn from(error: StateError) -> Self {
        match error {
            StateError::Unavailable(detail) => Self::Unavailable(detail),
            StateError::Misconfigured(_) | StateError::Missing(_) => {
                Self::Misconfigured(Detail::of(error))
            }
            other => Self::internal(other),
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::LoginRequired => StatusCode::SEE_OTHER,
            Self::Csrf | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            // The dashboard cannot serve until someone fixes its settings
            // or its database: not a bug of the page.
            Self::Unavailable(_) | Self::Misconfigured(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge | Self::FieldTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::LoginRequired = self {
            return HttpResponse::SeeOther()
                .insert_header((LOCATION, "/login"))
                .finish();
        }
        // Without the request, nobody is known to be logged in; the
        // `error_page` middleware puts the navigation back when someone is.
        self.page_response(None, None)
    }
}

impl WebError {
    /// What someone not logged in is told: why the dashboard cannot serve,
    /// without the host, port, user or database names PostgreSQL's answer
    /// carries (those go to the log, and to logged-in operators).
    pub fn public_message(&self) -> String {
        match self {
            Self::Unavailable(_) => "The database is unavailable right now: PostgreSQL cannot be \
                 reached, or refuses connections for now. pgusers reconnects by itself: try \
                 again in a moment. The server log says why."
                .to_owned(),
            Self::Misconfigured(_) => "pgusers cannot work with its database right now: \
                 PostgreSQL refused its settings, or a user or database they name no longer \
                 exists. An administrator must fix them; the server log says what."
                .to_owned(),
            other => other.to_string(),
        }
    }

    /// The error page, with the header and navigation of `chrome` when an
    /// operator is logged in, and a link that leads somewhere that works:
    /// while the database is unavailable, `retry` (the address that failed,
    /// if it can be asked again), since every other page fails the same way.
    pub(super) fn page_response(
        &self,
        chrome: Option<Chrome>,
        retry: Option<&str>,
    ) -> HttpResponse {
        let status = self.status_code();
        let users = chrome.as_ref().map(Chrome::users_href).unwrap_or_default();
        let overview = chrome.as_ref().map(Chrome::base).unwrap_or_default();
        let (href, label) = match (&chrome, self) {
            (_, Self::Unavailable(_) | Self::Misconfigured(_)) if retry.is_some() => {
                (retry.unwrap_or("/"), "Try again")
            }
            (None, _) => ("/login", "Go to the login page"),
            (Some(chrome), Self::NotFound(_) | Self::Forbidden(_) | Self::Conflict(_))
                if chrome.place.is_some() =>
            {
                (users.as_str(), "Back to database users")
            }
            (Some(chrome), _) if chrome.place.is_some() => {
                (overview.as_str(), "Go to the overview")
            }
            (Some(_), _) => ("/", "Go to the databases"),
        };
        let page = ErrorPage {
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            message: match chrome {
                Some(_) => self.to_string(),
                None => self.public_message(),
            },
            chrome,
            href: href.to_owned(),
            label,
        };
        let body = page.render().unwrap_or_else(|_| self.to_string());
        HttpResponse::build(status)
            .insert_header((CACHE_CONTROL, "no-store"))
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    /// An error tokio-postgres makes without a server: a connection
    /// string it cannot read.
    fn postgres_error() -> tokio_postgres::Error {
        "port=x"
            .parse::<tokio_postgres::Config>()
            .expect_err("not a port")
    }

    fn causes<'a>(
        error: &'a (dyn Error + 'static),
    ) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
        std::iter::successors(error.source(), |&cause| cause.source())
    }

    #[test]
    fn an_unavailable_database_keeps_what_postgresql_said_behind_the_pages_words() {
        let error = WebError::from(RoleError::from_postgres(postgres_error(), ""));

        assert!(matches!(error, WebError::Unavailable(_)), "{error:?}");
        assert!(
            error
                .to_string()
                .starts_with("The database is unavailable right now: "),
            "{error}"
        );
        assert!(
            causes(&error).any(|cause| cause.is::<tokio_postgres::Error>()),
            "the cause is kept: {}",
            crate::failure::chain(&error)
        );
    }

    #[test]
    fn an_unexpected_failure_shows_nothing_of_its_cause_and_keeps_it_for_the_log() {
        let error = WebError::internal(std::io::Error::other("disk on fire"));

        assert_eq!(
            error.to_string(),
            "Something went wrong. The details are in the server log."
        );
        assert_eq!(error.public_message(), error.to_string());
        let io = error
            .source()
            .and_then(|e| e.downcast_ref::<std::io::Error>());
        assert_eq!(io.map(ToString::to_string).as_deref(), Some("disk on fire"));
    }

    #[test]
    fn a_state_database_refusing_pgusers_keeps_its_words_and_its_cause() {
        let refused = StateError::Misconfigured(Detail::new(
            "Authentication failed for user \"app\".",
            std::io::Error::other("the socket said no"),
        ));
        let words = refused.to_string();

        let error = WebError::from(refused);

        assert!(matches!(error, WebError::Misconfigured(_)), "{error:?}");
        assert_eq!(error.to_string(), words);
        assert!(
            crate::failure::chain(&error).ends_with("— caused by: the socket said no"),
            "{}",
            crate::failure::chain(&error)
        );
    }
}
