//! What pgusers' own role needs when it is not a superuser, and taking it.
//!
//! Managed services give a "master" role with CREATEROLE, not SUPERUSER.
//! Such a role may change default privileges for a role, `REASSIGN OWNED`
//! from or to it, `DROP OWNED BY` it and end its sessions only with that
//! role's *privileges* (an INHERIT membership). It takes them itself when it
//! may: on PostgreSQL 16+ when it holds ADMIN OPTION on the role (it does on
//! the roles it created), as `INHERIT TRUE, SET FALSE` — nothing more; on 14
//! and 15, CREATEROLE may grant any non-superuser role. When it may not, the
//! change stops with the GRANT that would fix it.

use deadpool_postgres::GenericClient;
use tokio_postgres::error::SqlState;

use super::sql::{self, ident};
use super::{Facts, RoleError};

/// The first major where CREATEROLE manages only roles held WITH ADMIN OPTION.
const ADMIN_OPTION_RULES: i32 = 160_000;

/// Whether pgusers' role has `role`'s privileges whatever the catalog
/// says: it is a superuser, or `role` itself.
pub(super) fn acts_for_any(facts: &Facts, role: &str) -> bool {
    facts.admin_super || role == facts.admin
}

/// Makes sure pgusers' role has the privileges of `role`, for `purpose`
/// (words for a person: "to change default privileges for it").
pub(super) async fn ensure_privileges_of(
    client: &impl GenericClient,
    facts: &Facts,
    role: &str,
    purpose: &str,
) -> Result<(), RoleError> {
    if acts_for_any(facts, role) {
        return Ok(());
    }
    let fail = |e| refusal(facts, e, role);
    let row = sql::one(client, sql::PRIVILEGES_OF, &[&role, &facts.version_num])
        .await
        .map_err(fail)?;
    if row.get::<_, bool>(0) {
        return Ok(());
    }
    if row.get::<_, bool>(3) {
        // Acting for a superuser would make pgusers' role one: never name
        // a GRANT for that.
        return Err(RoleError::Misconfigured(
            format!(
                "\"{role}\" is a superuser, and the role pgusers connects as, \"{}\", is not: \
             it cannot act for \"{role}\" {purpose}, and pgusers never asks for superuser \
             power. Make the protected user a role that is not a superuser (the application's \
             own: PGUSERS_PROTECTED_USER, or the database's owner), or connect as a superuser",
                facts.admin
            )
            .into(),
        ));
    }
    let missing = || RoleError::MissingPrivilege {
        admin: facts.admin.clone(),
        needs: format!("the privileges of \"{role}\", {purpose}"),
        fix: inherit_grant(facts, role),
    };
    if !row.get::<_, bool>(1) {
        return Err(missing());
    }
    if facts.version_num < ADMIN_OPTION_RULES && !row.get::<_, bool>(4) {
        // Before 16 a NOINHERIT role has no privileges of its memberships.
        return Err(RoleError::MissingPrivilege {
            admin: facts.admin.clone(),
            needs: format!(
                "the privileges of \"{role}\", {purpose}, which a NOINHERIT role does not get \
                 from a membership"
            ),
            fix: format!("ALTER ROLE {} INHERIT;", ident(&facts.admin)),
        });
    }
    let admin = ident(&facts.admin);
    let statement = match (
        facts.version_num >= ADMIN_OPTION_RULES,
        row.get::<_, bool>(2),
    ) {
        // Its own grant exists (say WITH SET, to hand a database over):
        // add INHERIT, keep the rest as it is.
        (true, true) => format!("GRANT {} TO {admin} WITH INHERIT TRUE", ident(role)),
        (true, false) => format!(
            "GRANT {} TO {admin} WITH INHERIT TRUE, SET FALSE",
            ident(role)
        ),
        (false, _) => format!("GRANT {} TO {admin}", ident(role)),
    };
    client.batch_execute(&statement).await.map_err(fail)?;
    let has: bool = sql::one(client, sql::ADMIN_HAS_ROLE, &[&role, &"USAGE"])
        .await
        .map_err(fail)?
        .get(0);
    if has { Ok(()) } else { Err(missing()) }
}

