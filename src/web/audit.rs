//! Recording logins, from the handlers (changes are recorded by the
//! operations layer, `crate::operations`).

use crate::operations::Actor;
use crate::state::{Action, Outcome};

use super::AppData;

/// Records a login attempt by `name` (an operator's name, or a word that
/// says what was typed was not one) from `address`.
pub async fn login(
    app: &AppData,
    name: &str,
    address: &str,
    outcome: Outcome,
    detail: Option<&str>,
) {
    let action = if outcome == Outcome::Ok {
        Action::Login
    } else {
        Action::FailedLogin
    };
    let who = Actor::Operator {
        name: name.to_owned(),
        address: Some(address.to_owned()),
    };
    let ended = (outcome, detail.map(str::to_owned));
    crate::operations::record(&app.store, &who, action, None, None, ended).await;
}
