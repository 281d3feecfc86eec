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
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .content_type("text/plain")
        .body("ok\n"))
}

/// 200 when every managed database answers and pgusers' settings work on
/// it, 503 when not, with the kind of failure (with one database) or how
/// many cannot be used (with several); the details (host, user,
/// PostgreSQL's words, never a password) go to the log only, as this page
/// is public. When the embedded PostgreSQL is down, it says why (restarting,
/// stopped on purpose, given up), as the pages do.
pub async fn healthz(app: web::Data<AppData>) -> HttpResponse {
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
    let body = match (failures.as_slice(), databases.len()) {
        ([], _) => return HttpResponse::Ok().content_type("text/plain").body("ok\n"),
        ([only], 1) => only.message(false, app.outage().as_deref()),
        (some, all) => format!(
            "{} of {all} databases cannot be used right now; the others work. The server log says why.",
            some.len()
        ),
    };
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain")
        .body(format!("{body}\n"))
}
