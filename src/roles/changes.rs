//! The changes: create, set or reset a password, rename, delete. Each is
//! one transaction holding pgusers' change lock (see [`begin`]).

use deadpool_postgres::{ClientWrapper, GenericClient, Pool, Transaction};
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
    let existing = client
        .query_opt(sql::NAME_TAKEN, &[&user])
        .await
        .map_err(|e| RoleError::from_postgres(e, user))?;
    match existing {
        Some(row) => Err(RoleError::AlreadyExists(row.get(0))),
        None => Ok(()),
    }
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
    let tx = begin(client, user).await?;
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
        let mut client = self.client().await?;
        let tx = begin(&mut client, user).await?;
        let facts = self.facts(&tx).await?;
        refuse_taken(&tx, name).await?;
        let fail = |e| refusal(&facts, e, user);
        upgrade::ensure_current(&tx, &facts).await?;
        // The groups share the protected user's objects and follow what
        // it makes: its privileges.
        ensure_privileges_of(
            &tx,
            &facts,
            &facts.protected,
            "to share what it owns and change default privileges for it",
        )
        .await?;
        groups::ensure(&tx, &facts).await?;
        match privileges::close_public_schema(&tx, &facts).await {
            // Only a read-only user would gain what PUBLIC may do there.
            Err(RoleError::MissingPrivilege { .. }) if access == Access::ReadWrite => {}
            other => other?,
        }
        if access == Access::ReadOnly {
            privileges::close_large_objects(&tx, &facts).await?;
        }
        groups::share(&tx, &facts, groups::Left::Refused).await?;
        // What is there now that the new user's group lacks: every table,
        // even one a role pgusers does not manage made.
        groups::share_existing(
            &tx,
            &facts,
            groups::Grantee::of(access),
            groups::Left::Refused,
        )
        .await?;
        tx.batch_execute(&format!(
            "CREATE ROLE {} LOGIN {} {};",
            ident(user),
            sql::password_clause(&password),
            sql::limits_clauses(&LimitsChange::all(*limits))
        ))
        .await
        .map_err(fail)?;
        let group = match access {
            Access::ReadWrite => &facts.writers,
            Access::ReadOnly => &facts.readers,
        };
        let mut statements = sql::mark(&facts.mark, &ident(user), facts.version_num);
        statements.push_str(&groups::membership(group, &ident(user), facts.version_num));
        if access == Access::ReadWrite {
            // Default privileges FOR the new user (so everyone shares what
            // it makes) need its privileges.
            ensure_privileges_of(&tx, &facts, user, "to change default privileges for it").await?;
            statements.push_str(&groups::creator_defaults(&ident(user), &facts));
        }
        tx.batch_execute(&statements).await.map_err(fail)?;
        tx.commit().await.map_err(fail)?;
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
        let mut client = self.client().await?;
        let tx = begin(&mut client, user).await?;
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
        let mut client = self.client().await?;
        let tx = begin(&mut client, name.as_str()).await?;
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
        let mut client = own_connection(self.client().await?);
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
            let tx = begin(client, user).await.map_err(|e| (e, None))?;
            let facts = self.facts(&tx).await.map_err(|e| (e, None))?;
            // What the deleted user's tables give others follows the
            // protected user's default privileges: current ones.
            upgrade::ensure_current(&tx, &facts)
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
        ensure_privileges_of(
            tx,
            facts,
            &facts.protected,
            "to give it what a deleted user owned",
        )
        .await?;
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
        // Waited for before the change lock, so that other changes go on
        // meanwhile (one of this user's, refused as busy while the delete
        // runs, included).
        let early = self.facts(&tx).await?;
        lock_relations_of(&tx, &early, user, oid).await?;
        take_change_lock(&tx, user).await?;
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
        let known = owned_by(&tx, oid, &facts.protected).await.map_err(fail)?;
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
        let statements = format!(
            "{neutralise} {unreviewed} REASSIGN OWNED BY {user} TO {protected};",
            neutralise = code::neutralise(&code),
            user = ident(user),
            protected = ident(&facts.protected)
        );
        tx.batch_execute(&statements).await.map_err(fail)?;
        // A call of the user's routine begun before the lock-out still runs
        // as the user: what it made after `find` would reach the protected
        // user unreviewed, and what it made after the REASSIGN would be
        // dropped with the user's privileges.
        refuse_made_meanwhile(&tx, &facts, user, oid, &known).await?;
        groups::share_moved(&tx, &facts, &moved).await?;
        tx.batch_execute(&format!("DROP OWNED BY {};", ident(user)))
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

/// Takes, in `tx`, what a delete's move waits for, before the change lock:
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
/// lock the tables it reads: those wait under the change lock, for
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

/// How long a delete's move waits for each lock, under the change lock
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

