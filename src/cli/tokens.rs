//! `pgusers tokens create|list|revoke`: the API tokens scripts use in an
//! operator's name. A new token is printed once, alone on its line of
//! standard output, so `TOKEN=$(pgusers tokens create --operator jane)`
//! works; pgusers keeps only its hash.

use super::{CliError, emit, table};
use crate::config::TokensCommand;
use crate::domain::{OperatorName, TokenId, TokenLabel, terminal_safe_json};
use crate::operations::Actor;
use crate::state::{Action, Outcome, StateError, StateStore};

pub enum Request {
    Create {
        operator: OperatorName,
        label: TokenLabel,
        read_only: bool,
    },
    List {
        json: bool,
    },
    Revoke(TokenId),
}

impl Request {
    pub fn parse(command: TokensCommand) -> Result<Self, CliError> {
        let usage = |e: &dyn std::fmt::Display| CliError::Usage(e.to_string());
        Ok(match command {
            TokensCommand::Create {
                operator,
                read_only,
                label,
            } => Self::Create {
                operator: OperatorName::parse(&operator).map_err(|e| usage(&e))?,
                label: match label {
                    Some(label) => TokenLabel::parse(&label).map_err(|e| usage(&e))?,
                    None => TokenLabel::default(),
                },
                read_only,
            },
            TokensCommand::List { json } => Self::List { json },
            TokensCommand::Revoke { id } => {
                Self::Revoke(TokenId::parse(&id).map_err(|e| usage(&e))?)
            }
        })
    }
}

pub async fn run(state: &StateStore, request: Request) -> Result<(), CliError> {
    match request {
        Request::Create {
            operator,
            label,
            read_only,
        } => {
            let result = state.create_token(&operator, &label, read_only).await;
            let id = result.as_ref().ok().map(|(info, _)| info.id.clone());
            record(state, Action::CreateToken, id, &result).await;
            let (info, token) = result?;
            if let Err(error) = emit(&format!("{}\n", token.expose())) {
                // Nobody saw it, so nobody can use it: take it back.
                let id = token.id().clone();
                let revoked = state.revoke_token(&id).await;
                record(state, Action::RevokeToken, Some(id.to_string()), &revoked).await;
                return Err(error);
            }
            eprintln!(
                "API token {} created for operator \"{operator}\" ({}). \
                 It is shown once and not stored: keep it now.",
                info.id,
                access(read_only)
            );
        }
        Request::List { json } => {
            let tokens = state.list_tokens().await?;
            if json {
                let text = serde_json::to_string_pretty(&tokens).map_err(CliError::failed)?;
                return emit(&format!("{}\n", terminal_safe_json(&text)));
            }
            let rows: Vec<Vec<String>> = tokens
                .into_iter()
                .map(|token| {
                    vec![
                        token.id,
                        token.operator,
                        token.label,
                        if token.read_only { "read-only" } else { "full" }.to_owned(),
                        token.created_at,
                        token.last_used_at.unwrap_or_else(|| "never".to_owned()),
                    ]
                })
                .collect();
            emit(&table::render(
                &[
                    "ID",
                    "OPERATOR",
                    "LABEL",
                    "ACCESS",
                    "CREATED (UTC)",
                    "LAST USED (UTC)",
                ],
                &rows,
            ))?;
        }
        Request::Revoke(id) => {
            let result = state.revoke_token(&id).await;
            record(state, Action::RevokeToken, Some(id.to_string()), &result).await;
            result?;
            emit(&format!("API token {id} revoked.\n"))?;
        }
    }
    Ok(())
}

fn access(read_only: bool) -> &'static str {
    if read_only {
        "read-only"
    } else {
        "full access"
    }
}

/// Records a token's creation or revocation in the audit log, as operator
/// `cli`; the target is the token's id, never its secret.
async fn record<T>(
    state: &StateStore,
    action: Action,
    id: Option<String>,
    result: &Result<T, StateError>,
) {
    let ended = Outcome::of_state(result);
    crate::operations::record(state, &Actor::Cli, action, None, id, ended).await;
}
