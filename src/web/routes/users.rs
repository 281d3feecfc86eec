//! Settings › Database Users: list, add, reset password, delete.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use serde::Deserialize;

use super::{chrome, paths, see_other};
use crate::domain::{PAGE_SIZE, RoleName};
use crate::failure::ErrorKind;
use crate::operations::{NewUserEntry, NewUserProblems, answers, shown_in_form};
use crate::registry::ManagedDatabase;
use crate::roles::{Listing, RoleError, Window};
use crate::state::Action;
use crate::web::csrf::CsrfForm;
use crate::web::list_place::{ListParams, ListPlace};
use crate::web::login_return::Returned;
use crate::web::login_session::Operator;
use crate::web::once::{FormIds, Once, UserForm};
use crate::web::pages::{
    DeleteConfirmPage, NewUserErrors, NewUserPage, PasswordPage, ResetConfirmPage, UsersPage,
    render, render_once,
};
use crate::web::{AppData, WebError};

/// Where a database's users page is.
pub(super) fn users_page(database: &ManagedDatabase) -> String {
    paths::users(database.id.as_str())
}

/// The users list where `params` put the person: a page of users matching
/// a search and filter, and how many match.
pub async fn list(
    app: web::Data<AppData>,
    operator: Operator,
    db: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, WebError> {
    let database = app.database(&db)?;
    let (place, problems) = ListPlace::read(&params);
    let listing = Listing {
        search: place.search.as_ref(),
        show: place.show,
        window: Window::Page {
            offset: place.page.offset(PAGE_SIZE),
            limit: PAGE_SIZE,
        },
    };
    let found = database.roles.list_page(&listing).await?;
    let page = UsersPage {
        chrome: chrome(&operator, Some(database)).returning_to(&place),
        encryption_note: crate::roles::unknown_encryption_note(&found.users),
        users: found.users,
        total: found.total,
        place,
        problems,
        flash: operator.session.take_flash(),
    };
    render(StatusCode::OK, &page)
}

/// Where to go back to after an action started from the list at `place`.
fn back_to(database: &ManagedDatabase, place: &ListPlace) -> String {
    format!("{}{}", users_page(database), place.query())
}

pub async fn new_form(
    app: web::Data<AppData>,
    ids: web::Data<FormIds>,
    operator: Operator,
    db: web::Path<String>,
    back: ListPlace,
    returned: Returned,
) -> Result<HttpResponse, WebError> {
    let database = app.database(&db)?;
    let page = NewUserPage {
        chrome: chrome(&operator, Some(database)).returning_to(&back),
        form_id: ids.issue(
            &operator.session_hash,
            Action::CreateUser,
            database.id.as_str(),
            "",
        ),
        username: returned.username.unwrap_or_default(),
        read_only: returned.read_only.is_some(),
        expires: returned.expires.unwrap_or_default(),
        connection_limit: returned.connection_limit.unwrap_or_default(),
        errors: NewUserErrors::default(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    form_id: String,
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
    read_only: Option<String>,
    /// Optional: a date, `YYYY-MM-DD`.
    #[serde(default)]
    expires: String,
    /// Optional: a whole number.
    #[serde(default)]
    connection_limit: String,
}

impl NewUserForm {
    /// What was typed, for the one set of rules.
    pub(super) fn entry(&self) -> NewUserEntry<'_> {
        NewUserEntry {
            username: &self.username,
            password: &self.password,
            confirmation: &self.password_confirmation,
            read_only: self.read_only.is_some(),
            expires: &self.expires,
            connection_limit: &self.connection_limit,
        }
    }
}

pub async fn create(
    app: web::Data<AppData>,
    ids: web::Data<FormIds>,
    operator: Operator,
    db: web::Path<String>,
    back: ListPlace,
    form: CsrfForm<NewUserForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.into_inner();
    let ops = app.operations(operator.actor());
    let database = ops.database(&db)?;
    let again = Again {
        ids: &ids,
        operator: &operator,
        database,
        form: &form,
        place: &back,
    };
    let user = match form.entry().read() {
        Ok(user) => user,
        Err(problems) => return again.form(problems.into()),
    };
    let username = user.username.to_string();
    // Everything that could fail is done before the change: once the user
    // is created, the answer may carry the only copy of its password.
    let chrome = chrome(&operator, Some(database)).returning_to(&back);
    let connection = database.roles.connection_details_as(&username).await?;
    let once = UserForm {
        ids: &ids,
        operator: &operator,
        database,
        form_id: &form.form_id,
        action: Action::CreateUser,
        target: &username,
        place: &back,
    };
    let result = match once.act(&app, ops.create_user(database, user)).await? {
        Once::Acted(result) => result,
        Once::Replayed(page) => return Ok(page),
    };
    // From here on nothing may fail before a generated password is shown.
    match result {
        Ok(None) => {
            operator
                .session
                .flash(format!("User \"{username}\" created."));
            Ok(see_other(&back_to(database, &back)))
        }
        Ok(Some(password)) => {
            let page = PasswordPage {
                chrome,
                username,
                password: password.expose().to_owned(),
                connection_uri: connection.url_with_password(&password),
                action: "created",
            };
            Ok(render_once(&page, || page.plain()))
        }
        Err(error @ RoleError::AlreadyExists(_)) => {
            let problems = NewUserProblems {
                username: vec![error.to_string()],
                ..NewUserProblems::default()
            };
            again.form(problems.into())
        }
        // The database refused or is away: say why above what was typed,
        // so nothing is lost when it is fixed.
        Err(error) if shown_in_form(error.kind()) => {
            let error = WebError::from(error);
            crate::web::request_log::failure_shown_in_page(&error);
            let status = error.status_code();
            let errors = NewUserErrors::whole_form(app.tell(&error));
            again.form_as(status, errors)
        }
        Err(other) => Err(other.into()),
    }
}

/// What it takes to show the new-user form again.
struct Again<'a> {
    ids: &'a FormIds,
    operator: &'a Operator,
    database: &'a ManagedDatabase,
    form: &'a NewUserForm,
    /// Where in the users list the person came from.
    place: &'a ListPlace,
}

impl Again<'_> {
    /// The form again, with a message at each wrong field and what was
    /// typed, except the passwords.
    fn form(&self, errors: NewUserErrors) -> Result<HttpResponse, WebError> {
        self.form_as(invalid_status(), errors)
    }

    /// [`Again::form`], answered with `status`.
    fn form_as(&self, status: StatusCode, errors: NewUserErrors) -> Result<HttpResponse, WebError> {
        let page = NewUserPage {
            chrome: chrome(self.operator, Some(self.database)).returning_to(self.place),
            // A new id: the failed sending gave its claim up, but the
            // corrected form is a new one.
            form_id: self.ids.issue(
                &self.operator.session_hash,
                Action::CreateUser,
                self.database.id.as_str(),
                "",
            ),
            username: self.form.username.clone(),
            read_only: self.form.read_only.is_some(),
            expires: self.form.expires.clone(),
            connection_limit: self.form.connection_limit.clone(),
            errors,
        };
        render(status, &page)
    }
}

