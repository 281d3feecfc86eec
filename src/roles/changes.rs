//! The changes: create, set or reset a password, rename, delete. Each is
//! one transaction holding its user's name lock (see [`Lock`]).

use deadpool_postgres::{ClientWrapper, GenericClient, Pool, Transaction};
use futures_util::TryFutureExt;
use tokio_postgres::error::SqlState;

use super::privileges::{self, ensure_privileges_of, refusal};
use super::sql::{self, ident};
use super::{
    Access, Facts, RoleError, RoleManager, code, groups, lockout, managed_target, upgrade,
};
use crate::domain::{Limits, LimitsChange, NewPassword, Password, RoleName, Username};

/// The rule of taken names: a new user's name is taken when any role of
/// the server has it, whatever the case. Names that differ only by case
/// would be told apart only by quoting, which applications rarely do: one
/// of them is enough. The refusal names the role that has it (several may,
/// case twins made elsewhere: the first by name).
async fn refuse_taken(client: &impl GenericClient, name: &Username) -> Result<(), RoleError> {
    let user = name.as_str();
    let (low, high) = case_ranges(user);
    let existing = sql::at_most_one(client, sql::NAME_TAKEN, &[&user, &low, &high])
        .await
        .map_err(|e| RoleError::from_postgres(e, user))?;
    match existing {
        Some(row) => Err(RoleError::AlreadyExists(row.get(0))),
        None => Ok(()),
    }
}

/// How many ranges of names [`case_ranges`] gives at most: the cases of a
/// name's first six letters.
const CASE_RANGES: usize = 64;

/// Ranges of names, as (inclusive starts, exclusive ends), that hold every
/// name that is `name` in another ASCII case: one per case of its first
/// letters, up to [`CASE_RANGES`] (the rest of the name is compared within
/// them). `name` is a [`Username`]'s: ASCII letters, digits, underscores.
fn case_ranges(name: &str) -> (Vec<String>, Vec<String>) {
    let mut starts = vec![String::new()];
    for c in name.chars() {
        if c.is_ascii_alphabetic() {
            if starts.len() >= CASE_RANGES {
                break;
            }
            starts = starts
                .iter()
                .flat_map(|start| {
                    [c.to_ascii_lowercase(), c.to_ascii_uppercase()]
                        .map(|case| format!("{start}{case}"))
                })
                .collect();
        } else {
            starts.iter_mut().for_each(|start| start.push(c));
        }
    }
    // Each start's last character, one higher: the first name past the
    // start's range (every character here is ASCII, below DEL).
    let ends = starts
        .iter()
        .map(|start| {
            let mut end = start.clone();
            let last = end.pop().map_or(0, u32::from);
            end.push(char::from_u32(last + 1).unwrap_or(char::MAX));
            end
        })
        .collect();
    (starts, ends)
}

/// Takes `client` out of the pool for a delete: its connection closes when
/// the returned client is dropped, so a delete cancelled half-way (a
/// dropped request) does not leave its session behind, which its lock-out's
/// record would take for a delete still running (see [`lockout`]).
fn own_connection(client: deadpool_postgres::Client) -> ClientWrapper {
    deadpool_postgres::Client::take(client)
}

/// A delete's lock-out to undo once the server is back (see [`lockout`]).
struct Interrupted {
    user: String,
    oid: u32,
    /// The protected user configured, for the facts of the undo's change.
    protected: Option<String>,
    pool: Pool,
}

impl Interrupted {
    /// Undoes the lock-out in the background: every second for five
    /// minutes (should a delete of the user begin meanwhile, it undoes the
    /// lock-out itself, and this waits for it to end). Should
    /// this process end first, the record in the catalog stays: pgusers'
    /// next change of the user undoes it.
    fn later(self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(user = %self.user, "a failed delete left the user locked out (CONNECTION LIMIT 0, its routines SECURITY INVOKER): pgusers' next change of the user undoes it");
            return;
        };
        runtime.spawn(async move {
            let mut last = None;
            for _ in 0..UNDO_TRIES {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                match self.try_once().await {
                    Ok(()) => {
                        tracing::info!(user = %self.user, "a failed delete's lock-out was undone once the database was back");
                        return;
                    }
                    Err(error) => last = Some(error),
                }
            }
            if let Some(error) = last {
                tracing::error!(error = %crate::failure::chain(&error), user = %self.user, "a failed delete left the user locked out (CONNECTION LIMIT 0, its routines SECURITY INVOKER) for five minutes: pgusers' next change of the user undoes it");
            }
        });
    }

    async fn try_once(&self) -> Result<(), RoleError> {
        let client = self.pool.get().await.map_err(|error| {
            RoleError::Unavailable(crate::failure::Detail::new(
                "no connection to the database",
                error,
            ))
        })?;
        let mut client = own_connection(client);
        undo_lock_out(&mut client, self.protected.as_deref(), &self.user, self.oid).await
    }
}

/// A delete's lock-out, undone in the background if the delete is dropped
/// before it ends (see [`Interrupted::later`]).
struct UndoIfDropped(Option<Interrupted>);

impl Drop for UndoIfDropped {
    fn drop(&mut self) {
        if let Some(interrupted) = self.0.take() {
            tracing::warn!(user = %interrupted.user, "a delete was dropped half-way: its lock-out is undone in the background");
            interrupted.later();
        }
    }
}

/// Undoes, in a change of its own on `client`, the lock-out of user `oid`
/// (by oid: the name may be another role's by now).
async fn undo_lock_out(
    client: &mut ClientWrapper,
    protected: Option<&str>,
    user: &str,
    oid: u32,
) -> Result<(), RoleError> {
    let tx = begin(client, &[user]).await?;
    let facts = super::read_facts(&tx, protected).await?;
    lockout::undo(&tx, &facts, user, oid).await?;
    tx.commit()
        .await
        .map_err(|e| RoleError::from_postgres(e, user))
}

/// For the changes that keep a user: refuses as busy while a delete of
/// `user` runs, and undoes the lock-out of a delete that no longer runs,
/// so that a password pgusers hands out works (see [`lockout::undo`]).
async fn refuse_while_deleted(
    tx: &Transaction<'_>,
    facts: &Facts,
    user: &str,
    oid: u32,
) -> Result<(), RoleError> {
    if lockout::undo(tx, facts, user, oid).await? {
        tracing::info!(
            user,
            "an interrupted delete's lock-out was undone before changing the user"
        );
    }
    Ok(())
}

/// How many times, a second apart, a lock-out is undone once the server is back.
const UNDO_TRIES: u32 = 300;

