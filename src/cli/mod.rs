//! The command line: the product guide's `database-users-*` commands, on the
//! same role module as the dashboard. Results go to standard output exactly
//! as the guide prints them; prompts and errors go to standard error.

mod audit;
mod databases;
mod doctor;
mod list;
mod operators;
mod prompt;
mod sessions;
mod table;
mod tokens;

pub use prompt::{CONFIRMATION_PROMPT, OPERATOR_PASSWORD_PROMPT, PASSWORD_PROMPT, TRIES};

use crate::config::{Command, Settings};
use crate::domain::{LimitProblems, LimitsChange, NewPassword, Password, RoleName, visible};
use crate::embedded::Announce;
use crate::failure::Detail;
use crate::operations::{Actor, NewUser, NewUserEntry, Operations, answers};
use crate::registry::Registry;
use crate::roles::{DatabaseUser, RoleError};
use crate::startup::{StartupError, StateUse, Target, TargetError};
use crate::state::{Action, StateError, StateStore};

/// The exit codes, as documented in docs/cli.md (one table with the
/// dashboard's and the API's statuses: [`crate::operations::answers`]).
pub use crate::operations::exit;

/// Why a command failed. A lower layer's error is kept whole (its words
/// are the message; its causes go to the log), and the exit code comes
/// from what it means.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Unavailable(String),
    /// Something unexpected failed; the detail keeps its cause.
    #[error(transparent)]
    Failed(Detail),
    #[error(transparent)]
    Role(#[from] RoleError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Target(#[from] TargetError),
    /// `doctor` found something: it said what on standard output.
    #[error("the doctor found problems")]
    Findings,
}

impl CliError {
    /// Something unexpected failed: `cause`'s words, and `cause` for the log.
    pub fn failed(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Failed(Detail::of(cause))
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Failed(_) => exit::FAILURE,
            Self::Usage(_) => exit::USAGE,
            Self::Refused(_) => exit::REFUSED,
            Self::Unavailable(_) => exit::UNAVAILABLE,
            Self::Role(error) => answers(error.kind()).cli,
            Self::State(error) => answers(error.kind()).cli,
            Self::Target(TargetError::Settings(_)) => exit::USAGE,
            Self::Target(TargetError::Unavailable(_)) => exit::UNAVAILABLE,
            Self::Findings => exit::FINDINGS,
        }
    }
}

impl From<StartupError> for CliError {
    fn from(error: StartupError) -> Self {
        match error {
            StartupError::Target(error) => error.into(),
            StartupError::Roles(error) => error.into(),
            StartupError::State(error) => error.into(),
            StartupError::Other(error) => error.into(),
        }
    }
}

/// Anything else that stops `serve` (its listen address, its session key):
/// every context in the message, the error kept for the log.
impl From<anyhow::Error> for CliError {
    fn from(error: anyhow::Error) -> Self {
        Self::Failed(Detail::new(format!("{error:#}"), error))
    }
}

/// Runs one command (anything but `serve`), then leaves the embedded
/// cluster as it found it.
pub async fn run(settings: &Settings, command: Command) -> Result<(), CliError> {
    let request = Request::parse(command)?;
    let mut target = Target::resolve(settings, Announce::Stderr).await?;
    let state_use = match request {
        // Tokens belong to operators: both may be set up before any dashboard runs.
        Request::Operators(_) | Request::Tokens(_) => StateUse::Operators,
        _ => StateUse::Record,
    };
    let result = match target.state_store(settings, Announce::Stderr, state_use) {
        Ok(state) => {
            let context = Context {
                registry: target.registry(),
                store: state,
            };
            execute(settings, &context, request).await
        }
        Err(error) => Err(CliError::Usage(format!("{error:#}"))),
    };
    tokio::task::spawn_blocking(move || target.shut_down())
        .await
        .map_err(CliError::failed)?;
    result
}

/// What commands work with.
struct Context {
    registry: Registry,
    store: StateStore,
}

