//! Error pages keep the header and navigation of whoever is logged in.
//!
//! `WebError::error_response` has no request, so it cannot know who is
//! logged in; this middleware, which has, renders the page again with the
//! operator's header, navigation and a link that leads somewhere that works.
//! The extractors' own errors (a malformed query or form) become
//! `WebError`s here too, so they get the same pages instead of actix-web's
//! plain text.

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceResponse};
use actix_web::error::{QueryPayloadError, UrlencodedError};
use actix_web::http::Method;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};

use super::login_session::Operator;
use super::{AppData, WebError};

pub fn handlers() -> ErrorHandlers<BoxBody> {
    ErrorHandlers::new().default_handler(with_navigation)
}

/// The answer to an address no route has.
pub async fn not_found() -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound(
        "There is no page at this address. Check it, or follow the dashboard's links.".to_owned(),
    ))
}

/// Malformed query strings (`?page=abc`) answer a page, not plain text.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| {
        WebError::BadRequest(format!(
            "The part of this address after \"?\" is not understood: {}. \
             Follow the dashboard's links rather than editing the address.",
            query_problem(&error)
        ))
        .into()
    })
}

/// What is wrong with a query, in words (the dashboard's and the API's):
/// serde's own ("Query deserialize error: duplicate field `q`") are for
/// programmers.
pub(super) fn query_problem(error: &QueryPayloadError) -> String {
    let QueryPayloadError::Deserialize(detail) = error else {
        return "it cannot be read".to_owned();
    };
    let detail = detail.to_string();
    if let Some(name) = detail
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return format!(
            "\"{}\" is given twice: give it once",
            crate::domain::visible(name)
        );
    }
    "a parameter has a value of the wrong kind (a number of this dashboard is a whole number \
     from 1)"
        .to_owned()
}

/// Forms that are not the dashboard's own answer a page, not plain text.
pub fn form_config(limit: usize) -> web::FormConfig {
    web::FormConfig::default()
        .limit(limit)
        .error_handler(|error, _| {
            match error {
                UrlencodedError::ContentType => WebError::UnsupportedMediaType,
                UrlencodedError::Overflow { .. } => WebError::PayloadTooLarge,
                UrlencodedError::Parse(detail) => WebError::BadRequest(format!(
                    "This form is incomplete or not understood: {detail}. \
                     Reload its page in the dashboard and send it again."
                )),
                other => WebError::BadRequest(format!(
                    "This form could not be read: {other} Reload its page in the dashboard and send it again."
                )),
            }
            .into()
        })
}

/// The error page for `error` as the sender of `request` should see it:
/// with the operator's navigation when someone is logged in and it can be
/// drawn; for an unavailable database, with a link to try again and, when
/// the embedded PostgreSQL is down, why.
pub(super) async fn page(request: &HttpRequest, error: &WebError) -> HttpResponse {
    let app = request.app_data::<web::Data<AppData>>();
    let chrome = match Operator::from_request(request, &mut Payload::None).await {
        Ok(operator) => {
            // The pages of the database the address names, if it names one.
            let database = app
                .zip(request.match_info().get("db"))
                .and_then(|(app, id)| app.databases.get(id).ok());
            Some(super::routes::chrome(&operator, database))
        }
        Err(_) => None,
    };
    let outage = app.and_then(|app| app.outage());
    error.page_response(chrome, Some(&retry_address(request)), outage.as_deref())
}

/// Where to try a failed request again: the same address when asking it
/// again changes nothing (a GET), the overview otherwise (it sends whoever
/// is not logged in to the login page).
fn retry_address(request: &HttpRequest) -> String {
    let address = request.uri().path_and_query().map(|p| p.as_str());
    match address {
        Some(address)
            if request.method() == Method::GET && super::login_return::same_site_path(address) =>
        {
            address.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn with_navigation(
    response: ServiceResponse<BoxBody>,
) -> actix_web::Result<ErrorHandlerResponse<BoxBody>> {
    let error = response
        .response()
        .error()
        .and_then(|error| error.as_error::<WebError>());
    let is_page = error.is_some_and(|error| !matches!(error, WebError::LoginRequired(_)));
    if !is_page {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let (request, original) = response.into_parts();
        let rendered = match original
            .error()
            .and_then(|error| error.as_error::<WebError>())
        {
            Some(error) => Some(page(&request, error).await),
            None => None,
        };
        // The same status and headers, and the error kept for the request
        // log: only the body changes.
        let response = match rendered {
            Some(rendered) => original.map_body(|_, _| rendered.into_body()),
            None => original,
        };
        Ok(ServiceResponse::new(request, response).map_into_right_body())
    })))
}
