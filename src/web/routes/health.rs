//! What a load balancer, an orchestrator and a monitor ask: liveness,
//! readiness and the whole health check, public and without details; and
//! the benchmarks' floor, behind a session.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, web};

use crate::web::login_session::Operator;
use crate::web::{AppData, WebError};

/// One `SELECT 1` on database `db`'s pool, behind the same middleware and
/// session as the pages (whose check is a lookup in the state database):
/// the floor the benchmarks measure the pages against
/// (`benches/users_page.rs`), fixed work whatever pgusers does on its pages.
pub async fn floor(
    app: web::Data<AppData>,
    _operator: Operator,
    db: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    app.database(&db)?.roles.ping().await?;
    Ok(text(HttpResponse::Ok(), "ok"))
}

/// Liveness: 200 whenever the process answers HTTP, asking no database.
/// What an orchestrator restarts pgusers on: a database that is down is
/// not pgusers' fault, and a restart would not bring it back.
pub async fn livez() -> HttpResponse {
    text(HttpResponse::Ok(), "ok")
}

/// Readiness: 200 when pgusers' own state database answers (without it,
/// nobody can log in and no token is checked), 503 saying which kind of
/// failure when not. What a load balancer routes on: a managed database
/// that is down is down for every replica alike, so it takes no replica
/// out. An answer stands for 2 s unless a connection to the state
/// database failed since, and probes arriving together share one (see
/// [`crate::state::StateStore::check`]): a flood of probes costs one
/// `SELECT 1` per 2 s.
pub async fn readyz(app: web::Data<AppData>) -> HttpResponse {
    match app.store.check().await {
        Ok(()) => text(HttpResponse::Ok(), "ok"),
        Err(error) => {
            tracing::warn!(error = %crate::failure::chain(&error), "not ready: the state database cannot be used");
            unavailable(&WebError::from(error), &app)
        }
    }
}

/// The whole health check: 200 when pgusers' state database and every
/// managed database answer and pgusers' settings work on them, 503 when
/// not, with the kind of failure (when one thing fails) or how many
/// databases cannot be used (with several); the details (host, user,
/// PostgreSQL's words, never a password) go to the log only, as this page
/// is public. When the embedded PostgreSQL is down, it says why
/// (restarting, stopped on purpose, given up), as the pages do. For
/// monitoring; `/readyz` is for load balancers, and `GET /api/databases`
/// says each database's state to a token.
pub async fn healthz(app: web::Data<AppData>) -> HttpResponse {
    if let Err(error) = app.store.check().await {
        tracing::warn!(error = %crate::failure::chain(&error), "unhealthy: the state database cannot be used");
        return unavailable(&WebError::from(error), &app);
    }
    let databases = app.databases.all();
    let checks =
        futures_util::future::join_all(databases.iter().map(|database| database.roles.check()))
            .await;
    // Converting logs the details.
    let failures: Vec<WebError> = checks
        .into_iter()
        .filter_map(Result::err)
        .map(WebError::from)
        .collect();
    match (failures.as_slice(), databases.len()) {
        ([], _) => text(HttpResponse::Ok(), "ok"),
        ([only], 1) => unavailable(only, &app),
        (some, all) => text(
            HttpResponse::ServiceUnavailable(),
            &format!(
                "{} of {all} databases cannot be used right now; the others work. The server log says why.",
                some.len()
            ),
        ),
    }
}

/// A 503 with what anyone may be told of `error`.
fn unavailable(error: &WebError, app: &AppData) -> HttpResponse {
    text(
        HttpResponse::ServiceUnavailable(),
        &error.message(false, app.outage().as_deref()),
    )
}

/// A short plain answer, never kept by a cache: each probe must ask.
fn text(mut response: actix_web::HttpResponseBuilder, body: &str) -> HttpResponse {
    response
        .insert_header((CACHE_CONTROL, "no-store"))
        .content_type("text/plain")
        .body(format!("{body}\n"))
}
