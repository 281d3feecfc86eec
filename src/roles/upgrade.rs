//! pgusers' mark on the users it makes, and the numbered upgrade steps
//! that bring what an older pgusers set up in a database to what this one
//! sets up.
//!
//! # The mark
//! Each managed database has one more NOLOGIN role, `pgusers-users-<database>`
//! (named like the readers group: the database's oid replaces a name
//! longer than 46 bytes). The users pgusers made for the database, of both
//! kinds, are its members: that is the mark. It is stored in PostgreSQL,
//! so the CLI reads it without the state database and every replica
//! agrees; only a role with ADMIN OPTION on the mark role (pgusers' own, as
//! its maker, or a superuser) can give or take it, so no user can mark
//! itself or another; it survives a rename, and a role's comment and
//! settings stay free (a delete's lock-out record is its comment; a user
//! may change its own settings). The membership gives nothing: on 16+ it
//! is granted `WITH INHERIT FALSE, SET FALSE`; before 16, where every
//! membership allows `SET ROLE` and inherits, the mark role is kept a
//! member of nothing, granted nothing ([`keep_mark_empty`]). A user is read-only
//! when it is also a member of the readers group, else read-write.
//!
//! # Upgrade steps
//! The last step applied to a database is recorded in its mark role's
//! comment (`…; step 3`). A change that gives or moves rights (create,
//! delete, the doctor's fix) and `serve` at start run the missing steps
//! under pgusers' shared lock, in the change's own transaction, so the
//! first entry point to meet an older database upgrades it and the others
//! wait for it, then find it done. A step pgusers' role lacks a right for
//! refuses, naming the GRANT, and changes nothing; a database recorded at a
//! step newer than this pgusers knows is refused (no downgrade).
//! - Step 1: the mark role is made, and existing users whose grants are
//!   exactly those of a kind pgusers makes are marked (read-only: a member
//!   of the readers group and of nothing else, granted nothing; read-write:
//!   a member of nothing, with the protected user's default privileges on
//!   tables and sequences in `public`, CREATE on the database and on
//!   `public`, and default privileges letting the readers read what it
//!   makes). A role made by hand that matches neither stays unmarked.
//! - Step 2: marked users lose what runs or attaches code on objects they
//!   do not own ([`sql::code_privileges`]): on tables, views and columns,
//!   and in default privileges; and the triggers they put on tables of the
//!   protected user or of another marked user, calling their code, are
//!   disabled (kept, for a person to review).
//! - Step 3: where read-only users exist, PUBLIC loses the making of large
//!   objects, which every other role keeps (a superuser administrator
//!   only: see [`privileges::close_large_objects`]).
//! - Step 4: rights move to the groups (see [`groups`]): the read-write
//!   group is made and given what read-write users got one by one, and
//!   the groups what is there now; each read-write user becomes its
//!   member (on 16+ without SET, as read-only users' memberships become)
//!   and gets the default privileges that share what it makes; then the
//!   per-user grants the group now holds, and the default privileges in
//!   `public` that the global ones replace, are taken back. A grant
//!   pgusers' role may not take back (made by a role it does not act for)
//!   is left and logged: it gives nothing the group does not.

use deadpool_postgres::GenericClient;

use super::groups::{self, Grantee, Left};
use super::privileges::{self, ensure_privileges_of, refusal};
use super::sql::{self, ident};
use super::{Facts, RoleError};

/// The step this pgusers brings databases to.
pub(super) const CURRENT: i32 = 4;

/// How many users one `GRANT` marks.
const CHUNK: usize = 1_000;

/// Runs `statement` of each list of at most [`CHUNK`] of `names` (quoted),
/// comma-separated, in `tx`.
async fn in_chunks(
    tx: &impl GenericClient,
    names: &[String],
    statement: impl Fn(&str) -> String,
    fail: impl Fn(tokio_postgres::Error) -> RoleError,
) -> Result<(), RoleError> {
    for chunk in names.chunks(CHUNK) {
        tx.batch_execute(&statement(&chunk.join(", ")))
            .await
            .map_err(&fail)?;
    }
    Ok(())
}

