//! What the person sees when something fails. Details of unexpected failures
//! go to the log, never to the page: each error keeps its cause as its
//! `source()`, and the request log (`request_log.rs`) writes the whole
//! chain once, when the answer is made.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::pages::{Chrome, ErrorPage};
use crate::failure::{Detail, ErrorKind};
use crate::operations::answers;
use crate::registry::RegistryError;
use crate::roles::RoleError;
use crate::state::StateError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Answered with a redirect to the login page, at this address: one
    /// that leads back (see `login_return`).
    #[error("You need to log in.")]
    LoginRequired(String),
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
    /// A change refused, or a thing not there, as [`ErrorKind`] says; its
    /// status is the dashboard's in the one table
    /// ([`crate::operations::answers`]).
    #[error("{1}")]
    Refused(ErrorKind, String),
    /// pgusers' own settings are wrong; the message says which and how.
    #[error(transparent)]
    Misconfigured(Detail),
    /// The database cannot be reached; the reason says why (never a password).
    #[error("The database is unavailable right now: {0}")]
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
        max = super::request_limits::FIELD_BYTES
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
        match error.kind() {
            ErrorKind::Unavailable => match error {
                RoleError::Unavailable(detail) => Self::Unavailable(detail),
                other => Self::Unavailable(Detail::of(other)),
            },
            ErrorKind::Misconfigured | ErrorKind::AdminLacksPrivilege => {
                Self::Misconfigured(Detail::of(error))
            }
            ErrorKind::Internal => Self::internal(error),
            // A page or form of a user deleted meanwhile, elsewhere.
            ErrorKind::NotFound if matches!(error, RoleError::NotFound(_)) => Self::Refused(
                ErrorKind::NotFound,
                format!(
                    "{error} It may have been deleted since this page was opened (in another \
                     tab, or by the command line or the API): the list shows the users there \
                     are now."
                ),
            ),
            kind => Self::Refused(kind, error.to_string()),
        }
    }
}

impl From<RegistryError> for WebError {
    fn from(error: RegistryError) -> Self {
        Self::Refused(error.kind(), error.to_string())
    }
}

