//! Recording what operators do, from the handlers.

use crate::registry::ManagedDatabase;
use crate::roles::RoleError;
use crate::state::{Action, Event, Outcome, Source};

use super::AppState;
use super::api::Caller;
use super::session::Operator;

/// Records a change an operator asked for in the dashboard and how it ended.
pub async fn role_change<T>(
    app: &AppState,
    database: &ManagedDatabase,
    operator: &Operator,
    action: Action,
    target: &str,
    result: &Result<T, RoleError>,
) {
    let who = (
        operator.name.as_str(),
        Source::Dashboard,
        operator.address.as_deref(),
    );
    change(app, database, who, action, target, result).await;
}

/// Records a change asked for through the API, named after the token's
/// operator, and how it ended.
pub async fn api_change<T>(
    app: &AppState,
    database: &ManagedDatabase,
    caller: &Caller,
    action: Action,
    target: &str,
    result: &Result<T, RoleError>,
) {
    let who = (
        caller.operator.as_str(),
        Source::Api,
        caller.address.as_deref(),
    );
    change(app, database, who, action, target, result).await;
}

/// Records `action` on `target` of `database` by `who` (actor, source,
/// client address).
async fn change<T>(
    app: &AppState,
    database: &ManagedDatabase,
    who: (&str, Source, Option<&str>),
    action: Action,
    target: &str,
    result: &Result<T, RoleError>,
) {
    let (outcome, detail) = Outcome::of(result);
    let (actor, source, address) = who;
    let event = Event {
        actor: actor.to_owned(),
        source,
        action,
        database: Some(database.id.to_string()),
        target: Some(target.to_owned()),
        outcome,
        detail,
        client_address: address.map(str::to_owned),
    };
    app.state.record_or_retry(&event).await;
}

/// Records a login attempt.
pub async fn login(
    app: &AppState,
    name: &str,
    address: &str,
    outcome: Outcome,
    detail: Option<&str>,
) {
    let event = Event {
        actor: name.to_owned(),
        source: Source::Dashboard,
        action: if outcome == Outcome::Ok {
            Action::Login
        } else {
            Action::FailedLogin
        },
        database: None,
        target: None,
        outcome,
        detail: detail.map(str::to_owned),
        client_address: Some(address.to_owned()),
    };
    app.state.record_or_retry(&event).await;
}
