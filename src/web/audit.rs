//! Recording what operators do, from the handlers.

use crate::registry::ManagedDatabase;
use crate::roles::RoleError;
use crate::state::{Action, Event, Outcome, Source};

use super::AppState;
use super::session::Operator;

/// Records a change an operator asked for and how it ended.
pub async fn role_change<T>(
    app: &AppState,
    database: &ManagedDatabase,
    operator: &Operator,
    action: Action,
    target: &str,
    result: &Result<T, RoleError>,
) {
    let (outcome, detail) = Outcome::of(result);
    let event = Event {
        actor: operator.name.clone(),
        source: Source::Dashboard,
        action,
        database: Some(database.id.to_string()),
        target: Some(target.to_owned()),
        outcome,
        detail,
        client_address: operator.address.clone(),
    };
    app.state.record_or_warn(&event).await;
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
    app.state.record_or_warn(&event).await;
}
