//! `database-users-sessions`: who is connected as a user, as a table or as
//! JSON; `database-users-end-sessions`: ending those sessions.

use super::{CliError, emit, table};
use crate::domain::{RoleName, terminal_safe_json, visible};
use crate::roles::RoleManager;

/// What a hidden detail shows as in the table.
const HIDDEN: &str = "hidden";

pub(super) async fn show(roles: &RoleManager, name: &RoleName, json: bool) -> Result<(), CliError> {
    let found = roles.sessions(name).await?;
    if json {
        let text = serde_json::to_string_pretty(&found.sessions).map_err(CliError::failed)?;
        emit(&terminal_safe_json(&format!("{text}\n")))?;
    } else {
        let rows: Vec<Vec<String>> = found
            .sessions
            .iter()
            .map(|session| {
                let or_hidden =
                    |value: &Option<String>| value.clone().unwrap_or_else(|| HIDDEN.to_owned());
                vec![
                    or_hidden(&session.client_address),
                    session.application_name.clone(),
                    session.database.clone().unwrap_or_default(),
                    or_hidden(&session.state),
                    or_hidden(&session.since),
                    session.pid.to_string(),
                ]
            })
            .collect();
        emit(&table::render(
            &[
                "CLIENT ADDRESS",
                "APPLICATION",
                "DATABASE",
                "STATE",
                "SINCE",
                "PID",
            ],
            &rows,
        ))?;
    }
    if let Some(note) = found.hidden_note {
        eprintln!("Note: {note}");
    }
    Ok(())
}

/// The result line of ending a user's sessions.
pub(super) fn ended_line(user: &str, ended: u64) -> String {
    format!(
        "Ended {} of user \"{}\".\n",
        crate::domain::count(ended, "session", "sessions"),
        visible(user)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_line_counts_sessions_in_words() {
        assert_eq!(
            ended_line("my_user", 1),
            "Ended 1 session of user \"my_user\".\n"
        );
        assert_eq!(
            ended_line("my_user", 0),
            "Ended 0 sessions of user \"my_user\".\n"
        );
        assert_eq!(
            ended_line("a\u{1b}b", 2),
            "Ended 2 sessions of user \"a\\x1bb\".\n"
        );
    }
}
