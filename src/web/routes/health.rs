use actix_web::{HttpResponse, web};

use crate::web::{AppState, WebError};

/// 200 when the managed database answers and pgusers' settings work on it,
/// 503 when not, with the kind of failure; the details (host, user,
/// PostgreSQL's words, never a password) go to the log only, as this page
/// is public.
pub async fn healthz(app: web::Data<AppState>) -> HttpResponse {
    match app.roles.check().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok\n"),
        Err(error) => {
            // Converting logs the details.
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body(format!("{}\n", WebError::from(error).public_message()))
        }
    }
}
