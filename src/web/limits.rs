//! How long and how large a request may be.
//!
//! actix-web bounds the time to receive a request's head
//! (`client_request_timeout`) but not its body: a client sending one byte a
//! second holds a connection, and a worker's attention, for as long as it
//! likes. Every body is therefore read here, whole, within a deadline and a
//! size limit, before any handler runs. The dashboard's forms are a few
//! hundred bytes and nothing is uploaded, so buffering them costs nothing.

use std::time::Duration;

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::ResponseError;
use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpMessage, web};
use futures_util::StreamExt;

use super::WebError;

/// Bounds on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Time from the connection (or the previous response) to the end of
    /// the request's head.
    pub head_timeout: Duration,
    /// Time from the end of the head to the end of the body. With
    /// `head_timeout`, this bounds the time to receive a whole request.
    pub body_timeout: Duration,
    /// The largest body accepted, in bytes.
    pub body_bytes: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            head_timeout: Duration::from_secs(10),
            // 10 s + 20 s: no request takes more than 30 s to arrive.
            body_timeout: Duration::from_secs(20),
            body_bytes: 16 * 1024,
        }
    }
}

/// Reads the body within the limits; answers 408 or 413 and closes the
/// connection otherwise, so the client cannot keep sending into it.
pub async fn bounded_bodies<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let limits = req
        .app_data::<web::Data<RequestLimits>>()
        .map(|limits| *limits.get_ref())
        .unwrap_or_default();
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    let read = async {
        while let Some(chunk) = payload.next().await {
            let chunk = chunk?;
            if body.len() + chunk.len() > limits.body_bytes {
                return Ok(Err(WebError::PayloadTooLarge));
            }
            body.extend_from_slice(&chunk);
        }
        Ok::<_, PayloadError>(Ok(()))
    };
    let refusal = match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(Ok(Ok(()))) => {
            req.set_payload(Payload::from(body.freeze()));
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_left_body);
        }
        Err(_elapsed) => {
            tracing::warn!(path = %req.path(), "a request body took too long to arrive");
            WebError::RequestTimeout
        }
        Ok(Ok(Err(too_large))) => {
            tracing::warn!(path = %req.path(), "a request body was too large");
            too_large
        }
        // The client went away or broke the framing (a bad chunk): actix
        // answers that error itself.
        Ok(Err(error)) => return Err(error.into()),
    };
    let mut response = if req.path().starts_with("/api/") {
        super::api::ApiError::from(refusal).error_response()
    } else {
        // With the logged-in operator's navigation: the session middleware
        // runs before this one.
        super::error_page::page(req.request(), &refusal).await
    };
    // The rest of the body may still be on its way: reading it would undo
    // the limit, leaving it unread would desynchronise the connection. So
    // the connection closes after this answer. actix-web would instead
    // drain a chunked body whose reader is gone, for as long as the client
    // trickles it, so the unread payload stays held until the answer has
    // been sent.
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    let response = response.map_body(|_, body| {
        BoxBody::new(HeldOpen {
            body,
            _payload: payload,
        })
    });
    Ok(req.into_response(response).map_into_right_body())
}

/// A response body that keeps the request's unread payload alive until it
/// has been sent, so actix-web closes the connection rather than drain it.
struct HeldOpen {
    body: BoxBody,
    _payload: Payload,
}

impl MessageBody for HeldOpen {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}