impl RoleManager {
    /// Creates a user with the password given, or a generated one, which is
    /// returned so it can be shown once.
    pub async fn create(
        &self,
        name: &Username,
        password: NewPassword,
        access: Access,
    ) -> Result<Option<Password>, RoleError> {
        self.create_with(name, password, access, &Limits::default())
            .await
    }

    /// [`RoleManager::create`], with an expiry and a connection limit.
    pub async fn create_with(
        &self,
        name: &Username,
        password: NewPassword,
        access: Access,
        limits: &Limits,
    ) -> Result<Option<Password>, RoleError> {
        let (password, generated) = resolve(password);
        let user = name.as_str();
        // The verifier's 4,096 rounds take a core for about a millisecond:
        // on a thread of their own, while the change's first statements
        // go to the server.
        let verifier = tokio::task::spawn_blocking({
            let password = password.clone();
            move || sql::password_clause(&password)
        });
        let mut client = self.change_client().await?;
        // Said before what the shared work may refuse (asked again under
        // the name lock).
        refuse_taken(&client, name).await?;
        let (tx, facts, looked) = self
            .begin_with(&mut client, user, SharedWork::Create(access))
            .await?;
        let password_clause = match verifier.await {
            Ok(clause) => clause,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // Cancelled: the runtime is shutting down, and this thread still runs.
            Err(_) => sql::password_clause(&password),
        };
        let fail = |e| refusal(&facts, e, user);
        let group = match access {
            Access::ReadWrite => &facts.writers,
            Access::ReadOnly => &facts.readers,
        };
        // The role alone in its batch: a failing batch is written whole
        // to the server's log (`log_min_error_statement`), which only a
        // superuser may turn off, and no other statement's failure may
        // take the verifier with it.
        let create = format!(
            "CREATE ROLE {} LOGIN {password_clause} {};",
            ident(user),
            sql::limits_clauses(&LimitsChange::all(*limits))
        );
        let mut made = sql::mark(&facts.mark, &ident(user), facts.version_num);
        made.push_str(&groups::membership(group, &ident(user), facts.version_num));
        // Default privileges FOR the new user (so everyone shares what it
        // makes) need its privileges: asked once it exists, unless pgusers'
        // role has them whatever the catalog says.
        let defaults =
            (access == Access::ReadWrite).then(|| groups::creator_defaults(&ident(user), &facts));
        let ask = !privileges::acts_for_any(&facts, user);
        if let (Some(defaults), false) = (&defaults, ask) {
            made.push_str(defaults);
        }
        // Asked again under the name lock, and answered before the role is
        // sent: a create that lost a race for the name never sends its
        // verifier. Then the role and what it is given, in one round trip.
        refuse_taken(&tx, name).await?;
        sql::pipelined(
            tx.batch_execute(&create).map_err(fail),
            tx.batch_execute(&made).map_err(fail),
        )
        .await?;
        if let (Some(defaults), true) = (&defaults, ask) {
            ensure_privileges_of(&tx, &facts, user, "to change default privileges for it").await?;
            tx.batch_execute(defaults).await.map_err(fail)?;
        }
        tx.commit().await.map_err(fail)?;
        self.looks.found_none(looked);
        Ok(generated.then_some(password))
    }

    /// Refuses a name [`RoleManager::create`] would refuse as taken, for
    /// saying so before asking a person for anything (a password). The
    /// create checks again, under its lock.
    pub async fn ensure_name_free(&self, name: &Username) -> Result<(), RoleError> {
        let client = self.client().await?;
        refuse_taken(&client, name).await
    }

    /// Sets a chosen password.
    pub async fn set_password(
        &self,
        name: &RoleName,
        password: &Password,
    ) -> Result<(), RoleError> {
        self.change_password(name, password).await
    }

    /// Replaces the password with a generated one, returned so it can be shown once.
    pub async fn reset_password(&self, name: &RoleName) -> Result<Password, RoleError> {
        let password = Password::generate();
        self.change_password(name, &password).await?;
        Ok(password)
    }

    /// Sets or generates a password, as a person asked. Returns the generated one.
    pub async fn update_password(
        &self,
        name: &RoleName,
        password: NewPassword,
    ) -> Result<Option<Password>, RoleError> {
        let (password, generated) = resolve(password);
        self.change_password(name, &password).await?;
        Ok(generated.then_some(password))
    }

    async fn change_password(&self, name: &RoleName, password: &Password) -> Result<(), RoleError> {
        let statement = format!(
            "ALTER ROLE {} {}",
            ident(name.as_str()),
            sql::password_clause(password)
        );
        self.alter_managed(name, &statement, name.as_str()).await
    }

    /// Renames a user. (PostgreSQL clears an MD5 password on rename, as its
    /// salt is the name; SCRAM passwords survive.)
    pub async fn rename(&self, name: &RoleName, new_name: &Username) -> Result<(), RoleError> {
        let statement = format!(
            "ALTER ROLE {} RENAME TO {}",
            ident(name.as_str()),
            ident(new_name.as_str())
        );
        self.alter_managed(name, &statement, new_name.as_str())
            .await
    }