/// Makes sure pgusers' role may SET ROLE to `role`, which PostgreSQL 16+
/// asks of whoever gives `role` an object (`REASSIGN OWNED … TO role` on a
/// function or a type): for the protected user only, after
/// [`ensure_privileges_of`] gave it an INHERIT membership. Before 16 any
/// membership lets its member SET ROLE.
pub(super) async fn ensure_may_give_to(
    client: &impl GenericClient,
    facts: &Facts,
    role: &str,
) -> Result<(), RoleError> {
    if facts.admin_super || role == facts.admin || facts.version_num < ADMIN_OPTION_RULES {
        return Ok(());
    }
    let fail = |e| refusal(facts, e, role);
    let may = |privilege: &'static str| async move {
        sql::one(client, sql::ADMIN_HAS_ROLE, &[&role, &privilege])
            .await
            .map(|row| row.get::<_, bool>(0))
    };
    if may("SET").await.map_err(fail)? {
        return Ok(());
    }
    let missing = RoleError::MissingPrivilege {
        admin: facts.admin.clone(),
        needs: format!(
            "to SET ROLE to \"{role}\", which PostgreSQL asks of whoever gives it a deleted \
             user's functions and types"
        ),
        fix: format!(
            "GRANT {} TO {} WITH ADMIN OPTION, INHERIT TRUE, SET TRUE;",
            ident(role),
            ident(&facts.admin)
        ),
    };
    if !may("USAGE WITH ADMIN OPTION").await.map_err(fail)? {
        return Err(missing);
    }
    // Its own grant exists (made by ensure_privileges_of): only SET changes.
    client
        .batch_execute(&format!(
            "GRANT {} TO {} WITH SET TRUE",
            ident(role),
            ident(&facts.admin)
        ))
        .await
        .map_err(fail)?;
    if may("SET").await.map_err(fail)? {
        Ok(())
    } else {
        Err(missing)
    }
}

/// Whether group role `group` exists and, if so, whether pgusers' role may
/// make roles its members: on 16+ a CREATEROLE role may only for groups
/// it holds ADMIN OPTION on (those it made), so a group another role made
/// is not its to fill. `None`: it does not exist.
pub(super) async fn may_fill(
    client: &impl GenericClient,
    facts: &Facts,
    group: &str,
) -> Result<Option<bool>, RoleError> {
    let row = sql::at_most_one(client, sql::MAY_FILL, &[&group, &facts.admin_super])
        .await
        .map_err(|e| refusal(facts, e, group))?;
    Ok(row.map(|row| row.get(0)))
}

/// The GRANT that gives pgusers' role the privileges of `role`.
pub(super) fn inherit_grant(facts: &Facts, role: &str) -> String {
    if facts.version_num >= ADMIN_OPTION_RULES {
        format!(
            "GRANT {} TO {} WITH ADMIN OPTION, INHERIT TRUE, SET FALSE;",
            ident(role),
            ident(&facts.admin)
        )
    } else {
        format!("GRANT {} TO {};", ident(role), ident(&facts.admin))
    }
}

/// A PostgreSQL error during a change about `role`: a refused privilege
/// (42501) becomes a sentence with the GRANT that fixes it; anything else
/// keeps its meaning ([`RoleError::from_postgres`]).
pub(super) fn refusal(facts: &Facts, error: tokio_postgres::Error, role: &str) -> RoleError {
    if error.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) && !role.is_empty() {
        let needs = if facts.version_num >= ADMIN_OPTION_RULES {
            format!("ADMIN OPTION on \"{role}\" and its privileges")
        } else {
            format!("CREATEROLE and the privileges of \"{role}\"")
        };
        return RoleError::MissingPrivilege {
            admin: facts.admin.clone(),
            needs,
            fix: inherit_grant(facts, role),
        };
    }
    RoleError::from_postgres(error, role)
}

