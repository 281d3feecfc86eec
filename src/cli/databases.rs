//! `pgusers databases`: the databases pgusers manages, with their IDs.

use super::{CliError, emit, table};
use crate::registry::{ManagedDatabase, Registry};
use crate::roles::RoleError;

const COLUMNS: [&str; 8] = [
    "ID",
    "NAME",
    "STATE",
    "PROTECTED USER",
    "USERS",
    "HOST",
    "PORT",
    "TLS",
];

/// The one database: its row, how to connect, and which administrator
/// pgusers is there.
pub async fn show_one(database: &ManagedDatabase) -> Result<(), CliError> {
    let (row, details) = describe(database).await?;
    let mut text = table::render(&COLUMNS, &[row]);
    text.push_str(&details);
    emit(&text)
}

/// Every database, those that answer and those that do not; then, for each
/// that answers, how to connect. Ends with the first failure's exit code
/// when some did not answer, after saying why on standard error.
pub async fn list_all(registry: &Registry) -> Result<(), CliError> {
    let mut rows = Vec::new();
    let mut text = String::new();
    let mut failures: Vec<(String, CliError)> = Vec::new();
    for database in registry.all() {
        let checked = match database.roles.check().await {
            Ok(()) => describe(database).await,
            Err(error) => Err(error),
        };
        match checked {
            Ok((row, details)) => {
                rows.push(row);
                text.push_str(&format!("\n{}:\n", database.id));
                text.push_str(&details);
            }
            Err(error) => {
                let failure = CliError::from(error);
                rows.push(down_row(database, &failure));
                failures.push((database.id.to_string(), failure));
            }
        }
    }
    emit(&format!("{}{text}", table::render(&COLUMNS, &rows)))?;
    for (id, failure) in &failures {
        eprintln!(
            "Database \"{id}\": {}",
            crate::domain::visible_lines(&failure.to_string())
        );
    }
    if failures.is_empty() {
        return Ok(());
    }
    // Settings to fix outrank an outage: trying again will not fix them.
    if failures
        .iter()
        .any(|(_, failure)| failure.exit_code() == super::exit::USAGE)
    {
        return Err(CliError::Usage(
            "Some databases' settings need fixing (above).".into(),
        ));
    }
    Err(CliError::Unavailable(
        "Some databases cannot be reached (above).".into(),
    ))
}

/// A database that answers: its row, then how to connect, pgusers' own
/// connection and which kind of administrator pgusers is there; each asked
/// once.
async fn describe(database: &ManagedDatabase) -> Result<(Vec<String>, String), RoleError> {
    let roles = &database.roles;
    let connection = roles.connection_details().await?;
    let users = roles.count().await?;
    let security = roles.connection_security().await?;
    let admin = roles.admin_kind().await?;
    let row = vec![
        database.id.to_string(),
        database.name.clone(),
        "ok".to_owned(),
        connection.user.clone(),
        users.to_string(),
        connection.host.to_string(),
        connection.port.to_string(),
        security.short().to_owned(),
    ];
    let mut details = format!(
        "Connection URL (add the password): {}\npgusers' connection: {security}\n\
         Administrator: {admin}.\n",
        connection.url()
    );
    for sentence in admin.consequences() {
        details.push_str(&format!("{sentence}\n"));
    }
    Ok((row, details))
}

/// A database that did not answer: what is known without it.
fn down_row(database: &ManagedDatabase, failure: &CliError) -> Vec<String> {
    let state = if failure.exit_code() == super::exit::USAGE {
        "misconfigured"
    } else {
        "unreachable"
    };
    let (host, port) = database.roles.client_address();
    vec![
        database.id.to_string(),
        database.name.clone(),
        state.to_owned(),
        "-".to_owned(),
        "-".to_owned(),
        host.to_string(),
        port.to_string(),
        "-".to_owned(),
    ]
}
