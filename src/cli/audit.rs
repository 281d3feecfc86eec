//! `pgusers audit`: the audit log, newest first.

use super::{CliError, table};
use crate::state::StateStore;

pub async fn show(state: &StateStore, json: bool, limit: u32) -> Result<(), CliError> {
    let entries = state.audit_entries(0, limit).await?.entries;
    if json {
        let text =
            serde_json::to_string_pretty(&entries).map_err(|e| CliError::Failed(e.to_string()))?;
        println!("{text}");
        return Ok(());
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
    print!(
        "{}",
        table::render(
            &[
                "TIME",
                "OPERATOR",
                "SOURCE",
                "ACTION",
                "DATABASE",
                "USER",
                "OUTCOME",
                "CLIENT ADDRESS"
            ],
            &rows
        )
    );
    Ok(())
}
