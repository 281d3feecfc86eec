//! Activity: the audit log of every database, newest first.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::chrome;
use crate::web::login_session::Operator;
use crate::web::pages::{ActivityPage, render};
use crate::web::{AppData, WebError};

/// Entries per page.
const PER_PAGE: u32 = 25;

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: u32,
}

pub async fn show(
    app: web::Data<AppData>,
    operator: Operator,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, WebError> {
    let page = query.page;
    let entries = app.store.audit_entries(page, PER_PAGE).await?;
    let view = ActivityPage {
        chrome: chrome(&operator, None),
        entries: entries.entries,
        newer: page.checked_sub(1),
        older: entries.more.then_some(page + 1),
    };
    render(StatusCode::OK, &view)
}
