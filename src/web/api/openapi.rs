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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The route table and the document name the same endpoints (the
    /// document does not describe itself).
    #[test]
    fn the_document_describes_every_endpoint_of_the_route_table_and_no_other() {
        let document = ApiDoc::openapi();
        let mut documented = BTreeSet::new();
        for (path, item) in &document.paths.paths {
            for (method, operation) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ] {
                if operation.is_some() {
                    documented.insert((method.to_owned(), path.clone()));
                }
            }
        }
        let routed: BTreeSet<(String, String)> = super::super::endpoints()
            .iter()
            .filter(|endpoint| endpoint.path != "/openapi.json")
            .map(|endpoint| {
                (
                    endpoint.method.to_string(),
                    format!("{}{}", super::super::PREFIX, endpoint.path),
                )
            })
            .collect();
        assert_eq!(documented, routed);
    }

    /// What the read-only check reads: a change unless the table says read.
    #[test]
    fn an_endpoint_changes_unless_the_table_says_it_reads() {
        use actix_web::http::Method;

        use super::super::{Effect, effect_of};
        let users = Some("/api/databases/{id}/users");
        assert_eq!(effect_of(&Method::GET, users), Effect::Read);
        assert_eq!(effect_of(&Method::POST, users), Effect::Change);
        let reset = Some("/api/databases/{id}/users/{name}/reset_password");
        assert_eq!(effect_of(&Method::PATCH, reset), Effect::Change);
        assert_eq!(
            effect_of(&Method::GET, Some("/api/nowhere")),
            Effect::Change
        );
        assert_eq!(effect_of(&Method::GET, None), Effect::Change);
    }
}
