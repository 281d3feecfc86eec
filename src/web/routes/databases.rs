//! The dashboard's home: the databases it manages.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{chrome, paths, see_other};
use crate::registry::ManagedDatabase;
use crate::web::login_session::Operator;
use crate::web::pages::{DatabaseRow, DatabasesPage, render};
use crate::web::{AppData, WebError};

/// Every database with its version, user count and whether it answers. They
/// are asked at once, so one that does not answer delays the page by its
/// connection timeout at most, and breaks nothing.
pub async fn list(app: web::Data<AppData>, operator: Operator) -> Result<HttpResponse, WebError> {
    let rows = futures_util::future::join_all(app.databases.all().iter().map(row)).await;
    let page = DatabasesPage {
        chrome: chrome(&operator, None),
        databases: rows,
    };
    render(StatusCode::OK, &page)
}

async fn row(database: &ManagedDatabase) -> DatabaseRow {
    let facts = async {
        let version = database.roles.server_version().await?;
        let users = database.roles.count().await?;
        Ok::<_, crate::roles::RoleError>((version, users))
    };
    let (version, user_count, problem) = match facts.await {
        Ok((version, users)) => (Some(version), Some(users), None),
        Err(error) => {
            tracing::warn!(database = %database.id, error = %crate::failure::chain(&error), "a database on the home page cannot be used");
            let problem = match WebError::from(error) {
                WebError::Unavailable(_) => "unreachable",
                _ => "misconfigured",
            };
            (None, None, Some(problem))
        }
    };
    DatabaseRow {
        id: database.id.to_string(),
        name: database.name.clone(),
        version,
        user_count,
        problem,
    }
}

/// `/settings/…`, from before several databases: the users page of the
/// only database, or the list of databases when there are several.
pub async fn former_address(app: web::Data<AppData>, _operator: Operator) -> HttpResponse {
    match app.databases.all() {
        [only] => see_other(&paths::users(only.id.as_str())),
        _ => see_other("/"),
    }
}
