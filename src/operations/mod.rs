//! The operations layer: each change a person can ask of pgusers is one
//! function here, the same whether it comes from the dashboard, the API or
//! the command line. It looks the database up, turns what was typed into
//! domain values ([`NewUserEntry`]), runs the change through the role
//! module, records it in the audit log under whoever asked ([`Actor`]) and
//! logs it. Front ends read their requests, call these, and map the result
//! to a page, JSON or output; a failure's [`ErrorKind`] says, through one
//! table ([`answers`]), what each of them answers.
//!
//! What a front end adds around a change stays with it: the dashboard's
//! single-use forms (`web::once`), the CLI's password prompt.

mod actor;
mod answers;
mod new_user;

pub use actor::Actor;
pub use answers::{Answers, answers, exit};
pub use new_user::{NewUser, NewUserEntry, NewUserProblems, limit_messages};

use crate::domain::{LimitsChange, NewPassword, Password, RoleName, visible};
use crate::failure::ErrorKind;
use crate::registry::{ManagedDatabase, Registry, RegistryError};
use crate::roles::{Finding, RoleError};
use crate::state::{Action, Event, Outcome, StateStore};
use tracing::Instrument;

/// The changes, as one actor asks them.
pub struct Operations<'a> {
    registry: &'a Registry,
    store: &'a StateStore,
    actor: Actor,
}

impl<'a> Operations<'a> {
    pub fn new(registry: &'a Registry, store: &'a StateStore, actor: Actor) -> Self {
        Self {
            registry,
            store,
            actor,
        }
    }

