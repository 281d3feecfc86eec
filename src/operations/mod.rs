//! The operations layer: each change a person can ask of pgusers is one
//! function here, the same whether it comes from the dashboard, the API or
//! the command line. It looks the database up, turns what was typed into
//! domain values ([`NewUserEntry`]), runs the change through the role
//! module, records it in the audit log under whoever asked ([`Actor`]) and
//! logs it. Front ends read their requests, call these, and map the result
//! to a page, JSON or output; a failure's [`ErrorKind`] says, through one
//! table ([`answers`]), what each of them answers.
//!
//! A change's result comes out of [`Done::recorded`], after its audit
//! entry is written: no front end can have one without the other. What a
//! front end adds around a change stays with it: the dashboard's
//! single-use forms (`web::once`, settled before the entry is written), the
//! CLI's password prompt.

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
    /// password is the result: the only copy.
    pub async fn create_user<'o>(
        &'o self,
        database: &'o ManagedDatabase,
        user: NewUser,
    ) -> Done<'o, 'a, Option<Password>> {
        let name = user.username.to_string();
        let change = async move {
            database
                .roles
                .create_with(&user.username, user.password, user.access, &user.limits)
                .await
        };
        self.run(database, Action::CreateUser, &name, change).await
    }

    /// Sets a user's password to the one chosen, or a generated one (the
    /// result: the only copy).
    pub async fn update_password<'o>(
        &'o self,
        database: &'o ManagedDatabase,
        name: &RoleName,
        password: NewPassword,
    ) -> Done<'o, 'a, Option<Password>> {
        let action = password_action(&password);
        let change = database.roles.update_password(name, password);
        self.run(database, action, name.as_str(), change).await
    }

    /// Gives a user a generated password (the result: the only copy).
    pub async fn reset_password<'o>(
        &'o self,
        database: &'o ManagedDatabase,
        name: &RoleName,
    ) -> Done<'o, 'a, Password> {
        let change = database.roles.reset_password(name);
        self.run(database, Action::ResetPassword, name.as_str(), change)
            .await
    }

    pub async fn delete_user<'o>(
        &'o self,
        database: &'o ManagedDatabase,
        name: &RoleName,
    ) -> Done<'o, 'a, ()> {
        let change = database.roles.delete(name);
        self.run(database, Action::DeleteUser, name.as_str(), change)
            .await
    }

    pub async fn set_limits<'o>(
        &'o self,
        database: &'o ManagedDatabase,
        name: &RoleName,
        change: &LimitsChange,
    ) -> Done<'o, 'a, ()> {
        let change = database.roles.set_limits(name, change);
        self.run(database, Action::SetLimits, name.as_str(), change)
            .await
    }

    /// Ends a user's sessions; the result is how many were ended.
    pub async fn end_sessions<'o>(
        &'o self,
        database: &'o ManagedDatabase,
        name: &RoleName,
    ) -> Done<'o, 'a, u64> {
        let change = database.roles.end_sessions(name);
        self.run(database, Action::EndSessions, name.as_str(), change)
            .await
    }

    /// Fixes the doctor's finding `key`: what was fixed, or `None` when it
    /// is no longer there or not one pgusers fixes (nothing changed, so
    /// nothing is recorded).
    pub async fn fix_access<'o>(
        &'o self,
        database: &'o ManagedDatabase,
        key: &str,
    ) -> Done<'o, 'a, Option<Finding>> {
        // The dashboard sends a digest of the key: the log and the audit
        // name the finding as `pgusers doctor` does, whatever the outcome.
        let key = database
            .roles
            .finding_key(key)
            .await
            .unwrap_or_else(|| key.to_owned());
        let change = database.roles.fix_access(&key);
        let mut done = self.run(database, Action::FixAccess, &key, change).await;
        done.unrecorded = matches!(done.result, Ok(None));
        done
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

    /// Runs `change` (`action` on `target`) in its span; recording it is
    /// [`Done::recorded`]'s.
    async fn run<'o, T>(
        &'o self,
        database: &'o ManagedDatabase,
        action: Action,
        target: &str,
        change: impl Future<Output = Result<T, RoleError>>,
    ) -> Done<'o, 'a, T> {
        let span = self.span(database, action, target);
        let result = change.instrument(span.clone()).await;
        Done {
            ops: self,
            database,
            action,
            target: target.to_owned(),
            result,
            span,
            unrecorded: false,
        }
    }

    /// The span of a change. Its fields, the only ones (docs/how-it-works.md, "What the
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

/// A change done and not yet recorded. Its result comes only out of
/// [`Done::recorded`], which first writes the change's audit entry and log
/// line, so no front end can have one without the other; one that must
/// note something first (the dashboard settles its single-use form, so
/// that a form sent again meanwhile is told what was done) reads
/// [`Done::result`] before.
#[must_use = "a change's result comes with its audit entry, out of `recorded`"]
pub struct Done<'o, 'a, T> {
    ops: &'o Operations<'a>,
    database: &'o ManagedDatabase,
    action: Action,
    target: String,
    result: Result<T, RoleError>,
    span: tracing::Span,
    /// A change that changed nothing (a fix with nothing left to fix).
    unrecorded: bool,
}

impl<T> Done<'_, '_, T> {
    /// How the change ended, before it is recorded.
    pub fn result(&self) -> &Result<T, RoleError> {
        &self.result
    }

    /// Records the change and logs it; then its result.
    pub async fn recorded(self) -> Result<T, RoleError> {
        if !self.unrecorded {
            self.ops
                .done(self.database, self.action, &self.target, &self.result)
                .instrument(self.span)
                .await;
        }
        self.result
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
