//! Recording logins, from the handlers (changes are recorded by the
//! operations layer, `crate::operations`).

use crate::state::{Action, Event, Outcome, Source};

use super::AppData;

/// Records a login attempt.
pub async fn login(
    app: &AppData,
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
    app.store.record_or_retry(&event).await;
}
