//! The dashboard: an actix-web application over the role module.
//!
//! Handlers are short: parse the request into domain values, call the role
//! module, then render a page or redirect. Pages are askama templates
//! (`pages.rs` ↔ `templates/`).

mod api;
mod audit;
mod csrf;
mod error;
mod error_page;
pub(crate) mod forwarded;
#[doc(hidden)]
pub mod fuzzing;
pub mod list_place;
mod login_return;
mod login_session;
mod once;
pub mod pages;
pub mod paths;
mod protect;
mod request_limits;
mod request_log;
mod routes;

pub use api::{Effect as ApiEffect, Endpoint as ApiEndpoint, endpoints as api_endpoints};
pub use error::WebError;
pub use login_session::SessionPolicy;
pub use once::FormIds;
pub use request_limits::RequestLimits;
pub use routes::{form_posts, page_routes};

use std::net::TcpListener;

use actix_session::SessionMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use tokio::sync::watch;
use tracing_actix_web::TracingLogger;

use crate::domain::TrustedProxies;
use crate::embedded::ClusterState;
use crate::operations::{Actor, Operations};
use crate::registry::{ManagedDatabase, Registry};
use crate::state::{LoginPolicy, StateStore};

/// What every handler shares.
pub struct AppData {
    pub databases: Registry,
    pub store: StateStore,
    /// The embedded PostgreSQL's state, when `serve` runs and supervises it.
    pub embedded: Option<watch::Receiver<ClusterState>>,
}

impl AppData {
    /// The changes, as `actor` asks them.
    pub fn operations(&self, actor: Actor) -> Operations<'_> {
        Operations::new(&self.databases, &self.store, actor)
    }

    /// Why the embedded PostgreSQL is down, when pgusers runs it and it is:
    /// what a 503 page says instead of "pgusers reconnects by itself".
    pub fn outage(&self) -> Option<String> {
        self.embedded.as_ref()?.borrow().explain()
    }

    /// What a logged-in operator is told of `error` on a page (see
    /// [`WebError::message`]).
    pub fn tell(&self, error: &WebError) -> String {
        error.message(true, self.outage().as_deref())
    }

    /// The database with ID `id`, or a 404 page.
    pub fn database(&self, id: &str) -> Result<&ManagedDatabase, WebError> {
        Ok(self.databases.get(id)?)
    }
}

pub struct WebSettings {
    /// At least 64 bytes: the first half signs, the second encrypts.
    pub session_key: Vec<u8>,
    /// Mark cookies `Secure` (HTTPS only). Off for plain HTTP on loopback.
    pub secure_cookies: bool,
    pub sessions: SessionPolicy,
    pub logins: LoginPolicy,
    /// How long and how large a request may be.
    pub limits: RequestLimits,
    /// Proxies whose forwarding headers are believed; empty: none.
    pub trusted_proxies: TrustedProxies,
}

/// The number of bytes actix-session needs for a cookie key.
pub const SESSION_KEY_LEN: usize = 64;

/// Builds the dashboard's HTTP server on a bound listener.
pub fn server(
    listener: TcpListener,
    app: AppData,
    settings: WebSettings,
) -> std::io::Result<Server> {
    let app = web::Data::new(app);
    let key = Key::from(&settings.session_key);
    let form_ids = web::Data::new(FormIds::new(&settings.session_key));
    let secure = settings.secure_cookies;
    let session_policy = web::Data::new(settings.sessions);
    let logins = web::Data::new(settings.logins);
    let limits = settings.limits;
    let trusted_proxies = web::Data::new(settings.trusted_proxies);
    let server = HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
            .cookie_name("pgusers_session".into())
            .cookie_secure(secure)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Strict)
            .build();
        App::new()
            .wrap(protect::security_headers())
            .wrap(TracingLogger::<request_log::RequestSpan>::new())
            .app_data(app.clone())
            .app_data(form_ids.clone())
            .app_data(session_policy.clone())
            .app_data(logins.clone())
            .app_data(web::Data::new(limits))
            .app_data(trusted_proxies.clone())
            // The API: tokens, no session, JSON errors.
            .service(
                web::scope(api::PREFIX)
                    .wrap(actix_web::middleware::from_fn(api::outage_words))
                    .wrap(actix_web::middleware::from_fn(
                        request_limits::bounded_bodies,
                    ))
                    .configure(api::configure),
            )
            .service(
                web::scope("")
                    // Innermost, so it sees the session and the request it failed on.
                    .wrap(error_page::handlers())
                    .wrap(actix_web::middleware::from_fn(protect::same_origin_posts))
                    // Inside the session, so its 408 and 413 pages know who is
                    // logged in.
                    .wrap(actix_web::middleware::from_fn(
                        request_limits::bounded_bodies,
                    ))
                    .wrap(sessions)
                    // The same bound for the extractor, should a body ever
                    // reach it by another way.
                    .app_data(error_page::form_config(limits.body_bytes))
                    .app_data(error_page::query_config())
                    .configure(routes::configure)
                    .default_service(web::to(error_page::not_found)),
            )
    })
    // The binary handles SIGINT/SIGTERM itself, from its first instant, so a
    // signal during start-up cannot kill it before the cluster is stopped.
    .disable_signals()
    .client_request_timeout(limits.head_timeout)
    .listen(listener)?
    .run();
    Ok(server)
}
