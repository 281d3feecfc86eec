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
//! under pgusers' change lock, in the change's own transaction, so the
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

use deadpool_postgres::GenericClient;

use super::privileges::{self, ensure_privileges_of, refusal};
use super::sql::{self, ident};
use super::{Facts, RoleError};

/// The step this pgusers brings databases to.
pub(super) const CURRENT: i32 = 3;

/// How many users one `GRANT` marks.
const CHUNK: usize = 1_000;

/// Runs, in `tx` (which holds the change lock), the steps `facts` says
/// this database lacks, and records the last; keeps the mark role empty.
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
    let comment = format!(
        "pgusers: its members are the users pgusers made for database {}; step {CURRENT}",
        facts.database
    );
    tx.batch_execute(&format!(
        "COMMENT ON ROLE {} IS {}",
        ident(&facts.mark),
        postgres_protocol::escape::escape_literal(&comment)
    ))
    .await
    .map_err(|e| refusal(facts, e, &facts.mark))?;
    tracing::info!(database = %facts.database, from = facts.step, to = CURRENT, "upgraded what pgusers set up in the database");
    Ok(())
}

/// Whether the readers group has members: read-only users exist.
async fn has_readers(tx: &impl GenericClient, facts: &Facts) -> Result<bool, RoleError> {
    Ok(tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_auth_members
                             WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1))",
            &[&facts.readers],
        )
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

/// What was granted to the mark role in this database (or on it), as
/// statements taking it back: `$1` is the mark role.
const MARK_GRANTS: &str = "
    SELECT CASE s.classid
             WHEN 'pg_class'::regclass
               THEN format('REVOKE ALL ON %s %s FROM %I;',
                           CASE (SELECT relkind FROM pg_class WHERE oid = s.objid)
                             WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                           s.objid::regclass, $1::text)
             WHEN 'pg_namespace'::regclass
               THEN format('REVOKE ALL ON SCHEMA %I FROM %I;', s.objid::regnamespace, $1::text)
             WHEN 'pg_proc'::regclass
               THEN format('REVOKE ALL ON ROUTINE %s FROM %I;', s.objid::regprocedure, $1::text)
             WHEN 'pg_type'::regclass
               THEN format('REVOKE ALL ON TYPE %s FROM %I;', s.objid::regtype, $1::text)
             WHEN 'pg_largeobject'::regclass
               THEN format('REVOKE ALL ON LARGE OBJECT %s FROM %I;', s.objid, $1::text)
             WHEN 'pg_database'::regclass
               THEN format('REVOKE ALL ON DATABASE %I FROM %I;', current_database(), $1::text)
             WHEN 'pg_default_acl'::regclass
               THEN (SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s REVOKE ALL ON %s FROM %I;',
                                   pg_get_userbyid(da.defaclrole),
                                   CASE WHEN da.defaclnamespace = 0 THEN ''
                                        ELSE ' IN SCHEMA '
                                             || quote_ident(da.defaclnamespace::regnamespace::text) END,
                                   CASE da.defaclobjtype WHEN 'r' THEN 'TABLES'
                                        WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                                        WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END, $1::text)
                       FROM pg_default_acl da WHERE da.oid = s.objid)
           END
      FROM pg_shdepend s
     WHERE s.refclassid = 'pg_authid'::regclass
       AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1)
       AND s.deptype = 'a' AND s.objsubid = 0
       AND (s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            OR (s.dbid = 0 AND s.classid = 'pg_database'::regclass
                AND s.objid = (SELECT oid FROM pg_database WHERE datname = current_database())))
     ORDER BY 1";

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
    let mut revokes: Vec<String> = tx
        .query(
            "SELECT format('REVOKE %I FROM %I;', g.rolname, $1::text)
               FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
              WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1)",
            &[&facts.mark],
        )
        .await
        .map_err(fail)?
        .iter()
        .map(|row| row.get(0))
        .collect();
    revokes.extend(
        tx.query(MARK_GRANTS, &[&facts.mark])
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
            "WITH protected AS (SELECT oid FROM pg_roles WHERE rolname = $1),
                  readers AS (SELECT oid FROM pg_roles WHERE rolname = $2),
                  mark AS (SELECT oid FROM pg_roles WHERE rolname = $3),
                  defaults AS (
                    SELECT d.defaclobjtype AS kind, a.grantee, a.privilege_type
                      FROM pg_default_acl d CROSS JOIN LATERAL unnest(d.defaclacl) i
                           CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
                     WHERE d.defaclrole = (SELECT oid FROM protected)
                       AND d.defaclnamespace = 'public'::regnamespace),
                  writes_tables AS (
                    SELECT grantee FROM defaults
                     WHERE kind = 'r' AND privilege_type = ANY ($4::text[])
                     GROUP BY grantee HAVING count(DISTINCT privilege_type) = cardinality($4::text[])),
                  writes_sequences AS (
                    SELECT grantee FROM defaults
                     WHERE kind = 'S' AND privilege_type = ANY ($5::text[])
                     GROUP BY grantee HAVING count(DISTINCT privilege_type) = cardinality($5::text[])),
                  readers_follow AS (
                    SELECT d.defaclrole AS oid
                      FROM pg_default_acl d CROSS JOIN LATERAL unnest(d.defaclacl) i
                           CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
                     WHERE d.defaclnamespace = 'public'::regnamespace AND d.defaclobjtype = 'r'
                       AND a.grantee = (SELECT oid FROM readers) AND a.privilege_type = 'SELECT'),
                  creates_in_database AS (
                    SELECT a.grantee
                      FROM pg_database d CROSS JOIN LATERAL unnest(d.datacl) i
                           CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
                     WHERE d.datname = current_database() AND a.privilege_type = 'CREATE'),
                  creates_in_public AS (
                    SELECT a.grantee
                      FROM pg_namespace n CROSS JOIN LATERAL unnest(n.nspacl) i
                           CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
                     WHERE n.nspname = 'public' AND a.privilege_type = 'CREATE')
             SELECT quote_ident(r.rolname)
               FROM pg_roles r
              WHERE r.rolcanlogin
                AND NOT (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication
                         OR r.rolbypassrls)
                AND r.rolname <> current_user
                AND r.oid IS DISTINCT FROM (SELECT oid FROM protected)
                AND NOT EXISTS (SELECT 1 FROM pg_database o WHERE o.datdba = r.oid)
                AND NOT EXISTS (SELECT 1 FROM pg_auth_members m
                                 WHERE m.member = r.oid
                                   AND m.roleid NOT IN (SELECT oid FROM readers
                                                        UNION ALL SELECT oid FROM mark))
                AND NOT EXISTS (SELECT 1 FROM pg_auth_members m
                                 WHERE m.member = r.oid AND m.roleid = (SELECT oid FROM mark))
                AND CASE WHEN EXISTS (SELECT 1 FROM pg_auth_members m
                                       WHERE m.member = r.oid
                                         AND m.roleid = (SELECT oid FROM readers))
                         THEN NOT EXISTS (SELECT 1 FROM pg_shdepend s
                                           WHERE s.refclassid = 'pg_authid'::regclass
                                             AND s.refobjid = r.oid AND s.deptype = 'a')
                         ELSE r.oid IN (SELECT grantee FROM writes_tables)
                              AND r.oid IN (SELECT grantee FROM writes_sequences)
                              AND r.oid IN (SELECT oid FROM readers_follow)
                              AND r.oid IN (SELECT grantee FROM creates_in_database)
                              AND r.oid IN (SELECT grantee FROM creates_in_public) END
              ORDER BY 1",
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
    for chunk in names.chunks(CHUNK) {
        tx.batch_execute(&sql::mark(
            &facts.mark,
            &chunk.join(", "),
            facts.version_num,
        ))
        .await
        .map_err(fail)?;
    }
    if !names.is_empty() {
        tracing::info!(database = %facts.database, users = names.len(), "marked the users pgusers made before its mark existed");
    }
    Ok(())
}

