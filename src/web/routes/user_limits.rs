//! A user's expiry and connection limit: the form, and saving it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use serde::Deserialize;

use super::sessions::user_page;
use super::users::{invalid_status, place};
use super::{chrome, see_other};
use crate::domain::{Expiry, LimitsChange, RoleName};
use crate::operations::{limit_messages, shown_in_form};
use crate::registry::ManagedDatabase;
use crate::roles::DatabaseUser;
use crate::web::csrf::CsrfForm;
use crate::web::list_place::ListPlace;
use crate::web::login_return::Returned;
use crate::web::login_session::Operator;
use crate::web::pages::{LimitsPage, render};
use crate::web::{AppData, WebError};

#[derive(Deserialize)]
pub struct LimitsForm {
    #[serde(default)]
    expires: String,
    #[serde(default)]
    connection_limit: String,
    /// The values the form was shown with: a limit left as it was is kept
    /// exactly (an expiry at another time than midnight, `-infinity`).
    #[serde(default)]
    expires_was: String,
    #[serde(default)]
    connection_limit_was: String,
    /// The past day the person confirmed cutting the user off with.
    #[serde(default)]
    cut_off: String,
}

impl LimitsForm {
    /// What the person changed; a past day is allowed here: it cuts an
    /// existing user off.
    pub(super) fn change(&self) -> Result<LimitsChange, crate::domain::LimitProblems> {
        LimitsChange::from_entry(
            changed(&self.expires, &self.expires_was),
            changed(&self.connection_limit, &self.connection_limit_was),
        )
    }
}

/// `typed`, unless it is what the form was shown with.
fn changed<'a>(typed: &'a str, was: &str) -> Option<&'a str> {
    (typed.trim() != was.trim()).then_some(typed)
}

/// The form as `user`'s limits are now.
fn as_they_are(user: &DatabaseUser) -> (String, String, Option<String>) {
    let expires = user.expires.as_deref().unwrap_or("");
    let day = expires.get(..10).unwrap_or("").to_owned();
    let not_midnight = (!expires.is_empty() && !expires.ends_with("T00:00:00Z"))
        .then(|| user.expires_shown())
        .flatten();
    let limit = user
        .connection_limit
        .map(|n| n.to_string())
        .unwrap_or_default();
    (day, limit, not_midnight)
}

pub async fn form(
    app: web::Data<AppData>,
    operator: Operator,
    path: web::Path<(String, String)>,
    back: ListPlace,
    returned: Returned,
) -> Result<HttpResponse, WebError> {
    let (database, name) = place(&app, &path)?;
    database.roles.ensure_changeable(&name).await?;
    let user = database.roles.find(&name).await?;
    let (expires, connection_limit, current_expiry) = as_they_are(&user);
    // What was typed before a login, if it came back; the limits as they
    // are stay the reference for what changed.
    let page = LimitsPage {
        chrome: chrome(&operator, Some(database)).returning_to(&back),
        username: user.username,
        expires: returned.expires.unwrap_or_else(|| expires.clone()),
        connection_limit: returned
            .connection_limit
            .unwrap_or_else(|| connection_limit.clone()),
        expires_was: expires,
        connection_limit_was: connection_limit,
        current_expiry,
        expires_errors: Vec::new(),
        connection_limit_errors: Vec::new(),
        form_error: None,
        confirm_cut_off: None,
    };
    render(StatusCode::OK, &page)
}

pub async fn save(
    app: web::Data<AppData>,
    operator: Operator,
    path: web::Path<(String, String)>,
    back: ListPlace,
    form: CsrfForm<LimitsForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    let (database, name) = place(&app, &path)?;
    let again = Again {
        operator: &operator,
        database,
        name: &name,
        form: &form,
        back: &back,
    };
    let change = match form.change() {
        Ok(change) => change,
        Err(problems) => return again.page(invalid_status(), &problems, None),
    };
    // Cutting a user off takes a second look, for the day typed (another
    // past day is asked about again).
    if let Some(day) = change.cuts_off(Expiry::today())
        && form.cut_off != day.to_string()
    {
        return again.confirm(&day.to_string());
    }
    let result = app
        .operations(operator.actor())
        .set_limits(database, &name, &change)
        .await
        .recorded()
        .await;
    match result {
        Ok(()) => {
            let shown = crate::domain::visible(name.as_str());
            operator.session.flash(format!(
                "Expiry and connection limit of user \"{shown}\" saved."
            ));
            Ok(see_other(&user_page(database, name.as_str(), &back)))
        }
        // Busy, or the database refused or is away: say why above what
        // was typed.
        Err(error) if shown_in_form(error.kind()) => {
            let error = WebError::from(error);
            crate::web::request_log::failure_shown_in_page(&error);
            again.page(
                error.status_code(),
                &Default::default(),
                Some(app.tell(&error)),
            )
        }
        Err(other) => Err(other.into()),
    }
}

/// What it takes to show the form again, as typed.
struct Again<'a> {
    operator: &'a Operator,
    database: &'a ManagedDatabase,
    name: &'a RoleName,
    form: &'a LimitsForm,
    back: &'a ListPlace,
}

impl Again<'_> {
    /// The form as typed, with why it was refused.
    fn page(
        &self,
        status: StatusCode,
        problems: &crate::domain::LimitProblems,
        form_error: Option<String>,
    ) -> Result<HttpResponse, WebError> {
        self.shown(status, limit_messages(problems), form_error, None)
    }

    /// The form as typed, asking to confirm cutting the user off on `day`.
    fn confirm(&self, day: &str) -> Result<HttpResponse, WebError> {
        self.shown(
            StatusCode::OK,
            Default::default(),
            None,
            Some(day.to_owned()),
        )
    }

    fn shown(
        &self,
        status: StatusCode,
        (expires_errors, connection_limit_errors): (Vec<String>, Vec<String>),
        form_error: Option<String>,
        confirm_cut_off: Option<String>,
    ) -> Result<HttpResponse, WebError> {
        let page = LimitsPage {
            chrome: chrome(self.operator, Some(self.database)).returning_to(self.back),
            username: self.name.to_string(),
            expires: self.form.expires.clone(),
            connection_limit: self.form.connection_limit.clone(),
            expires_was: self.form.expires_was.clone(),
            connection_limit_was: self.form.connection_limit_was.clone(),
            current_expiry: None,
            expires_errors,
            connection_limit_errors,
            form_error,
            confirm_cut_off,
        };
        render(status, &page)
    }
}
