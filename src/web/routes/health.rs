use actix_web::{HttpResponse, web};

use crate::web::AppState;

/// 200 when the managed database answers, 503 when it does not.
pub async fn healthz(app: web::Data<AppState>) -> HttpResponse {
    match app.roles.ping().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok\n"),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable\n")
        }
    }
}
