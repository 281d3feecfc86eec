//! The pages, one askama template each. Templates hold markup only.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::CACHE_CONTROL;
use askama::Template;

use super::WebError;
use super::list_place::ListPlace;
use crate::domain::{ConnectionDetails, PAGE_SIZE, PageNumber, Search, Show};
use crate::operations::NewUserProblems;
use crate::roles::{AdminKind, DatabaseUser, Finding, LeftCode, Session};
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

    /// `{{ sql|visible_lines }}`: as `visible`, but line breaks stay line
    /// breaks, for text of several lines on purpose (a fix's statements,
    /// which pasted into psql must stay statements on their own lines).
    #[askama::filter_fn]
    pub fn visible_lines(
        value: impl std::fmt::Display,
        _: &dyn askama::Values,
    ) -> askama::Result<String> {
        Ok(crate::domain::visible_lines(&value.to_string()).into_owned())
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

/// Renders the page that shows a secret made by a change already done (a
/// generated password, a new API token): it is the only copy, so this
/// cannot fail. Should the template fail to render, `plain` (a page built
/// without askama) still shows the secret.
pub fn render_once(page: &impl Template, plain: impl FnOnce() -> String) -> HttpResponse {
    let body = page.render().unwrap_or_else(|error| {
        tracing::error!(%error, "a page showing a secret once did not render; answering a plain one");
        plain()
    });
    HttpResponse::build(StatusCode::OK)
        .insert_header((CACHE_CONTROL, "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// `text` safe inside HTML text and attribute values.
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A page of a title, a paragraph, a secret and a link, without askama.
fn plain_page(title: &str, text: &str, label: &str, secret: &str, href: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"{stylesheet}\"></head><body><main>\
         <h1>{title}</h1><p>{text}</p>\
         <p class=\"secret\"><label for=\"secret\">{label}</label> \
         <input id=\"secret\" class=\"mono\" readonly autofocus value=\"{secret}\" spellcheck=\"false\" autocomplete=\"off\"></p>\
         <p><a class=\"button primary\" href=\"{href}\">Done</a></p></main></body></html>\n",
        title = escape_html(title),
        text = escape_html(text),
        label = escape_html(label),
        secret = escape_html(secret),
        href = escape_html(href),
        stylesheet = super::routes::stylesheet_href(),
    )
}

/// What every logged-in page shows around its content.
pub struct Chrome {
    pub operator: String,
    pub csrf: String,
    /// The database the page belongs to; none on the dashboard's own pages
    /// (the list of databases, the activity).
    pub place: Option<Place>,
    /// The users list's query this page came from (`?q=…&page=2`, or
    /// empty), so its links and forms lead back there.
    pub back: String,
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
            .map_or_else(String::new, |place| super::paths::database(&place.id))
    }

    /// The database's users page, else the list of databases.
    pub fn users_href(&self) -> String {
        match &self.place {
            Some(place) => super::paths::users(&place.id),
            None => "/".to_owned(),
        }
    }

    /// The users list where the person left it (search, filter, page).
    pub fn users_list_href(&self) -> String {
        format!("{}{}", self.users_href(), self.back)
    }

    /// Says the page came from the users list at `place`.
    pub fn returning_to(mut self, place: &ListPlace) -> Self {
        self.back = place.query();
        self
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
    /// Whether to offer the login page in the header: not while the
    /// database is unavailable, when nobody's session can be checked (an
    /// operator still logged in would be told to log in again).
    pub offer_login: bool,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub csrf: String,
    pub username: String,
    pub error: Option<String>,
    /// Just logged out: say so.
    pub logged_out: bool,
    /// Where logging in leads (a page of this site, checked), and whether
    /// a form sent there changed nothing because the session had ended.
    pub next: String,
    pub unsent: bool,
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
    /// How pgusers' own connection is protected.
    pub security: crate::db::tls::ConnectionSecurity,
}

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    /// The users of this page.
    pub users: Vec<DatabaseUser>,
    /// How many users match the search and filter, on all pages.
    pub total: u64,
    pub place: ListPlace,
    /// What was wrong in the URL's query (shown, and replaced by defaults).
    pub problems: Vec<String>,
    pub flash: Option<String>,
    /// Why some users show "unknown" password encryption, when some do.
    pub encryption_note: Option<&'static str>,
}

/// A filter of the users list, as a link.
pub struct FilterLink {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

impl UsersPage {
    pub fn last_page(&self) -> PageNumber {
        PageNumber::last(self.total, PAGE_SIZE)
    }

    /// A page after the last one was asked for (a shared link gone stale).
    pub fn beyond_last(&self) -> bool {
        self.users.is_empty() && self.total > 0
    }

    /// The search typed, to show in its box.
    pub fn search_text(&self) -> &str {
        self.place.search.as_ref().map_or("", Search::as_str)
    }

    /// "10,001 users", "Users 51–100 of 10,001", "3 users match “app”".
    pub fn summary(&self) -> String {
        let noun = match self.place.show {
            Show::All => ("user", "users"),
            Show::ReadOnly => ("read-only user", "read-only users"),
            Show::ReadWrite => ("read-write user", "read-write users"),
            Show::Protected => ("protected user", "protected users"),
        };
        let found = match &self.place.search {
            Some(search) => format!(
                "{} {} “{}”",
                crate::domain::count(self.total, noun.0, noun.1),
                if self.total == 1 { "matches" } else { "match" },
                crate::domain::visible(search.as_str())
            ),
            None => crate::domain::count(self.total, noun.0, noun.1),
        };
        if self.total <= u64::from(PAGE_SIZE) || self.users.is_empty() {
            return found;
        }
        let first = self.place.page.offset(PAGE_SIZE) + 1;
        let last = first + self.users.len() as u64 - 1;
        format!(
            "{found}: {}–{} shown",
            crate::domain::thousands(first),
            crate::domain::thousands(last)
        )
    }

    fn href(&self, place: &ListPlace) -> String {
        format!("{}{}", self.chrome.users_href(), place.query())
    }

    fn page_href(&self, page: PageNumber) -> String {
        self.href(&self.place.on_page(page))
    }

    pub fn last_href(&self) -> String {
        self.page_href(self.last_page())
    }

    pub fn previous_href(&self) -> Option<String> {
        let previous = self.place.page.previous()?;
        Some(self.page_href(previous.min(self.last_page())))
    }

    pub fn next_href(&self) -> Option<String> {
        let next = self
            .place
            .page
            .next()
            .filter(|next| *next <= self.last_page())?;
        Some(self.page_href(next))
    }

    /// The list without the search (the same filter, from page 1).
    pub fn clear_search_href(&self) -> String {
        self.href(&ListPlace {
            search: None,
            ..self.place.showing(self.place.show)
        })
    }

    pub fn filters(&self) -> Vec<FilterLink> {
        Show::EVERY
            .into_iter()
            .map(|show| FilterLink {
                label: show.label(),
                href: self.href(&self.place.showing(show)),
                current: show == self.place.show,
            })
            .collect()
    }
}

/// What is wrong with a sent new-user form: every problem of each field
/// (the operations layer's rules, [`NewUserProblems`]), or of the whole.
#[derive(Default)]
pub struct NewUserErrors {
    pub fields: NewUserProblems,
    /// Why the user was not added when no field is wrong: the database
    /// refused or could not be reached.
    pub form: Option<String>,
}

impl From<NewUserProblems> for NewUserErrors {
    fn from(fields: NewUserProblems) -> Self {
        Self { fields, form: None }
    }
}

impl NewUserErrors {
    /// A failure of the whole form, not of a field.
    pub fn whole_form(message: String) -> Self {
        Self {
            form: Some(message),
            ..Self::default()
        }
    }

    /// The fields in the form's order, with their messages.
    fn fields(&self) -> [(&'static str, &Vec<String>); 5] {
        let fields = &self.fields;
        [
            ("username", &fields.username),
            ("password", &fields.password),
            ("password_confirmation", &fields.confirmation),
            ("expires", &fields.expires),
            ("connection_limit", &fields.connection_limit),
        ]
    }

    /// Whether some field is wrong.
    pub fn any(&self) -> bool {
        self.fields()
            .iter()
            .any(|(_, messages)| !messages.is_empty())
    }

    /// The field that gets the focus: the first wrong one, else the first.
    pub fn focus(&self) -> &'static str {
        self.fields()
            .iter()
            .find(|(_, messages)| !messages.is_empty())
            .map_or("username", |(field, _)| field)
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
    /// The expiry and connection limit as typed.
    pub expires: String,
    pub connection_limit: String,
    pub errors: NewUserErrors,
}

#[derive(Template)]
#[template(path = "user_password.html")]
pub struct PasswordPage {
    pub chrome: Chrome,
    pub username: String,
    pub password: String,
    /// A ready `postgresql://user:password@host:port/database`, shown with
    /// the password, once.
    pub connection_uri: String,
    /// "created" or "updated".
    pub action: &'static str,
}

impl PasswordPage {
    /// This page without its template (see [`render_once`]).
    pub fn plain(&self) -> String {
        let user = crate::domain::visible(&self.username);
        plain_page(
            &format!("User \"{user}\" {}", self.action),
            &format!(
                "The password of {user} is below. Store it safely now: it is shown only \
                 this once, and pgusers does not keep it."
            ),
            "Password",
            &self.password,
            &self.chrome.users_list_href(),
        )
    }
}

#[derive(Template)]
#[template(path = "user_reset.html")]
pub struct ResetConfirmPage {
    pub chrome: Chrome,
    /// The single-use id of the form (see `web::once`).
    pub form_id: String,
    pub username: String,
    /// How many sessions the user has open now.
    pub sessions: u64,
}

impl ResetConfirmPage {
    /// "1 open session", "3 open sessions".
    pub fn open_sessions(&self) -> String {
        open_sessions(self.sessions)
    }
}

/// "1 open session", "3 open sessions".
fn open_sessions(n: u64) -> String {
    crate::domain::count(n, "open session", "open sessions")
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
    /// How many sessions the user has open now.
    pub sessions: u64,
}

impl DeleteConfirmPage {
    /// "1 open session", "3 open sessions".
    pub fn open_sessions(&self) -> String {
        open_sessions(self.sessions)
    }

    /// "1 object", "3 objects".
    pub fn owned(&self) -> String {
        crate::domain::count(self.objects.len() as u64, "object", "objects")
    }
}

/// A user: what the list says of it, and its sessions.
#[derive(Template)]
#[template(path = "user_detail.html")]
pub struct UserPage {
    pub chrome: Chrome,
    pub user: DatabaseUser,
    pub sessions: Vec<Session>,
    pub hidden_note: Option<String>,
    pub flash: Option<String>,
}

impl UserPage {
    /// "1 open session", "3 open sessions".
    pub fn open_sessions(&self) -> String {
        open_sessions(self.sessions.len() as u64)
    }

    /// `2026-11-27T08:00:00Z` as `2026-11-27 08:00:00`.
    pub fn shown_time(&self, iso: &str) -> String {
        iso.trim_end_matches('Z').replacen('T', " ", 1)
    }
}

/// A user's expiry and connection limit, to change.
#[derive(Template)]
#[template(path = "user_limits.html")]
pub struct LimitsPage {
    pub chrome: Chrome,
    pub username: String,
    /// As typed, or as they are (`YYYY-MM-DD`, a number; empty for none).
    pub expires: String,
    pub connection_limit: String,
    /// What the form was first shown with: a field left so is kept as it is.
    pub expires_was: String,
    pub connection_limit_was: String,
    /// The expiry now, when it is not a midnight UTC the date field shows.
    pub current_expiry: Option<String>,
    pub expires_errors: Vec<String>,
    pub connection_limit_errors: Vec<String>,
    /// Why nothing was changed when no field is wrong.
    pub form_error: Option<String>,
    /// A day today or earlier, typed: saving cuts the user off at once, so
    /// the form asks to confirm it first.
    pub confirm_cut_off: Option<String>,
}

/// Settings › Health: what the access doctor finds.
#[derive(Template)]
#[template(path = "doctor.html")]
pub struct DoctorPage {
    pub chrome: Chrome,
    pub findings: Vec<Finding>,
    pub flash: Option<String>,
    /// Why a fix was not done.
    pub error: Option<String>,
}

impl DoctorPage {
    /// The findings that are drift or a weak password.
    pub fn problems(&self) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.is_problem()).collect()
    }

    /// The findings that are someone's decision, shown apart.
    pub fn notices(&self) -> Vec<&Finding> {
        self.findings.iter().filter(|f| !f.is_problem()).collect()
    }

    /// "No problem found.", "3 problems; pgusers can fix 2 of them.", and
    /// how many notices follow.
    pub fn summary(&self) -> String {
        let problems = self.problems();
        let notices = self.notices().len() as u64;
        let fixable = problems.iter().filter(|f| f.fixable).count() as u64;
        let found = crate::domain::count(problems.len() as u64, "problem", "problems");
        let mut summary = match (problems.len(), fixable) {
            (0, _) => "No problem found.".to_owned(),
            (_, 0) => format!("{found}; none is for pgusers to fix."),
            (_, n) => format!("{found}; pgusers can fix {n} of them."),
        };
        if notices > 0 {
            summary.push_str(&format!(
                " {} below, for your information.",
                crate::domain::count(notices, "notice", "notices")
            ));
        }
        summary
    }
}

/// Asks before ending a user's sessions.
#[derive(Template)]
#[template(path = "user_end_sessions.html")]
pub struct EndSessionsConfirmPage {
    pub chrome: Chrome,
    /// The single-use id of the form (see `web::once`).
    pub form_id: String,
    pub username: String,
    pub sessions: u64,
    /// Whether pgusers may reset its password (else it is not manageable
    /// here, and only an administrator can keep it out).
    pub resettable: bool,
}

impl EndSessionsConfirmPage {
    /// "1 open session", "3 open sessions".
    pub fn open_sessions(&self) -> String {
        open_sessions(self.sessions)
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

/// Revoking a token, asked first: what it is and what stops working.
#[derive(Template)]
#[template(path = "token_revoke.html")]
pub struct TokenRevokePage {
    pub chrome: Chrome,
    pub token: TokenInfo,
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

impl TokenCreatedPage {
    /// This page without its template (see [`render_once`]).
    pub fn plain(&self) -> String {
        plain_page(
            &format!("API token {} created", self.id),
            "Store the token safely now: it is shown only this once, and pgusers keeps \
             only a hash of it.",
            "Token",
            self.token.as_deref().unwrap_or(""),
            "/api-tokens",
        )
    }
}

/// The answer to a form sent again: what the first sending did.
#[derive(Template)]
#[template(path = "user_replay.html")]
pub struct ReplayPage {
    pub chrome: Chrome,
    pub username: String,
    /// "created", "reset", "deleted" or "sessions ended".
    pub what: &'static str,
    /// Done, or still being done by the first sending.
    pub done: bool,
    pub password_shown: bool,
    /// When, `HH:MM` UTC.
    pub at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value whose display fails, as a template's may.
    struct Unprintable;

    impl std::fmt::Display for Unprintable {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            Err(std::fmt::Error)
        }
    }

    #[derive(Template)]
    #[template(source = "<p>{{ value }}</p>", ext = "html")]
    struct Failing {
        value: Unprintable,
    }

    fn password_page(username: &str) -> PasswordPage {
        PasswordPage {
            chrome: Chrome {
                operator: "admin".into(),
                csrf: "token".into(),
                place: Some(Place {
                    id: "app_db".into(),
                    name: "app".into(),
                }),
                back: "?page=2".into(),
            },
            username: username.into(),
            password: "Generated_password_0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGH".into(),
            connection_uri: "postgresql://new_user:Generated@127.0.0.1:5432/app".into(),
            action: "created",
        }
    }

    fn body(response: HttpResponse) -> String {
        use actix_web::body::MessageBody;
        let bytes = response.into_body().try_into_bytes().unwrap_or_default();
        String::from_utf8(bytes.to_vec()).unwrap_or_default()
    }

    #[test]
    fn a_password_page_whose_template_fails_still_answers_the_password() {
        let page = password_page("new_user");
        let failing = Failing { value: Unprintable };
        assert!(failing.render().is_err(), "the template does fail");

        let response = render_once(&failing, || page.plain());

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers().get(CACHE_CONTROL).unwrap(),
            "no-store",
            "never cached: it holds a password"
        );
        let html = body(response);
        assert!(
            html.contains(&format!("value=\"{}\"", page.password)),
            "{html}"
        );
        assert!(html.contains("User &quot;new_user&quot; created"), "{html}");
        assert!(html.contains("href=\"/databases/app_db/settings/database-users?page=2\""));
    }

    #[test]
    fn a_password_page_that_renders_is_the_templates() {
        let page = password_page("new_user");

        let html = body(render_once(&page, || "plain".to_owned()));

        assert_ne!(html, "plain");
        assert!(html.contains(&page.password));
    }

    #[test]
    fn the_plain_password_page_escapes_what_it_shows() {
        let page = password_page("a<b>\"c'&\u{202e}");

        let html = page.plain();

        assert!(
            html.contains("a&lt;b&gt;&quot;c&#39;&amp;\\u{202e}"),
            "{html}"
        );
        assert!(!html.contains("a<b>"));
    }
}
