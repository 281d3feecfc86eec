//! The JSON API under `/api`, for scripts, CI jobs and Terraform: the same
//! role module as the dashboard, in the shapes of Scalingo's
//! database-users API. Callers show an operator's token
//! (`Authorization: Bearer …`); no cookie is read or set here, so no
//! cross-site request can ride on a browser's session and no CSRF token is
//! needed. Its OpenAPI document, generated from these handlers, is at
//! `/api/openapi.json`.

mod auth;
mod error;
mod openapi;
mod sessions;
mod users;

pub use auth::Caller;
pub use error::ApiError;

use actix_web::error::JsonPayloadError;
use actix_web::http::Method;
use actix_web::web::{self, ServiceConfig};
use actix_web::{FromRequest, Handler, HttpResponse, Responder, Route};
use serde::Serialize;
use utoipa::ToSchema;

use crate::registry::ManagedDatabase;
use crate::web::AppData;
use error::ErrorBody;

/// Where the API is.
pub const PREFIX: &str = "/api";

const USERS: &str = "/databases/{id}/users";
const USER: &str = "/databases/{id}/users/{name}";
const RESET: &str = "/databases/{id}/users/{name}/reset_password";
const LIMITS: &str = "/databases/{id}/users/{name}/limits";
const SESSIONS: &str = "/databases/{id}/users/{name}/sessions";

/// The route table: every endpoint, what it does, and whether it changes
/// anything. The application, the list of endpoints ([`endpoints`]) and
/// the read-only token check ([`Caller`]) all read it.
fn routes(r: &mut impl Routes) {
    use Effect::{Change, Read};
    r.add(Read, Method::GET, "/openapi.json", openapi::document)
        .add(Read, Method::GET, "/databases", databases)
        .add(Read, Method::GET, USERS, users::list)
        .add(Change, Method::POST, USERS, users::create)
        .add(Read, Method::GET, USER, users::show)
        .add(Change, Method::PATCH, USER, users::update)
        .add(Change, Method::DELETE, USER, users::delete)
        // Scalingo's JavaScript client posts; its Go client patches.
        .add(Change, Method::POST, RESET, users::reset_password)
        .add(Change, Method::PATCH, RESET, users::reset_password)
        .add(Change, Method::PUT, LIMITS, users::set_limits)
        .add(Read, Method::GET, SESSIONS, sessions::list)
        .add(Change, Method::DELETE, SESSIONS, sessions::end);
}

/// Whether an endpoint changes anything. Tagged in the route table, not
/// read from the HTTP method: a reset also takes PATCH, and an endpoint
/// may be a POST that changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Read,
    Change,
}

/// One endpoint of the route table; `path` is under [`PREFIX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub effect: Effect,
}

/// Every endpoint, in the route table's order.
pub fn endpoints() -> &'static [Endpoint] {
    static LIST: std::sync::OnceLock<Vec<Endpoint>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        let mut list = List(Vec::new());
        routes(&mut list);
        list.0
    })
}

/// What the endpoint `method` `pattern` (as actix matched it, with
/// [`PREFIX`]) does; an endpoint not in the table counts as a change.
pub(super) fn effect_of(method: &Method, pattern: Option<&str>) -> Effect {
    let path = pattern.and_then(|pattern| pattern.strip_prefix(PREFIX));
    endpoints()
        .iter()
        .find(|endpoint| Some(endpoint.path) == path && endpoint.method == method)
        .map_or(Effect::Change, |endpoint| endpoint.effect)
}

