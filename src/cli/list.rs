//! `database-users-list`: every user, read a part at a time (in one
//! snapshot), as the guide's table or as JSON. A failure part-way leaves
//! what was written (the exit status says it failed).

use super::{CliError, emit, table};
use crate::domain::{terminal_safe_json, visible};
use crate::roles::{RoleManager, unknown_encryption_note};

/// Users read per round trip: the whole list is never held at once.
const PART: u32 = 1000;

pub(super) async fn list(roles: &RoleManager, json: bool) -> Result<(), CliError> {
    if json {
        return list_json(roles).await;
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut unknown_encryption = None;
    roles
        .list_in_parts(PART, |part| -> Result<(), CliError> {
            unknown_encryption = unknown_encryption.or(unknown_encryption_note(part));
            for user in part {
                rows.push(vec![
                    user.username.clone(),
                    user.read_only.to_string(),
                    // The guide's column: whether the user can be changed at all.
                    (!user.manageable()).to_string(),
                    user.password_encryption.to_string(),
                ]);
                // Why some users cannot be changed, beside the table a script
                // reads. The protected user says why in its column (even when
                // it is also pgusers' own role, as on managed services).
                if let (false, Some(reason)) = (user.protected, &user.not_manageable) {
                    notes.push(format!(
                        "Note: \"{}\" is not managed by pgusers: {reason}.",
                        visible(&user.username)
                    ));
                }
            }
            Ok(())
        })
        .await?;
    // The columns are as wide as their longest cell: the table waits for
    // the last user (a few bytes per user, not the users themselves).
    emit(&table::render(
        &["USERNAME", "READ-ONLY", "PROTECTED", "PASSWORD ENCRYPTION"],
        &rows,
    ))?;
    for note in notes {
        eprintln!("{note}");
    }
    if let Some(note) = unknown_encryption {
        eprintln!("Note: {note}");
    }
    Ok(())
}

/// The users as a JSON array, written a part at a time as the parts
/// arrive; the same bytes `serde_json::to_string_pretty` gives for the
/// whole list.
async fn list_json(roles: &RoleManager) -> Result<(), CliError> {
    let mut first = true;
    roles
        .list_in_parts(PART, |part| -> Result<(), CliError> {
            let mut out = String::new();
            for user in part {
                let object =
                    serde_json::to_string_pretty(&JsonUser::of(user)).map_err(CliError::failed)?;
                out.push_str(if first { "[\n" } else { ",\n" });
                first = false;
                out.push_str(&indent(&object));
            }
            // Exact names for programs, but no raw escape for a terminal.
            emit(&terminal_safe_json(&out))
        })
        .await?;
    emit(if first { "[]\n" } else { "\n]\n" })
}

/// A user as `--json` prints it: the API's `name` first, then every field
/// of the list, `username` (the same name, which scripts already read)
/// included.
#[derive(serde::Serialize)]
struct JsonUser<'u> {
    name: &'u str,
    #[serde(flatten)]
    user: &'u crate::roles::DatabaseUser,
}

impl<'u> JsonUser<'u> {
    fn of(user: &'u crate::roles::DatabaseUser) -> Self {
        Self {
            name: &user.username,
            user,
        }
    }
}

/// `text` with two spaces before each line, as an array's items are.
fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_indented_and_joined_read_as_serde_pretty_prints_the_array() {
        let items = vec![
            serde_json::json!({"username": "a", "read_only": true}),
            serde_json::json!({"username": "b", "nested": {"x": [1, 2]}}),
        ];
        let streamed = format!(
            "[\n{}\n]",
            items
                .iter()
                .map(|item| indent(&serde_json::to_string_pretty(item).unwrap()))
                .collect::<Vec<_>>()
                .join(",\n")
        );
        assert_eq!(streamed, serde_json::to_string_pretty(&items).unwrap());
    }
}
