use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::see_other;
use crate::state::{LoginPolicy, Outcome, Throttle};
use crate::web::pages::{LoginPage, render};
use crate::web::session::UserSession;
use crate::web::{AppState, WebError, audit};

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

/// Checks a login, slowing down and then locking out repeated failures by
/// operator name or client address. The messages never say which of the
/// name or the password was wrong.
pub async fn submit(
    app: web::Data<AppState>,
    policy: web::Data<LoginPolicy>,
    req: HttpRequest,
    session: UserSession,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    session.check_csrf(&form.csrf_token)?;
    let LoginForm {
        username, password, ..
    } = form.into_inner();
    let username = username.trim().to_owned();
    let address = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |addr| addr.ip().to_string());
    let failures = app
        .state
        .recent_login_failures(&username, &address, policy.window)
        .await?;
    let again = |status, error: &str| {
        let page = LoginPage {
            csrf: session.csrf_token(),
            username: username.clone(),
            error: Some(error.to_owned()),
        };
        render(status, &page)
    };
    match policy.decide(failures) {
        Throttle::Locked => {
            audit::login(
                &app,
                &username,
                &address,
                Outcome::Refused,
                Some("locked out"),
            )
            .await;
            let minutes = policy.window.as_secs().div_ceil(60);
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many failed logins. Try again in {minutes} minutes."),
            );
        }
        Throttle::Delay(delay) => tokio::time::sleep(delay).await,
        Throttle::Allow => {}
    }
    if app.state.verify_operator(&username, password).await? {
        app.state.clear_login_failures(&username).await?;
        session.log_in(&username)?;
        audit::login(&app, &username, &address, Outcome::Ok, None).await;
        return Ok(see_other("/"));
    }
    app.state.add_login_failure(&username, &address).await?;
    audit::login(&app, &username, &address, Outcome::Refused, None).await;
    again(StatusCode::UNAUTHORIZED, "Invalid name or password.")
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