/// Where the routes go: the application, or the list of endpoints.
trait Routes {
    fn add<F, Args>(
        &mut self,
        effect: Effect,
        method: Method,
        path: &'static str,
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static;
}

/// The application's routes, one resource per path, each answering a
/// method it does not take with a JSON 405.
#[derive(Default)]
struct Register(Vec<(&'static str, Vec<Route>)>);

impl Routes for Register {
    fn add<F, Args>(
        &mut self,
        _: Effect,
        method: Method,
        path: &'static str,
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let route = web::method(method).to(handler);
        match self.0.iter_mut().find(|(known, _)| *known == path) {
            Some((_, routes)) => routes.push(route),
            None => self.0.push((path, vec![route])),
        }
        self
    }
}

struct List(Vec<Endpoint>);

impl Routes for List {
    fn add<F, Args>(
        &mut self,
        effect: Effect,
        method: Method,
        path: &'static str,
        _: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.0.push(Endpoint {
            method,
            path,
            effect,
        });
        self
    }
}

/// The routes under [`PREFIX`].
pub fn configure(cfg: &mut ServiceConfig) {
    let mut register = Register::default();
    routes(&mut register);
    cfg.app_data(json_config()).app_data(query_config());
    for (path, routes) in register.0 {
        let resource = routes
            .into_iter()
            .fold(web::resource(path), |resource, route| resource.route(route))
            .default_service(web::to(not_allowed));
        cfg.service(resource);
    }
    cfg.default_service(web::to(no_endpoint));
}

/// While the embedded PostgreSQL that `serve` runs is down, a 503 says why
/// (restarting, stopped on purpose, given up) in the words the pages use,
/// instead of "try again in a moment", which is true only of a server that
/// comes back.
pub async fn outage_words(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let app = req.app_data::<web::Data<AppData>>().cloned();
    let response = next.call(req).await?;
    let outage = (response.status() == actix_web::http::StatusCode::SERVICE_UNAVAILABLE)
        .then(|| app.and_then(|app| app.outage()))
        .flatten();
    let Some(outage) = outage else {
        return Ok(response.map_into_left_body());
    };
    let body = serde_json::to_string(&ErrorBody {
        error: crate::web::WebError::public_outage(&outage),
    })
    .unwrap_or_default();
    Ok(response
        .map_body(|_, _| actix_web::body::EitherBody::right(actix_web::body::BoxBody::new(body))))
}

/// A query that cannot be read (a parameter given twice) is a JSON 400.
fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| {
        ApiError::BadRequest(format!(
            "The query cannot be read: {}.",
            super::error_page::query_problem(&error)
        ))
        .into()
    })
}

/// Bodies are JSON of at most 16 KiB. A body that is not says where, never
/// what it holds (a value in it may be a password).
fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(16 * 1024)
        .error_handler(|error, _| {
            let message = match &error {
                JsonPayloadError::ContentType => {
                    "Send the body as JSON, with `Content-Type: application/json`.".to_owned()
                }
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => {
                    "The body is larger than 16 KiB.".to_owned()
                }
                JsonPayloadError::Deserialize(error) => shape_error(error),
                _ => "The body could not be read.".to_owned(),
            };
            ApiError::BadRequest(message).into()
        })
}

/// Why a body is not of the expected shape, with its line and column and,
/// when it is safe to say, which field: serde's own words may quote a value.
fn shape_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let text = error.to_string();
    let what = match error.classify() {
        Category::Data
            if text.starts_with("missing field") || text.starts_with("unknown field") =>
        {
            text.split(" at line ").next().unwrap_or("").to_owned()
        }
        Category::Data => {
            "a field has the wrong type (names are strings, read_only is true or false)".to_owned()
        }
        Category::Syntax => "the body is not valid JSON".to_owned(),
        Category::Eof => "the body ends too early".to_owned(),
        Category::Io => "the body could not be read".to_owned(),
    };
    format!(
        "The body is not what this endpoint takes: {what} (line {}, column {}). \
         /api/openapi.json describes it.",
        error.line(),
        error.column()
    )
}

async fn no_endpoint() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(
        "There is no API endpoint at this address; /api/openapi.json lists them.".to_owned(),
    ))
}

async fn not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed().json(ErrorBody {
        error: "This endpoint does not take this method; /api/openapi.json lists those it takes."
            .to_owned(),
    })
}

/// One managed database: nothing of where it is or who connects, only
/// whether pgusers' connection to it is protected.
#[derive(Serialize, ToSchema)]
pub struct ApiDatabase {
    pub id: String,
    pub name: String,
    /// `ok`, `unreachable` (down, or refusing connections now) or
    /// `misconfigured` (pgusers' settings for it need fixing).
    pub state: &'static str,
    /// How pgusers' own connection to it is protected; absent when it
    /// does not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<ApiConnectionSecurity>,
}