/// A command whose arguments were checked before connecting anywhere.
enum Request {
    Databases,
    List {
        json: bool,
    },
    Create {
        /// Its password is asked for once the name is known to be free.
        user: NewUser,
        password_stdin: bool,
    },
    UpdatePassword {
        name: RoleName,
        password_stdin: bool,
    },
    Delete {
        name: RoleName,
    },
    SetLimits {
        name: RoleName,
        change: LimitsChange,
    },
    Sessions {
        name: RoleName,
        json: bool,
    },
    EndSessions {
        name: RoleName,
    },
    Doctor {
        json: bool,
        fix: bool,
    },
    Audit {
        json: bool,
        limit: u32,
    },
    Operators(operators::Request),
    Tokens(tokens::Request),
}

impl Request {
    fn parse(command: Command) -> Result<Self, CliError> {
        let role = |name: &str| RoleName::parse(name).map_err(|e| CliError::Usage(e.to_string()));
        Ok(match command {
            Command::Serve(_) => return Err(CliError::Usage("serve is not a CLI command".into())),
            Command::Databases => Self::Databases,
            Command::DatabaseUsersList { json } => Self::List { json },
            Command::DatabaseUsersCreate {
                read_only,
                password_stdin,
                expires,
                connection_limit,
                username,
            } => Self::Create {
                user: new_user(
                    &username,
                    read_only,
                    expires.as_deref(),
                    connection_limit.as_deref(),
                )?,
                password_stdin,
            },
            Command::DatabaseUsersUpdatePassword {
                password_stdin,
                username,
            } => Self::UpdatePassword {
                name: role(&username)?,
                password_stdin,
            },
            Command::DatabaseUsersDelete { username } => Self::Delete {
                name: role(&username)?,
            },
            Command::DatabaseUsersSetLimits {
                expires,
                no_expiry,
                connection_limit,
                no_connection_limit,
                username,
            } => Self::SetLimits {
                name: role(&username)?,
                change: limits_change(
                    flag_or_removal(expires.as_deref(), no_expiry, "expires", "no-expiry")?,
                    flag_or_removal(
                        connection_limit.as_deref(),
                        no_connection_limit,
                        "connection-limit",
                        "no-connection-limit",
                    )?,
                )?,
            },
            Command::DatabaseUsersSessions { json, username } => Self::Sessions {
                name: role(&username)?,
                json,
            },
            Command::DatabaseUsersEndSessions { username } => Self::EndSessions {
                name: role(&username)?,
            },
            Command::Doctor { json, fix } => Self::Doctor { json, fix },
            Command::Audit { json, limit } => Self::Audit { json, limit },
            Command::Operators { command } => Self::Operators(operators::Request::parse(command)?),
            Command::Tokens { command } => Self::Tokens(tokens::Request::parse(command)?),
        })
    }
}

/// A new user from the command line, its password still to ask for; a
/// limit flag given empty is refused, not read as "none".
fn new_user(
    username: &str,
    read_only: bool,
    expires: Option<&str>,
    connection_limit: Option<&str>,
) -> Result<NewUser, CliError> {
    for (value, name) in [(expires, "expires"), (connection_limit, "connection-limit")] {
        if value.is_some_and(|text| text.trim().is_empty()) {
            return Err(CliError::Usage(format!(
                "--{name} needs a value; leave the flag out for none."
            )));
        }
    }
    let entry = NewUserEntry {
        username,
        read_only,
        expires: expires.unwrap_or(""),
        connection_limit: connection_limit.unwrap_or(""),
        ..NewUserEntry::default()
    };
    entry
        .read()
        .map_err(|problems| CliError::Usage(problems.all().collect::<Vec<_>>().join(" ")))
}

/// What `--NAME VALUE` or `--REMOVAL` asks of one limit: `None` to keep
/// it, `Some("")` to remove it, else its new value. A flag given empty is
/// refused: "none" is said with the removal flag.
fn flag_or_removal<'a>(
    value: Option<&'a str>,
    remove: bool,
    name: &str,
    removal: &str,
) -> Result<Option<&'a str>, CliError> {
    match value {
        Some(text) if text.trim().is_empty() => Err(CliError::Usage(format!(
            "--{name} needs a value; --{removal} removes it."
        ))),
        Some(text) => Ok(Some(text)),
        None => Ok(remove.then_some("")),
    }
}