/// What the marked users hold that runs or attaches code on objects they
/// do not own, as statements taking it back: `(owner, statement)`, where
/// the owner is the role whose privileges a revoke needs. `$1` is the mark
/// role, `$2` the privileges ([`sql::code_privileges`]).
///
/// Each ACL is unnested before `aclexplode` (see
/// [`super::privileges::readers_strays`]).
pub(super) const CODE_PRIVILEGES_HELD: &str = "
    WITH marked AS (SELECT m.member AS oid FROM pg_auth_members m
                     WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)),
         relation_items AS (
           SELECT c.oid, c.relowner, a.grantee, a.privilege_type
             FROM pg_class c CROSS JOIN LATERAL unnest(c.relacl) i
                  CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
            WHERE c.relacl IS NOT NULL AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND a.privilege_type = ANY ($2::text[])
              AND a.grantee IN (SELECT oid FROM marked) AND a.grantee <> c.relowner),
         column_items AS (
           SELECT c.oid, c.relowner, t.attname, a.grantee
             FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid
                  CROSS JOIN LATERAL unnest(t.attacl) i CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
            WHERE t.attacl IS NOT NULL AND a.privilege_type = 'REFERENCES'
              AND a.privilege_type = ANY ($2::text[])
              AND a.grantee IN (SELECT oid FROM marked) AND a.grantee <> c.relowner),
         default_items AS (
           SELECT d.oid, d.defaclrole, d.defaclnamespace, a.grantee, a.privilege_type
             FROM pg_default_acl d CROSS JOIN LATERAL unnest(d.defaclacl) i
                  CROSS JOIN LATERAL aclexplode(ARRAY[i]) a
            WHERE d.defaclobjtype = 'r' AND a.privilege_type = ANY ($2::text[])
              AND a.grantee IN (SELECT oid FROM marked) AND a.grantee <> d.defaclrole)
    SELECT pg_get_userbyid(x.relowner)::text,
           format('REVOKE %s ON TABLE %s FROM %s;',
                  string_agg(DISTINCT x.privilege_type, ', '), x.oid::regclass,
                  string_agg(DISTINCT quote_ident(pg_get_userbyid(x.grantee)), ', '))
      FROM relation_items x GROUP BY x.oid, x.relowner
    UNION ALL
    SELECT pg_get_userbyid(x.relowner)::text,
           format('REVOKE REFERENCES (%I) ON TABLE %s FROM %s;', x.attname, x.oid::regclass,
                  string_agg(DISTINCT quote_ident(pg_get_userbyid(x.grantee)), ', '))
      FROM column_items x GROUP BY x.oid, x.relowner, x.attname
    UNION ALL
    SELECT pg_get_userbyid(x.defaclrole)::text,
           format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s REVOKE %s ON TABLES FROM %s;',
                  pg_get_userbyid(x.defaclrole),
                  CASE WHEN x.defaclnamespace = 0 THEN ''
                       ELSE ' IN SCHEMA ' || quote_ident(x.defaclnamespace::regnamespace::text) END,
                  string_agg(DISTINCT x.privilege_type, ', '),
                  string_agg(DISTINCT quote_ident(pg_get_userbyid(x.grantee)), ', '))
      FROM default_items x GROUP BY x.oid, x.defaclrole, x.defaclnamespace
    ORDER BY 1, 2";

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
    let held = || async {
        tx.query(CODE_PRIVILEGES_HELD, &[&facts.mark, &privileges])
            .await
            .map(|rows| {
                rows.iter()
                    .map(|row| (row.get::<_, String>(0), row.get::<_, String>(1)))
                    .collect::<Vec<_>>()
            })
            .map_err(|e| refusal(facts, e, &facts.mark))
    };
    let revokes = held().await?;
    if revokes.is_empty() {
        return Ok(());
    }
    let marked: std::collections::HashSet<String> = tx
        .query(
            "SELECT pg_get_userbyid(member)::text FROM pg_auth_members
              WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)",
            &[&facts.mark],
        )
        .await
        .map_err(|e| refusal(facts, e, &facts.mark))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut owners: Vec<&str> = revokes.iter().map(|(owner, _)| owner.as_str()).collect();
    owners.dedup();
    for owner in owners {
        if owner == facts.protected || marked.contains(owner) {
            ensure_privileges_of(
                tx,
                facts,
                owner,
                "to take back from the users pgusers made what runs code on what it owns \
                 (upgrade step 2)",
            )
            .await?;
        }
    }
    for (owner, revoke) in &revokes {
        // One at a time: a REVOKE this role may not make only warns.
        tx.batch_execute(revoke)
            .await
            .map_err(|e| refusal(facts, e, owner))?;
    }
    let left = held().await?;
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

