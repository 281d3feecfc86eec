use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::see_other;
use crate::state::OperatorSecret;
use crate::web::pages::{LoginPage, render};
use crate::web::session::UserSession;
use crate::web::{AppState, WebError};

#[derive(Deserialize)]
pub struct LoginForm {
    csrf_token: String,
    username: String,
    password: String,
}

pub async fn form(session: UserSession) -> Result<HttpResponse, WebError> {
    if session.operator().is_some() {
        return Ok(see_other("/"));
    }
    let page = LoginPage {
        csrf: session.csrf_token(),
        username: String::new(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

pub async fn submit(
    app: web::Data<AppState>,
    session: UserSession,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    session.check_csrf(&form.csrf_token)?;
    let LoginForm {
        username, password, ..
    } = form.into_inner();
    let username = username.trim().to_owned();
    if app
        .state
        .verify_operator(&username, OperatorSecret::new(password))
        .await?
    {
        session.log_in(&username)?;
        tracing::info!(operator = %username, "operator logged in");
        return Ok(see_other("/"));
    }
    tracing::info!(operator = %username, "failed login");
    let page = LoginPage {
        csrf: session.csrf_token(),
        username,
        error: Some("Invalid name or password.".into()),
    };
    render(StatusCode::UNAUTHORIZED, &page)
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf_token: String,
}

pub async fn logout(
    session: UserSession,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, WebError> {
    session.check_csrf(&form.csrf_token)?;
    session.log_out();
    Ok(see_other("/login"))
}