/// Takes CREATE on schema `public` from PUBLIC when `readers` may create
/// there through it, and says so when pgusers' role cannot: before
/// PostgreSQL 15 the schema belongs to the bootstrap superuser and PUBLIC
/// may create in it, and a REVOKE by anyone else only warns.
pub(super) async fn close_public_schema(
    client: &impl GenericClient,
    facts: &Facts,
) -> Result<(), RoleError> {
    let fail = |e| refusal(facts, e, &facts.readers);
    let may_create = || async {
        sql::one(
            client,
            sql::MAY_CREATE_IN_PUBLIC.as_str(),
            &[&facts.readers],
        )
        .await
        .map(|row| (row.get::<_, bool>(0), row.get::<_, String>(1)))
    };
    if !may_create().await.map_err(fail)?.0 {
        return Ok(());
    }
    client
        .batch_execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        .await
        .map_err(fail)?;
    let (still, owner) = may_create().await.map_err(fail)?;
    if !still {
        return Ok(());
    }
    Err(RoleError::MissingPrivilege {
        admin: facts.admin.clone(),
        needs: format!(
            "to take CREATE on schema public from PUBLIC (everyone), or read-only users \
             could create tables there; only the schema's owner, \"{owner}\", may"
        ),
        fix: format!(
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC; (as \"{owner}\", in database \"{}\")",
            facts.database
        ),
    })
}

/// Where this manager's looks last found nothing to do, in a transaction
/// that then committed: per [`Look`], what it looked at (the group's oid,
/// the database's, the server's start: `sql/snapshot_floor.sql`) and a
/// transaction id below which every transaction had ended before that look
/// began. What changes what a look looks for since was written by a later
/// transaction, in a row whose `xmin` is no older: the next look at the
/// same thing reads only what may have changed (`sql/since.sql`). Kept per
/// manager, so per process: a new process looks at everything once.
///
/// Recorded only once the look's transaction has committed: a look sees
/// what its own transaction changed before it (a REVOKE of an upgrade), and
/// were that undone, rows older than the floor would hold more again.
#[derive(Default)]
pub(super) struct Looks(std::sync::Mutex<Vec<(Look, LookedAt)>>);

/// A look that can read only what changed since the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Look {
    /// What the readers group holds beyond reading
    /// ([`keep_readers_reading_only`]).
    ReadersStrays,
    /// The relations a group lacks its share of
    /// ([`super::groups::share_existing`]).
    Gaps(super::groups::Grantee),
}

/// What a look looked at, and its floor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LookedAt {
    key: String,
    floor: String,
}

impl Looks {
    /// The floor to give `look` begun at `now`: the last one's, when it
    /// looked at the same thing.
    pub(super) fn since(&self, look: Look, now: &LookedAt) -> Option<String> {
        let looks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        looks
            .iter()
            .find(|(kind, last)| *kind == look && last.key == now.key)
            .map(|(_, last)| last.floor.clone())
    }

    /// The last look of kind `look`, whatever it looked at.
    fn last(&self, look: Look) -> Option<LookedAt> {
        let looks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        looks
            .iter()
            .find(|(kind, _)| *kind == look)
            .map(|(_, last)| last.clone())
    }

    /// After the commit of looks that found nothing to do.
    pub(super) fn found_none(&self, found: Vec<(Look, LookedAt)>) {
        let mut looks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for (look, at) in found {
            looks.retain(|(kind, _)| *kind != look);
            looks.push((look, at));
        }
    }

    /// What is recorded: each look (its `Debug` name), its key and floor.
    pub(super) fn recorded(&self) -> Vec<(String, String, String)> {
        let looks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        looks
            .iter()
            .map(|(look, at)| (format!("{look:?}"), at.key.clone(), at.floor.clone()))
            .collect()
    }
}

/// Where a look at what concerns `group` begins (`sql/snapshot_floor.sql`):
/// read before the look, so that every transaction it does not see began
/// at or after this one. Once its statement is prepared, the question
/// whose first poll sends it, ahead of the look's (see `sql::pipelined`).
pub(super) async fn look_begins<'a>(
    client: &'a impl GenericClient,
    facts: &'a Facts,
    group: &'a str,
) -> Result<impl Future<Output = Result<LookedAt, RoleError>> + 'a, RoleError> {
    let fail = move |e| refusal(facts, e, group);
    sql::prepare(client, sql::SNAPSHOT_FLOOR)
        .await
        .map_err(fail)?;
    Ok(async move {
        let row = sql::one(
            client,
            sql::SNAPSHOT_FLOOR,
            &[&group, &facts.protected, &facts.mark],
        )
        .await
        .map_err(fail)?;
        Ok(LookedAt {
            key: row.get(0),
            floor: row.get(1),
        })
    })
}

