//! API tokens: operators create and revoke the tokens scripts call the
//! API with. A new token is shown once, in the answer that made it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{chrome, see_other};
use crate::domain::{OperatorName, TokenId, TokenLabel, TokenLabelError};
use crate::state::{Action, Outcome, StateError};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::login_return::Returned;
use crate::web::login_session::Operator;
use crate::web::once::{self, Claim, FormIds};
use crate::web::pages::{TokenCreatedPage, TokenRevokePage, TokensPage, render, render_once};
use crate::web::{AppData, WebError};

const TOKENS: &str = "/api-tokens";

pub async fn list(
    app: web::Data<AppData>,
    ids: web::Data<FormIds>,
    operator: Operator,
    returned: Returned,
) -> Result<HttpResponse, WebError> {
    let flash = operator.session.take_flash();
    let typed = Typed {
        label: returned.label.unwrap_or_default(),
        read_only: returned.read_only.is_some(),
        error: None,
    };
    page(&app, &ids, &operator, typed, flash, StatusCode::OK).await
}

/// What was typed in the create form, and why it was refused.
#[derive(Default)]
struct Typed {
    label: String,
    read_only: bool,
    error: Option<String>,
}

async fn page(
    app: &AppData,
    ids: &FormIds,
    operator: &Operator,
    typed: Typed,
    flash: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let page = TokensPage {
        chrome: chrome(operator, None),
        tokens: app.store.list_tokens().await?,
        flash,
        form_id: ids.issue(&operator.session_hash, Action::CreateToken, "", ""),
        label: typed.label,
        read_only: typed.read_only,
        error: typed.error,
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    form_id: String,
    #[serde(default)]
    label: String,
    read_only: Option<String>,
}

impl NewTokenForm {
    pub(super) fn label(&self) -> Result<TokenLabel, TokenLabelError> {
        TokenLabel::parse(self.label.trim())
    }
}

pub async fn create(
    app: web::Data<AppData>,
    ids: web::Data<FormIds>,
    operator: Operator,
    form: CsrfForm<NewTokenForm>,
) -> Result<HttpResponse, WebError> {
    let read_only = form.read_only.is_some();
    let label = match form.label() {
        Ok(label) => label,
        Err(error) => {
            let typed = Typed {
                label: form.label.clone(),
                read_only,
                error: Some(error.to_string()),
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return page(&app, &ids, &operator, typed, None, status).await;
        }
    };
    // Everything that could fail is done before the change: the answer
    // carries the only copy of the new token.
    let name = OperatorName::parse(&operator.name).map_err(WebError::internal)?;
    let chrome = chrome(&operator, None);
    let ticket = match once::claim(
        &app,
        &ids,
        &operator,
        "",
        &form.form_id,
        Action::CreateToken,
        "",
    )
    .await?
    {
        Claim::First(ticket) => ticket,
        Claim::Replay(used) => {
            let page = TokenCreatedPage {
                chrome,
                id: String::new(),
                token: None,
                at: used.at,
            };
            let status = if used.done {
                StatusCode::OK
            } else {
                StatusCode::CONFLICT
            };
            return render(status, &page);
        }
    };
    let result = app.store.create_token(&name, &label, read_only).await;
    ticket.settle(&app, &result, |_| true).await;
    let id = result.as_ref().ok().map(|(info, _)| info.id.clone());
    record(&app, &operator, Action::CreateToken, id, &result).await;
    let (info, token) = result?;
    tracing::info!(operator = %operator.name, token = %info.id, "API token created");
    let page = TokenCreatedPage {
        chrome,
        id: info.id,
        token: Some(token.expose().to_owned()),
        at: String::new(),
    };
    Ok(render_once(&page, || page.plain()))
}

/// Asks before revoking a token: scripts using it are refused at once, and
/// a revoked token cannot be brought back. A token already revoked (or
/// never made) is a 404 that says so.
pub async fn revoke_confirm(
    app: web::Data<AppData>,
    operator: Operator,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    // The address is quoted only once it is a well-formed id: it may be a
    // whole token pasted, or text made to be shown on a pgusers page.
    let wanted = TokenId::parse(&id).map_err(|e| WebError::NotFound(e.to_string()))?;
    let token = app
        .store
        .list_tokens()
        .await?
        .into_iter()
        .find(|token| token.id == wanted.to_string())
        .ok_or_else(|| {
            WebError::NotFound(format!(
                "API token {wanted} does not exist or is already revoked."
            ))
        })?;
    let page = TokenRevokePage {
        chrome: chrome(&operator, None),
        token,
    };
    render(StatusCode::OK, &page)
}

/// Revokes a token. Sent again (a reload), it finds nothing left to
/// revoke and says so: it never acts twice.
pub async fn revoke(
    app: web::Data<AppData>,
    operator: Operator,
    id: web::Path<String>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let id = TokenId::parse(&id).map_err(|e| WebError::NotFound(e.to_string()))?;
    let result = app.store.revoke_token(&id).await;
    record(
        &app,
        &operator,
        Action::RevokeToken,
        Some(id.to_string()),
        &result,
    )
    .await;
    let flash = match result {
        Ok(_) => format!("API token {id} revoked: scripts using it are refused from now on."),
        Err(StateError::TokenNotFound(_)) => format!("API token {id} is already revoked."),
        Err(other) => return Err(other.into()),
    };
    tracing::info!(operator = %operator.name, token = %id, "API token revoked");
    operator.session.flash(flash);
    Ok(see_other(TOKENS))
}

async fn record<T>(
    app: &AppData,
    operator: &Operator,
    action: Action,
    id: Option<String>,
    result: &Result<T, StateError>,
) {
    let ended = Outcome::of_state(result);
    crate::operations::record(&app.store, &operator.actor(), action, None, id, ended).await;
}
