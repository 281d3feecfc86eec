use actix_web::{HttpResponse, web};

use crate::web::AppState;

/// 200 when the managed database answers and pgusers' settings work on it,
/// 503 with the reason when not (never a password).
pub async fn healthz(app: web::Data<AppState>) -> HttpResponse {
    match app.roles.check().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok\n"),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body(format!("database unavailable: {error}\n"))
        }
    }
}