    /// Changes when a user's password expires and how many sessions it may
    /// open (each kept, removed or set, see [`LimitsChange`]). Refused as busy while the user is
    /// being deleted: the delete's lock-out is a connection limit of 0 (an
    /// interrupted delete's is undone first, then the change is made).
    pub async fn set_limits(
        &self,
        name: &RoleName,
        change: &LimitsChange,
    ) -> Result<(), RoleError> {
        let user = name.as_str();
        let mut client = self.change_client().await?;
        let tx = begin(&mut client, &[user]).await?;
        let facts = self.facts(&tx).await?;
        let oid = managed_target(&tx, &facts, name).await?;
        refuse_while_deleted(&tx, &facts, user, oid).await?;
        let fail = |e| refusal(&facts, e, user);
        let clauses = sql::limits_clauses(change);
        if !clauses.is_empty() {
            tx.batch_execute(&format!("ALTER ROLE {} {clauses}", ident(user)))
                .await
                .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }

    /// Runs one `ALTER ROLE` on a managed, unprotected user, in a change of
    /// its own, refused as busy while the user is being deleted. `blame`
    /// names the user an "already exists" would be about.
    async fn alter_managed(
        &self,
        name: &RoleName,
        statement: &str,
        blame: &str,
    ) -> Result<(), RoleError> {
        let mut client = self.change_client().await?;
        let tx = begin(&mut client, &[name.as_str(), blame]).await?;
        let facts = self.facts(&tx).await?;
        let oid = managed_target(&tx, &facts, name).await?;
        refuse_while_deleted(&tx, &facts, name.as_str(), oid).await?;
        let fail = |e| refusal(&facts, e, blame);
        tx.batch_execute(statement).await.map_err(fail)?;
        tx.commit().await.map_err(fail)
    }

    /// Deletes a user without losing data: its sessions end, its code that
    /// could act with its owner's rights is made safe (see
    /// [`super::LeftCode`]), everything it owns moves to the protected user,
    /// its remaining privileges are dropped, then the role.
    ///
    /// First, in a change of its own, the user is locked out (`CONNECTION
    /// LIMIT 0`) and its sessions end, so it cannot add code while the
    /// deletion looks at what it has. Whatever makes it not manageable is
    /// checked before that, so a refused delete changes nothing; if the
    /// deletion then fails, its connection limit is put back.
    ///
    /// One delete of a user at a time: a second one, while the first runs,
    /// is refused as busy. Otherwise it could read the first one's lock-out
    /// as the user's own connection limit and, failing, put that back,
    /// leaving the user locked out for good.
    pub async fn delete(&self, name: &RoleName) -> Result<(), RoleError> {
        let mut client = own_connection(self.change_client().await?);
        self.delete_on(&mut client, name).await
    }

    /// [`RoleManager::delete`], on a connection of its own. Once the
    /// lock-out may have committed (its commit sent), any failure undoes it.
    async fn delete_on(
        &self,
        client: &mut ClientWrapper,
        name: &RoleName,
    ) -> Result<(), RoleError> {
        let user = name.as_str();
        let (oid, locked_out) = match self.lock_out(client, name).await {
            Ok(oid) => (oid, Ok(())),
            Err((error, None)) => return Err(error),
            Err((error, Some(oid))) => (oid, Err(error)),
        };
        // Should this future be dropped from here on (a request whose
        // client went away), the lock-out is undone in the background.
        let mut pending = UndoIfDropped(Some(Interrupted {
            user: user.to_owned(),
            oid,
            protected: self.configured_protected().map(str::to_owned),
            pool: self.pool.clone(),
        }));
        let deleted = match locked_out {
            Ok(()) => match self.delete_locked_out(client, name, oid).await {
                // A lock the move waited for past its time: whose?
                Err(RoleError::Busy) => Err(held_by_others(&**client, user, oid).await),
                other => other,
            },
            Err(error) => Err(error),
        };
        let interrupted = pending.0.take().expect("taken only here");
        if deleted.is_err() {
            // By oid: when the role is gone (or is another by that name),
            // there is nothing to undo and this does nothing.
            if let Err(error) = undo_lock_out(client, self.configured_protected(), user, oid).await
            {
                tracing::warn!(error = %crate::failure::chain(&error), user, "undoing a failed delete's lock-out failed: trying again in the background");
                interrupted.later();
            }
        }
        deleted
    }

    /// Refuses what may not be deleted, then locks the user out (see
    /// [`lockout::lock_out`]: a call of its routines would act as the user
    /// however locked out), and ends its sessions, waiting (a few seconds at
    /// most) for them to go. Returns its oid; a failure says whether the
    /// lock-out may have committed (its oid, for the undo).
    async fn lock_out(
        &self,
        client: &mut ClientWrapper,
        name: &RoleName,
    ) -> Result<u32, (RoleError, Option<u32>)> {
        let user = name.as_str();
        let (oid, fail) = {
            // What the deleted user's tables give others follows the
            // protected user's default privileges: current ones.
            let (tx, facts, _) = self
                .begin_with(client, user, SharedWork::Delete)
                .await
                .map_err(|e| (e, None))?;
            let oid = self
                .refuse_undeletable(&tx, &facts, name)
                .await
                .map_err(|e| (e, None))?;
            lockout::lock_out(&tx, &facts, user, oid)
                .await
                .map_err(|e| (e, None))?;
            let fail = move |e| (refusal(&facts, e, user), Some(oid));
            tx.commit().await.map_err(&fail)?;
            (oid, fail)
        };
        terminate_sessions(&**client, oid).await.map_err(&fail)?;
        for _ in 0..100 {
            let open: i64 = client
                .query_one(sql::SESSIONS_OF_USER, &[&oid])
                .await
                .map_err(&fail)?
                .get(0);
            if open == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Ok(oid)
    }

    /// Refuses, in `tx`, to delete what may not be deleted, and takes the
    /// privileges the deletion needs. Returns the user's oid.
    async fn refuse_undeletable(
        &self,
        tx: &Transaction<'_>,
        facts: &Facts,
        name: &RoleName,
    ) -> Result<u32, RoleError> {
        let user = name.as_str();
        let oid = managed_target(tx, facts, name).await?;
        // Ending its sessions, moving what it owns and dropping its
        // privileges need the privileges of the user and of the protected user.
        ensure_privileges_of(tx, facts, user, "to end its sessions and move what it owns").await?;
        ensure_privileges_of(tx, facts, &facts.protected, GIVE_MOVED).await?;
        privileges::ensure_may_give_to(tx, facts, &facts.protected).await?;
        refuse_others_acting_as(tx, facts, user, oid).await?;
        let code = code::find(tx, oid, &facts.protected, facts.version_num)
            .await
            .map_err(|e| refusal(facts, e, user))?;
        if let Some(refused) = code::refusal(&code, user) {
            return Err(refused);
        }
        Ok(oid)
    }

    async fn delete_locked_out(
        &self,
        client: &mut ClientWrapper,
        name: &RoleName,
        oid: u32,
    ) -> Result<(), RoleError> {
        let user = name.as_str();
        let tx = open(client, user).await?;
        // Waited for before the name locks, so that other changes go on
        // meanwhile (one of this user's, refused as busy while the delete
        // runs, included).
        let early = self.facts(&tx).await?;
        lock_relations_of(&tx, &early, user, oid).await?;
        // Deletes into one protected user go on at once: what each moves
        // is told apart by its transaction (see `refuse_made_meanwhile`).
        take_name_locks(&tx, &[user]).await?;
        tx.batch_execute(&format!("SET LOCAL lock_timeout = '{MOVE_LOCK_WAIT}'"))
            .await
            .map_err(|e| RoleError::from_postgres(e, user))?;
        let facts = self.facts(&tx).await?;
        if managed_target(&tx, &facts, name).await? != oid {
            // Dropped and made again by someone else meanwhile: not ours to delete.
            return Err(RoleError::NotFound(user.to_owned()));
        }
        let fail = |e| refusal(&facts, e, user);
        // Ending sessions first frees the locks they hold on the user's
        // tables, which REASSIGN OWNED would otherwise wait for.
        terminate_sessions(&*tx, oid).await.map_err(fail)?;
        // Read before `find` (each statement sees its own moment): what is
        // made in between is neutralised but not known, so it stops the
        // delete rather than slip through.
        let known = owned_by(&tx, oid).await.map_err(fail)?;
        let code = code::find(&tx, oid, &facts.protected, facts.version_num)
            .await
            .map_err(fail)?;
        // Made since the lock-out's look (by a call begun before it).
        if let Some(refused) = code::refusal(&code, user) {
            return Err(refused);
        }
        let moved = privileges::moved_tables(&*tx, oid).await.map_err(fail)?;
        // Its routines stay "another role's code" once the protected user
        // owns them, until a person reviews them.
        let unreviewed: String = tx
            .query(sql::MARK_UNREVIEWED, &[&oid, &user])
            .await
            .map_err(fail)?
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect();
        // The user's name lock, written again with the move: its comment
        // carries the transaction id of what the REASSIGN changes.
        let marker = lock_role_in(&tx, name_lock(user), user).await?;
        let statements = format!(
            "{neutralise} {unreviewed} REASSIGN OWNED BY {user} TO {protected}; \
             COMMENT ON ROLE {marker} IS {mark};",
            neutralise = code::neutralise(&code),
            user = ident(user),
            protected = ident(&facts.protected),
            marker = ident(&marker),
            mark = sql::literal(&change_mark()),
        );
        tx.batch_execute(&statements).await.map_err(fail)?;
        // A call of the user's routine begun before the lock-out still runs
        // as the user: what it made after `find` would reach the protected
        // user unreviewed, and what it made after the REASSIGN would be
        // dropped with the user's privileges.
        refuse_made_meanwhile(&tx, &facts, user, oid, &known, &marker).await?;
        let shared = groups::moved_grants(&tx, &facts, &moved).await?;
        // Other changes go on meanwhile: one may update a row these
        // update too (a grant on one table, the database's by hand).
        batch_retried(&tx, &shared)
            .await
            .map_err(|e| refusal(&facts, e, &facts.protected))?;
        batch_retried(&tx, &format!("DROP OWNED BY {};", ident(user)))
            .await
            .map_err(fail)?;
        // DROP OWNED skips, silently, grants pgusers' role may not revoke.
        privileges::check_nothing_granted_left(&tx, &facts, user, oid).await?;
        tx.batch_execute(&format!("DROP ROLE {};", ident(user)))
            .await
            .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        // A session opened while the transaction ran outlives the role. The
        // delete is done whatever happens here, so a failure is only logged.
        if let Err(error) = terminate_sessions(&**client, oid).await {
            tracing::warn!(error = %crate::failure::chain(&error), user, "ending the sessions of a deleted user failed");
        }
        Ok(())
    }
}

/// Takes, in `tx`, what a delete's move waits for, before the name locks:
/// the tables user `oid` owns in this database that pgusers' role may
/// lock (each alone: a partition of another owner is not its to lock;
/// `LOCK` asks for a right to change the table, which an owner may take
/// from itself: such a table waits at `REASSIGN OWNED`), then the end of
/// other sessions' locks on the user's role (`GRANT … TO user` on a table
/// of one's own, in a transaction left open, holds one; `DROP ROLE` waits
/// for it). After [`FIRST_WAIT`], the sessions holding them that pgusers
/// may end are ended ([`end_blockers`]: users it lists, not protected),
/// and the wait goes on, 10 s in all; when others hold on longer (the
/// protected user's, a superuser's), the delete is refused, naming them.
/// (`LOCK` takes no sequence or materialized view, and on a view it would
/// lock the tables it reads: those wait under the name locks, for
/// [`MOVE_LOCK_WAIT`] at most.)
async fn lock_relations_of(
    tx: &Transaction<'_>,
    facts: &Facts,
    user: &str,
    oid: u32,
) -> Result<(), RoleError> {
    let fail = |e| RoleError::from_postgres(e, user);
    let names: Vec<String> = tx
        .query(sql::LOCKABLE_RELATIONS, &[&oid])
        .await
        .map_err(fail)?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if !names.is_empty() {
        let lock = format!(
            "LOCK TABLE ONLY {} IN ACCESS EXCLUSIVE MODE",
            names.join(", ONLY ")
        );
        for wait in [FIRST_WAIT, "7s"] {
            let locked = tx
                .batch_execute(&format!(
                    "SAVEPOINT relations; SET LOCAL lock_timeout = '{wait}'; {lock}"
                ))
                .await;
            match locked {
                Err(error) if error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                    tx.batch_execute("ROLLBACK TO SAVEPOINT relations")
                        .await
                        .map_err(fail)?;
                    if wait != FIRST_WAIT || end_blockers(tx, facts, user, oid).await? == 0 {
                        return Err(held_by_others(&**tx, user, oid).await);
                    }
                }
                other => {
                    other.map_err(fail)?;
                    break;
                }
            }
        }
        tx.batch_execute("SET LOCAL lock_timeout = '10s'")
            .await
            .map_err(fail)?;
    }
    let started = std::time::Instant::now();
    let mut ended = false;
    loop {
        let held: bool = tx
            .query_one(sql::ROLE_LOCK_HELD.as_str(), &[&oid])
            .await
            .map_err(fail)?
            .get(0);
        if !held {
            return Ok(());
        }
        let waited = started.elapsed();
        if waited >= std::time::Duration::from_secs(10) {
            return Err(held_by_others(&**tx, user, oid).await);
        }
        if !ended && waited >= std::time::Duration::from_secs(3) {
            ended = true;
            end_blockers(tx, facts, user, oid).await?;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// How long a delete waits for other sessions' locks before ending those
/// it may end (a short transaction is let finish).
const FIRST_WAIT: &str = "3s";

/// Ends the sessions holding locks on what user `oid` owns here, or on its
/// role (`sql/blocking.sql`), that pgusers may end: those of the application
/// users of this database it manages (never a role that is more, such as
/// a backup's with `pg_read_all_data`, nor the protected user's),
/// once it has their privileges (taking them as End sessions does, see
/// [`ensure_privileges_of`]; a role it cannot act for is left, and named
/// if it still holds on). Waits, a few seconds at most, for them to go;
/// returns how many it ended.
async fn end_blockers(
    tx: &Transaction<'_>,
    facts: &Facts,
    user: &str,
    oid: u32,
) -> Result<usize, RoleError> {
    let fail = |e| RoleError::from_postgres(e, user);
    let rows = tx
        .query(sql::BLOCKERS_TO_END.as_str(), &[&oid, &facts.protected])
        .await
        .map_err(fail)?;
    let mut ended: Vec<i32> = Vec::new();
    for row in &rows {
        let role: String = row.get(0);
        let pids: Vec<i32> = row.get(1);
        tx.batch_execute("SAVEPOINT blocker").await.map_err(fail)?;
        let purpose = "to end its sessions, which hold what a deleted user owns";
        // Only an application user of this database: never a backup's,
        // monitoring's or another administrator's role.
        let manageable = match RoleName::parse(&role) {
            Ok(name) => managed_target(tx, facts, &name).await.is_ok(),
            Err(_) => false,
        };
        let allowed = if manageable {
            ensure_privileges_of(tx, facts, &role, purpose).await
        } else {
            Err(RoleError::Busy)
        };
        let done = match allowed {
            Ok(()) => tx.execute(sql::END_PROCESSES, &[&pids]).await.is_ok(),
            Err(_) => false,
        };
        if done {
            ended.extend(&pids);
        } else {
            tx.batch_execute("ROLLBACK TO SAVEPOINT blocker")
                .await
                .map_err(fail)?;
        }
    }
    if ended.is_empty() {
        return Ok(0);
    }
    tracing::info!(user, sessions = ?ended, "ended the sessions holding what a deleted user owns");
    for _ in 0..50 {
        let left: i64 = tx
            .query_one(sql::PROCESSES_LEFT, &[&ended])
            .await
            .map_err(fail)?
            .get(0);
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(ended.len())
}

/// How long a delete's move waits for each lock, under the name locks
/// (what it could not take before: sequences, views, materialized views).
const MOVE_LOCK_WAIT: &str = "3s";

/// Who holds locks on what user `oid` owns in this database, or on the
/// user's role: a [`RoleError::HeldByOthers`] naming them, or
/// [`RoleError::Busy`] when they are gone by now.
async fn held_by_others(
    client: &impl tokio_postgres::GenericClient,
    user: &str,
    oid: u32,
) -> RoleError {
    let sessions = client.query(sql::BLOCKING_SESSIONS.as_str(), &[&oid]).await;
    match sessions {
        Ok(rows) if !rows.is_empty() => RoleError::HeldByOthers {
            user: user.to_owned(),
            sessions: rows
                .iter()
                .map(|row| row.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join(", "),
        },
        Ok(_) => RoleError::Busy,
        Err(error) => RoleError::from_postgres(error, user),
    }
}

/// Refuses to delete `user` while roles other than pgusers' own are members
/// of it (acting as it, or with its rights): they would not be locked out
/// with it.
pub(super) async fn refuse_others_acting_as(
    tx: &impl GenericClient,
    facts: &Facts,
    user: &str,
    oid: u32,
) -> Result<(), RoleError> {
    // Whatever its options: SET acts as it, INHERIT has its rights over
    // its objects (to make a routine SECURITY DEFINER again), ADMIN may
    // grant either.
    let members: Vec<String> = tx
        .query(sql::MEMBERS_OF_USER, &[&oid])
        .await
        .map_err(|e| refusal(facts, e, user))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if members.is_empty() {
        return Ok(());
    }
    Err(RoleError::ActedAsByOthers {
        user: user.to_owned(),
        members: members
            .iter()
            .map(|member| format!("\"{member}\""))
            .collect::<Vec<_>>()
            .join(", "),
        revokes: members
            .iter()
            .map(|member| format!("REVOKE {} FROM {};", ident(user), ident(member)))
            .collect::<Vec<_>>()
            .join(" "),
    })
}

/// What the user (`oid`) owns in this database, as `classid:objid` keys of
/// `pg_shdepend`, read when the deletion looks at the user's code.
async fn owned_by(tx: &Transaction<'_>, oid: u32) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = tx.query(sql::OWNED_KEYS.as_str(), &[&oid]).await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// After `REASSIGN OWNED`: refuses when code running as `user` made objects
/// meanwhile. Anything it still owns here was made after the REASSIGN;
/// anything the REASSIGN gave the protected user that the user did not own
/// when the deletion looked at its code (`known`) was made in between, and
/// would reach the protected user unreviewed. What the REASSIGN changed is
/// told from what other transactions did meanwhile (another delete's move,
/// the protected user's own work) by its transaction id: that of the
/// comment of lock role `marker`, written in the same statements.
async fn refuse_made_meanwhile(
    tx: &Transaction<'_>,
    facts: &Facts,
    user: &str,
    oid: u32,
    known: &[String],
    marker: &str,
) -> Result<(), RoleError> {
    let rows = tx
        .query(
            sql::MADE_MEANWHILE.as_str(),
            &[&oid, &facts.protected, &known, &marker],
        )
        .await
        .map_err(|e| refusal(facts, e, user))?;
    if rows.is_empty() {
        return Ok(());
    }
    let objects: Vec<String> = rows.iter().filter_map(|row| row.get(0)).collect();
    Err(RoleError::ActedWhileDeleted {
        user: user.to_owned(),
        objects: objects.join(", "),
    })
}

fn resolve(password: NewPassword) -> (Password, bool) {
    match password {
        NewPassword::Chosen(password) => (password, false),
        NewPassword::Generate => (Password::generate(), true),
    }
}

/// Opens a change of `users` (one, or a rename's two names): a transaction
/// that waits at most 10 s for locks and holds their name locks until it
/// ends (see [`Lock`]).
pub(super) async fn begin<'a>(
    client: &'a mut ClientWrapper,
    users: &[&str],
) -> Result<Transaction<'a>, RoleError> {
    let tx = open(client, users.first().copied().unwrap_or_default()).await?;
    take_name_locks(&tx, users).await?;
    Ok(tx)
}

/// Opens a change of what every user shares (an upgrade, a doctor's fix):
/// a transaction holding the shared lock (see [`Lock`]).
pub(super) async fn begin_shared<'a>(
    client: &'a mut ClientWrapper,
) -> Result<Transaction<'a>, RoleError> {
    let tx = open(client, "").await?;
    take_everything(&tx, "").await?;
    Ok(tx)
}

/// Takes every name lock, in order, then the shared lock: what a change of
/// the whole server takes (an upgrade, a doctor's Fix, which act for any
/// user), so that no change of a user runs meanwhile.
async fn take_everything(tx: &Transaction<'_>, user: &str) -> Result<(), RoleError> {
    for n in 0..NAME_LOCKS {
        take_lock(tx, Lock::Name(n), user).await?;
    }
    take_lock(tx, Lock::Shared, user).await
}

/// What every user shares that a change may have to make or mend before
/// its own work (see [`RoleManager::begin_with`]).
pub(super) enum SharedWork {
    /// A create's: the upgrade, the groups, what they share, `public`.
    Create(Access),
    /// A delete's: the upgrade, and the protected user's privileges (best
    /// effort: the delete asks for them again in its turn, so that a
    /// refusal comes after "no such user").
    Delete,
}

impl SharedWork {
    /// Runs it in `tx`. Returns the looks that read only what changed
    /// since `looks`' last and found nothing to do: what to record once
    /// `tx` commits (see [`privileges::Looks`]).
    async fn run(
        &self,
        tx: &Transaction<'_>,
        facts: &Facts,
        looks: &privileges::Looks,
    ) -> Result<Vec<(privileges::Look, privileges::LookedAt)>, RoleError> {
        upgrade::ensure_current(tx, facts).await?;
        let Self::Create(access) = *self else {
            let fail = |e| RoleError::from_postgres(e, &facts.protected);
            tx.batch_execute("SAVEPOINT protected")
                .await
                .map_err(fail)?;
            let taken = async {
                ensure_privileges_of(tx, facts, &facts.protected, GIVE_MOVED).await?;
                privileges::ensure_may_give_to(tx, facts, &facts.protected).await
            }
            .await;
            let end = if taken.is_ok() {
                "RELEASE SAVEPOINT protected"
            } else {
                "ROLLBACK TO SAVEPOINT protected"
            };
            return tx
                .batch_execute(end)
                .await
                .map(|()| Vec::new())
                .map_err(fail);
        };
        // The groups share the protected user's objects and follow what
        // it makes: its privileges.
        ensure_privileges_of(
            tx,
            facts,
            &facts.protected,
            "to share what it owns and change default privileges for it",
        )
        .await?;
        groups::ensure(tx, facts).await?;
        let mut looked = Vec::new();
        if access == Access::ReadOnly {
            // What the new reader would gain through its group: only
            // reading (a look over the ACLs changed since the last look,
            // over every ACL at a process's first: about 12 ms at 10,000
            // users, so only before a reader joins; first, as a
            // membership it takes back could let the group create in
            // `public` below).
            looked.extend(privileges::keep_readers_reading_only(tx, facts, looks).await?);
        }
        match privileges::close_public_schema(tx, facts).await {
            // Only a read-only user would gain what PUBLIC may do there.
            Err(RoleError::MissingPrivilege { .. }) if access == Access::ReadWrite => {}
            other => other?,
        }
        if access == Access::ReadOnly {
            privileges::close_large_objects(tx, facts).await?;
        }
        groups::share(tx, facts, groups::Left::Refused).await?;
        // What is there now that the new user's group lacks: every table,
        // even one a role pgusers does not manage made (what changed since
        // the last look that found none).
        looked.extend(
            groups::share_existing(
                tx,
                facts,
                groups::Grantee::of(access),
                groups::Left::Refused,
                Some(looks),
            )
            .await?,
        );
        Ok(looked)
    }
}

/// How many times, holding the shared lock, a change does the shared work
/// that met another change's.
const SHARED_TRIES: u32 = 5;

/// Why a delete needs the protected user's privileges.
const GIVE_MOVED: &str = "to give it what a deleted user owned";

impl RoleManager {
    /// Opens a change of `user`: takes its name lock, makes sure of `work`,
    /// and reads the facts. Most changes find `work` done, or do it without
    /// meeting another change doing the same: it runs without the shared
    /// lock, in a savepoint, so changes of different users go on at once.
    /// When it fails (another change made the same group or granted on the
    /// same table at once: PostgreSQL answers with a duplicate or "tuple
    /// concurrently updated" rather than wait), what it did is undone, and
    /// it runs again holding the shared lock. An upgrade to make takes every
    /// name lock, then the shared lock. Every change takes its name locks
    /// (in order) before the shared lock, and none takes a lock while it
    /// holds rows it changed: the only waits in a circle left are between
    /// rows two changes update in different orders, which PostgreSQL
    /// detects (one of them is told to try again). Also returns what to
    /// record once the transaction commits (see [`SharedWork::run`]).
    async fn begin_with<'a>(
        &self,
        client: &'a mut ClientWrapper,
        user: &str,
        work: SharedWork,
    ) -> Result<
        (
            Transaction<'a>,
            Facts,
            Vec<(privileges::Look, privileges::LookedAt)>,
        ),
        RoleError,
    > {
        let fail = |e| RoleError::from_postgres(e, user);
        let tx = client.transaction().await.map_err(fail)?;
        // The settings, the facts and the name of the lock roles in one
        // round trip, and the shared work's first question right behind its
        // savepoint (see `sql::pipelined`).
        let (((), facts), shared_lock) = sql::pipelined(
            sql::pipelined(settle_in(&tx, user), self.facts(&tx)),
            shared_lock_role(&tx, user),
        )
        .await?;
        if facts.step == upgrade::CURRENT {
            take_lock_of(&tx, name_lock_role(&shared_lock, user), user).await?;
            let (savepoint, done) = futures_util::future::join(
                tx.batch_execute("SAVEPOINT shared"),
                work.run(&tx, &facts, &self.looks),
            )
            .await;
            savepoint.map_err(fail)?;
            if let Ok(looked) = done {
                tx.batch_execute("RELEASE SAVEPOINT shared")
                    .await
                    .map_err(fail)?;
                return Ok((tx, facts, looked));
            }
            tx.batch_execute("ROLLBACK TO SAVEPOINT shared")
                .await
                .map_err(fail)?;
            take_lock(&tx, Lock::Shared, user).await?;
        } else {
            // An upgrade acts for every user.
            take_everything(&tx, user).await?;
        }
        let facts = self.facts(&tx).await?;
        // Changes doing it without the lock may still meet this one: the
        // work is done again, a few times, once they are through.
        let mut tries = 1;
        loop {
            tx.batch_execute("SAVEPOINT shared").await.map_err(fail)?;
            match work.run(&tx, &facts, &self.looks).await {
                Err(RoleError::Concurrent | RoleError::AlreadyExists(_))
                    if tries < SHARED_TRIES =>
                {
                    tries += 1;
                    tx.batch_execute("ROLLBACK TO SAVEPOINT shared")
                        .await
                        .map_err(fail)?;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                // A group made by another change at that moment, still:
                // not this user's name.
                Err(RoleError::AlreadyExists(_)) => return Err(RoleError::Concurrent),
                done => {
                    let looked = done?;
                    tx.batch_execute("RELEASE SAVEPOINT shared")
                        .await
                        .map_err(fail)?;
                    return Ok((tx, facts, looked));
                }
            }
        }
    }
}

/// Runs `statements` in `tx` in a savepoint, and again (five tries in all)
/// when PostgreSQL says another transaction updated one of the catalog rows
/// they update ("tuple concurrently updated": it updates them in place,
/// rather than wait and follow). The other has committed by then: the next
/// try reads its row.
async fn batch_retried(
    tx: &Transaction<'_>,
    statements: &str,
) -> Result<(), tokio_postgres::Error> {
    if statements.is_empty() {
        return Ok(());
    }
    let mut tries = 1;
    loop {
        tx.batch_execute("SAVEPOINT retried").await?;
        match tx.batch_execute(statements).await {
            Err(error) if tries < 5 && crate::db::is_concurrent_update(&error) => {
                tries += 1;
                tx.batch_execute("ROLLBACK TO SAVEPOINT retried").await?;
            }
            done => {
                done?;
                return tx.batch_execute("RELEASE SAVEPOINT retried").await;
            }
        }
    }
}

impl RoleManager {
    /// A pooled connection for a change, once pgusers' lock roles exist:
    /// at the first change of this manager, those missing are made in a
    /// transaction of their own, so that a change's transaction finds them
    /// (two making one role at once would meet in its unique index, and the
    /// one that waited could not name it until its transaction ended). A
    /// failure is left for the change to meet and say (see [`take_lock`]).
    pub(super) async fn change_client(&self) -> Result<deadpool_postgres::Client, RoleError> {
        use std::sync::atomic::Ordering;
        let mut client = self.client().await?;
        if !self.locks_made.load(Ordering::Relaxed) {
            match make_lock_roles(&mut client).await {
                Ok(()) => self.locks_made.store(true, Ordering::Relaxed),
                Err(error) => {
                    tracing::debug!(error = %crate::failure::chain(&error), "making the lock roles failed: the change says why");
                }
            }
        }
        Ok(client)
    }
}

/// Makes, in a transaction of its own, the lock roles of pgusers' role that
/// do not exist (each in a savepoint: another process may make it at once).
async fn make_lock_roles(
    client: &mut deadpool_postgres::Client,
) -> Result<(), tokio_postgres::Error> {
    let shared: String = client.query_one(sql::CHANGE_LOCK_ROLE, &[]).await?.get(0);
    let wanted: Vec<String> = std::iter::once(Lock::Shared)
        .chain((0..NAME_LOCKS).map(Lock::Name))
        .map(|lock| lock_role(&shared, lock))
        .collect();
    let missing: Vec<String> = client
        .query(sql::MISSING_ROLES, &[&wanted])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let tx = client.transaction().await?;
    tx.batch_execute("SET LOCAL lock_timeout = '10s'").await?;
    for role in &missing {
        let made = tx
            .batch_execute(&format!(
                "SAVEPOINT lock_role; CREATE ROLE {role} NOLOGIN; COMMENT ON ROLE {role} IS {};
                 RELEASE SAVEPOINT lock_role",
                sql::literal(&change_mark()),
                role = ident(role)
            ))
            .await;
        match made {
            Err(error)
                if error.code() == Some(&SqlState::DUPLICATE_OBJECT)
                    || error.code() == Some(&SqlState::UNIQUE_VIOLATION) =>
            {
                tx.batch_execute("ROLLBACK TO SAVEPOINT lock_role").await?;
            }
            other => other?,
        }
    }
    tx.commit().await
}

/// A transaction that waits at most 10 s for each lock, with no lock yet.
async fn open<'a>(client: &'a mut ClientWrapper, user: &str) -> Result<Transaction<'a>, RoleError> {
    let tx = client
        .transaction()
        .await
        .map_err(|e| RoleError::from_postgres(e, user))?;
    settle_in(&tx, user).await?;
    Ok(tx)
}

/// A change's settings, first in its transaction: it waits at most 10 s
/// for a lock, and nothing of it reaches the server's log (not the names
/// of the objects it shares, nor a password's verifier).
async fn settle_in(tx: &Transaction<'_>, user: &str) -> Result<(), RoleError> {
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = '10s'; {}",
        crate::db::UNLOGGED
    ))
    .await
    .map_err(|e| RoleError::from_postgres(e, user))
}