/// A change of limits from the command line; one that changes nothing is
/// refused (a command that silently did nothing would look done).
fn limits_change(
    expires: Option<&str>,
    connection_limit: Option<&str>,
) -> Result<LimitsChange, CliError> {
    if expires.is_none() && connection_limit.is_none() {
        return Err(CliError::Usage(
            "Nothing to change: give --expires, --no-expiry, --connection-limit or \
             --no-connection-limit."
                .to_owned(),
        ));
    }
    LimitsChange::from_entry(expires, connection_limit).map_err(limit_problems)
}

/// Both limits' problems, in one message.
fn limit_problems(problems: LimitProblems) -> CliError {
    let messages: Vec<String> = [
        problems.expires.map(|e| e.to_string()),
        problems.connection_limit.map(|e| e.to_string()),
    ]
    .into_iter()
    .flatten()
    .collect();
    CliError::Usage(messages.join(" "))
}

async fn execute(settings: &Settings, context: &Context, request: Request) -> Result<(), CliError> {
    match request {
        Request::Audit { json, limit } => return audit::show(&context.store, json, limit).await,
        Request::Operators(request) => return operators::run(&context.store, request).await,
        Request::Tokens(request) => return tokens::run(&context.store, request).await,
        Request::Databases if context.registry.all().len() > 1 => {
            return databases::list_all(&context.registry).await;
        }
        _ => {}
    }
    let ops = Operations::new(&context.registry, &context.store, Actor::Cli);
    let managed = ops
        .select(settings.database.as_deref())
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let roles = &managed.roles;
    // Settings that cannot work say so before anything is asked or done.
    roles.check().await?;
    match request {
        Request::Databases => databases::show_one(managed).await?,
        Request::List { json } => list::list(roles, json).await?,
        Request::Create {
            mut user,
            password_stdin,
        } => {
            // Say "already exists" before asking for a password nobody will use.
            let name = user.username.to_string();
            let free = roles.ensure_name_free(&user.username);
            ops.before(managed, Action::CreateUser, &name, free).await?;
            user.password = ask(password_stdin).await?;
            let generated = ops.create_user(managed, user).await.recorded().await?;
            emit_done(&name, "created", generated)?;
        }
        Request::UpdatePassword {
            name,
            password_stdin,
        } => {
            // Refuse an unknown or protected user before asking for anything.
            let known = roles.ensure_changeable(&name);
            ops.before(managed, Action::SetPassword, name.as_str(), known)
                .await?;
            let password = ask(password_stdin).await?;
            let generated = ops
                .update_password(managed, &name, password)
                .await
                .recorded()
                .await?;
            emit_done(name.as_str(), "updated", generated)?;
        }
        Request::Delete { name } => {
            ops.delete_user(managed, &name).await.recorded().await?;
            emit(&format!("User \"{}\" deleted.\n", visible(name.as_str())))?;
        }
        Request::SetLimits { name, change } => {
            ops.set_limits(managed, &name, &change)
                .await
                .recorded()
                .await?;
            // The change is committed: should reading it back fail, say so
            // with the error, so nobody takes it for undone.
            let user = roles.find(&name).await.map_err(|error| {
                CliError::Failed(Detail::new(
                    format!(
                        "Limits of user \"{}\" set; reading them back failed: {error}",
                        visible(name.as_str())
                    ),
                    error,
                ))
            })?;
            emit(&limits_line(&user))?;
        }
        Request::Sessions { name, json } => sessions::show(roles, &name, json).await?,
        Request::Doctor { json, fix } => {
            if fix {
                doctor::fix_all(&ops, managed).await?;
            }
            doctor::report(roles, json).await?;
        }
        Request::EndSessions { name } => {
            let ended = ops.end_sessions(managed, &name).await.recorded().await?;
            emit(&sessions::ended_line(name.as_str(), ended))?;
        }
        Request::Audit { .. } | Request::Operators(_) | Request::Tokens(_) => {
            unreachable!("handled above")
        }
    }
    Ok(())
}