    /// The database with ID `id`: the one lookup, with the one message.
    pub fn database(&self, id: &str) -> Result<&'a ManagedDatabase, RegistryError> {
        self.registry.get(id)
    }

    /// The database a command works on: `id`, or the only one.
    pub fn select(&self, id: Option<&str>) -> Result<&'a ManagedDatabase, RegistryError> {
        self.registry.select(id)
    }

    /// Creates a user. With [`NewPassword::Generate`], the generated
    /// password is returned: the only copy.
    pub async fn create_user(
        &self,
        database: &ManagedDatabase,
        user: NewUser,
    ) -> Result<Option<Password>, RoleError> {
        let name = user.username.to_string();
        let change = async move {
            database
                .roles
                .create_with(&user.username, user.password, user.access, &user.limits)
                .await
        };
        self.run(database, Action::CreateUser, &name, change).await
    }

    /// Sets a user's password to the one chosen, or a generated one
    /// (returned: the only copy).
    pub async fn update_password(
        &self,
        database: &ManagedDatabase,
        name: &RoleName,
        password: NewPassword,
    ) -> Result<Option<Password>, RoleError> {
        let action = password_action(&password);
        let change = database.roles.update_password(name, password);
        self.run(database, action, name.as_str(), change).await
    }

    /// Gives a user a generated password (returned: the only copy).
    pub async fn reset_password(
        &self,
        database: &ManagedDatabase,
        name: &RoleName,
    ) -> Result<Password, RoleError> {
        let change = database.roles.reset_password(name);
        self.run(database, Action::ResetPassword, name.as_str(), change)
            .await
    }

    pub async fn delete_user(
        &self,
        database: &ManagedDatabase,
        name: &RoleName,
    ) -> Result<(), RoleError> {
        let change = database.roles.delete(name);
        self.run(database, Action::DeleteUser, name.as_str(), change)
            .await
    }

    pub async fn set_limits(
        &self,
        database: &ManagedDatabase,
        name: &RoleName,
        change: &LimitsChange,
    ) -> Result<(), RoleError> {
        let change = database.roles.set_limits(name, change);
        self.run(database, Action::SetLimits, name.as_str(), change)
            .await
    }

    /// Ends a user's sessions; how many were ended.
    pub async fn end_sessions(
        &self,
        database: &ManagedDatabase,
        name: &RoleName,
    ) -> Result<u64, RoleError> {
        let change = database.roles.end_sessions(name);
        self.run(database, Action::EndSessions, name.as_str(), change)
            .await
    }

    /// Fixes the doctor's finding `key`: what was fixed, or `None` when it
    /// is no longer there or not one pgusers fixes (nothing changed, so
    /// nothing is recorded).
    pub async fn fix_access(
        &self,
        database: &ManagedDatabase,
        key: &str,
    ) -> Result<Option<Finding>, RoleError> {
        let fix = async {
            let result = database.roles.fix_access(key).await;
            if !matches!(result, Ok(None)) {
                self.done(database, Action::FixAccess, key, &result).await;
            }
            result
        };
        fix.instrument(self.span(database, Action::FixAccess, key))
            .await
    }

    /// What a front end checks before a change it then asks for (that the
    /// name is free before prompting for a password; what the answer will
    /// say): a refusal is recorded as the change's would be.
    pub async fn before<T>(
        &self,
        database: &ManagedDatabase,
        action: Action,
        target: &str,
        check: impl Future<Output = Result<T, RoleError>>,
    ) -> Result<T, RoleError> {
        let checked = async {
            let result = check.await;
            if result.is_err() {
                self.done(database, action, target, &result).await;
            }
            result
        };
        checked
            .instrument(self.span(database, action, target))
            .await
    }

    /// Runs `change` (`action` on `target`) in its span, then records and
    /// logs how it ended.
    async fn run<T>(
        &self,
        database: &ManagedDatabase,
        action: Action,
        target: &str,
        change: impl Future<Output = Result<T, RoleError>>,
    ) -> Result<T, RoleError> {
        async {
            let result = change.await;
            self.done(database, action, target, &result).await;
            result
        }
        .instrument(self.span(database, action, target))
        .await
    }

    /// The span of a change. Its fields, the only ones (README, "What the
    /// log holds"): the action, the database's ID, the user's name, the
    /// actor's name and where it came from; never a password, a verifier
    /// or a token.
    fn span(&self, database: &ManagedDatabase, action: Action, target: &str) -> tracing::Span {
        tracing::info_span!(
            "change",
            action = action.as_str(),
            database = %database.id,
            user = %visible(target),
            actor = %visible(self.actor.name()),
            source = self.actor.source().as_str(),
        )
    }

    /// Records `action` on `target` and how it ended, and logs it.
    async fn done<T>(
        &self,
        database: &ManagedDatabase,
        action: Action,
        target: &str,
        result: &Result<T, RoleError>,
    ) {
        let (outcome, detail) = Outcome::of(result);
        let actor = &self.actor;
        match result {
            Ok(_) => tracing::info!("change done"),
            Err(error) => tracing::info!(kind = ?error.kind(), "change not done"),
        }
        record(
            self.store,
            actor,
            action,
            Some(database.id.to_string()),
            Some(target.to_owned()),
            (outcome, detail),
        )
        .await;
    }
}

/// Records `action` by `actor` in the audit log, on `database` (its ID) and
/// `target` (a user's name, a token's ID: never a secret), with how it
/// ended: the one place a change's entry is made. A command ends soon: its
/// entry is written now, or it says it could not; a dashboard runs on: an
/// entry it cannot write now is written when the state database is back.
pub async fn record(
    store: &StateStore,
    actor: &Actor,
    action: Action,
    database: Option<String>,
    target: Option<String>,
    (outcome, detail): (Outcome, Option<String>),
) {
    let event = Event {
        actor: actor.name().to_owned(),
        source: actor.source(),
        action,
        database,
        target,
        outcome,
        detail,
        client_address: actor.address().map(str::to_owned),
    };
    match actor {
        Actor::Cli => store.record_or_warn(&event).await,
        Actor::Operator { .. } | Actor::Token { .. } => store.record_or_retry(&event).await,
    }
}

/// Which action a password change is: a generated password is a reset.
pub fn password_action(password: &NewPassword) -> Action {
    match password {
        NewPassword::Generate => Action::ResetPassword,
        NewPassword::Chosen(_) => Action::SetPassword,
    }
}

/// Whether an error is one a front end shows inside the form it came from,
/// with what was typed kept, rather than on a page of its own: the
/// database refused or is away, and sending the form again once that is
/// fixed will work.
pub fn shown_in_form(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::TryAgain
            | ErrorKind::Unavailable
            | ErrorKind::Misconfigured
            | ErrorKind::AdminLacksPrivilege
    )
}