/// pgusers' locks: each the lock PostgreSQL takes on a role while its
/// comment changes (`COMMENT ON ROLE`), on a role made for it at its first
/// use (`change_lock_role.sql`: `pgusers-lock-<oid of pgusers' role>`;
/// NOLOGIN, no rights, member of nothing). Roles belong to the whole
/// server, so these locks hold across every database of the server;
/// pgusers installations with administrator roles of their own take locks
/// of their own. Only a role that may change the comment (CREATEROLE, and
/// on 16+ ADMIN OPTION on the role) can hold one: any other role that
/// tries holds it for a moment, until PostgreSQL refuses it. (Advisory
/// locks, which pgusers used before, can be taken and held by any role
/// that may connect.)
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Lock {
    /// A name lock, `pgusers-lock-<oid>-<n>`: every change of a user takes
    /// the lock of its lowercased name ([`name_lock`]), so changes of one
    /// user take turns, two creates of case twins meet (one finds the
    /// other's name taken), and changes of different users go on at once
    /// (but for the few that share a lock).
    Name(u64),
    /// The shared lock, `pgusers-lock-<oid>`: taken to change what every
    /// user shares (the groups and what they are given, the upgrade),
    /// after the change's name locks.
    Shared,
}

/// How many name locks there are: with 32, changes of different users
/// share one now and then (about a third of 32 at once wait for another),
/// while the lock roles stay few (33 per administrator role, made together
/// at its first change, see [`RoleManager::change_client`]) and every view
/// reads 33 comments at most.
pub const NAME_LOCKS: u64 = 32;

