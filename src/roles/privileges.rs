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
use super::{Access, Facts, RoleError};

/// The first major where CREATEROLE manages only roles held WITH ADMIN OPTION.
const ADMIN_OPTION_RULES: i32 = 160_000;

/// Makes sure pgusers' role has the privileges of `role`, for `purpose`
/// (words for a person: "to change default privileges for it").
pub(super) async fn ensure_privileges_of(
    client: &impl GenericClient,
    facts: &Facts,
    role: &str,
    purpose: &str,
) -> Result<(), RoleError> {
    if facts.admin_super || role == facts.admin {
        return Ok(());
    }
    let fail = |e| refusal(facts, e, role);
    let row = client
        .query_one(sql::PRIVILEGES_OF, &[&role, &facts.version_num])
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
    let has: bool = client
        .query_one(sql::ADMIN_HAS_ROLE, &[&role, &"USAGE"])
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
        client
            .query_one(sql::ADMIN_HAS_ROLE, &[&role, &privilege])
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
    let row = client
        .query_opt(sql::MAY_FILL, &[&group, &facts.admin_super])
        .await
        .map_err(|e| refusal(facts, e, group))?;
    Ok(row.map(|row| row.get(0)))
}

/// The GRANT that gives pgusers' role the privileges of `role`.
fn inherit_grant(facts: &Facts, role: &str) -> String {
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
        client
            .query_one(sql::MAY_CREATE_IN_PUBLIC.as_str(), &[&facts.readers])
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

/// Checks that a new read-write user got what the guide gives it on the
/// database and schema `public`: a GRANT pgusers' role may not make only
/// warns ("no privileges were granted") and changes nothing.
pub(super) async fn check_read_write(
    client: &impl GenericClient,
    facts: &Facts,
    user: &str,
) -> Result<(), RoleError> {
    let fail = |e| refusal(facts, e, user);
    let row = client
        .query_one(sql::READ_WRITE_GRANTED.as_str(), &[&user])
        .await
        .map_err(fail)?;
    let (database_owner, owner_is_superuser): (String, bool) = (row.get(3), row.get(4));
    if !row.get::<_, bool>(0) {
        let database = ident(&facts.database);
        return Err(RoleError::MissingPrivilege {
            admin: facts.admin.clone(),
            needs: format!(
                "to grant privileges on database \"{}\", which belong to its owner, \
                 \"{database_owner}\"",
                facts.database
            ),
            // Acting for a superuser owner would make pgusers' role one.
            fix: if owner_is_superuser {
                format!(
                    "GRANT ALL ON DATABASE {database} TO {} WITH GRANT OPTION; (as \"{database_owner}\")",
                    ident(&facts.admin)
                )
            } else {
                inherit_grant(facts, &database_owner)
            },
        });
    }
    if !row.get::<_, bool>(1) {
        let owner: String = row.get(2);
        return Err(RoleError::MissingPrivilege {
            admin: facts.admin.clone(),
            needs: format!("to grant CREATE on schema public, which belongs to \"{owner}\""),
            fix: format!(
                "GRANT CREATE, USAGE ON SCHEMA public TO {} WITH GRANT OPTION; (as \"{owner}\", in database \"{}\")",
                ident(&facts.admin),
                facts.database
            ),
        });
    }
    Ok(())
}

/// Before a new user gets what the guide gives on the tables and sequences
/// in `public`: refuses when pgusers' role may not give it on some of them.
/// A GRANT on an object whose owner it does not act for fails ("permission
/// denied") or only warns ("no privileges were granted"), and the user
/// would miss those objects without a word.
pub(super) async fn check_can_share_existing(
    client: &impl GenericClient,
    facts: &Facts,
    access: Access,
) -> Result<(), RoleError> {
    if facts.admin_super {
        return Ok(());
    }
    let (table_privileges, sequence_privileges) = sql::shared_privileges(access);
    let rows = client
        .query(
            &sql::not_shareable(access),
            &[&(access == Access::ReadOnly), &facts.readers],
        )
        .await
        .map_err(|e| refusal(facts, e, &facts.readers))?;
    if rows.is_empty() {
        return Ok(());
    }
    let admin = ident(&facts.admin);
    let privileges = |kind: &str| {
        if kind == "SEQUENCE" {
            sequence_privileges.join(", ")
        } else {
            table_privileges.join(", ")
        }
    };
    // `regclass` text names the schema: pgusers' search_path is only
    // pg_catalog.
    let objects: Vec<(String, String)> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    let grants: Vec<String> = objects
        .iter()
        .map(|(kind, name)| {
            format!(
                "GRANT {} ON {kind} {name} TO {admin} WITH GRANT OPTION;",
                privileges(kind)
            )
        })
        .collect();
    let names: Vec<&str> = objects.iter().map(|(_, name)| name.as_str()).collect();
    let user = match access {
        Access::ReadOnly => "read-only",
        Access::ReadWrite => "read-write",
    };
    Err(RoleError::MissingPrivilege {
        admin: facts.admin.clone(),
        needs: format!(
            "to give a {user} user what it gets on {} (it is not a superuser, and does not act \
             for the owner)",
            names.join(", ")
        ),
        fix: format!(
            "{} (as the owner of each, in database \"{}\"), or give them to the protected user \
             \"{}\" with ALTER ... OWNER TO; then add the user again",
            grants.join(" "),
            facts.database,
            facts.protected
        ),
    })
}

/// Takes from the readers group anything but reading: a membership in
/// another role (before PostgreSQL 15 a role may grant itself to the
/// group) or a privilege other than SELECT on a table or sequence (an owner
/// may grant the group INSERT). Its members would write. Refuses, naming
/// the REVOKEs, when pgusers' role may not take them.
pub(super) async fn keep_readers_reading_only(
    client: &impl GenericClient,
    facts: &Facts,
) -> Result<(), RoleError> {
    let fail = |e| refusal(facts, e, &facts.readers);
    let strays = || async {
        client
            .query(sql::READERS_STRAYS, &[&facts.readers])
            .await
            .map(|rows| rows.iter().map(|row| row.get(0)).collect::<Vec<String>>())
    };
    let revokes = strays().await.map_err(fail)?;
    if revokes.is_empty() {
        return Ok(());
    }
    tracing::warn!(group = %facts.readers, statements = %revokes.join(" "),
        "the read-only group was given more than reading: taking it back");
    for revoke in &revokes {
        // One at a time: a REVOKE this role may not make only warns.
        client.batch_execute(revoke).await.map_err(fail)?;
    }
    let left = strays().await.map_err(fail)?;
    if left.is_empty() {
        return Ok(());
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

/// What a read-write user has in `public` that read-write users share:
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

/// Gives the read-write users what a deleted user's tables, now the
/// protected user's, would have given them had the protected user made
/// them: exactly what its default privileges in `public` give, on tables
/// and on sequences, to each role they let write tables (the guide's
/// grants), the deleted user and the readers group aside.
pub(super) async fn share_moved(
    tx: &impl GenericClient,
    facts: &Facts,
    deleted: u32,
    moved: &[(String, bool)],
) -> Result<(), RoleError> {
    if moved.is_empty() {
        return Ok(());
    }
    let fail = |e| refusal(facts, e, &facts.protected);
    let defaults = tx
        .query(
            sql::DEFAULTS_TO_SHARE,
            &[
                &facts.protected as &(dyn tokio_postgres::types::ToSql + Sync),
                &deleted,
                &facts.readers,
            ],
        )
        .await
        .map_err(fail)?;
    let mut statements = String::new();
    let mut grants: std::collections::BTreeMap<(String, bool), Vec<String>> = Default::default();
    for row in &defaults {
        grants
            .entry((row.get(0), row.get(1)))
            .or_default()
            .push(row.get(2));
    }
    for ((grantee, sequences), privileges) in &grants {
        let names = moved
            .iter()
            .filter(|(_, sequence)| sequence == sequences)
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if names.is_empty() {
            continue;
        }
        let kind = if *sequences { "SEQUENCE" } else { "TABLE" };
        statements.push_str(&format!(
            "GRANT {} ON {kind} {names} TO {};",
            privileges.join(", "),
            ident(grantee)
        ));
    }
    if statements.is_empty() {
        return Ok(());
    }
    tx.batch_execute(&statements).await.map_err(fail)
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
/// this database (an object, a privilege) but the readers: read-write
/// users, roles pgusers does not manage; and to each read-write user
/// pgusers makes after ([`grant_large_objects`]).
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
            &[&facts.readers, &facts.protected],
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

/// Lets a new read-write user make large objects when PUBLIC no longer
/// may ([`close_large_objects`]).
pub(super) async fn grant_large_objects(
    client: &impl GenericClient,
    facts: &Facts,
    user: &str,
) -> Result<(), RoleError> {
    let fail = |e| refusal(facts, e, user);
    if large_objects_open(client, facts).await? == Open::All {
        return Ok(());
    }
    client
        .batch_execute(&format!(
            "GRANT EXECUTE ON FUNCTION {} TO {};",
            LARGE_OBJECT_MAKERS.join(", "),
            ident(user)
        ))
        .await
        .map_err(fail)
}

/// How many of [`LARGE_OBJECT_MAKERS`] PUBLIC may run.
#[derive(Debug, PartialEq, Eq)]
enum Open {
    All,
    Some,
    None,
}

async fn large_objects_open(client: &impl GenericClient, facts: &Facts) -> Result<Open, RoleError> {
    let row = client
        .query_one(
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

/// How long a new user's grant on all of `public` waits for a table
/// another transaction holds (an `ALTER TABLE` left open), before granting
/// one object at a time.
const GRANT_WAIT: &str = "1s";

/// How long granting one object at a time may wait in all; past it, each
/// object another transaction holds is skipped at once.
const GRANT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// Grants `grants` on every table and sequence in `public` now, without
/// letting another session hold the change up: at once when it can, else
/// one object at a time, all of them waiting [`GRANT_DEADLINE`] at most;
/// an object another transaction holds longer is skipped, logged, and returned
/// (`regclass` text). The doctor finds what was skipped, and its Fix
/// grants it.
pub(super) async fn grant_on_existing(
    tx: &impl GenericClient,
    facts: &Facts,
    grants: &super::sql::OnExisting,
) -> Result<Vec<String>, RoleError> {
    let fail = |e| refusal(facts, e, &grants.grantee);
    let waiting = |e: &tokio_postgres::Error| e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE);
    let all = tx
        .batch_execute(&format!(
            "SAVEPOINT existing; SET LOCAL lock_timeout = '{GRANT_WAIT}'; {}",
            grants.on_all()
        ))
        .await;
    let mut skipped = Vec::new();
    match all {
        Ok(()) => {}
        Err(error) if waiting(&error) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT existing")
                .await
                .map_err(fail)?;
            let objects = tx.query(sql::PUBLIC_RELATIONS, &[]).await.map_err(fail)?;
            // One deadline for them all: many held objects must not hold
            // the change (and the server-wide change lock) for long.
            let deadline = std::time::Instant::now() + GRANT_DEADLINE;
            for object in &objects {
                let name: String = object.get(0);
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                let wait = left.clamp(
                    std::time::Duration::from_millis(10),
                    std::time::Duration::from_secs(1),
                );
                let one = tx
                    .batch_execute(&format!(
                        "SAVEPOINT one; SET LOCAL lock_timeout = '{}ms'; {}",
                        wait.as_millis(),
                        grants.on_one(&name, object.get(1))
                    ))
                    .await;
                match one {
                    Ok(()) => {}
                    Err(error) if waiting(&error) => {
                        tx.batch_execute("ROLLBACK TO SAVEPOINT one")
                            .await
                            .map_err(fail)?;
                        skipped.push(name);
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
