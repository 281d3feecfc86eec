//! Routing: one file per page family.

mod activity;
mod assets;
mod databases;
mod health;
mod login;
mod overview;
mod tokens;
mod users;

use actix_web::http::header::LOCATION;
use actix_web::web::{ServiceConfig, get, post};
use actix_web::{HttpResponse, web};

use super::pages::{Chrome, Place};
use super::session::Operator;
use crate::registry::ManagedDatabase;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/healthz", get().to(health::healthz))
        .route("/static/style.css", get().to(assets::stylesheet))
        .route("/login", get().to(login::form))
        .route("/login", post().to(login::submit))
        .route("/logout", post().to(login::logout))
        .route("/", get().to(databases::list))
        .route("/activity", get().to(activity::show))
        .route("/api-tokens", get().to(tokens::list))
        .route("/api-tokens", post().to(tokens::create))
        .route("/api-tokens/{id}/revoke", post().to(tokens::revoke))
        .route("/databases/{db}", get().to(overview::show))
        .route(
            "/databases/{db}/settings",
            get().to(|db: web::Path<String>| async move {
                see_other(&format!("/databases/{db}/settings/database-users"))
            }),
        )
        .route(USERS, get().to(users::list))
        .route(USERS, post().to(users::create))
        .route(&format!("{USERS}/new"), get().to(users::new_form))
        .route(
            &format!("{USERS}/{{name}}/reset"),
            get().to(users::reset_confirm),
        )
        .route(&format!("{USERS}/{{name}}/reset"), post().to(users::reset))
        .route(
            &format!("{USERS}/{{name}}/delete"),
            get().to(users::delete_confirm),
        )
        .route(
            &format!("{USERS}/{{name}}/delete"),
            post().to(users::delete),
        )
        // Addresses from before several databases: bookmarks still work.
        .route(
            "/settings/activity",
            get().to(|| async { see_other("/activity") }),
        )
        .route("/settings", get().to(databases::former_address))
        .route("/settings/{tail:.*}", get().to(databases::former_address));
}

/// The users pages of database `{db}`.
const USERS: &str = "/databases/{db}/settings/database-users";

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
