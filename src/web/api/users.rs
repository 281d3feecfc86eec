//! The database-users API, in the shapes of Scalingo's (go-scalingo's
//! `databases.go`): a script written for it works by changing the base URL
//! and the token.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoResponses, ToSchema};

use super::auth::Caller;
use super::error::{ApiError, ErrorBody, InvalidBody};
use crate::domain::{
    ConnectionDetails, EntryProblems, LimitsChange, NewPassword, PAGE_SIZE, PageNumber, Password,
    RoleName, Search, Show, visible,
};
use crate::operations::{NewUser, NewUserEntry, Operations, password_action};
use crate::registry::ManagedDatabase;
use crate::roles::{Access, DatabaseUser, Listing, PasswordEncryption, Window};
use crate::state::Action;
use crate::web::AppData;

/// How PostgreSQL keeps a user's password.
#[derive(Serialize, ToSchema)]
pub struct DbmsAttributes {
    /// `SCRAM-SHA-256`, `MD5`, `none`, or `unknown` (pgusers may not read
    /// `pg_authid`).
    pub password_encryption: String,
}

/// A database user.
#[derive(Serialize, ToSchema)]
pub struct ApiUser {
    pub name: String,
    pub read_only: bool,
    /// pgusers will not change this user: the protected default user, or
    /// a role that is more than an application user of this database.
    pub protected: bool,
    pub dbms_attributes: DbmsAttributes,
    /// Why pgusers does not manage this user, when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_manageable: Option<String>,
    /// How many sessions it has open on the server now.
    pub sessions: u64,
    /// When its password stops working, UTC (`2027-01-31T00:00:00Z`);
    /// null: never.
    pub expires: Option<String>,
    /// Whether that moment has passed.
    pub expired: bool,
    /// How many sessions it may open at once; null: no limit.
    pub connection_limit: Option<i32>,
    /// A generated password, shown once in the answer that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// With a generated password, a ready
    /// `postgresql://user:password@host:port/database` (the host and port
    /// clients use, `PGUSERS_PUBLIC_HOST`), shown once with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_uri: Option<String>,
}

impl ApiUser {
    fn of(user: DatabaseUser, password: Option<Password>) -> Self {
        Self {
            protected: !user.manageable(),
            not_manageable: if user.protected {
                None
            } else {
                user.not_manageable.map(|reason| reason.to_string())
            },
            name: user.username,
            read_only: user.read_only,
            sessions: user.sessions,
            expires: user.expires,
            expired: user.expired,
            connection_limit: user.connection_limit,
            dbms_attributes: DbmsAttributes {
                password_encryption: user.password_encryption.to_string(),
            },
            password: password.map(|password| password.expose().to_owned()),
            connection_uri: None,
        }
    }
}

/// `{"database-users": [...]}` (with a hyphen, as Scalingo's), and `meta`
/// when a page was asked for.
#[derive(Serialize, ToSchema)]
pub struct UsersBody {
    #[serde(rename = "database-users")]
    pub database_users: Vec<ApiUser>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<ListMeta>,
}

/// `{"pagination": {...}}`, as Scalingo's paginated lists.
#[derive(Serialize, ToSchema)]
pub struct ListMeta {
    pub pagination: Pagination,
}

/// Where a page is among the pages of a list.
#[derive(Serialize, ToSchema)]
pub struct Pagination {
    /// `null` on the first page.
    pub prev_page: Option<u32>,
    pub current_page: u32,
    /// `null` on the last page.
    pub next_page: Option<u32>,
    /// At least 1, even for an empty list.
    pub total_pages: u32,
    /// Users matching the search and filter, on all pages.
    pub total_count: u64,
}

/// The most users one page of the API may hold.
pub const PER_PAGE_MAX: u32 = 1000;

/// What a list asks for. All optional: without `page`, every matching user
/// in one answer (Scalingo's shape).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A page, from 1; adds `meta.pagination` to the answer.
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    /// Users per page, 1 to 1000 (default 50); only with `page`.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    per_page: Option<String>,
    /// Part of a name, matched without regard to case (`_` and `%` are
    /// plain characters).
    q: Option<String>,
    /// `all` (the default), `read-only`, `read-write` or `protected`.
    #[param(value_type = Option<String>)]
    show: Option<String>,
}

/// A valid [`ListQuery`].
pub(super) struct ListAsk {
    search: Option<Search>,
    show: Show,
    /// The page and its size, when one was asked for.
    page: Option<(PageNumber, u32)>,
}