/// Runs, in `tx` (which holds the shared lock when there is a step to
/// run), the steps `facts` says this database lacks, and records the last;
/// keeps the mark role empty.
pub(super) async fn ensure_current(
    tx: &impl GenericClient,
    facts: &Facts,
) -> Result<(), RoleError> {
    if facts.step > CURRENT {
        return Err(RoleError::Misconfigured(
            format!(
                "Database \"{}\" was upgraded by a newer pgusers (step {}; this one knows steps \
                 up to {CURRENT}), and downgrading is not supported: run the newer pgusers.",
                crate::domain::visible(&facts.database),
                facts.step
            )
            .into(),
        ));
    }
    ensure_mark_role(tx, facts).await?;
    keep_mark_empty(tx, facts).await?;
    if facts.step == CURRENT {
        return Ok(());
    }
    if facts.step < 1 {
        mark_existing_users(tx, facts).await?;
    }
    if facts.step < 2 {
        take_code_privileges(tx, facts).await?;
        disable_planted_triggers(tx, facts).await?;
    }
    if facts.step < 3 && has_readers(tx, facts).await? {
        privileges::close_large_objects(tx, facts).await?;
    }
    if facts.step < 4 {
        rights_to_groups(tx, facts).await?;
    }
    let comment = format!(
        "pgusers: its members are the users pgusers made for database {}; step {CURRENT}",
        facts.database
    );
    tx.batch_execute(&format!(
        "COMMENT ON ROLE {} IS {}",
        ident(&facts.mark),
        sql::literal(&comment)
    ))
    .await
    .map_err(|e| refusal(facts, e, &facts.mark))?;
    tracing::info!(database = %facts.database, from = facts.step, to = CURRENT, "upgraded what pgusers set up in the database");
    Ok(())
}

/// Whether the readers group has members: read-only users exist.
async fn has_readers(tx: &impl GenericClient, facts: &Facts) -> Result<bool, RoleError> {
    Ok(tx
        .query_one(sql::READERS_HAVE_MEMBERS, &[&facts.readers])
        .await
        .map_err(|e| refusal(facts, e, &facts.readers))?
        .get(0))
}

/// Makes the mark role when it does not exist; refuses when pgusers' role
/// may not give it (on 16+, a mark role another role made).
async fn ensure_mark_role(tx: &impl GenericClient, facts: &Facts) -> Result<(), RoleError> {
    let fail = |e| refusal(facts, e, &facts.mark);
    match privileges::may_fill(tx, facts, &facts.mark).await? {
        Some(true) => Ok(()),
        Some(false) => Err(RoleError::MissingPrivilege {
            admin: facts.admin.clone(),
            needs: format!(
                "ADMIN OPTION on \"{}\", the role whose members are the users pgusers made, \
                 which another role made, to mark the users it makes",
                facts.mark
            ),
            fix: format!(
                "GRANT {} TO {} WITH ADMIN OPTION;",
                ident(&facts.mark),
                ident(&facts.admin)
            ),
        }),
        None => tx
            .batch_execute(&format!("CREATE ROLE {} NOLOGIN", ident(&facts.mark)))
            .await
            .map_err(fail),
    }
}

