//! Routing: one file per page family.

mod activity;
mod assets;
mod databases;
mod doctor;
mod health;
mod login;
mod overview;
mod sessions;
mod tokens;
mod user_limits;
mod users;

pub use assets::stylesheet_href;

use actix_web::http::Method;
use actix_web::http::header::LOCATION;
use actix_web::web::ServiceConfig;
use actix_web::{FromRequest, Handler, HttpResponse, Responder, web};

use super::login_session::Operator;
use super::pages::{Chrome, Place};
use crate::registry::ManagedDatabase;

pub fn configure(cfg: &mut ServiceConfig) {
    routes(&mut Register(cfg));
}

/// The address patterns of every POST the dashboard takes: each is a form,
/// and each must refuse a form without the session's CSRF token (a test
/// sends a wrong one to every address listed here).
pub fn form_posts() -> Vec<String> {
    let mut list = List(Vec::new());
    routes(&mut list);
    list.0
}

/// The address patterns of every page the dashboard shows on a GET: every
/// GET route but those marked [`Routes::redirect`] or [`Routes::resource`].
/// The browser test checks each page for accessibility, and fails on a
/// pattern it has no address for.
pub fn page_routes() -> Vec<String> {
    let mut list = Pages(Vec::new());
    routes(&mut list);
    list.0
}

/// Where the routes go: the application, or a list of the POSTs or of the
/// pages. Each sees the same routes, from [`routes`].
trait Routes {
    fn add<F, Args>(&mut self, method: Method, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static;

    fn get<F, Args>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::GET, path, handler)
    }

    /// A form's POST: its handler takes the form as a
    /// [`super::csrf::CsrfForm`].
    fn post<F, Args>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::POST, path, handler)
    }

    /// A GET that only redirects (a former address, say): no page.
    fn redirect<F, Args>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.not_a_page(path, handler)
    }

    /// A GET answered with something else than a page: the stylesheet, the
    /// health checks.
    fn resource<F, Args>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.not_a_page(path, handler)
    }

    /// Where [`Self::redirect`] and [`Self::resource`] go: a GET route like
    /// any other, but for the list of pages.
    fn not_a_page<F, Args>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::GET, path, handler)
    }
}

struct Register<'a>(&'a mut ServiceConfig);

impl Routes for Register<'_> {
    fn add<F, Args>(&mut self, method: Method, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.0.route(path, web::method(method).to(handler));
        self
    }
}

struct List(Vec<String>);

impl Routes for List {
    fn add<F, Args>(&mut self, method: Method, path: &str, _: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        // Only GET and POST are routed; a route of another method would be
        // a change to look at here.
        if method != Method::GET {
            self.0.push(path.to_owned());
        }
        self
    }
}

struct Pages(Vec<String>);

impl Routes for Pages {
    fn add<F, Args>(&mut self, method: Method, path: &str, _: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        if method == Method::GET {
            self.0.push(path.to_owned());
        }
        self
    }

    fn not_a_page<F, Args>(&mut self, _: &str, _: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self
    }
}

fn routes(r: &mut impl Routes) {
    r.resource("/livez", health::livez)
        .resource("/readyz", health::readyz)
        .resource("/healthz", health::healthz)
        .resource("/static/style.css", assets::stylesheet)
        .get("/login", login::form)
        .post("/login", login::submit)
        .post("/logout", login::logout)
        .get("/", databases::list)
        .get("/activity", activity::show)
        .get("/api-tokens", tokens::list)
        .post("/api-tokens", tokens::create)
        .get("/api-tokens/{id}/revoke", tokens::revoke_confirm)
        .post("/api-tokens/{id}/revoke", tokens::revoke)
        .get("/databases/{db}", overview::show)
        .resource("/databases/{db}/floor", health::floor)
        .redirect(
            "/databases/{db}/settings",
            |db: web::Path<String>| async move { see_other(&paths::users(&db)) },
        )
        .get("/databases/{db}/settings/health", doctor::show)
        .post("/databases/{db}/settings/health/fix", doctor::fix)
        .get(USERS, users::list)
        .post(USERS, users::create)
        .get(&format!("{USERS}/new"), users::new_form)
        .get(&format!("{USERS}/{{name}}/details"), sessions::details)
        .get(
            &format!("{USERS}/{{name}}/end-sessions"),
            sessions::end_confirm,
        )
        .post(&format!("{USERS}/{{name}}/end-sessions"), sessions::end)
        .get(&format!("{USERS}/{{name}}/limits"), user_limits::form)
        .post(&format!("{USERS}/{{name}}/limits"), user_limits::save)
        .get(&format!("{USERS}/{{name}}/reset"), users::reset_confirm)
        .post(&format!("{USERS}/{{name}}/reset"), users::reset)
        .get(&format!("{USERS}/{{name}}/delete"), users::delete_confirm)
        .post(&format!("{USERS}/{{name}}/delete"), users::delete)
        // Addresses from before several databases: bookmarks still work.
        .redirect("/settings/activity", || async { see_other("/activity") })
        .redirect("/settings", databases::former_address)
        .redirect("/settings/{tail:.*}", databases::former_address);
}

use super::paths::{self, USERS};

/// Post/Redirect/Get: answers a successful form with a redirect.
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

/// The header and navigation of a logged-in page, of `database`'s pages
/// when it belongs to one.
pub(super) fn chrome(operator: &Operator, database: Option<&ManagedDatabase>) -> Chrome {
    Chrome {
        // Shown only, never put in a URL: see `pages::filters::visible`.
        operator: crate::domain::visible(&operator.name).into_owned(),
        csrf: operator.session.csrf_token(),
        place: database.map(|database| Place {
            id: database.id.to_string(),
            name: crate::domain::visible(&database.name).into_owned(),
        }),
        back: String::new(),
    }
}

/// Reads `input` as every form and list query the dashboard takes, each
/// decoded as its extractor does and then read by its handler's own code.
/// For the fuzz targets (`pgusers::web::fuzzing`).
pub(super) fn read_every_form(input: &[u8]) {
    use super::csrf::{NoFields, fields_of};
    if let Some(form) = fields_of::<users::NewUserForm>(input) {
        let _ = form.entry().read();
    }
    let _ = fields_of::<users::ConfirmForm>(input);
    if let Some(form) = fields_of::<user_limits::LimitsForm>(input) {
        let _ = form.change();
    }
    let _ = fields_of::<doctor::FixForm>(input);
    if let Some(form) = fields_of::<tokens::NewTokenForm>(input) {
        let _ = form.label();
    }
    if let Some(form) = fields_of::<login::LoginForm>(input) {
        let _ = login::typed_name(&form.username);
    }
    let _ = fields_of::<NoFields>(input);
    if let Ok(params) = serde_urlencoded::from_bytes::<super::list_place::ListParams>(input) {
        let _ = super::list_place::ListPlace::read(&params);
    }
}