/// The status of a form sent back with what was wrong in it.
pub(super) fn invalid_status() -> StatusCode {
    StatusCode::from_u16(answers(ErrorKind::Invalid).dashboard)
        .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
}

pub(super) fn target(name: &str) -> Result<RoleName, WebError> {
    RoleName::parse(name).map_err(|e| WebError::NotFound(e.to_string()))
}

/// The database and user a path names; an unknown database or a name no
/// role can have is a 404.
pub(super) fn place<'a>(
    app: &'a AppData,
    path: &(String, String),
) -> Result<(&'a ManagedDatabase, RoleName), WebError> {
    Ok((app.database(&path.0)?, target(&path.1)?))
}

pub async fn reset_confirm(
    app: web::Data<AppData>,
    ids: web::Data<FormIds>,
    operator: Operator,
    path: web::Path<(String, String)>,
    back: ListPlace,
) -> Result<HttpResponse, WebError> {
    let (database, name) = place(&app, &path)?;
    database.roles.ensure_changeable(&name).await?;
    let sessions = database.roles.find(&name).await?.sessions;
    let page = ResetConfirmPage {
        chrome: chrome(&operator, Some(database)).returning_to(&back),
        form_id: ids.issue(
            &operator.session_hash,
            Action::ResetPassword,
            database.id.as_str(),
            name.as_str(),
        ),
        username: name.to_string(),
        sessions,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub(super) form_id: String,
}

pub async fn reset(
    app: web::Data<AppData>,
    ids: web::Data<FormIds>,
    operator: Operator,
    path: web::Path<(String, String)>,
    back: ListPlace,
    form: CsrfForm<ConfirmForm>,
) -> Result<HttpResponse, WebError> {
    let ops = app.operations(operator.actor());
    let (database, name) = place(&app, &path)?;
    // Everything that could fail is done before the change: once the
    // password is reset, the answer carries the only copy of it.
    let chrome = chrome(&operator, Some(database)).returning_to(&back);
    let connection = database.roles.connection_details_as(name.as_str()).await?;
    let once = UserForm {
        ids: &ids,
        operator: &operator,
        database,
        form_id: &form.form_id,
        action: Action::ResetPassword,
        target: name.as_str(),
        place: &back,
    };
    let password = match once.act(&app, ops.reset_password(database, &name)).await? {
        Once::Acted(result) => result?,
        Once::Replayed(page) => return Ok(page),
    };
    // From here on nothing may fail before the password is shown.
    let page = PasswordPage {
        chrome,
        username: name.to_string(),
        password: password.expose().to_owned(),
        connection_uri: connection.url_with_password(&password),
        action: "updated",
    };
    Ok(render_once(&page, || page.plain()))
}

pub async fn delete_confirm(
    app: web::Data<AppData>,
    ids: web::Data<FormIds>,
    operator: Operator,
    path: web::Path<(String, String)>,
    back: ListPlace,
) -> Result<HttpResponse, WebError> {
    let (database, name) = place(&app, &path)?;
    let roles = &database.roles;
    roles.ensure_changeable(&name).await?;
    let ownership = roles.ownership(&name).await?;
    let sessions = roles.find(&name).await?.sessions;
    let page = DeleteConfirmPage {
        chrome: chrome(&operator, Some(database)).returning_to(&back),
        form_id: ids.issue(
            &operator.session_hash,
            Action::DeleteUser,
            database.id.as_str(),
            name.as_str(),
        ),
        username: name.to_string(),
        protected_user: roles.protected_user().await?,
        objects: ownership.objects,
        code: ownership.code,
        refused: ownership.refused,
        sessions,
    };
    render(StatusCode::OK, &page)
}

pub async fn delete(
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
        action: Action::DeleteUser,
        target: name.as_str(),
        place: &back,
    };
    match once.act(&app, ops.delete_user(database, &name)).await? {
        Once::Acted(result) => result?,
        Once::Replayed(page) => return Ok(page),
    }
    let shown = crate::domain::visible(name.as_str());
    operator.session.flash(format!("User \"{shown}\" deleted."));
    Ok(see_other(&back_to(database, &back)))
}
