//! Error pages keep the header and navigation of whoever is logged in.
//!
//! `WebError::error_response` has no request, so it cannot know who is
//! logged in; this middleware, which has, renders the page again with the
//! operator's header, navigation and a link that leads somewhere that works.

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceResponse};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{FromRequest, web};

use super::session::Operator;
use super::{AppState, WebError};

pub fn handlers() -> ErrorHandlers<BoxBody> {
    ErrorHandlers::new().default_handler(with_navigation)
}

fn with_navigation(
    response: ServiceResponse<BoxBody>,
) -> actix_web::Result<ErrorHandlerResponse<BoxBody>> {
    let is_page = response
        .response()
        .error()
        .and_then(|error| error.as_error::<WebError>())
        .is_some_and(|error| !matches!(error, WebError::LoginRequired));
    if !is_page {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let (request, original) = response.into_parts();
        let chrome = match Operator::from_request(&request, &mut Payload::None).await {
            Ok(operator) => match request.app_data::<web::Data<AppState>>() {
                Some(app) => super::routes::chrome(app, &operator).await.ok(),
                None => None,
            },
            Err(_) => None,
        };
        let page = chrome.and_then(|chrome| {
            original
                .error()
                .and_then(|error| error.as_error::<WebError>())
                .map(|error| error.page_response(Some(chrome)))
        });
        Ok(match page {
            Some(page) => ServiceResponse::new(request, page).map_into_right_body(),
            // Nobody logged in (or the state database is down): the page
            // as it was, with a link to the login page.
            None => ServiceResponse::new(request, original).map_into_left_body(),
        })
    })))
}