pub(super) fn read_list_query(query: &ListQuery) -> Result<ListAsk, ApiError> {
    let mut errors = BTreeMap::new();
    let show = match query.show.as_deref() {
        None => Show::All,
        Some(word) => Show::parse(word).unwrap_or_else(|| {
            errors.insert(
                "show",
                vec!["must be all, read-only, read-write or protected".to_owned()],
            );
            Show::All
        }),
    };
    let page = query.page.as_deref().map(|page| {
        PageNumber::parse(page).unwrap_or_else(|| {
            errors.insert("page", vec!["must be a whole number from 1".to_owned()]);
            PageNumber::FIRST
        })
    });
    let per_page = match query.per_page.as_deref() {
        None => PAGE_SIZE,
        Some(_) if page.is_none() => {
            errors.insert("per_page", vec!["is used only with page".to_owned()]);
            PAGE_SIZE
        }
        Some(size) => match size.trim().parse::<u32>() {
            Ok(size) if (1..=PER_PAGE_MAX).contains(&size) => size,
            _ => {
                errors.insert(
                    "per_page",
                    vec![format!("must be a whole number from 1 to {PER_PAGE_MAX}")],
                );
                PAGE_SIZE
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    Ok(ListAsk {
        search: query.q.as_deref().and_then(Search::parse),
        show,
        page: page.map(|page| (page, per_page)),
    })
}

/// `{"database_user": {...}}`
#[derive(Serialize, ToSchema)]
pub struct UserBody {
    pub database_user: ApiUser,
}

/// A new user. Without both passwords, one is generated and returned once.
#[derive(Deserialize, ToSchema)]
pub struct NewUserFields {
    /// Sent by Scalingo's client; accepted and not used (the URL names the
    /// database).
    #[serde(default)]
    #[allow(dead_code)]
    pub database_id: Option<String>,
    /// 6 to 32 ASCII letters, digits and underscores, starting with a
    /// letter (not `pg_…`, nor a name PostgreSQL reserves).
    #[schema(
        pattern = "^[A-Za-z][A-Za-z0-9_]{5,31}$",
        min_length = 6,
        max_length = 32
    )]
    pub name: String,
    #[serde(default)]
    pub read_only: bool,
    /// 24 to 64 characters, without `'`, `"` or control characters.
    #[serde(default)]
    #[schema(
        pattern = "^[^'\"\\x00-\\x1f\\x7f-\\x9f]*$",
        min_length = 24,
        max_length = 64
    )]
    pub password: Option<String>,
    /// The same password again.
    #[serde(default)]
    #[schema(
        pattern = "^[^'\"\\x00-\\x1f\\x7f-\\x9f]*$",
        min_length = 24,
        max_length = 64
    )]
    pub password_confirmation: Option<String>,
    /// The day its password stops working, from 00:00 UTC (`VALID
    /// UNTIL`), `YYYY-MM-DD`, not in the past; absent or null: never.
    #[serde(default)]
    #[schema(format = Date, example = "2027-01-31")]
    pub expires: Option<String>,
    /// How many sessions it may open at once, 1 to 10000; absent or null:
    /// no limit.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000)]
    pub connection_limit: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewUserRequest {
    pub database_user: NewUserFields,
}

/// A change of a user's expiry and connection limit: a field left out
/// keeps its limit, null removes it.
#[derive(Deserialize, ToSchema)]
pub struct LimitsFields {
    /// The day its password stops working, from 00:00 UTC, `YYYY-MM-DD`
    /// (a past day cuts it off); null: never; absent: unchanged.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date, example = "2027-01-31")]
    pub expires: Option<Option<String>>,
    /// How many sessions it may open at once, 1 to 10000; null: no limit;
    /// absent: unchanged.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 10000)]
    pub connection_limit: Option<Option<i64>>,
}

/// A field that is there, null or not (`Some`); absent stays `None`
/// through `#[serde(default)]`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, ToSchema)]
pub struct LimitsRequest {
    pub database_user: LimitsFields,
}

/// A new password. Without both, one is generated and returned once.
#[derive(Deserialize, ToSchema)]
pub struct PasswordFields {
    #[serde(default)]
    #[allow(dead_code)]
    pub database_id: Option<String>,
    /// 24 to 64 characters, without `'`, `"` or control characters.
    #[serde(default)]
    #[schema(
        pattern = "^[^'\"\\x00-\\x1f\\x7f-\\x9f]*$",
        min_length = 24,
        max_length = 64
    )]
    pub password: Option<String>,
    /// The same password again.
    #[serde(default)]
    #[schema(
        pattern = "^[^'\"\\x00-\\x1f\\x7f-\\x9f]*$",
        min_length = 24,
        max_length = 64
    )]
    pub password_confirmation: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordRequest {
    pub database_user: PasswordFields,
}