/// What the user (`oid`) and the protected user own in this database, as
/// `classid:objid` keys of `pg_shdepend`, read when the deletion looks at
/// the user's code.
async fn owned_by(
    tx: &Transaction<'_>,
    oid: u32,
    protected: &str,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = tx
        .query(sql::OWNED_KEYS.as_str(), &[&oid, &protected])
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// After `REASSIGN OWNED`: refuses when code running as `user` made objects
/// meanwhile. Anything it still owns here was made after the REASSIGN;
/// anything the protected user owns now that neither owned when the
/// deletion looked at the user's code (`known`) was made in between, and
/// reached the protected user unreviewed. (The protected user's own new
/// temporary tables, which hold no code, are let through.)
async fn refuse_made_meanwhile(
    tx: &Transaction<'_>,
    facts: &Facts,
    user: &str,
    oid: u32,
    known: &[String],
) -> Result<(), RoleError> {
    let rows = tx
        .query(
            sql::MADE_MEANWHILE.as_str(),
            &[&oid, &facts.protected, &known],
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

/// Opens a change: a transaction that waits at most 10 s for locks and holds
/// pgusers' change lock until it ends.
///
/// The change lock is the lock PostgreSQL takes on a role while its comment
/// changes (`COMMENT ON ROLE`), on a role of its own (`change_lock_role.sql`; NOLOGIN, no
/// rights), made at the first change. Roles belong to the whole server, so
/// pgusers' changes take turns across all its databases (two creates of
/// case twins through two databases included; pgusers installations with
/// administrator roles of their own take locks of their own). Only a role that may change
/// the comment (CREATEROLE, and on 16+ ADMIN OPTION on the role) can hold
/// the lock: any other role that tries holds it for a moment, until
/// PostgreSQL refuses it. Advisory locks, which pgusers used before, can be
/// taken and held by any role that may connect.
pub(super) async fn begin<'a>(
    client: &'a mut ClientWrapper,
    user: &str,
) -> Result<Transaction<'a>, RoleError> {
    let tx = open(client, user).await?;
    take_change_lock(&tx, user).await?;
    Ok(tx)
}

/// A transaction that waits at most 10 s for each lock, with no lock yet.
async fn open<'a>(client: &'a mut ClientWrapper, user: &str) -> Result<Transaction<'a>, RoleError> {
    let fail = |e| RoleError::from_postgres(e, user);
    let tx = client.transaction().await.map_err(fail)?;
    tx.batch_execute("SET LOCAL lock_timeout = '10s'")
        .await
        .map_err(fail)?;
    Ok(tx)
}

/// Takes pgusers' change lock in `tx` (see [`begin`]).
async fn take_change_lock(tx: &Transaction<'_>, user: &str) -> Result<(), RoleError> {
    let fail = |e| RoleError::from_postgres(e, user);
    let role: String = tx
        .query_one(sql::CHANGE_LOCK_ROLE, &[])
        .await
        .map_err(fail)?
        .get(0);
    tx.batch_execute("SAVEPOINT change_lock")
        .await
        .map_err(fail)?;
    let lock = format!(
        "COMMENT ON ROLE {} IS {}",
        ident(&role),
        sql::literal(&change_mark())
    );
    match tx.batch_execute(&lock).await {
        Ok(()) => {}
        // The first change on this server makes the role, with this
        // change (another process making it at once waits for this one,
        // then finds it).
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
                // unique index.
                Err(error)
                    if error.code() == Some(&SqlState::DUPLICATE_OBJECT)
                        || error.code() == Some(&SqlState::UNIQUE_VIOLATION) =>
                {
                    tx.batch_execute(&format!("ROLLBACK TO SAVEPOINT change_lock; {lock}"))
                        .await
                        .map_err(fail)?;
                }
                Err(error) => return Err(fail(error)),
            }
        }
        Err(error) if error.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
            return Err(change_lock_refused(tx, &role, error).await);
        }
        Err(error) => return Err(fail(error)),
    }
    tx.batch_execute(crate::db::UNLOGGED).await.map_err(fail)
}

/// What the change lock's role says of itself, with a mark new at each
/// change: a list of users kept for the pages stands only while the marks
/// are the same ([`super::kept`]), so a change made by any pgusers
/// process shows at once in every other.
fn change_mark() -> String {
    use rand::RngExt;
    let mark: u64 = rand::rng().random();
    format!("{CHANGE_LOCK_COMMENT} (last change: {mark:016x})")
}

/// What the change lock's role says of itself.
const CHANGE_LOCK_COMMENT: &str = "pgusers: its lock is taken for each change pgusers makes to \
     roles on this server, so that they happen one at a time; it has no rights";

/// The change lock's role exists, but pgusers may not change its comment:
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
