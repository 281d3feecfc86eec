//! How long and how large a request may be.
//!
//! actix-web bounds the time to receive a request's head
//! (`client_request_timeout`) but not its body: a client sending one byte a
//! second holds a connection, and a worker's attention, for as long as it
//! likes. Every body is therefore read here, whole, within a deadline and a
//! size limit, before any handler runs. The dashboard's forms are a few
//! hundred bytes and nothing is uploaded, so buffering them costs nothing.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

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
    // Taking the payload cannot fail: the extractor only moves it out.
    let payload = req.extract::<web::Payload>().await?;
    let refusal = match tokio::time::timeout(
        limits.body_timeout,
        payload.to_bytes_limited(limits.body_bytes),
    )
    .await
    {
        Ok(Ok(Ok(body))) => {
            req.set_payload(Payload::from(body));
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_left_body);
        }
        Err(_elapsed) => {
            tracing::warn!(path = %req.path(), "a request body took too long to arrive");
            WebError::RequestTimeout
        }
        Ok(Err(_too_large)) => {
            tracing::warn!(path = %req.path(), "a request body was too large");
            WebError::PayloadTooLarge
        }
        // The client went away or broke the framing (a bad chunk): actix
        // answers that error itself.
        Ok(Ok(Err(error))) => return Err(error),
    };
    let mut response = refusal.error_response();
    // The rest of the body may still be on its way: reading it would undo
    // the limit, leaving it unread would desynchronise the connection.
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    Ok(req.into_response(response).map_into_right_body())
}