/// A user's limits as PostgreSQL now has them, in a line.
fn limits_line(user: &DatabaseUser) -> String {
    let name = visible(&user.username);
    let expires = match user.expires_shown() {
        None => "no expiry".to_owned(),
        Some(at) if user.expired => {
            format!("password expired {at} (UTC): it can no longer log in with its password")
        }
        Some(at) => format!("password expires {at} (UTC)"),
    };
    let limit = user.connection_limit.map_or_else(
        || "no connection limit".to_owned(),
        |n| format!("connection limit {n}"),
    );
    format!("User \"{name}\": {expires}; {limit}.\n")
}

async fn ask(password_stdin: bool) -> Result<NewPassword, CliError> {
    // Reading the terminal blocks; keep it off the runtime that drives the
    // database connection.
    tokio::task::spawn_blocking(move || {
        if password_stdin {
            prompt::read_password_line()
        } else {
            prompt::ask_new_password()
        }
    })
    .await
    .map_err(CliError::failed)?
}

/// Writes a command's result to standard output. A closed output (a pipe
/// whose reader left) is an error to report, not a reason to panic.
pub(crate) fn emit(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::Failed(Detail::new(format!("Writing the result failed: {e}"), e)))
}

/// Prints the result of a change already done. Printing is all that is
/// left after the change, and the result may hold the only copy of a
/// generated password: should it fail (a full disk, a closed pipe), the
/// error says the change was done and how to get a password that was lost.
fn emit_done(user: &str, action: &str, generated: Option<Password>) -> Result<(), CliError> {
    let lost = generated.is_some();
    emit(&format!("{}\n", outcome(user, action, generated))).map_err(|error| {
        let shown = visible(user);
        let again = if lost {
            " Its generated password was not shown: set a new one with \
             database-users-update-password."
        } else {
            ""
        };
        let message = format!("User \"{shown}\" {action}. {error}.{again}");
        CliError::Failed(crate::failure::Detail::new(message, error))
    })
}

/// The guide's result line; the only place a password is ever printed is a
/// generated one, here, once.
fn outcome(user: &str, action: &str, generated: Option<Password>) -> String {
    let user = visible(user);
    match generated {
        Some(password) => format!(
            "User \"{user}\" {action} with password \"{}\".",
            password.expose()
        ),
        None => format!("User \"{user}\" {action}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_error_keeps_its_words_its_exit_code_and_its_cause() {
        let postgres = "port=x"
            .parse::<tokio_postgres::Config>()
            .expect_err("not a port");
        let role = RoleError::from_postgres(postgres, "");
        let words = role.to_string();

        let error = CliError::from(role);

        assert_eq!(error.to_string(), words);
        assert_eq!(error.exit_code(), exit::UNAVAILABLE);
        let kept = std::iter::successors(std::error::Error::source(&error), |&e| e.source())
            .any(|cause| cause.is::<tokio_postgres::Error>());
        assert!(kept, "{}", crate::failure::chain(&error));
    }

    #[test]
    fn an_unexpected_failure_exits_1_keeping_its_cause() {
        let error = CliError::failed(std::io::Error::other("pipe closed"));

        assert_eq!(error.exit_code(), exit::FAILURE);
        assert_eq!(error.to_string(), "pipe closed");
        assert!(
            std::error::Error::source(&error).is_some_and(|cause| cause.is::<std::io::Error>())
        );
    }

    /// The command line, what it shares with `serve` (startup) and the
    /// operations layer name nothing of the web stack: a command builds no
    /// HTTP server and needs none of its crates.
    #[test]
    fn the_command_line_uses_nothing_of_the_web_stack() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.join("startup.rs")];
        for folder in ["cli", "operations"] {
            for entry in std::fs::read_dir(src.join(folder)).unwrap() {
                files.push(entry.unwrap().path());
            }
        }
        assert!(files.len() > 10, "{files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            // The code, without its tests (this one names what it looks for).
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for web in ["crate::web", "actix", "askama"] {
                assert!(!code.contains(web), "{} uses {web}", file.display());
            }
        }
    }

    #[test]
    fn result_lines_are_the_guides() {
        assert_eq!(
            outcome("my_user", "created", None),
            "User \"my_user\" created."
        );
        let password = Password::parse(&"Y".repeat(64)).unwrap();
        assert_eq!(
            outcome("my_user", "updated", Some(password)),
            format!(
                "User \"my_user\" updated with password \"{}\".",
                "Y".repeat(64)
            )
        );
    }
}
