//! The API's OpenAPI 3 document, generated from the handlers' annotations,
//! so it says what the code does.

use actix_web::HttpResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pgusers",
        description = "Manage the users of PostgreSQL databases: the shapes of Scalingo's database-users API. \
                       Every endpoint takes `Authorization: Bearer <token>` (`pgusers tokens create`)."
    ),
    paths(
        super::databases,
        super::users::list,
        super::users::show,
        super::users::create,
        super::users::update,
        super::users::reset_password,
        super::users::delete,
        super::users::set_limits,
        super::sessions::list,
        super::sessions::end,
    ),
    modifiers(&BearerToken)
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
