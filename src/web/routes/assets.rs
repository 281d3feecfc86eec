use std::sync::LazyLock;

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

/// The stylesheet, compiled into the binary so it runs from anywhere.
const STYLESHEET: &str = include_str!("../../../static/style.css");

/// Where pages link the stylesheet: its address with a digest of its
/// content, so that a browser holding the previous version's (cached for a
/// year) asks for the new one the first time a page of the new version
/// names it.
pub fn stylesheet_href() -> &'static str {
    static HREF: LazyLock<String> = LazyLock::new(|| {
        let digest = Sha256::digest(STYLESHEET.as_bytes());
        let version: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("/static/style.css?v={version}")
    });
    &HREF
}

pub async fn stylesheet(request: HttpRequest) -> HttpResponse {
    // Only the current version's address may be kept for good: another
    // (an old page's, none) gets this content but is checked again.
    let current = stylesheet_href().split_once('?').map(|(_, query)| query);
    let cache = if Some(request.query_string()) == current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((CACHE_CONTROL, cache))
        .body(STYLESHEET)
}
