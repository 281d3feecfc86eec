//! A user's page (what the list says of it, and who is connected as it),
//! and ending its sessions.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::users::{ConfirmForm, place};
use super::{chrome, see_other};
use crate::registry::ManagedDatabase;
use crate::state::Action;
use crate::web::csrf::CsrfForm;
use crate::web::list_place::ListPlace;
use crate::web::login_session::Operator;
use crate::web::once::{FormIds, Once, UserForm};
use crate::web::pages::{EndSessionsConfirmPage, UserPage, render};
use crate::web::{AppData, WebError};

/// Where a user's page is, coming from the list at `back`.
pub(super) fn user_page(database: &ManagedDatabase, user: &str, back: &ListPlace) -> String {
    format!(
        "{}{}",
        crate::web::paths::user(database.id.as_str(), user, "details"),
        back.query()
    )
}

pub async fn details(
    app: web::Data<AppData>,
    operator: Operator,
    path: web::Path<(String, String)>,
    back: ListPlace,
) -> Result<HttpResponse, WebError> {
    let (database, name) = place(&app, &path)?;
    let found = database.roles.sessions(&name).await?;
    let page = UserPage {
        chrome: chrome(&operator, Some(database)).returning_to(&back),
        user: found.user,
        sessions: found.sessions,
        hidden_note: found.hidden_note,
        flash: operator.session.take_flash(),
    };
    render(StatusCode::OK, &page)
}

pub async fn end_confirm(
    app: web::Data<AppData>,
    ids: web::Data<FormIds>,
    operator: Operator,
    path: web::Path<(String, String)>,
    back: ListPlace,
) -> Result<HttpResponse, WebError> {
    let (database, name) = place(&app, &path)?;
    database.roles.ensure_sessions_endable(&name).await?;
    let user = database.roles.find(&name).await?;
    let page = EndSessionsConfirmPage {
        chrome: chrome(&operator, Some(database)).returning_to(&back),
        form_id: ids.issue(
            &operator.session_hash,
            Action::EndSessions,
            database.id.as_str(),
            name.as_str(),
        ),
        username: name.to_string(),
        sessions: user.sessions,
        resettable: user.manageable(),
    };
    render(StatusCode::OK, &page)
}

pub async fn end(
    app: web::Data<AppData>,
    ids: web::Data<FormIds>,
    operator: Operator,
    path: web::Path<(String, String)>,
    back: ListPlace,
    form: CsrfForm<ConfirmForm>,
) -> Result<HttpResponse, WebError> {
    let ops = app.operations(operator.actor());
    let (database, name) = place(&app, &path)?;
    let once = UserForm {
        ids: &ids,
        operator: &operator,
        database,
        form_id: &form.form_id,
        action: Action::EndSessions,
        target: name.as_str(),
        place: &back,
    };
    let ended = match once.act(&app, ops.end_sessions(database, &name)).await? {
        Once::Acted(result) => result?,
        Once::Replayed(page) => return Ok(page),
    };
    let shown = crate::domain::visible(name.as_str());
    let what = crate::domain::count(ended, "session", "sessions");
    operator
        .session
        .flash(format!("Ended {what} of user \"{shown}\"."));
    Ok(see_other(&user_page(database, name.as_str(), &back)))
}
