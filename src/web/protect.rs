//! Protections every response and every form gets, whatever the handler.

use actix_web::ResponseError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{ORIGIN, REFERER};
use actix_web::middleware::{DefaultHeaders, Next};

use super::{WebError, forwarded};

/// Headers on every response: no script and no framing (the pages need
/// neither), no MIME sniffing, no referrer leaving the dashboard.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
}

/// Refuses a POST whose `Origin` (or, without one, `Referer`) names another
/// site, before any handler runs. The CSRF token is checked on top of this.
///
/// `Origin: null` says nothing: browsers send it for the dashboard's own
/// forms because its pages ask for `Referrer-Policy: no-referrer`, and a
/// request with no origin at all (a script, `curl`) still needs the token.
pub async fn same_origin_posts<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if req.method() == Method::POST && !from_this_site(&req) {
        tracing::warn!(path = %req.path(), "refused a cross-origin form");
        // A response, not an error, so the outer middleware still adds the
        // security headers to it.
        let refusal = WebError::Csrf.error_response();
        return Ok(req.into_response(refusal).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn from_this_site(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    let named = |name| {
        headers
            .get(name)
            .and_then(|value: &actix_web::http::header::HeaderValue| value.to_str().ok())
            .filter(|value| *value != "null")
    };
    let Some(source) = named(ORIGIN).or_else(|| named(REFERER)) else {
        return true;
    };
    // Never `connection_info().host()`: it believes `X-Forwarded-Host` from
    // anyone, so a forged header would make any origin match.
    let site = forwarded::site(req.request());
    let Some(expected) = site.authority else {
        return false;
    };
    let same_scheme = site
        .scheme
        .is_none_or(|scheme| source.starts_with(&format!("{scheme}://")));
    same_scheme
        && authority(source).is_some_and(|authority| authority.eq_ignore_ascii_case(&expected))
}

/// `host[:port]` of an `http(s)://` URL; `None` for anything else (such as
/// a `file://` page).
fn authority(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use actix_web::test as http;
    use actix_web::{App, HttpResponse, web};

    use super::*;

    /// A page and a form behind both protections, as the dashboard has
    /// them, and whether the form's handler ran.
    macro_rules! protected {
        () => {{
            let ran = Arc::new(AtomicBool::new(false));
            let seen = ran.clone();
            let app = http::init_service(
                App::new()
                    // Outermost last, as in `web::server`: the headers are
                    // added to the refusal too.
                    .wrap(actix_web::middleware::from_fn(same_origin_posts))
                    .wrap(security_headers())
                    .route("/page", web::get().to(HttpResponse::Ok))
                    .route(
                        "/form",
                        web::post().to(move || {
                            seen.store(true, Ordering::SeqCst);
                            async { HttpResponse::SeeOther().finish() }
                        }),
                    ),
            )
            .await;
            (app, ran)
        }};
    }

    fn has_the_security_headers(response: &ServiceResponse<impl MessageBody>) {
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let csp = header("content-security-policy");
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "no-referrer");
        assert_eq!(header("x-frame-options"), "DENY");
    }

    #[actix_web::test]
    async fn every_answer_carries_the_security_headers() {
        let (app, _) = protected!();

        let page =
            http::call_service(&app, http::TestRequest::get().uri("/page").to_request()).await;
        let missing =
            http::call_service(&app, http::TestRequest::get().uri("/nowhere").to_request()).await;

        assert_eq!(page.status(), 200);
        has_the_security_headers(&page);
        assert_eq!(missing.status(), 404);
        has_the_security_headers(&missing);
    }

    #[actix_web::test]
    async fn a_form_from_another_site_is_refused_before_its_handler_with_the_headers() {
        let (app, ran) = protected!();
        let post = |origin: &str| {
            http::TestRequest::post()
                .uri("/form")
                .insert_header((actix_web::http::header::HOST, "dash.example:8080"))
                .insert_header((ORIGIN, origin.to_owned()))
                .to_request()
        };

        let refused = http::call_service(&app, post("http://evil.example")).await;
        let other_port = http::call_service(&app, post("http://dash.example:9090")).await;

        assert_eq!(refused.status(), 403);
        has_the_security_headers(&refused);
        assert_eq!(other_port.status(), 403);
        assert!(!ran.load(Ordering::SeqCst), "the handler never ran");

        let own = http::call_service(&app, post("http://dash.example:8080")).await;
        let no_origin = http::call_service(&app, post("null")).await;
        assert_eq!(own.status(), 303);
        assert_eq!(no_origin.status(), 303, "no origin: the CSRF token decides");
        assert!(ran.load(Ordering::SeqCst));
    }

    #[test]
    fn the_authority_is_the_host_and_port_of_a_web_url() {
        assert_eq!(authority("http://127.0.0.1:8080"), Some("127.0.0.1:8080"));
        assert_eq!(
            authority("https://db.example.com/settings/users?x=1"),
            Some("db.example.com")
        );
        assert_eq!(authority("null"), None);
        assert_eq!(authority("file:///tmp/x.html"), None);
    }
}