/// The name lock of `user`'s name, lowercased as PostgreSQL folds an
/// unquoted name (ASCII letters): its FNV-1a hash, the same in every
/// process and version.
fn name_lock(user: &str) -> Lock {
    let hash = user
        .to_ascii_lowercase()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    Lock::Name(hash % NAME_LOCKS)
}

/// The name lock role of `user`, given the shared lock's role, for tests
/// and tools that look at it.
pub fn name_lock_role(shared: &str, user: &str) -> String {
    lock_role(shared, name_lock(user))
}

/// The role of `lock`, given the shared lock's (`change_lock_role.sql`).
fn lock_role(shared: &str, lock: Lock) -> String {
    match lock {
        Lock::Shared => shared.to_owned(),
        Lock::Name(n) => format!("{shared}-{n}"),
    }
}

/// Takes the name locks of `users`, in one order (a rename's two names).
async fn take_name_locks(tx: &Transaction<'_>, users: &[&str]) -> Result<(), RoleError> {
    let mut locks: Vec<Lock> = users.iter().map(|user| name_lock(user)).collect();
    locks.sort_unstable();
    locks.dedup();
    for lock in locks {
        take_lock(tx, lock, users.first().copied().unwrap_or_default()).await?;
    }
    Ok(())
}

/// The role of `lock` for pgusers' role in `tx` (`user`: the change's, for
/// a failure's message).
async fn lock_role_in(tx: &Transaction<'_>, lock: Lock, user: &str) -> Result<String, RoleError> {
    Ok(lock_role(&shared_lock_role(tx, user).await?, lock))
}