/// Triggers a marked user put, while it could, on tables of other roles,
/// calling its code (as their function, or in `WHEN`, directly or through
/// operators and types: see `code::reached`): each runs as whoever writes
/// the table. `(table owner, statement disabling it)`; `$1` is the mark
/// role.
fn planted_triggers() -> String {
    format!(
        "WITH RECURSIVE {type_code},
              marked AS (SELECT m.member AS oid FROM pg_auth_members m
                          WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1))
         SELECT pg_get_userbyid(c.relowner)::text,
                format('ALTER TABLE %s DISABLE TRIGGER %I;', c.oid::regclass, t.tgname)
           FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_proc p ON p.oid = t.tgfoid
          WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
            AND ((p.proowner IN (SELECT oid FROM marked) AND p.proowner <> c.relowner)
                 OR EXISTS (SELECT 1 FROM pg_depend d
                             CROSS JOIN LATERAL ({reached}) r(fn)
                              JOIN pg_proc q ON q.oid = r.fn
                             WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
                               AND q.proowner IN (SELECT oid FROM marked)
                               AND q.proowner <> c.relowner))
          ORDER BY 1, 2",
        type_code = super::code::TYPE_CODE,
        reached = super::code::reached("d")
    )
}

/// Step 2, too: disables the triggers marked users put on others' tables
/// ([`planted_triggers`]), where pgusers acts for the table's owner (the
/// protected user, a marked user); they stay, for a person to review. One
/// on another role's table is that role's to review: it is logged.
async fn disable_planted_triggers(tx: &impl GenericClient, facts: &Facts) -> Result<(), RoleError> {
    let fail = |e| refusal(facts, e, &facts.mark);
    let planted: Vec<(String, String)> = tx
        .query(&planted_triggers(), &[&facts.mark])
        .await
        .map_err(fail)?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    for (owner, disable) in &planted {
        let ours = owner == &facts.protected
            || tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_auth_members
                                     WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)
                                       AND member = (SELECT oid FROM pg_roles WHERE rolname = $2))",
                    &[&facts.mark, owner],
                )
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

impl super::RoleManager {
    /// Brings this database to the current step, in a change of its own:
    /// what `serve` runs at start. Returns the step it was at when it
    /// changed anything (`None`: it was current).
    pub async fn upgrade(&self) -> Result<Option<i32>, RoleError> {
        let mut client = self.client().await?;
        let tx = super::changes::begin(&mut client, "").await?;
        let facts = self.facts(&tx).await?;
        ensure_current(&tx, &facts).await?;
        tx.commit()
            .await
            .map_err(|e| refusal(&facts, e, &facts.mark))?;
        Ok((facts.step != CURRENT).then_some(facts.step))
    }
}