/// How pgusers' own connection to a database is protected.
#[derive(Serialize, ToSchema)]
pub struct ApiConnectionSecurity {
    /// Whether PostgreSQL sees the connection encrypted (TLS).
    pub encrypted: bool,
    /// `TLSv1.3`, `TLSv1.2`: when encrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<String>,
    /// What is checked of the server's certificate: `full` (its CA and host
    /// name), `ca` (its CA only) or `none`.
    pub verified: &'static str,
    /// `socket` (a Unix socket on the same machine), `none`, `unverified`,
    /// `verify-ca` or `verify-full`.
    pub summary: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct DatabasesBody {
    pub databases: Vec<ApiDatabase>,
}

#[utoipa::path(
    get, path = "/api/databases", tag = "databases",
    responses(
        (status = 200, description = "The databases pgusers manages", body = DatabasesBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 503, description = "pgusers' state database is unavailable", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn databases(app: web::Data<AppData>, _caller: Caller) -> impl Responder {
    let databases =
        futures_util::future::join_all(app.databases.all().iter().map(database_state)).await;
    HttpResponse::Ok().json(DatabasesBody { databases })
}

async fn database_state(database: &ManagedDatabase) -> ApiDatabase {
    let checked = match database.roles.check().await {
        Ok(()) => database.roles.connection_security().await.map(Some),
        Err(error) => Err(error),
    };
    let mut connection = None;
    let state = match checked {
        Ok(security) => {
            connection = security.map(|security| ApiConnectionSecurity {
                encrypted: security.encrypted(),
                tls_version: security.tls_version().map(str::to_owned),
                verified: security.verification(),
                summary: security.short(),
            });
            "ok"
        }
        Err(error @ crate::roles::RoleError::Unavailable(_)) => {
            tracing::warn!(database = %database.id, error = %crate::failure::chain(&error), "managed database unavailable");
            "unreachable"
        }
        Err(error) => {
            tracing::error!(database = %database.id, error = %crate::failure::chain(&error), "managed database misconfigured");
            "misconfigured"
        }
    };
    ApiDatabase {
        id: database.id.to_string(),
        name: database.name.clone(),
        state,
        connection,
    }
}

/// Reads `input` as every body and query the API takes, each decoded as
/// its extractor does (`web::Json`: serde_json; `web::Query`:
/// serde_urlencoded) and then read by its handler's own code. For the
/// fuzz targets (`pgusers::web::fuzzing`).
pub(super) fn read_every_input(input: &[u8]) {
    if let Ok(request) = serde_json::from_slice::<users::NewUserRequest>(input) {
        let _ = users::read_new_user(&request.database_user);
    }
    if let Ok(request) = serde_json::from_slice::<users::LimitsRequest>(input) {
        let _ = users::read_limits(&request.database_user);
    }
    if let Ok(request) = serde_json::from_slice::<users::PasswordRequest>(input) {
        let _ = users::read_new_password(&request.database_user);
    }
    if let Ok(query) = serde_urlencoded::from_bytes::<users::ListQuery>(input) {
        let _ = users::read_list_query(&query);
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test as http;
    use actix_web::{App, HttpResponse, ResponseError, web};

    use super::*;

    /// What a body the API cannot read is answered: the status, and the
    /// error's words.
    async fn answer_to(content_type: Option<&str>, body: &str) -> (u16, String) {
        let app = http::init_service(App::new().app_data(json_config()).route(
            "/users",
            web::post().to(|_: web::Json<users::NewUserRequest>| async {
                HttpResponse::Created().finish()
            }),
        ))
        .await;
        let mut request = http::TestRequest::post()
            .uri("/users")
            .set_payload(body.to_owned());
        if let Some(content_type) = content_type {
            request = request.insert_header(("Content-Type", content_type));
        }
        let response = http::call_service(&app, request.to_request()).await;
        let status = response.status().as_u16();
        let body: serde_json::Value = http::read_body_json(response).await;
        (
            status,
            body["error"].as_str().unwrap_or_default().to_owned(),
        )
    }

    #[actix_web::test]
    async fn a_body_that_cannot_be_read_answers_400_saying_where_and_never_quoting_it() {
        let secret = "s3cret-password-value-in-the-body";
        let json = Some("application/json");

        let broken = answer_to(
            json,
            &format!("{{\"database_user\": {{\"password\": \"{secret}\""),
        )
        .await;
        let wrong_type = answer_to(
            json,
            &format!("{{\"database_user\": {{\"name\": [\"{secret}\"]}}}}"),
        )
        .await;
        let missing = answer_to(json, "{\"database_user\": {}}").await;
        let not_json = answer_to(None, &format!("name={secret}")).await;

        for (status, error) in [&broken, &wrong_type, &missing, &not_json] {
            assert_eq!(*status, 400, "{error}");
            assert!(!error.contains(secret), "{error}");
        }
        assert!(
            broken.1.contains("the body ends too early (line 1"),
            "{}",
            broken.1
        );
        assert!(
            wrong_type.1.contains("a field has the wrong type"),
            "{}",
            wrong_type.1
        );
        assert!(missing.1.contains("missing field `name`"), "{}", missing.1);
        assert!(
            not_json.1.contains("Content-Type: application/json"),
            "{}",
            not_json.1
        );
    }

    #[test]
    fn fields_that_break_the_rules_answer_422_with_every_message_under_its_field() {
        let fields: users::NewUserFields = serde_json::from_value(serde_json::json!({
            "name": "1x", "password": "short'pw", "password_confirmation": "other"
        }))
        .unwrap();

        let refused = users::read_new_user(&fields).expect_err("invalid");

        assert_eq!(refused.status_code().as_u16(), 422);
        let ApiError::Invalid(errors) = &refused else {
            panic!("{refused:?}")
        };
        assert_eq!(
            errors.keys().copied().collect::<Vec<_>>(),
            ["name", "password", "password_confirmation"]
        );
        assert!(
            errors["name"].len() >= 2,
            "every problem of the name: {errors:?}"
        );
        assert!(
            errors["password"].len() >= 2,
            "too short, and a quote: {errors:?}"
        );
        let text = format!("{errors:?}");
        assert!(
            !text.contains("short'pw"),
            "a password is never quoted: {text}"
        );
    }
}