/// The role of the shared lock for pgusers' role in `tx`, whose name the
/// name locks' roles begin with (`change_lock_role.sql`).
async fn shared_lock_role(tx: &Transaction<'_>, user: &str) -> Result<String, RoleError> {
    Ok(sql::one(tx, sql::CHANGE_LOCK_ROLE, &[])
        .await
        .map_err(|e| RoleError::from_postgres(e, user))?
        .get(0))
}

/// Takes `lock` in `tx`, writing a new mark into its role's comment.
async fn take_lock(tx: &Transaction<'_>, lock: Lock, user: &str) -> Result<(), RoleError> {
    take_lock_of(tx, lock_role_in(tx, lock, user).await?, user).await
}

/// Takes the lock of `role` (one of [`lock_role`]'s) in `tx`.
async fn take_lock_of(tx: &Transaction<'_>, role: String, user: &str) -> Result<(), RoleError> {
    let fail = |e| RoleError::from_postgres(e, user);
    let lock = format!(
        "COMMENT ON ROLE {} IS {}",
        ident(&role),
        sql::literal(&change_mark())
    );
    // The savepoint and the lock in one round trip: the lock's failure
    // leaves the savepoint to go back to.
    match tx
        .batch_execute(&format!("SAVEPOINT change_lock; {lock}"))
        .await
    {
        Ok(()) => {}
        // The first change makes the lock roles, in a transaction of their
        // own; one dropped since is made again with this change.
        Err(error) if error.code() == Some(&SqlState::UNDEFINED_OBJECT) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT change_lock")
                .await
                .map_err(fail)?;
            let made = tx
                .batch_execute(&format!("CREATE ROLE {} NOLOGIN; {lock}", ident(&role)))
                .await;
            match made {
                Ok(()) => {}
                // Concurrent makers of one role meet in its catalog's
                // unique index; the one that waited still finds no role
                // by that name (PostgreSQL remembers, until the transaction
                // ends, that it looked for it and found none): busy, to
                // try again.
                Err(error)
                    if error.code() == Some(&SqlState::DUPLICATE_OBJECT)
                        || error.code() == Some(&SqlState::UNIQUE_VIOLATION) =>
                {
                    return Err(RoleError::Busy);
                }
                Err(error) => return Err(fail(error)),
            }
        }
        Err(error) if error.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
            return Err(change_lock_refused(tx, &role, error).await);
        }
        Err(error) => return Err(fail(error)),
    }
    Ok(())
}