impl From<StateError> for WebError {
    fn from(error: StateError) -> Self {
        match error.kind() {
            ErrorKind::Unavailable => match error {
                StateError::Unavailable(detail) => Self::Unavailable(detail),
                other => Self::Unavailable(Detail::of(other)),
            },
            ErrorKind::Misconfigured => Self::Misconfigured(Detail::of(error)),
            ErrorKind::Internal => Self::internal(error),
            kind => Self::Refused(kind, error.to_string()),
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::LoginRequired(_) => StatusCode::SEE_OTHER,
            Self::Csrf | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Refused(kind, _) => StatusCode::from_u16(answers(*kind).dashboard)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
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
        if let Self::LoginRequired(login) = self {
            return HttpResponse::SeeOther()
                .insert_header((LOCATION, login.as_str()))
                .finish();
        }
        // Without the request, nobody is known to be logged in; the
        // `error_page` middleware puts the navigation back when someone is.
        self.page_response(None, None, None)
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

    /// What a page (or `/healthz`) says: everything to a logged-in
    /// operator, the [public message](Self::public_message) to anyone else.
    /// While the database is unavailable because the embedded PostgreSQL is
    /// down, `outage` (see [`crate::embedded::ClusterState::explain`]) says
    /// why and what to do, instead of "pgusers reconnects by itself", which
    /// is true only of a server that comes back.
    pub fn message(&self, logged_in: bool, outage: Option<&str>) -> String {
        match (self, outage) {
            (Self::Unavailable(_), Some(outage)) if logged_in => format!("{self} {outage}"),
            (Self::Unavailable(_), Some(outage)) => Self::public_outage(outage),
            (Self::Unavailable(_), None) if logged_in => {
                format!("{self} pgusers reconnects by itself: try again in a moment.")
            }
            _ if logged_in => self.to_string(),
            _ => self.public_message(),
        }
    }

    /// What anyone is told while the embedded PostgreSQL is down: the
    /// pages' and the API's words alike.
    pub fn public_outage(outage: &str) -> String {
        format!("The database is unavailable right now. {outage}")
    }

    /// The error page, with the header and navigation of `chrome` when an
    /// operator is logged in, and a link that leads somewhere that works:
    /// while the database is unavailable, `retry` (the address that failed,
    /// if it can be asked again), since every other page fails the same way.
    /// `outage`: see [`Self::message`].
    pub(super) fn page_response(
        &self,
        chrome: Option<Chrome>,
        retry: Option<&str>,
        outage: Option<&str>,
    ) -> HttpResponse {
        let status = self.status_code();
        let users = chrome.as_ref().map(Chrome::users_href).unwrap_or_default();
        let overview = chrome.as_ref().map(Chrome::base).unwrap_or_default();
        let (href, label) = match (&chrome, self) {
            (_, Self::Unavailable(_) | Self::Misconfigured(_)) => {
                (retry.unwrap_or("/"), "Try again")
            }
            (None, _) => ("/login", "Go to the login page"),
            (
                Some(chrome),
                Self::NotFound(_) | Self::Forbidden(_) | Self::Conflict(_) | Self::Refused(..),
            ) if chrome.place.is_some() => (users.as_str(), "Back to database users"),
            (Some(chrome), _) if chrome.place.is_some() => {
                (overview.as_str(), "Go to the overview")
            }
            (Some(_), _) => ("/", "Go to the databases"),
        };
        let unknown_session = matches!(self, Self::Unavailable(_) | Self::Misconfigured(_));
        let page = ErrorPage {
            offer_login: chrome.is_none() && !unknown_session,
            // In the sentence case of every other heading: "Not found".
            title: sentence_case(status.canonical_reason().unwrap_or("Error")),
            message: self.message(chrome.is_some(), outage),
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

/// `Not Found` as a heading of this dashboard reads: `Not found`.
fn sentence_case(title: &str) -> String {
    let lower = title.to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
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

    /// Every role error, and what each front end answered for it before
    /// the one table: frozen, since scripts and Scalingo's clients rely on
    /// them. Each front end's answer must be the table's, too.
    #[test]
    fn every_error_answers_as_the_one_table_says_and_as_it_always_did() {
        use crate::cli::CliError;
        use crate::operations::answers;
        use crate::roles::Restriction;
        use crate::web::api::ApiError;

        let text = || "x".to_owned();
        let detail = || Detail::from("why");
        let frozen: Vec<(RoleError, (u16, u16, u8))> = vec![
            (RoleError::AlreadyExists(text()), (409, 409, 3)),
            (RoleError::NotFound(text()), (404, 404, 3)),
            (RoleError::Protected(text()), (403, 409, 3)),
            (
                RoleError::OwnsDatabase {
                    user: text(),
                    databases: text(),
                },
                (403, 409, 3),
            ),
            (
                RoleError::NotManageable {
                    user: text(),
                    reason: Restriction::Superuser,
                },
                (403, 409, 3),
            ),
            (RoleError::ProtectedUserMissing(text()), (503, 503, 2)),
            (
                RoleError::OwnsObjectsElsewhere {
                    user: text(),
                    detail: text(),
                },
                (409, 409, 3),
            ),
            (
                RoleError::MissingPrivilege {
                    admin: text(),
                    needs: text(),
                    fix: text(),
                },
                (503, 409, 2),
            ),
            (
                RoleError::ActedAsByOthers {
                    user: text(),
                    members: text(),
                    revokes: text(),
                },
                (409, 409, 3),
            ),
            (
                RoleError::CodeToReview {
                    user: text(),
                    code: text(),
                    fix: text(),
                },
                (409, 409, 3),
            ),
            (
                RoleError::ActedWhileDeleted {
                    user: text(),
                    objects: text(),
                },
                (409, 409, 4),
            ),
            (RoleError::Busy, (409, 409, 4)),
            (RoleError::Concurrent, (409, 409, 4)),
            (
                RoleError::HeldByOthers {
                    user: text(),
                    sessions: text(),
                },
                (409, 409, 4),
            ),
            (RoleError::Unavailable(detail()), (503, 503, 4)),
            (RoleError::Misconfigured(detail()), (503, 503, 2)),
            (RoleError::Database(postgres_error()), (500, 500, 1)),
        ];
        for (make, (dashboard, api, cli)) in frozen {
            let name = format!("{make:?}");
            let table = answers(make.kind());
            assert_eq!(
                (table.dashboard, table.api, table.cli),
                (dashboard, api, cli),
                "{name}"
            );
            let again = || match &make {
                RoleError::Database(_) => RoleError::Database(postgres_error()),
                other => clone_role_error(other),
            };
            assert_eq!(
                WebError::from(again()).status_code().as_u16(),
                dashboard,
                "{name}"
            );
            assert_eq!(
                ApiError::from(again()).status_code().as_u16(),
                api,
                "{name}"
            );
            assert_eq!(CliError::from(again()).exit_code(), cli, "{name}");
        }
    }

    /// A copy of a role error without a PostgreSQL error inside.
    fn clone_role_error(error: &RoleError) -> RoleError {
        use RoleError as E;
        match error {
            E::AlreadyExists(a) => E::AlreadyExists(a.clone()),
            E::NotFound(a) => E::NotFound(a.clone()),
            E::Protected(a) => E::Protected(a.clone()),
            E::OwnsDatabase { user, databases } => E::OwnsDatabase {
                user: user.clone(),
                databases: databases.clone(),
            },
            E::NotManageable { user, reason } => E::NotManageable {
                user: user.clone(),
                reason: reason.clone(),
            },
            E::ProtectedUserMissing(a) => E::ProtectedUserMissing(a.clone()),
            E::OwnsObjectsElsewhere { user, detail } => E::OwnsObjectsElsewhere {
                user: user.clone(),
                detail: detail.clone(),
            },
            E::MissingPrivilege { admin, needs, fix } => E::MissingPrivilege {
                admin: admin.clone(),
                needs: needs.clone(),
                fix: fix.clone(),
            },
            E::ActedAsByOthers {
                user,
                members,
                revokes,
            } => E::ActedAsByOthers {
                user: user.clone(),
                members: members.clone(),
                revokes: revokes.clone(),
            },
            E::CodeToReview { user, code, fix } => E::CodeToReview {
                user: user.clone(),
                code: code.clone(),
                fix: fix.clone(),
            },
            E::ActedWhileDeleted { user, objects } => E::ActedWhileDeleted {
                user: user.clone(),
                objects: objects.clone(),
            },
            E::Busy => E::Busy,
            E::Concurrent => E::Concurrent,
            E::HeldByOthers { user, sessions } => E::HeldByOthers {
                user: user.clone(),
                sessions: sessions.clone(),
            },
            E::Unavailable(d) => E::Unavailable(d.clone()),
            E::Misconfigured(d) => E::Misconfigured(d.clone()),
            E::Database(_) => E::Database(postgres_error()),
        }
    }

    /// State and registry errors too: each front end answers as the table
    /// says, and as before.
    #[test]
    fn state_and_registry_errors_answer_as_the_one_table_says() {
        use crate::cli::CliError;
        use crate::operations::answers;
        use crate::web::api::ApiError;

        let frozen_cli: Vec<(StateError, u8)> = vec![
            (StateError::Unavailable(Detail::from("x")), 4),
            (StateError::Missing(Detail::from("x")), 2),
            (StateError::Misconfigured(Detail::from("x")), 2),
            (StateError::Hashing("x".into()), 1),
            (StateError::OperatorExists("x".into()), 3),
            (StateError::OperatorNotFound("x".into()), 3),
            (StateError::LastOperator("x".into()), 3),
            (StateError::TokenNotFound("x".into()), 3),
        ];
        for (error, cli) in frozen_cli {
            let name = format!("{error:?}");
            let table = answers(error.kind());
            assert_eq!(table.cli, cli, "{name}");
            assert_eq!(CliError::from(error).exit_code(), cli, "{name}");
        }
        for (error, web, api) in [
            (StateError::Unavailable(Detail::from("x")), 503, 503),
            (StateError::Misconfigured(Detail::from("x")), 503, 503),
            (StateError::Hashing("x".into()), 500, 500),
        ] {
            let kind = error.kind();
            assert_eq!((answers(kind).dashboard, answers(kind).api), (web, api));
            let copy = match &error {
                StateError::Unavailable(d) => StateError::Unavailable(d.clone()),
                StateError::Misconfigured(d) => StateError::Misconfigured(d.clone()),
                _ => StateError::Hashing("x".into()),
            };
            assert_eq!(WebError::from(error).status_code().as_u16(), web);
            assert_eq!(ApiError::from(copy).status_code().as_u16(), api);
        }
        let unknown = || RegistryError::Unknown("nope".into());
        assert_eq!(answers(unknown().kind()).dashboard, 404);
        assert_eq!(WebError::from(unknown()).status_code().as_u16(), 404);
        assert_eq!(ApiError::from(unknown()).status_code().as_u16(), 404);
        assert_eq!(answers(unknown().kind()).cli, 2);
    }

    #[test]
    fn while_the_embedded_postgresql_is_down_the_page_says_why_instead_of_it_reconnects() {
        let down = WebError::Unavailable(Detail::from("No connection to 127.0.0.1:5432."));
        let outage = "The embedded PostgreSQL was stopped on purpose.";

        let public = down.message(false, Some(outage));
        let logged_in = down.message(true, Some(outage));

        assert_eq!(
            public,
            "The database is unavailable right now. The embedded PostgreSQL was stopped on purpose."
        );
        assert_eq!(
            logged_in,
            "The database is unavailable right now: No connection to 127.0.0.1:5432. The \
             embedded PostgreSQL was stopped on purpose."
        );
        for logged_in in [false, true] {
            assert!(
                down.message(logged_in, None)
                    .contains("pgusers reconnects by itself: try again in a moment."),
                "without an outage, the usual words"
            );
        }
        let other = WebError::NotFound("No such page.".into());
        assert_eq!(other.message(false, Some(outage)), "No such page.");
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
