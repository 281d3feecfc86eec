//! `pgusers operators add|list|remove|set-password`: who may log in to the
//! dashboard.

use super::{CliError, emit, prompt, table};
use crate::config::OperatorsCommand;
use crate::domain::{OperatorName, OperatorPassword};
use crate::state::StateStore;

pub enum Request {
    Add(OperatorName),
    List,
    Remove(OperatorName),
    SetPassword(OperatorName),
}

impl Request {
    pub fn parse(command: OperatorsCommand) -> Result<Self, CliError> {
        let name =
            |name: &str| OperatorName::parse(name).map_err(|e| CliError::Usage(e.to_string()));
        Ok(match command {
            OperatorsCommand::Add { name: n } => Self::Add(name(&n)?),
            OperatorsCommand::List => Self::List,
            OperatorsCommand::Remove { name: n } => Self::Remove(name(&n)?),
            OperatorsCommand::SetPassword { name: n } => Self::SetPassword(name(&n)?),
        })
    }
}

pub async fn run(state: &StateStore, request: Request) -> Result<(), CliError> {
    match request {
        Request::Add(name) => {
            if state.operator_exists(name.as_str()).await? {
                return Err(crate::state::StateError::OperatorExists(name.to_string()).into());
            }
            let (password, generated) = ask().await?;
            state.add_operator(&name, &password).await?;
            emit(&outcome(&name, "added", generated.then_some(&password)))?;
        }
        Request::List => {
            let rows: Vec<Vec<String>> = state
                .list_operators()
                .await?
                .into_iter()
                .map(|operator| vec![operator.name, operator.created_at])
                .collect();
            emit(&table::render(&["NAME", "CREATED (UTC)"], &rows))?;
        }
        Request::Remove(name) => {
            state.remove_operator(&name).await?;
            emit(&format!("Operator \"{name}\" removed.\n"))?;
        }
        Request::SetPassword(name) => {
            if !state.operator_exists(name.as_str()).await? {
                return Err(crate::state::StateError::OperatorNotFound(name.to_string()).into());
            }
            let (password, generated) = ask().await?;
            state.set_operator_password(&name, &password).await?;
            emit(&outcome(&name, "updated", generated.then_some(&password)))?;
        }
    }
    Ok(())
}

async fn ask() -> Result<(OperatorPassword, bool), CliError> {
    let chosen = tokio::task::spawn_blocking(prompt::ask_operator_password)
        .await
        .map_err(CliError::failed)??;
    Ok(match chosen {
        Some(password) => (password, false),
        None => (OperatorPassword::generate(), true),
    })
}

fn outcome(name: &OperatorName, action: &str, generated: Option<&OperatorPassword>) -> String {
    match generated {
        Some(password) => format!(
            "Operator \"{name}\" {action} with password \"{}\".\n",
            password.expose()
        ),
        None => format!("Operator \"{name}\" {action}.\n"),
    }
}
