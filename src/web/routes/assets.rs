use actix_web::HttpResponse;
use actix_web::http::header::CACHE_CONTROL;

/// The stylesheet, compiled into the binary so it runs from anywhere.
const STYLESHEET: &str = include_str!("../../../static/style.css");

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}