/// The refusals of every endpoint that names a user.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub(super) enum UserRefusals {
    /// No valid token
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// No such database or user
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The database is unavailable
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The refusals of every change, beyond [`UserRefusals`].
#[derive(IntoResponses)]
#[allow(dead_code)]
pub(super) enum ChangeRefusals {
    /// The token is read-only
    #[response(status = 403)]
    ReadOnlyToken(ErrorBody),
    /// The user exists, is protected or not manageable, or the change is refused
    #[response(status = 409)]
    Refused(ErrorBody),
}

/// The refusals of a change whose body may be wrong.
#[derive(IntoResponses)]
#[allow(dead_code)]
enum BodyRefusals {
    /// Not JSON, or not of this shape
    #[response(status = 400)]
    Malformed(ErrorBody),
    /// Fields that break the rules
    #[response(status = 422)]
    Invalid(InvalidBody),
    /// The body is larger than 16 KiB
    #[response(status = 413)]
    TooLarge(ErrorBody),
}

/// The database a path names.
pub(super) fn database<'a>(app: &'a AppData, id: &str) -> Result<&'a ManagedDatabase, ApiError> {
    Ok(app.databases.get(id)?)
}

/// A user name from a path: a name no role can have names no user.
pub(super) fn role(name: &str) -> Result<RoleName, ApiError> {
    RoleName::parse(name)
        .map_err(|_| ApiError::NotFound(format!("User \"{}\" does not exist.", visible(name))))
}

/// A new user as the body asks for it, or every problem under its field.
pub(super) fn read_new_user(fields: &NewUserFields) -> Result<NewUser, ApiError> {
    let connection_limit = fields.connection_limit.map(limit_text);
    let entry = NewUserEntry {
        username: &fields.name,
        password: fields.password.as_deref().unwrap_or(""),
        confirmation: fields.password_confirmation.as_deref().unwrap_or(""),
        read_only: fields.read_only,
        expires: fields.expires.as_deref().unwrap_or(""),
        connection_limit: connection_limit.as_deref().unwrap_or(""),
    };
    entry.read().map_err(|problems| {
        let fields = [
            ("name", problems.username),
            ("password", problems.password),
            ("password_confirmation", problems.confirmation),
            ("expires", problems.expires),
            ("connection_limit", problems.connection_limit),
        ];
        ApiError::Invalid(
            fields
                .into_iter()
                .filter(|(_, messages)| !messages.is_empty())
                .collect(),
        )
    })
}

/// The change the body asks for, or every problem under its field.
pub(super) fn read_limits(fields: &LimitsFields) -> Result<LimitsChange, ApiError> {
    let expires = fields
        .expires
        .as_ref()
        .map(|day| day.as_deref().unwrap_or(""));
    let connection_limit = fields
        .connection_limit
        .map(|limit| limit.map(limit_text).unwrap_or_default());
    LimitsChange::from_entry(expires, connection_limit.as_deref()).map_err(|problems| {
        let mut invalid = std::collections::BTreeMap::new();
        limit_problems(problems, &mut invalid);
        ApiError::Invalid(invalid)
    })
}

/// A connection limit from JSON as text: a number beyond any limit reads
/// as too high, whatever its size (0 and below as they are refused).
fn limit_text(n: i64) -> String {
    u32::try_from(n.clamp(0, i64::from(u32::MAX)))
        .unwrap_or(u32::MAX)
        .to_string()
}

/// Each problem under its field.
fn limit_problems(
    problems: crate::domain::LimitProblems,
    invalid: &mut std::collections::BTreeMap<&'static str, Vec<String>>,
) {
    if let Some(problem) = problems.expires {
        invalid.insert("expires", vec![problem.to_string()]);
    }
    if let Some(problem) = problems.connection_limit {
        invalid.insert("connection_limit", vec![problem.to_string()]);
    }
}

/// A new password as the body asks for it, or every problem under its field.
pub(super) fn read_new_password(fields: &PasswordFields) -> Result<NewPassword, ApiError> {
    let mut invalid = std::collections::BTreeMap::new();
    new_password(
        fields.password.as_deref(),
        fields.password_confirmation.as_deref(),
        &mut invalid,
    )
    .ok_or(ApiError::Invalid(invalid))
}