/// Runs `look`, which `begins` begins ([`look_begins`]), with `read` from
/// the floor it may start from ([`Looks::since`]; `None`: everything), in
/// one round trip: `read` is sent right behind the question where the
/// look begins, with the floor of the last look of its kind (see
/// `sql::pipelined`), and runs again, from the floor `since` gives, when
/// that last look looked at something else (another key). The question
/// must be the first statement sent (see [`look_begins`]).
pub(super) async fn look_from<T, Read>(
    looks: &Looks,
    look: Look,
    begins: impl Future<Output = Result<LookedAt, RoleError>>,
    read: impl Fn(Option<String>) -> Read,
) -> Result<(LookedAt, T), RoleError>
where
    Read: Future<Output = Result<T, RoleError>>,
{
    let last = looks.last(look);
    let guess = last.as_ref().map(|last| last.floor.clone());
    let (now, found) = sql::pipelined(begins, read(guess)).await?;
    match last {
        Some(last) if last.key != now.key => {
            let since = looks.since(look, &now);
            Ok((now, read(since).await?))
        }
        // Nothing recorded (read whole), or the same key: what
        // `since` gave when this look began.
        _ => Ok((now, found)),
    }
}

/// Takes from the readers group anything but reading: a membership in
/// another role (before PostgreSQL 15 a role may grant itself to the
/// group) or a privilege other than SELECT on a table or sequence (an owner
/// may grant the group INSERT). Its members would write. Refuses, naming
/// the REVOKEs, when pgusers' role may not take them. Reads only what
/// changed since `looks`' last look at the same group, database and
/// server; else everything. When it found nothing to take back, returns
/// what to record once the transaction commits.
pub(super) async fn keep_readers_reading_only(
    client: &impl GenericClient,
    facts: &Facts,
    looks: &Looks,
) -> Result<Option<(Look, LookedAt)>, RoleError> {
    let fail = |e| refusal(facts, e, &facts.readers);
    let strays = |since: Option<String>| async move {
        sql::rows(client, &sql::READERS_STRAYS, &[&facts.readers, &since])
            .await
            .map(|rows| rows.iter().map(|row| row.get(0)).collect::<Vec<String>>())
            .map_err(fail)
    };
    let (now, revokes) = look_from(
        looks,
        Look::ReadersStrays,
        look_begins(client, facts, &facts.readers).await?,
        strays,
    )
    .await?;
    if revokes.is_empty() {
        return Ok(Some((Look::ReadersStrays, now)));
    }
    // What is taken back here is not recorded as looked at.
    tracing::warn!(group = %facts.readers, statements = %revokes.join(" "),
        "the read-only group was given more than reading: taking it back");
    for revoke in &revokes {
        // One at a time: a REVOKE this role may not make only warns, but
        // changing default privileges for a role it does not act for is
        // refused outright; that one is left, and named below.
        client
            .batch_execute("SAVEPOINT stray")
            .await
            .map_err(fail)?;
        match client.batch_execute(revoke).await {
            Ok(()) => {}
            Err(error) if error.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
                client
                    .batch_execute("ROLLBACK TO SAVEPOINT stray")
                    .await
                    .map_err(fail)?;
            }
            Err(error) => return Err(fail(error)),
        }
        client
            .batch_execute("RELEASE SAVEPOINT stray")
            .await
            .map_err(fail)?;
    }
    // Read whole again: what is left is what pgusers may not take back.
    let left = strays(None).await?;
    if left.is_empty() {
        return Ok(None);
    }
    Err(RoleError::MissingPrivilege {
        admin: facts.admin.clone(),
        needs: format!(
            "to take from the read-only group \"{}\" what would let its members write \
             (only whoever granted it may)",
            facts.readers
        ),
        fix: format!(
            "{} (as whoever granted each, in database \"{}\")",
            left.join(" "),
            facts.database
        ),
    })
}