/// Keeps the mark role giving its members nothing, as far as pgusers'
/// role may: takes back any membership it was given (on 14 any role may
/// grant itself to it) and any privilege granted to it here (a user may
/// grant one on its own table; before 16 every member inherits it). What
/// its members make while acting as it (before 16 they may `SET ROLE` to
/// it) gives them nothing they lack and is left. Never refuses: what it
/// cannot take back is logged, and the list says what its members may do
/// (a read-only user who can write through it is listed read-write).
async fn keep_mark_empty(tx: &impl GenericClient, facts: &Facts) -> Result<(), RoleError> {
    let fail = |e| refusal(facts, e, &facts.mark);
    let mut revokes: Vec<String> = sql::rows(tx, sql::ROLE_MEMBERSHIPS, &[&facts.mark])
        .await
        .map_err(fail)?
        .iter()
        .map(|row| row.get(0))
        .collect();
    revokes.extend(
        sql::rows(tx, sql::MARK_GRANTS, &[&facts.mark])
            .await
            .map_err(fail)?
            .iter()
            .filter_map(|row| row.get::<_, Option<String>>(0)),
    );
    for revoke in &revokes {
        // One at a time, each in a savepoint: only the grantor (or a role
        // acting for the owner, or with ADMIN OPTION) may.
        // A short wait: a session holding the object holds nothing up.
        if tx
            .batch_execute(&format!(
                "SAVEPOINT mark_grant; SET LOCAL lock_timeout = '1s'; {revoke}"
            ))
            .await
            .is_err()
        {
            tx.batch_execute("ROLLBACK TO SAVEPOINT mark_grant")
                .await
                .map_err(fail)?;
            tracing::warn!(mark = %facts.mark, statement = %revoke, "the mark role was given something pgusers may not take back");
        } else {
            tracing::warn!(mark = %facts.mark, statement = %revoke, "the mark role was given something: taken back");
        }
    }
    if !revokes.is_empty() {
        tx.batch_execute("SET LOCAL lock_timeout = '10s'")
            .await
            .map_err(fail)?;
    }
    Ok(())
}

/// Step 1: marks the users whose grants are exactly those of a kind
/// pgusers makes (see the module's documentation). One pass over each
/// catalog, whatever the number of users.
async fn mark_existing_users(tx: &impl GenericClient, facts: &Facts) -> Result<(), RoleError> {
    let fail = |e| refusal(facts, e, &facts.mark);
    let tables = sql::WRITER_TABLE_PRIVILEGES.map(str::to_owned).to_vec();
    let sequences = sql::WRITER_SEQUENCE_PRIVILEGES.map(str::to_owned).to_vec();
    let names: Vec<String> = tx
        .query(
            sql::USERS_TO_MARK,
            &[
                &facts.protected as &(dyn tokio_postgres::types::ToSql + Sync),
                &facts.readers,
                &facts.mark,
                &tables,
                &sequences,
            ],
        )
        .await
        .map_err(fail)?
        .iter()
        .map(|row| row.get(0))
        .collect();
    in_chunks(
        tx,
        &names,
        |list| sql::mark(&facts.mark, list, facts.version_num),
        fail,
    )
    .await?;
    if !names.is_empty() {
        tracing::info!(database = %facts.database, users = names.len(), "marked the users pgusers made before its mark existed");
    }
    Ok(())
}

/// Step 2: takes from the marked users what runs or attaches code on
/// objects they do not own, acting for each owner pgusers acts for (the
/// protected user, a marked user); refuses, naming the statements left,
/// when PostgreSQL keeps any (a grant made by someone pgusers does not act
/// for).
async fn take_code_privileges(tx: &impl GenericClient, facts: &Facts) -> Result<(), RoleError> {
    let privileges: Vec<String> = sql::code_privileges(facts.version_num)
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    let left = revoke_as_owners(
        tx,
        facts,
        sql::CODE_PRIVILEGES_HELD,
        &[&facts.mark, &privileges],
        "to take back from the users pgusers made what runs code on what it owns (upgrade step 2)",
        &facts.mark,
    )
    .await?;
    if left.is_empty() {
        return Ok(());
    }
    Err(RoleError::MissingPrivilege {
        admin: facts.admin.clone(),
        needs: format!(
            "to take from the users pgusers made what lets them run code as another role \
             (TRIGGER, REFERENCES, MAINTAIN on what they do not own), which upgrade step 2 \
             does; only the owner or whoever granted each may, in database \"{}\"",
            facts.database
        ),
        fix: left
            .iter()
            .map(|(owner, revoke)| format!("{revoke} (as \"{owner}\" or its grantor)"))
            .collect::<Vec<_>>()
            .join(" "),
    })
}

