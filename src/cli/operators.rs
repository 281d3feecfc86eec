//! `pgusers operators add|list|remove|set-password|unlock`: who may log in
//! to the dashboard, and from where again at once.

use super::{CliError, emit, prompt, table};
use crate::config::OperatorsCommand;
use crate::domain::{OperatorName, OperatorPassword};
use crate::state::StateStore;

pub enum Request {
    Add(OperatorName),
    List,
    Remove(OperatorName),
    SetPassword(OperatorName),
    /// An address's failures (as counted: a throttling key), or everyone's.
    Unlock(Option<String>),
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
            OperatorsCommand::Unlock { address } => {
                Self::Unlock(address.as_deref().map(counted_as).transpose()?)
            }
        })
    }
}

/// What failures from `address` are counted under: the address, an IPv6
/// one's /64 (given either way).
fn counted_as(address: &str) -> Result<String, CliError> {
    let typed = address.trim();
    // An IPv6 /64 as the login page names it; an IPv4 address has none.
    let parsed = match typed.strip_suffix("/64") {
        Some(network) => network
            .parse::<std::net::Ipv6Addr>()
            .map(std::net::IpAddr::V6)
            .ok(),
        None => typed.parse::<std::net::IpAddr>().ok(),
    };
    parsed.map(crate::state::throttling_key).ok_or_else(|| {
        CliError::Usage(format!(
            "\"{}\" is not an IP address: give the one the login page names, such as \
             192.0.2.7 or 2001:db8::/64.",
            crate::domain::visible(typed)
        ))
    })
}

pub async fn run(state: &StateStore, request: Request) -> Result<(), CliError> {
    match request {
        Request::Unlock(address) => {
            let result = state.forget_login_failures(address.as_deref()).await;
            // No address: every one's, recorded with no target.
            let ended = crate::state::Outcome::of_state(&result);
            let actor = crate::operations::Actor::Cli;
            let action = crate::state::Action::UnlockLogins;
            crate::operations::record(state, &actor, action, None, address.clone(), ended).await;
            emit(&unlocked(address.as_deref(), &result?))?;
        }
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

/// What `unlock` did, in a line per address.
fn unlocked(address: Option<&str>, forgotten: &[(String, i64)]) -> String {
    if forgotten.is_empty() {
        return match address {
            Some(address) => {
                format!("No failed login is counted from {address}: it is not locked out.\n")
            }
            None => "No failed login is counted from any address.\n".to_owned(),
        };
    }
    forgotten
        .iter()
        .map(|(address, count)| {
            let logins = if *count == 1 { "login" } else { "logins" };
            format!("Forgot {count} failed {logins} from {address}: it may log in again at once.\n")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::counted_as;

    #[test]
    fn an_address_is_counted_as_the_login_page_names_it() {
        assert_eq!(counted_as(" 192.0.2.7 ").unwrap(), "192.0.2.7");
        assert_eq!(counted_as("::ffff:192.0.2.7").unwrap(), "192.0.2.7");
        assert_eq!(counted_as("2001:db8::1").unwrap(), "2001:db8::/64");
        assert_eq!(counted_as("2001:db8::/64").unwrap(), "2001:db8::/64");
        for not in ["192.0.2.7/64", "localhost", "unknown", "2001:db8::/48", ""] {
            assert!(counted_as(not).is_err(), "{not:?}");
        }
    }
}