/// What a lock role says of itself, with a mark new at each change: a list of users kept for the pages stands only while the marks
/// are the same ([`super::kept`]), so a change made by any pgusers
/// process shows at once in every other.
fn change_mark() -> String {
    use rand::RngExt;
    let mark: u64 = rand::rng().random();
    format!("{CHANGE_LOCK_COMMENT} (last change: {mark:016x})")
}

/// What a lock role says of itself.
const CHANGE_LOCK_COMMENT: &str = "pgusers: its lock is taken by the changes pgusers makes to \
     roles on this server, so that changes of one user, or of what users share, happen one at \
     a time; it has no rights";

/// A lock role exists, but pgusers may not change its comment:
/// another role made it (16+), which could then hold the lock itself; so
/// the way out is to drop it (pgusers makes it again), not to share it.
async fn change_lock_refused(
    tx: &Transaction<'_>,
    role: &str,
    error: tokio_postgres::Error,
) -> RoleError {
    let admin = match tx.batch_execute("ROLLBACK TO SAVEPOINT change_lock").await {
        Ok(()) => tx.query_one(sql::CURRENT_USER, &[]).await,
        Err(error) => Err(error),
    };
    match admin {
        Ok(row) => {
            let admin: String = row.get(0);
            RoleError::MissingPrivilege {
                needs: format!(
                    "ADMIN OPTION on role \"{role}\", whose lock it takes for each change; \
                     another role made it, and could hold that lock, so drop it (pgusers makes \
                     it again)"
                ),
                fix: format!("DROP ROLE {};", ident(role)),
                admin,
            }
        }
        Err(_) => RoleError::server(error),
    }
}

