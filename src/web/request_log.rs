//! The request log: tracing-actix-web's spans, with the client address
//! from `forwarded::address`. Its default span records
//! `realip_remote_addr()`, which believes `X-Forwarded-For` from anyone,
//! so the log would show whatever address a client claimed.
//!
//! A failed request is logged at a level that says who must act: ERROR for
//! a failure of pgusers or its database (5xx), INFO for a refused request
//! (4xx: the person is told why), DEBUG for the redirect to the login page,
//! which every visit before logging in gets.
//!
//! This is the one place a failed request is logged: the errors keep their
//! causes, and a 5xx is written with the whole chain of them (what
//! PostgreSQL or the network said), which the page or the JSON answer
//! never shows.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{Error, ResponseError};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

use super::api::ApiError;
use super::error::WebError;
use super::forwarded;

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let client_ip = forwarded::address(request.request())
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.target = %request.path(),
            http.client_ip = %client_ip,
            // Filled in by `on_request_end`, as in the default span.
            http.status_code = Empty,
            otel.status_code = Empty,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let failure = match outcome {
            Ok(response) => response.response().error().map(|e| (e, response.status())),
            Err(error) => Some((error, error.as_response_error().status_code())),
        };
        if let Some((error, status)) = failure {
            span.in_scope(|| log_failure(error, status));
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

fn log_failure(error: &Error, status: StatusCode) {
    let routine = matches!(
        error.as_error::<WebError>(),
        Some(WebError::LoginRequired(_))
    );
    let response = error.as_response_error();
    if routine {
        tracing::debug!(%status, "{response}");
    } else if status.is_server_error() {
        let chain = match (error.as_error::<WebError>(), error.as_error::<ApiError>()) {
            (Some(error), _) => crate::failure::chain(error),
            (None, Some(error)) => crate::failure::chain(error),
            (None, None) => response.to_string(),
        };
        tracing::error!(%status, "request failed: {chain}");
    } else {
        tracing::info!(%status, "request refused: {response}");
    }
}

/// For a handler that answers a failure with a page of its own (a form
/// drawn again with the reason above it): the response then carries no
/// error for the request log to see, so the handler logs it here, by the
/// same rules.
pub(super) fn failure_shown_in_page(error: &WebError) {
    let status = error.status_code();
    if status.is_server_error() {
        tracing::error!(%status, "request failed: {}", crate::failure::chain(error));
    } else {
        tracing::info!(%status, "request refused: {error}");
    }
}
