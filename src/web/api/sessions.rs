//! Who is connected as a user, and ending its sessions.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::ApiError;
use super::users::{ChangeRefusals, UserRefusals, database, role};
use crate::roles::Session;
use crate::web::AppData;

/// One session of a user on the server.
#[derive(Serialize, ToSchema)]
pub struct ApiSession {
    /// The server process serving it.
    pub pid: i32,
    /// The database it is connected to.
    pub database: Option<String>,
    /// The client's address, `local` over a Unix socket; null when pgusers'
    /// role may not see it.
    pub client_address: Option<String>,
    /// What the client said it is (empty when it said nothing).
    pub application_name: String,
    /// `active`, `idle`, `idle in transaction`…; null when hidden.
    pub state: Option<String>,
    /// When it began, UTC (`2026-11-27T08:00:00Z`); null when hidden.
    pub since: Option<String>,
}

impl From<Session> for ApiSession {
    fn from(session: Session) -> Self {
        Self {
            pid: session.pid,
            database: session.database,
            client_address: session.client_address,
            application_name: session.application_name,
            state: session.state,
            since: session.since,
        }
    }
}

/// A user's sessions, oldest first.
#[derive(Serialize, ToSchema)]
pub struct SessionsBody {
    pub name: String,
    pub sessions: Vec<ApiSession>,
    /// Why some details are null, and the grant that shows them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_note: Option<String>,
}

/// How many sessions were ended.
#[derive(Serialize, ToSchema)]
pub struct EndedBody {
    pub ended: u64,
}

#[utoipa::path(
    get, path = "/api/databases/{id}/users/{name}/sessions", tag = "database users",
    params(("id" = String, Path, description = "The database's ID"),
           ("name" = String, Path, description = "The user's name")),
    responses(
        (status = 200, description = "The user's open sessions, oldest first", body = SessionsBody),
        UserRefusals,
    ),
    security(("token" = []))
)]
pub async fn list(
    app: web::Data<AppData>,
    _caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let database = database(&app, &path.0)?;
    let found = database.roles.sessions(&role(&path.1)?).await?;
    Ok(HttpResponse::Ok().json(SessionsBody {
        name: found.user.username,
        sessions: found.sessions.into_iter().map(ApiSession::from).collect(),
        hidden_note: found.hidden_note,
    }))
}

#[utoipa::path(
    delete, path = "/api/databases/{id}/users/{name}/sessions", tag = "database users",
    params(("id" = String, Path, description = "The database's ID"),
           ("name" = String, Path, description = "The user's name")),
    responses(
        (status = 200, description = "The sessions open now were ended; the user may log in again", body = EndedBody),
        UserRefusals, ChangeRefusals,
    ),
    security(("token" = []))
)]
pub async fn end(
    app: web::Data<AppData>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let ops = app.operations(caller.actor());
    let database = ops.database(&path.0)?;
    let name = role(&path.1)?;
    let ended = ops.end_sessions(database, &name).await.recorded().await?;
    Ok(HttpResponse::Ok().json(EndedBody { ended }))
}