/// A password typed twice, or every problem under its field.
fn new_password(
    password: Option<&str>,
    confirmation: Option<&str>,
    invalid: &mut std::collections::BTreeMap<&'static str, Vec<String>>,
) -> Option<NewPassword> {
    match NewPassword::from_entry(password.unwrap_or(""), confirmation.unwrap_or("")) {
        Ok(password) => Some(password),
        Err(problems) => {
            let problems = EntryProblems::from(problems);
            if !problems.password.is_empty() {
                invalid.insert("password", problems.password);
            }
            if !problems.confirmation.is_empty() {
                invalid.insert("password_confirmation", problems.confirmation);
            }
            None
        }
    }
}

/// The answer about `user`, with a generated password when there is one.
/// It cannot fail: after a change, it may carry the only copy of the
/// password, so what it says is learnt before the change.
fn answer(
    user: DatabaseUser,
    status: StatusCode,
    generated: Option<(Password, &ConnectionDetails)>,
) -> HttpResponse {
    let connection_uri = generated
        .as_ref()
        .map(|(password, connection)| connection.url_with_password(password));
    let mut database_user = ApiUser::of(user, generated.map(|(password, _)| password));
    database_user.connection_uri = connection_uri;
    HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .json(UserBody { database_user })
}

/// What the answer to a password change says, learnt before the change
/// (the user, and how its new password is stored), so it needs nothing
/// after it. A user that cannot be found is refused here, and recorded as
/// the change would have been.
async fn before_password(
    ops: &Operations<'_>,
    database: &ManagedDatabase,
    action: Action,
    name: &RoleName,
) -> Result<(DatabaseUser, PasswordEncryption, ConnectionDetails), ApiError> {
    let learnt = async {
        let user = database.roles.find(name).await?;
        let encryption = database.roles.encryption_it_sets().await?;
        let connection = database.roles.connection_details_as(&user.username).await?;
        Ok((user, encryption, connection))
    };
    Ok(ops.before(database, action, name.as_str(), learnt).await?)
}

/// `user` as it is once its password is set by pgusers: stored as
/// `encryption` ([`crate::roles::RoleManager::encryption_it_sets`]).
fn with_password_set(user: DatabaseUser, encryption: PasswordEncryption) -> DatabaseUser {
    DatabaseUser {
        password_encryption: encryption,
        ..user
    }
}

#[utoipa::path(
    get, path = "/api/databases/{id}/users", tag = "database users",
    params(("id" = String, Path, description = "The database's ID"), ListQuery),
    responses(
        (status = 200, description = "The database's users (a page of them with `page`)", body = UsersBody),
        (status = 400, description = "A query parameter given twice", body = ErrorBody),
        (status = 422, description = "A query parameter out of its range", body = InvalidBody),
        UserRefusals,
    ),
    security(("token" = []))
)]
pub async fn list(
    app: web::Data<AppData>,
    _caller: Caller,
    id: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let database = database(&app, &id)?;
    let ask = read_list_query(&query)?;
    let listing = Listing {
        search: ask.search.as_ref(),
        show: ask.show,
        window: match ask.page {
            Some((page, per_page)) => Window::Page {
                offset: page.offset(per_page),
                limit: per_page,
            },
            None => Window::All,
        },
    };
    let found = database.roles.list_page(&listing).await?;
    let meta = ask.page.map(|(page, per_page)| {
        let last = PageNumber::last(found.total, per_page);
        ListMeta {
            pagination: Pagination {
                prev_page: page.previous().map(|previous| previous.min(last).get()),
                current_page: page.get(),
                next_page: page
                    .next()
                    .filter(|next| *next <= last)
                    .map(PageNumber::get),
                total_pages: last.get(),
                total_count: found.total,
            },
        }
    });
    Ok(HttpResponse::Ok().json(UsersBody {
        database_users: found
            .users
            .into_iter()
            .map(|user| ApiUser::of(user, None))
            .collect(),
        meta,
    }))
}

#[utoipa::path(
    get, path = "/api/databases/{id}/users/{name}", tag = "database users",
    params(("id" = String, Path, description = "The database's ID"),
           ("name" = String, Path, description = "The user's name")),
    responses(
        (status = 200, description = "The user", body = UserBody),
        UserRefusals,
    ),
    security(("token" = []))
)]
pub async fn show(
    app: web::Data<AppData>,
    _caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let database = database(&app, &path.0)?;
    let user = database.roles.find(&role(&path.1)?).await?;
    Ok(answer(user, StatusCode::OK, None))
}