/// Step 2, too: disables the triggers marked users put on others' tables
/// (`sql/planted_triggers.sql`), where pgusers acts for the table's owner (the
/// protected user, a marked user); they stay, for a person to review. One
/// on another role's table is that role's to review: it is logged.
async fn disable_planted_triggers(tx: &impl GenericClient, facts: &Facts) -> Result<(), RoleError> {
    let fail = |e| refusal(facts, e, &facts.mark);
    let planted: Vec<(String, String)> = tx
        .query(sql::PLANTED_TRIGGERS.as_str(), &[&facts.mark])
        .await
        .map_err(fail)?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    for (owner, disable) in &planted {
        let ours = owner == &facts.protected
            || tx
                .query_one(sql::IS_MARKED, &[&facts.mark, owner])
                .await
                .map_err(fail)?
                .get::<_, bool>(0);
        if !ours {
            tracing::warn!(owner, statement = %disable, "a user pgusers made put a trigger on a table of a role pgusers does not act for: review it");
            continue;
        }
        ensure_privileges_of(
            tx,
            facts,
            owner,
            "to disable the triggers users pgusers made put on its tables (upgrade step 2)",
        )
        .await?;
        tx.batch_execute(disable)
            .await
            .map_err(|e| refusal(facts, e, owner))?;
        tracing::warn!(owner, statement = %disable, "disabled a trigger a user pgusers made put on another role's table");
    }
    Ok(())
}

/// Step 4: rights through the groups (see the module's documentation).
async fn rights_to_groups(tx: &impl GenericClient, facts: &Facts) -> Result<(), RoleError> {
    let fail = |e| refusal(facts, e, &facts.writers);
    // No user to convert (a new database): the groups come with the first
    // user, and `serve` starting changes nothing of the protected user.
    let any_user: bool = tx
        .query_one(sql::READERS_HAVE_MEMBERS, &[&facts.mark])
        .await
        .map_err(fail)?
        .get(0);
    if !any_user {
        return Ok(());
    }
    ensure_privileges_of(
        tx,
        facts,
        &facts.protected,
        "to share what it owns through pgusers' groups (upgrade step 4)",
    )
    .await?;
    groups::ensure(tx, facts).await?;
    // Everything: no earlier look.
    privileges::keep_readers_reading_only(tx, facts, &privileges::Looks::default()).await?;
    groups::share(tx, facts, Left::Logged).await?;
    let quoted = |rows: Vec<tokio_postgres::Row>| -> Vec<String> {
        rows.iter().map(|row| row.get(0)).collect()
    };
    let users: Vec<(String, String)> = tx
        .query(
            sql::MARKED_WRITERS,
            &[&facts.mark, &facts.readers, &facts.writers],
        )
        .await
        .map_err(fail)?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    for (user, _) in &users {
        ensure_privileges_of(
            tx,
            facts,
            user,
            "to make what it creates shared through pgusers' groups (upgrade step 4)",
        )
        .await?;
    }
    let users: Vec<String> = users.into_iter().map(|(_, quoted)| quoted).collect();
    in_chunks(
        tx,
        &users,
        |list| {
            groups::membership(&facts.writers, list, facts.version_num)
                + &groups::creator_defaults(list, facts)
        },
        fail,
    )
    .await?;
    // The objects there now: the groups' share of every one, the protected
    // user's of the users', where users had them (a new database has
    // none: each create shares what its user's group lacks).
    if !users.is_empty() {
        groups::share_existing(tx, facts, Grantee::Writers, Left::Logged, None).await?;
        groups::share_existing(tx, facts, Grantee::Protected, Left::Logged, None).await?;
    }
    if has_readers(tx, facts).await? {
        groups::share_existing(tx, facts, Grantee::Readers, Left::Logged, None).await?;
    }
    if facts.version_num >= 160_000 {
        let readers = quoted(
            tx.query(sql::READERS_WITH_SET, &[&facts.readers])
                .await
                .map_err(fail)?,
        );
        in_chunks(
            tx,
            &readers,
            |list| groups::membership(&facts.readers, list, facts.version_num),
            fail,
        )
        .await?;
    }
    take_per_user_items(tx, facts).await
}

