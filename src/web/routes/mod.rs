//! Routing: one file per page family.

mod activity;
mod assets;
mod health;
mod login;
mod overview;
mod users;

use actix_web::http::header::LOCATION;
use actix_web::web::{ServiceConfig, get, post};
use actix_web::{HttpResponse, web};

use super::pages::Chrome;
use super::session::Operator;
use super::{AppState, WebError};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/healthz", get().to(health::healthz))
        .route("/static/style.css", get().to(assets::stylesheet))
        .route("/login", get().to(login::form))
        .route("/login", post().to(login::submit))
        .route("/logout", post().to(login::logout))
        .route("/", get().to(overview::show))
        .route(
            "/settings",
            get().to(|| async { see_other("/settings/users") }),
        )
        .route("/settings/activity", get().to(activity::show))
        .route("/settings/users", get().to(users::list))
        .route("/settings/users", post().to(users::create))
        .route("/settings/users/new", get().to(users::new_form))
        .route(
            "/settings/users/{name}/reset",
            get().to(users::reset_confirm),
        )
        .route("/settings/users/{name}/reset", post().to(users::reset))
        .route(
            "/settings/users/{name}/delete",
            get().to(users::delete_confirm),
        )
        .route("/settings/users/{name}/delete", post().to(users::delete));
}

/// Post/Redirect/Get: answers a successful form with a redirect.
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

pub(super) async fn chrome(
    app: &web::Data<AppState>,
    operator: &Operator,
) -> Result<Chrome, WebError> {
    Ok(Chrome {
        // Shown only, never put in a URL: see `pages::filters::visible`.
        operator: crate::domain::visible(&operator.name).into_owned(),
        database: crate::domain::visible(&app.roles.database_name().await?).into_owned(),
        csrf: operator.session.csrf_token(),
    })
}
