//! The pages, one askama template each. Templates hold markup only.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::CACHE_CONTROL;
use askama::Template;

use super::WebError;
use crate::domain::ConnectionDetails;
use crate::roles::{AdminKind, DatabaseUser, LeftCode};
use crate::state::{Entry, TokenInfo};

/// Filters the templates can use.
mod filters {
    /// `{{ name|visible }}`: HTML escaping stops markup, not a bidi
    /// override (U+202E) or an invisible character that makes a name from
    /// the database look like another; those are shown as escapes. Only for
    /// text shown: URLs and form fields keep the real name.
    #[askama::filter_fn]
    pub fn visible(
        value: impl std::fmt::Display,
        _: &dyn askama::Values,
    ) -> askama::Result<String> {
        Ok(crate::domain::visible(&value.to_string()).into_owned())
    }
}

/// Renders a page. Pages are never cached: they show users and sometimes
/// a password.
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, WebError> {
    let body = page.render().map_err(WebError::internal)?;
    Ok(HttpResponse::build(status)
        .insert_header((CACHE_CONTROL, "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// What every logged-in page shows around its content.
pub struct Chrome {
    pub operator: String,
    pub csrf: String,
    /// The database the page belongs to; none on the dashboard's own pages
    /// (the list of databases, the activity).
    pub place: Option<Place>,
}

/// A database's pages: their heading and where they are.
pub struct Place {
    /// URL-safe (see [`crate::domain::DatabaseId`]).
    pub id: String,
    pub name: String,
}

impl Chrome {
    /// The database's name, as shown.
    pub fn database(&self) -> &str {
        self.place.as_ref().map_or("", |place| place.name.as_str())
    }

    /// Where the database's pages are: `/databases/{id}`.
    pub fn base(&self) -> String {
        self.place
            .as_ref()
            .map_or_else(String::new, |place| format!("/databases/{}", place.id))
    }

    /// The database's users page, else the list of databases.
    pub fn users_href(&self) -> String {
        match &self.place {
            Some(_) => format!("{}/settings/database-users", self.base()),
            None => "/".to_owned(),
        }
    }
}

/// One row of the dashboard's home.
pub struct DatabaseRow {
    pub id: String,
    pub name: String,
    /// The server's version, when it answered.
    pub version: Option<String>,
    pub user_count: Option<u64>,
    /// Why it cannot be used now, when it cannot: "unreachable" or "misconfigured".
    pub problem: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "databases.html")]
pub struct DatabasesPage {
    pub chrome: Chrome,
    pub databases: Vec<DatabaseRow>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: String,
    pub message: String,
    /// The logged-in operator's header and navigation, if any.
    pub chrome: Option<Chrome>,
    /// A way on that does not lead to the same error.
    pub href: String,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub csrf: String,
    pub username: String,
    pub error: Option<String>,
    /// Just logged out: say so.
    pub logged_out: bool,
}

#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    pub chrome: Chrome,
    pub version: String,
    /// How the protected user connects, without its password.
    pub connection: ConnectionDetails,
    pub user_count: u64,
    /// The role pgusers connects as, and what its kind implies.
    pub admin: AdminKind,
}

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub users: Vec<DatabaseUser>,
    pub flash: Option<String>,
    /// Why some users show "unknown" password encryption, when some do.
    pub encryption_note: Option<&'static str>,
}

/// Messages tied to the fields of the new-user form: every problem of
/// each field.
#[derive(Default)]
pub struct NewUserErrors {
    pub username: Vec<String>,
    pub password: Vec<String>,
    pub confirmation: Vec<String>,
    /// Why the user was not added when no field is wrong: the database
    /// refused or could not be reached.
    pub form: Option<String>,
}

impl NewUserErrors {
    /// A failure of the whole form, not of a field.
    pub fn whole_form(message: String) -> Self {
        Self {
            form: Some(message),
            ..Self::default()
        }
    }

    /// Whether some field is wrong.
    pub fn any(&self) -> bool {
        !(self.username.is_empty() && self.password.is_empty() && self.confirmation.is_empty())
    }

    /// The field that gets the focus: the first wrong one, else the first.
    pub fn focus(&self) -> &'static str {
        if !self.username.is_empty() || self.password.is_empty() && self.confirmation.is_empty() {
            "username"
        } else if !self.password.is_empty() {
            "password"
        } else {
            "password_confirmation"
        }
    }
}

#[derive(Template)]
#[template(path = "user_new.html")]
pub struct NewUserPage {
    pub chrome: Chrome,
    /// The single-use id of the form (see `web::once`).
    pub form_id: String,
    pub username: String,
    pub read_only: bool,
    pub errors: NewUserErrors,
}

#[derive(Template)]
#[template(path = "user_password.html")]
pub struct PasswordPage {
    pub chrome: Chrome,
    pub username: String,
    pub password: String,
    /// "created" or "updated".
    pub action: &'static str,
}

#[derive(Template)]
#[template(path = "user_reset.html")]
pub struct ResetConfirmPage {
    pub chrome: Chrome,
    /// The single-use id of the form (see `web::once`).
    pub form_id: String,
    pub username: String,
}

#[derive(Template)]
#[template(path = "user_delete.html")]
pub struct DeleteConfirmPage {
    pub chrome: Chrome,
    /// The single-use id of the form (see `web::once`).
    pub form_id: String,
    pub username: String,
    pub protected_user: String,
    pub objects: Vec<String>,
    pub code: Vec<LeftCode>,
    /// Why the delete would be refused: then the page offers no button.
    pub refused: Option<String>,
}

impl DeleteConfirmPage {
    /// "1 object", "3 objects".
    pub fn owned(&self) -> String {
        crate::domain::count(self.objects.len() as u64, "object", "objects")
    }
}

#[derive(Template)]
#[template(path = "activity.html")]
pub struct ActivityPage {
    pub chrome: Chrome,
    pub entries: Vec<Entry>,
    /// The page numbers of the neighbouring pages, when there are some.
    pub newer: Option<u32>,
    pub older: Option<u32>,
}

#[derive(Template)]
#[template(path = "tokens.html")]
pub struct TokensPage {
    pub chrome: Chrome,
    pub tokens: Vec<TokenInfo>,
    pub flash: Option<String>,
    /// The single-use id of the create form (see `web::once`).
    pub form_id: String,
    /// What was typed in the create form, and why it was refused.
    pub label: String,
    pub read_only: bool,
    pub error: Option<String>,
}

/// A token just created, shown once; or, for the same form sent again,
/// when it was.
#[derive(Template)]
#[template(path = "token_created.html")]
pub struct TokenCreatedPage {
    pub chrome: Chrome,
    pub id: String,
    pub token: Option<String>,
    /// When the form was first sent, `HH:MM` UTC (a form sent again).
    pub at: String,
}

/// The answer to a form sent again: what the first sending did.
#[derive(Template)]
#[template(path = "user_replay.html")]
pub struct ReplayPage {
    pub chrome: Chrome,
    pub username: String,
    /// "created", "reset" or "deleted".
    pub what: &'static str,
    /// Done, or still being done by the first sending.
    pub done: bool,
    pub password_shown: bool,
    /// When, `HH:MM` UTC.
    pub at: String,
}