async fn terminate_sessions(
    client: &impl tokio_postgres::GenericClient,
    oid: u32,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(sql::END_SESSIONS_OF_USER, &[&oid])
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ASCII case of `name`.
    fn cases(name: &str) -> Vec<String> {
        name.chars().fold(vec![String::new()], |names, c| {
            names
                .iter()
                .flat_map(|name| {
                    let mut both = vec![format!("{name}{}", c.to_ascii_lowercase())];
                    if c.is_ascii_alphabetic() {
                        both.push(format!("{name}{}", c.to_ascii_uppercase()));
                    }
                    both
                })
                .collect()
        })
    }

    /// Whether `name` lies in one of the ranges, compared bytewise as the
    /// "C" collation does.
    fn covered(ranges: &(Vec<String>, Vec<String>), name: &str) -> bool {
        ranges.0.iter().zip(&ranges.1).any(|(start, end)| {
            start.as_bytes() <= name.as_bytes() && name.as_bytes() < end.as_bytes()
        })
    }

    #[test]
    fn the_case_ranges_hold_every_case_of_a_name_and_few_others() {
        for name in ["ab_c1z", "x9_y", "Abcdefgh_Z", "user_00042", "q_1_2_3"] {
            let ranges = case_ranges(name);
            assert!(ranges.0.len() <= CASE_RANGES, "{name}");
            for twin in cases(name) {
                assert!(covered(&ranges, &twin), "{twin} of {name}");
            }
        }
        // Names that differ within the first letters are read no more.
        let ranges = case_ranges("ab_c1z");
        for other in ["ab_c1", "ab_d1z", "aa_c1z", "AB_C2Z", "ab_c1za"] {
            assert_eq!(covered(&ranges, other), other == "ab_c1za", "{other}");
        }
        assert_eq!(case_ranges("Abcdefgh_Z").0.len(), CASE_RANGES);
        assert_eq!(case_ranges("user_00042").0.len(), 16);
    }

    #[test]
    fn case_twins_share_a_name_lock_and_the_hash_stays_the_same() {
        assert!(name_lock("App_User") == name_lock("app_user"));
        // FNV-1a of "app_user": replicas of different versions must agree.
        assert!(name_lock("app_user") == Lock::Name(0x8dae_7f84_ff8c_d1f6 % NAME_LOCKS));
        let locks: std::collections::BTreeSet<u64> = (0..200)
            .map(|i| match name_lock(&format!("user_{i}")) {
                Lock::Name(n) => n,
                Lock::Shared => unreachable!(),
            })
            .collect();
        assert_eq!(
            locks.len() as u64,
            NAME_LOCKS,
            "names spread over every lock"
        );
    }
}
