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
            vec![
                entry.at,
                entry.actor,
                entry.source,
                entry.action,
                entry.database.unwrap_or_default(),
                entry.target.unwrap_or_default(),
                entry.outcome,
                entry.client_address.unwrap_or_default(),
            ]
        })
        .collect();
    emit(&table::render(
        &[
            "TIME",
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