/// After `DROP OWNED BY user`: refuses to go on when privileges granted to
/// `user` in this database are left. `DROP OWNED` revokes only what the
/// role running it may revoke, and skips the rest silently: grants made by
/// an object's owner that pgusers' role does not act for.
pub(super) async fn check_nothing_granted_left(
    client: &impl GenericClient,
    facts: &Facts,
    user: &str,
    oid: u32,
) -> Result<(), RoleError> {
    let rows = client
        .query(sql::GRANTED_LEFT, &[&oid])
        .await
        .map_err(|e| refusal(facts, e, user))?;
    if rows.is_empty() {
        return Ok(());
    }
    let objects: Vec<String> = rows.iter().filter_map(|row| row.get(0)).collect();
    let revokes: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let kind: Option<&str> = row.get(1);
            let name: Option<String> = row.get(2);
            Some(format!(
                "REVOKE ALL ON {} {} FROM {};",
                kind?,
                name?,
                ident(user)
            ))
        })
        .collect();
    Err(RoleError::MissingPrivilege {
        admin: facts.admin.clone(),
        needs: format!(
            "to revoke what others granted \"{user}\" on {} (only their grantor or owner may)",
            objects.join(", ")
        ),
        fix: format!(
            "{} (as the owner of each, in database \"{}\"), then delete again",
            revokes.join(" "),
            facts.database
        ),
    })
}

/// What a read-write user has, in any schema, that read-write users share:
/// plain and partitioned tables and sequences, by quoted qualified name,
/// each with whether it is a sequence. Never views, materialized views or
/// foreign tables: they read with their owner's rights, now the protected
/// user's, and stay its own until reviewed (see `code`).
pub(super) async fn moved_tables(
    client: &impl tokio_postgres::GenericClient,
    owner: u32,
) -> Result<Vec<(String, bool)>, tokio_postgres::Error> {
    Ok(client
        .query(sql::MOVED_TABLES, &[&owner])
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect())
}

/// The functions that make a large object: data that lasts, in the
/// database, which any role may write by default (PostgreSQL grants them
/// to PUBLIC).
pub(super) const LARGE_OBJECT_MAKERS: [&str; 3] = [
    "pg_catalog.lo_create(oid)",
    "pg_catalog.lo_creat(integer)",
    "pg_catalog.lo_from_bytea(oid, bytea)",
];

/// Takes from PUBLIC, when pgusers' role may (a superuser: the functions
/// belong to the bootstrap superuser), the making of large objects, so a
/// read-only user cannot store data that lasts; gives it back, the first
/// time, to the protected user and every other role with a footprint in
/// this database (an object, a privilege) but the groups' members: roles
/// pgusers does not manage, read-write users an older pgusers made; the
/// read-write group gets it too ([`super::groups::share`]).
/// A CREATEROLE role cannot: docs/how-it-works.md says what read-only users keep.
pub(super) async fn close_large_objects(
    client: &impl GenericClient,
    facts: &Facts,
) -> Result<(), RoleError> {
    if !facts.admin_super {
        return Ok(());
    }
    let fail = |e| refusal(facts, e, &facts.readers);
    if large_objects_open(client, facts).await? == Open::None {
        return Ok(());
    }
    // Roles of other databases (nothing here) keep nothing: a grant here
    // would not make them this database's users (see `standing`), but
    // nothing says they make large objects here.
    let keepers: Vec<String> = client
        .query(
            sql::LARGE_OBJECT_KEEPERS,
            &[&facts.readers, &facts.protected, &facts.writers],
        )
        .await
        .map_err(fail)?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let functions = LARGE_OBJECT_MAKERS.join(", ");
    let mut statements = format!("REVOKE EXECUTE ON FUNCTION {functions} FROM PUBLIC;");
    for chunk in keepers.chunks(1_000) {
        statements.push_str(&format!(
            "GRANT EXECUTE ON FUNCTION {functions} TO {};",
            chunk.join(", ")
        ));
    }
    tracing::info!(database = %facts.database, roles = keepers.len(), "read-only users may no longer make large objects; the other roles keep it");
    client.batch_execute(&statements).await.map_err(fail)
}