/// Step 4, last: takes back what the groups now give each read-write user
/// (`sql/per_user_items.sql`), acting for the owners pgusers acts for. What
/// is left (a grant by a role pgusers does not act for) is logged.
async fn take_per_user_items(tx: &impl GenericClient, facts: &Facts) -> Result<(), RoleError> {
    let left = revoke_as_owners(
        tx,
        facts,
        sql::PER_USER_ITEMS,
        &[
            &facts.mark,
            &facts.readers,
            &facts.writers,
            &facts.protected,
        ],
        "to take back the per-user grants on what it owns that the groups now give (upgrade \
         step 4)",
        &facts.writers,
    )
    .await?;
    if !left.is_empty() {
        tracing::warn!(database = %facts.database, statements = %left.iter().map(|(owner, revoke)| format!("{revoke} (as \"{owner}\")")).collect::<Vec<_>>().join(" "),
            "per-user grants the groups now give were left: pgusers does not act for their grantor");
    }
    Ok(())
}

/// Runs `query` (with `params`), which lists what to take back as (owner,
/// REVOKE statement), ordered by owner; runs each statement alone (a
/// REVOKE this role may not make only warns), acting first for each owner
/// pgusers acts for (the protected user, a user it made) for `purpose`; and
/// returns what the query still lists after. A failed query is refused
/// about `about`.
async fn revoke_as_owners(
    tx: &impl GenericClient,
    facts: &Facts,
    query: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    purpose: &str,
    about: &str,
) -> Result<Vec<(String, String)>, RoleError> {
    let listed = || async {
        tx.query(query, params)
            .await
            .map(|rows| {
                rows.iter()
                    .map(|row| (row.get::<_, String>(0), row.get::<_, String>(1)))
                    .collect::<Vec<_>>()
            })
            .map_err(|e| refusal(facts, e, about))
    };
    let revokes = listed().await?;
    if revokes.is_empty() {
        return Ok(revokes);
    }
    let marked: std::collections::HashSet<String> = tx
        .query(sql::MARKED_USERS, &[&facts.mark])
        .await
        .map_err(|e| refusal(facts, e, &facts.mark))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut owners: Vec<&str> = revokes.iter().map(|(owner, _)| owner.as_str()).collect();
    owners.dedup();
    for owner in owners {
        if owner == facts.protected || marked.contains(owner) {
            ensure_privileges_of(tx, facts, owner, purpose).await?;
        }
    }
    for (owner, revoke) in &revokes {
        tx.batch_execute(revoke)
            .await
            .map_err(|e| refusal(facts, e, owner))?;
    }
    listed().await
}

impl super::RoleManager {
    /// Brings this database to the current step, in a change of its own:
    /// what `serve` runs at start. Returns the step it was at when it
    /// changed anything (`None`: it was current).
    pub async fn upgrade(&self) -> Result<Option<i32>, RoleError> {
        let mut client = self.change_client().await?;
        let tx = super::changes::begin_shared(&mut client).await?;
        let facts = self.facts(&tx).await?;
        ensure_current(&tx, &facts).await?;
        tx.commit()
            .await
            .map_err(|e| refusal(&facts, e, &facts.mark))?;
        Ok((facts.step != CURRENT).then_some(facts.step))
    }
}