#[utoipa::path(
    post, path = "/api/databases/{id}/users", tag = "database users",
    params(("id" = String, Path, description = "The database's ID")),
    request_body = NewUserRequest,
    responses(
        (status = 201, description = "Created; `password` only when generated", body = UserBody),
        UserRefusals, ChangeRefusals, BodyRefusals,
    ),
    security(("token" = []))
)]
pub async fn create(
    app: web::Data<AppData>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<NewUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let ops = app.operations(caller.actor());
    let database = ops.database(&id)?;
    let user = read_new_user(&body.database_user)?;
    // What the answer says is known before the change: once the user is
    // created, nothing may keep its generated password from the caller.
    let created = DatabaseUser {
        username: user.username.to_string(),
        read_only: user.access == Access::ReadOnly,
        protected: false,
        password_encryption: database.roles.encryption_it_sets().await?,
        not_manageable: None,
        sessions: 0,
        expires: user.limits.expires.map(|day| format!("{day}T00:00:00Z")),
        expired: false,
        connection_limit: user.limits.connection_limit.map(|n| i32::from(n.get())),
    };
    let connection = database
        .roles
        .connection_details_as(user.username.as_str())
        .await?;
    let generated = ops.create_user(database, user).await.recorded().await?;
    Ok(answer(
        created,
        StatusCode::CREATED,
        generated.map(|password| (password, &connection)),
    ))
}

#[utoipa::path(
    patch, path = "/api/databases/{id}/users/{name}", tag = "database users",
    params(("id" = String, Path, description = "The database's ID"),
           ("name" = String, Path, description = "The user's name")),
    request_body = PasswordRequest,
    responses(
        (status = 200, description = "Updated; `password` only when generated", body = UserBody),
        UserRefusals, ChangeRefusals, BodyRefusals,
    ),
    security(("token" = []))
)]
pub async fn update(
    app: web::Data<AppData>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<PasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let ops = app.operations(caller.actor());
    let database = ops.database(&path.0)?;
    let name = role(&path.1)?;
    let password = read_new_password(&body.database_user)?;
    let action = password_action(&password);
    let (user, encryption, connection) = before_password(&ops, database, action, &name).await?;
    let generated = ops
        .update_password(database, &name, password)
        .await
        .recorded()
        .await?;
    let user = with_password_set(user, encryption);
    Ok(answer(
        user,
        StatusCode::OK,
        generated.map(|password| (password, &connection)),
    ))
}

/// By `POST` (Scalingo's JavaScript client) or `PATCH` (its Go client).
#[utoipa::path(
    method(post, patch), path = "/api/databases/{id}/users/{name}/reset_password", tag = "database users",
    params(("id" = String, Path, description = "The database's ID"),
           ("name" = String, Path, description = "The user's name")),
    responses(
        (status = 200, description = "A new generated password, shown once", body = UserBody),
        UserRefusals, ChangeRefusals,
    ),
    security(("token" = []))
)]
pub async fn reset_password(
    app: web::Data<AppData>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let ops = app.operations(caller.actor());
    let database = ops.database(&path.0)?;
    let name = role(&path.1)?;
    let (user, encryption, connection) =
        before_password(&ops, database, Action::ResetPassword, &name).await?;
    let password = ops.reset_password(database, &name).await.recorded().await?;
    let user = with_password_set(user, encryption);
    Ok(answer(user, StatusCode::OK, Some((password, &connection))))
}

#[utoipa::path(
    delete, path = "/api/databases/{id}/users/{name}", tag = "database users",
    params(("id" = String, Path, description = "The database's ID"),
           ("name" = String, Path, description = "The user's name")),
    responses(
        (status = 204, description = "Deleted; what it owned belongs to the protected user"),
        UserRefusals, ChangeRefusals,
    ),
    security(("token" = []))
)]
pub async fn delete(
    app: web::Data<AppData>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let ops = app.operations(caller.actor());
    let database = ops.database(&path.0)?;
    let name = role(&path.1)?;
    ops.delete_user(database, &name).await.recorded().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    put, path = "/api/databases/{id}/users/{name}/limits", tag = "database users",
    params(("id" = String, Path, description = "The database's ID"),
           ("name" = String, Path, description = "The user's name")),
    request_body = LimitsRequest,
    responses(
        (status = 200, description = "Set; the user as it is now", body = UserBody),
        UserRefusals, ChangeRefusals, BodyRefusals,
    ),
    security(("token" = []))
)]
pub async fn set_limits(
    app: web::Data<AppData>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<LimitsRequest>,
) -> Result<HttpResponse, ApiError> {
    let ops = app.operations(caller.actor());
    let database = ops.database(&path.0)?;
    let name = role(&path.1)?;
    let limits = read_limits(&body.database_user)?;
    ops.set_limits(database, &name, &limits)
        .await
        .recorded()
        .await?;
    let user = database.roles.find(&name).await?;
    Ok(answer(user, StatusCode::OK, None))
}