/// How many of [`LARGE_OBJECT_MAKERS`] PUBLIC may run.
#[derive(Debug, PartialEq, Eq)]
enum Open {
    All,
    Some,
    None,
}

async fn large_objects_open(client: &impl GenericClient, facts: &Facts) -> Result<Open, RoleError> {
    let row = sql::one(
        client,
        sql::LARGE_OBJECTS_OPEN,
        &[&LARGE_OBJECT_MAKERS.map(str::to_owned).to_vec()],
    )
    .await
    .map_err(|e| refusal(facts, e, &facts.readers))?;
    Ok(match (row.get::<_, bool>(0), row.get::<_, bool>(1)) {
        (true, _) => Open::All,
        (false, true) => Open::Some,
        (false, false) => Open::None,
    })
}

/// How long a grant on the relations a group lacks waits for one another
/// transaction holds (an `ALTER TABLE` left open), before granting one
/// object at a time.
const GRANT_WAIT: &str = "1s";

/// How long granting one object at a time may wait in all; past it, each
/// object another transaction holds is skipped at once.
const GRANT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// Grants `grants` on `objects` (`regclass` text, whether a sequence),
/// without letting another session hold the change up: at once when it
/// can, else one object at a time, all of them waiting [`GRANT_DEADLINE`]
/// at most; an object another transaction holds longer is skipped, logged,
/// and returned. The doctor finds what was skipped, and its Fix grants it.
pub(super) async fn grant_on_existing(
    tx: &impl GenericClient,
    facts: &Facts,
    grants: &super::sql::OnExisting,
    objects: &[(String, bool)],
) -> Result<Vec<String>, RoleError> {
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    let fail = |e| refusal(facts, e, &grants.grantee);
    let waiting = |e: &tokio_postgres::Error| e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE);
    let all = tx
        .batch_execute(&format!(
            "SAVEPOINT existing; SET LOCAL lock_timeout = '{GRANT_WAIT}'; {}",
            grants.on_many(objects)
        ))
        .await;
    let mut skipped = Vec::new();
    match all {
        Ok(()) => {}
        Err(error) if waiting(&error) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT existing")
                .await
                .map_err(fail)?;
            // One deadline for them all: many held objects must not hold
            // the change (and the locks it holds) for long.
            let deadline = std::time::Instant::now() + GRANT_DEADLINE;
            for (name, sequence) in objects {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                let wait = left.clamp(
                    std::time::Duration::from_millis(10),
                    std::time::Duration::from_secs(1),
                );
                let one = tx
                    .batch_execute(&format!(
                        "SAVEPOINT one; SET LOCAL lock_timeout = '{}ms'; {}",
                        wait.as_millis(),
                        grants.on_one(name, *sequence)
                    ))
                    .await;
                match one {
                    Ok(()) => {}
                    Err(error) if waiting(&error) => {
                        tx.batch_execute("ROLLBACK TO SAVEPOINT one")
                            .await
                            .map_err(fail)?;
                        skipped.push(name.clone());
                    }
                    Err(error) => return Err(fail(error)),
                }
            }
        }
        Err(error) => return Err(fail(error)),
    }
    tx.batch_execute("SET LOCAL lock_timeout = '10s'")
        .await
        .map_err(fail)?;
    if !skipped.is_empty() {
        tracing::warn!(grantee = %grants.grantee, objects = %skipped.join(", "),
            "other transactions held these: granted the rest; the access doctor finds and fixes these");
    }
    Ok(skipped)
}

#[cfg(test)]
mod tests {
    use super::super::groups::Grantee;
    use super::*;

    fn at(key: &str, floor: &str) -> LookedAt {
        LookedAt {
            key: key.to_owned(),
            floor: floor.to_owned(),
        }
    }

