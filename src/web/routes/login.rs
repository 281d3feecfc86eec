use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::see_other;
use crate::domain::OperatorName;
use crate::state::{LoginPolicy, Outcome, Throttle};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::login_return::{local_page, location};
use crate::web::login_session::UserSession;
use crate::web::pages::{LoginPage, render};
use crate::web::{AppData, SessionPolicy, WebError, audit};

#[derive(Deserialize)]
pub struct LoginForm {
    pub(super) username: String,
    password: String,
    /// Where to go once logged in.
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    logged_out: Option<String>,
    #[serde(default)]
    next: String,
    unsent: Option<String>,
}

/// The login page. It needs the state database (operators, sessions): while
/// that does not answer, it says so with a 503 rather than a form that
/// cannot work.
pub async fn form(
    app: web::Data<AppData>,
    session: UserSession,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, WebError> {
    app.store.check().await?;
    let page = LoginPage {
        csrf: session.csrf_token(),
        username: String::new(),
        error: None,
        logged_out: query.logged_out.is_some(),
        next: returning_to(&query.next),
        unsent: query.unsent.is_some(),
    };
    render(StatusCode::OK, &page)
}

/// `next` if logging in may lead there, else nothing (the databases).
fn returning_to(next: &str) -> String {
    local_page(next).unwrap_or_default().to_owned()
}

/// Checks a login, locking out an address that fails too often and slowing
/// down a name that does (see `state::logins`). The messages never say
/// which of the name or the password was wrong.
/// The name field as typed (trimmed, to show back) and the operator it
/// names, if it could name one. Whatever else was typed there (a
/// password, by mistake) is never counted, recorded or sent to
/// PostgreSQL: only a name that could be an operator's is.
pub(super) fn typed_name(field: &str) -> (String, Option<OperatorName>) {
    let username = field.trim().to_owned();
    let name = OperatorName::parse(&username).ok();
    (username, name)
}

pub async fn submit(
    app: web::Data<AppData>,
    policy: web::Data<LoginPolicy>,
    sessions: web::Data<SessionPolicy>,
    req: HttpRequest,
    session: UserSession,
    form: CsrfForm<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let LoginForm {
        username,
        password,
        next,
    } = form.into_inner();
    let next = returning_to(&next);
    let (username, name) = typed_name(&username);
    let who = name
        .as_ref()
        .map_or_else(|| "(not an operator name)".to_owned(), ToString::to_string);
    let client = crate::web::forwarded::address(&req);
    let address = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let counted_as = client.map_or_else(|| "unknown".to_owned(), crate::state::throttling_key);
    let attempt = app
        .store
        .begin_login_attempt(&who, &counted_as, &policy)
        .await?;
    let again = |status, error: &str| {
        let page = LoginPage {
            csrf: session.csrf_token(),
            username: username.clone(),
            error: Some(error.to_owned()),
            logged_out: false,
            next: next.clone(),
            unsent: false,
        };
        render(status, &page)
    };
    let minutes = policy.window.as_secs().div_ceil(60);
    match attempt.throttle {
        Throttle::Locked => {
            // Once per address and window: a locked-out client must not be
            // able to flood the audit log under names of its choosing.
            if attempt.record_refusal {
                let detail = format!(
                    "locked out; further refusals from this address are not recorded for {minutes} minutes"
                );
                audit::login(&app, &who, &address, Outcome::Refused, Some(&detail)).await;
            }
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "Too many failed logins. Try again in {minutes} minutes, or ask an \
                     administrator to run `pgusers operators unlock{}` on the server.",
                    // No address to name: every address's, then.
                    client.map_or_else(String::new, |_| format!(" {counted_as}"))
                ),
            );
        }
        Throttle::Delay(delay) => tokio::time::sleep(delay).await,
        Throttle::Allow => {}
    }
    let verified = match &name {
        Some(name) => app.store.verify_operator(name.as_str(), password).await?,
        // The same work as for a real name, so the time tells nothing.
        None => crate::state::verify_password(password, None).await?,
    };
    if let (true, Some(name)) = (verified, &name) {
        app.store.login_succeeded(&attempt).await?;
        app.store
            .forget_expired_sessions(sessions.idle, sessions.lifetime)
            .await?;
        let session_id = app.store.start_session(name.as_str()).await?;
        session.log_in(&session_id)?;
        audit::login(&app, name.as_str(), &address, Outcome::Ok, None).await;
        let to = if next.is_empty() {
            "/".to_owned()
        } else {
            location(&next)
        };
        return Ok(see_other(&to));
    }
    app.store.login_failed(&attempt).await?;
    audit::login(&app, &who, &address, Outcome::Refused, None).await;
    again(StatusCode::UNAUTHORIZED, "Invalid name or password.")
}

/// Ends the session in this browser and on the server, so a copy of the
/// cookie is worth nothing either.
pub async fn logout(
    app: web::Data<AppData>,
    session: UserSession,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    if let Some(id) = session.log_out() {
        app.store.end_session(&id).await?;
    }
    // The session is gone, so no flash can carry the notice: the address does.
    Ok(see_other("/login?logged_out"))
}
