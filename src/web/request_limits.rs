//! How long and how large a request may be.
//!
//! actix-web bounds the time to receive a request's head
//! (`client_request_timeout`) but not its body: a client sending one byte a
//! second holds a connection, and a worker's attention, for as long as it
//! likes. Every body is therefore read here, whole, within a deadline and a
//! size limit, before any handler runs. The dashboard's forms are a few
//! hundred bytes and nothing is uploaded, so buffering them costs nothing.
//!
//! Each field (of the query, of a form, of a JSON body) is bounded too, by
//! [`FIELD_BYTES`]: a value longer than any valid one is refused here, with
//! a message naming the field, before it is parsed into anything, hashed,
//! counted or sent to PostgreSQL.

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

/// The longest field value accepted, in bytes once decoded. The longest
/// valid value is an operator password: 128 characters, up to 512 bytes.
pub const FIELD_BYTES: usize = 1024;

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
    if let Some(field) = too_long_pair(req.query_string()) {
        tracing::warn!(path = %req.path(), "a query field was too long");
        // Nothing of the body has been read: the connection closes too.
        let payload = req.take_payload();
        return Ok(refuse(req, payload, WebError::FieldTooLarge(field)).await);
    }
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
            if let Some(field) = too_long_field(&req, &body) {
                tracing::warn!(path = %req.path(), "a body field was too long");
                // The body was read whole: the connection could go on, but
                // a client sending such fields is not worth keeping.
                return Ok(refuse(req, payload, WebError::FieldTooLarge(field)).await);
            }
            let body = body.freeze();
            // Kept for the login page, should the session have ended.
            if req.method() == actix_web::http::Method::POST {
                req.extensions_mut()
                    .insert(super::login_return::SentBody(body.clone()));
            }
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
        Ok(Ok(Err(too_large))) => {
            tracing::warn!(path = %req.path(), "a request body was too large");
            too_large
        }
        // The client went away or broke the framing (a bad chunk): actix
        // answers that error itself.
        Ok(Err(error)) => return Err(error.into()),
    };
    Ok(refuse(req, payload, refusal).await)
}

/// Answers `refusal` (as JSON under `/api/`, else as a page) and closes the
/// connection.
async fn refuse<B>(
    req: ServiceRequest,
    payload: Payload,
    refusal: WebError,
) -> ServiceResponse<EitherBody<B>> {
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
    req.into_response(response).map_into_right_body()
}

/// The field of a form or JSON body longer than [`FIELD_BYTES`], if any,
/// named for the message.
fn too_long_field(req: &ServiceRequest, body: &[u8]) -> Option<String> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        too_long_pair(&String::from_utf8_lossy(body))
    } else if is_json(&content_type) {
        // A body that is not JSON is for the JSON extractor to describe.
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        too_long_json(None, &value)
    } else {
        None
    }
}

/// Whether the JSON extractor takes a body of this content type: any
/// `…/json` or `…+json`, as actix-web's `JsonConfig` does by default.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.ends_with("/json") || essence.ends_with("+json")
}

/// The pair of `name=value&…` (a query, a form) whose name or value is
/// longer than [`FIELD_BYTES`] once decoded, as the extractors decode it
/// (`+`, `%XX`, text that is not UTF-8 replaced by U+FFFD).
fn too_long_pair(encoded: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(encoded)
        .ok()?
        .into_iter()
        .find(|(name, value)| name.len() > FIELD_BYTES || value.len() > FIELD_BYTES)
        .map(|(name, _)| field_name(&name))
}

/// A JSON string (or object key) longer than [`FIELD_BYTES`], anywhere in
/// `value`, named by the key that holds it.
fn too_long_json(key: Option<&str>, value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) if text.len() > FIELD_BYTES => {
            Some(key.map_or_else(|| "A value".to_owned(), field_name))
        }
        Value::Array(items) => items.iter().find_map(|item| too_long_json(key, item)),
        Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            if name.len() > FIELD_BYTES {
                Some("A field name".to_owned())
            } else {
                too_long_json(Some(name), item)
            }
        }),
        _ => None,
    }
}

/// "The field \"username\"" for a plain name; a name of any other shape is
/// not repeated (it may be the very thing that is too long, or a secret).
fn field_name(name: &str) -> String {
    if (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        format!("The field \"{name}\"")
    } else {
        "A field".to_owned()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_measured_once_decoded() {
        let at_limit = format!("q={}", "%41".repeat(FIELD_BYTES));
        let over = format!("a=1&q={}", "%41".repeat(FIELD_BYTES + 1));

        assert_eq!(too_long_pair(&at_limit), None);
        assert_eq!(too_long_pair(&over).as_deref(), Some("The field \"q\""));
        assert_eq!(
            too_long_pair(&format!("{}=1", "n".repeat(FIELD_BYTES + 1))).as_deref(),
            Some("A field")
        );
        assert_eq!(too_long_pair(""), None);
        // Escapes that are not one, and bytes that are not UTF-8, decode
        // to more than they seem: measured as decoded.
        let literal = format!("q={}", "%zz".repeat(FIELD_BYTES / 3 + 1));
        assert_eq!(too_long_pair(&literal).as_deref(), Some("The field \"q\""));
        let replaced = format!("q={}", "%FF".repeat(FIELD_BYTES / 3 + 1));
        assert_eq!(too_long_pair(&replaced).as_deref(), Some("The field \"q\""));
        assert_eq!(too_long_pair("q=%%%"), None);
    }

    #[test]
    fn every_content_type_the_json_extractor_takes_is_checked_as_json() {
        for json in [
            "application/json",
            "text/json",
            "application/problem+json; charset=utf-8",
        ] {
            assert!(is_json(json), "{json}");
        }
        for other in [
            "application/x-www-form-urlencoded",
            "text/plain",
            "application/jsonx",
        ] {
            assert!(!is_json(other), "{other}");
        }
    }

    #[test]
    fn a_long_json_string_is_found_at_any_depth_and_named_by_its_key() {
        let long = "x".repeat(FIELD_BYTES + 1);
        let nested = serde_json::json!({ "user": { "name": "ok", "password": long } });
        let listed = serde_json::json!({ "names": ["ok", long] });
        let fine = serde_json::json!({ "name": "x".repeat(FIELD_BYTES) });

        assert_eq!(
            too_long_json(None, &nested).as_deref(),
            Some("The field \"password\"")
        );
        assert_eq!(
            too_long_json(None, &listed).as_deref(),
            Some("The field \"names\"")
        );
        assert_eq!(too_long_json(None, &fine), None);
    }
}