    #[test]
    fn a_floor_is_given_only_to_the_same_look_at_the_same_thing() {
        let looks = Looks::default();
        let gaps = Look::Gaps(Grantee::Writers);
        assert_eq!(
            looks.since(gaps, &at("k", "9")),
            None,
            "nothing recorded yet"
        );
        looks.found_none(vec![(gaps, at("k", "5"))]);
        assert_eq!(looks.since(gaps, &at("k", "9")).as_deref(), Some("5"));
        assert_eq!(looks.since(gaps, &at("other", "9")), None, "another key");
        assert_eq!(
            looks.since(Look::Gaps(Grantee::Readers), &at("k", "9")),
            None
        );
        assert_eq!(looks.since(Look::ReadersStrays, &at("k", "9")), None);
        // A later record of the same look replaces it; others stay.
        looks.found_none(vec![
            (Look::ReadersStrays, at("k", "6")),
            (gaps, at("k", "7")),
        ]);
        assert_eq!(looks.since(gaps, &at("k", "9")).as_deref(), Some("7"));
        assert_eq!(
            looks.since(Look::ReadersStrays, &at("k", "9")).as_deref(),
            Some("6")
        );
        assert_eq!(looks.recorded().len(), 2);
    }

    /// The floors `look_from` reads from, in order, and what it returns.
    async fn reads_of(looks: &Looks, now: LookedAt) -> (Vec<Option<String>>, LookedAt) {
        let reads = std::sync::Mutex::new(Vec::new());
        let (at, read_from) = look_from(
            looks,
            Look::ReadersStrays,
            async { Ok(now) },
            |since: Option<String>| {
                reads.lock().unwrap().push(since.clone());
                async move { Ok(since) }
            },
        )
        .await
        .expect("no failure");
        let reads = reads.into_inner().unwrap();
        assert_eq!(
            Some(&read_from),
            reads.last(),
            "what it found is the last read's"
        );
        (reads, at)
    }

    #[tokio::test]
    async fn a_look_reads_from_the_last_floor_at_once_and_again_whole_when_that_was_wrong() {
        let looks = Looks::default();
        let (reads, at_now) = reads_of(&looks, at("k", "9")).await;
        assert_eq!(reads, [None], "nothing recorded: read whole, once");
        assert_eq!(at_now, at("k", "9"));
        looks.found_none(vec![(Look::ReadersStrays, at("k", "5"))]);
        let (reads, _) = reads_of(&looks, at("k", "9")).await;
        assert_eq!(
            reads,
            [Some("5".to_owned())],
            "the same key: from its floor, once"
        );
        let (reads, _) = reads_of(&looks, at("other", "9")).await;
        assert_eq!(
            reads,
            [Some("5".to_owned()), None],
            "another key: the guess is read again, whole"
        );
        // Another change recorded a look at the new key meanwhile: read
        // again from its floor.
        let reads = std::sync::Mutex::new(Vec::new());
        let (_, found) = look_from(
            &looks,
            Look::ReadersStrays,
            async { Ok(at("new", "9")) },
            |since: Option<String>| {
                reads.lock().unwrap().push(since.clone());
                looks.found_none(vec![(Look::ReadersStrays, at("new", "8"))]);
                async move { Ok::<_, RoleError>(since) }
            },
        )
        .await
        .expect("no failure");
        assert_eq!(
            reads.into_inner().unwrap(),
            [Some("5".to_owned()), Some("8".to_owned())]
        );
        assert_eq!(found.as_deref(), Some("8"));
        // Another kind's record is no guess for this one.
        let others = Looks::default();
        others.found_none(vec![(Look::Gaps(Grantee::Writers), at("k", "5"))]);
        assert_eq!(reads_of(&others, at("k", "9")).await.0, [None]);
    }

    #[tokio::test]
    async fn a_look_that_cannot_begin_fails_with_what_stopped_it() {
        let looks = Looks::default();
        let failed = look_from(
            &looks,
            Look::ReadersStrays,
            async { Err::<LookedAt, _>(RoleError::Busy) },
            |_| async { Err::<(), _>(RoleError::Concurrent) },
        )
        .await;
        assert!(matches!(failed, Err(RoleError::Busy)), "{failed:?}");
    }
}
