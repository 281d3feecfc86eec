//! The request log: tracing-actix-web's spans, with the client address
//! from `client::address`. Its default span records
//! `realip_remote_addr()`, which believes `X-Forwarded-For` from anyone,
//! so the log would show whatever address a client claimed.
//!
//! A failed request is logged at a level that says who must act: ERROR for
//! a failure of pgusers or its database (5xx), INFO for a refused request
//! (4xx: the person is told why), DEBUG for the redirect to the login page,
//! which every visit before logging in gets.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

use super::client;
use super::error::WebError;

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let client_ip = client::address(request.request())
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
    let routine = matches!(error.as_error::<WebError>(), Some(WebError::LoginRequired));
    let response = error.as_response_error();
    if routine {
        tracing::debug!(%status, "{response}");
    } else if status.is_server_error() {
        tracing::error!(%status, "request failed: {response}");
    } else {
        tracing::info!(%status, "request refused: {response}");
    }
}
