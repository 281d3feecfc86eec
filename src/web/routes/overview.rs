use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::chrome;
use crate::web::pages::{OverviewPage, render};
use crate::web::session::Operator;
use crate::web::{AppState, WebError};

/// The database's dashboard: what it is, with the Settings tab beside it.
pub async fn show(app: web::Data<AppState>, operator: Operator) -> Result<HttpResponse, WebError> {
    let page = OverviewPage {
        chrome: chrome(&app, &operator).await?,
        version: app.roles.server_version().await?,
        connection: app.roles.connection_details().await?,
        user_count: app.roles.list().await?.len(),
        admin: app.roles.admin_kind().await?,
    };
    render(StatusCode::OK, &page)
}
