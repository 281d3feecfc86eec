//! Settings › Health: the access doctor's findings, and their fixes.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use serde::Deserialize;

use super::{chrome, paths, see_other};
use crate::registry::ManagedDatabase;
use crate::web::csrf::CsrfForm;
use crate::web::login_session::Operator;
use crate::web::pages::{DoctorPage, render};
use crate::web::{AppData, WebError};

fn health_page(database: &ManagedDatabase) -> String {
    paths::health(database.id.as_str())
}

pub async fn show(
    app: web::Data<AppData>,
    operator: Operator,
    db: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let database = app.database(&db)?;
    page(&operator, database, StatusCode::OK, None).await
}

/// The page, with `error` above the findings: kept ones while no pgusers
/// changed a role and for a few seconds ([`crate::roles::KEPT_FOR`]).
async fn page(
    operator: &Operator,
    database: &ManagedDatabase,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let page = DoctorPage {
        chrome: chrome(operator, Some(database)),
        findings: database.roles.check_access_kept().await?.to_vec(),
        flash: operator.session.take_flash(),
        error,
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct FixForm {
    /// The finding's key, as the page showed it; the fix is looked up
    /// again from it, never taken from the form.
    #[serde(default)]
    pub(super) finding: String,
}

pub async fn fix(
    app: web::Data<AppData>,
    operator: Operator,
    db: web::Path<String>,
    form: CsrfForm<FixForm>,
) -> Result<HttpResponse, WebError> {
    let database = app.database(&db)?;
    let key = form.into_inner().finding;
    let result = app
        .operations(operator.actor())
        .fix_access(database, &key)
        .await
        .recorded()
        .await;
    match result {
        Ok(Some(finding)) => {
            operator
                .session
                .flash(format!("Fixed: {}", crate::domain::visible(&finding.words)));
            Ok(see_other(&health_page(database)))
        }
        Ok(None) => {
            operator.session.flash(
                "Nothing to fix: that finding is no longer there, or is not one pgusers fixes."
                    .to_owned(),
            );
            Ok(see_other(&health_page(database)))
        }
        // Whatever stopped it, say so above the findings: the page shows
        // what is still wrong (and, should the database be away, the
        // error page says that instead).
        Err(error) => {
            let error = WebError::from(error);
            crate::web::request_log::failure_shown_in_page(&error);
            let text = format!("Nothing was changed. {}", app.tell(&error));
            page(&operator, database, error.status_code(), Some(text)).await
        }
    }
}
