//! `pgusers audit`: the audit log, newest first.

use super::{CliError, emit, table};
use crate::domain::terminal_safe_json;
use crate::state::{StateError, StateStore};

pub async fn show(state: &StateStore, json: bool, limit: u32) -> Result<(), CliError> {
    let entries = match state.audit_entries(0, limit).await {
        Ok(page) => page.entries,
        // No dashboard has run: nothing was recorded.
        Err(StateError::Missing(_)) => Vec::new(),
        Err(error) => return Err(error.into()),
    };
    if json {
        let text = serde_json::to_string_pretty(&entries).map_err(CliError::failed)?;
        return emit(&format!("{}\n", terminal_safe_json(&text)));
    }
    let rows: Vec<Vec<String>> = entries
        .into_iter()
        .map(|entry| {
            // As the Activity page shows it: times as `tokens list` prints
            // them, a finding or a token beside its action, not as a user.
            let action = match entry.about_other() {
                Some(about) => format!("{} ({about})", entry.action),
                None => entry.action.clone(),
            };
            vec![
                entry.time(),
                entry.actor.clone(),
                entry.source.clone(),
                action,
                entry.database.clone().unwrap_or_default(),
                entry.user().unwrap_or_default().to_owned(),
                entry.outcome.clone(),
                entry.client_address.clone().unwrap_or_default(),
            ]
        })
        .collect();
    emit(&table::render(
        &[
            "TIME (UTC)",
            "OPERATOR",
            "SOURCE",
            "ACTION",
            "DATABASE",
            "USER",
            "OUTCOME",
            "CLIENT ADDRESS",
        ],
        &rows,
    ))
}
