use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::chrome;
use crate::web::login_session::Operator;
use crate::web::pages::{OverviewPage, render};
use crate::web::{AppData, WebError};

/// The database's dashboard: what it is, with the Settings tab beside it.
pub async fn show(
    app: web::Data<AppData>,
    operator: Operator,
    db: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let database = app.database(&db)?;
    let roles = &database.roles;
    let page = OverviewPage {
        chrome: chrome(&operator, Some(database)),
        version: roles.server_version().await?,
        connection: roles.connection_details().await?,
        user_count: roles.count().await?,
        admin: roles.admin_kind().await?,
        security: roles.connection_security().await?,
    };
    render(StatusCode::OK, &page)
}
