//! Rights through two group roles per database: what every user of a kind
//! may do lives on its group, never on the user, so no ACL grows with the
//! number of users.
//!
//! - `pgusers-writers-<database>` (the read-write group): CONNECT, CREATE
//!   and TEMPORARY on the database, USAGE and CREATE on `public`, USAGE on
//!   the other application schemas, and on every table, view and sequence
//!   there the guide's read-write privileges ([`sql::WRITER_TABLE_PRIVILEGES`],
//!   [`sql::WRITER_SEQUENCE_PRIVILEGES`]: never one that runs or attaches
//!   code); where PUBLIC may no longer make large objects, their making.
//! - `pgusers-readonly-<database>` (the read-only group): CONNECT, USAGE on
//!   the application schemas, SELECT on their tables, views and sequences.
//!
//! The database's oid replaces a name longer than 46 bytes, as for the mark
//! role. Both are NOLOGIN. A user is a member of its kind's group with
//! INHERIT and, on PostgreSQL 16+, without SET, so it can neither act as
//! the group nor make objects the group owns; before 16, where every
//! membership allows `SET ROLE`, the groups are kept members of nothing
//! (and the doctor finds anything they own).
//!
//! What the protected user or a read-write user makes reaches everyone at
//! once through *default privileges* for each of them, set in every schema
//! (PostgreSQL refuses `IN SCHEMA` for schemas themselves, and a global
//! default also covers schemas made later): the read-write group (and, on
//! what a read-write user makes, the protected user) may read and write
//! it, the read-only group read it, all three use a schema it makes.
//!
//! The application schemas (`sql/app_schemas.sql`) are `public` and every
//! schema the protected user or a user pgusers made owns. A read-write user
//! creates in `public` and in schemas of its own, never in another user's:
//! a schema named after a role comes first in that role's default
//! `search_path`, where a function of the same name as one the role calls
//! would run with its rights.

use deadpool_postgres::GenericClient;

use super::privileges::{self, Look, LookedAt, Looks, ensure_privileges_of, look_begins, refusal};
use super::sql::{self, ident};
use super::{Access, Facts, RoleError};

/// What a share does about what pgusers' role may not give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Left {
    /// Refuses, naming the GRANTs: a create (its user would lack it).
    Refused,
    /// Logs it and goes on: an upgrade, which takes back no per-user grant
    /// the group lacks, so nobody loses a right.
    Logged,
}

/// On PostgreSQL 16+ a membership can be granted without SET.
const SET_OPTION: i32 = 160_000;

/// The role a share goes to, and what it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grantee {
    /// The read-write group, on every table and sequence of the
    /// application schemas.
    Writers,
    /// The read-only group, likewise.
    Readers,
    /// The protected user, on what the users pgusers made own.
    Protected,
}

impl Grantee {
    pub(super) fn of(access: Access) -> Self {
        match access {
            Access::ReadWrite => Self::Writers,
            Access::ReadOnly => Self::Readers,
        }
    }

    pub(super) fn name(self, facts: &Facts) -> &str {
        match self {
            Self::Writers => &facts.writers,
            Self::Readers => &facts.readers,
            Self::Protected => &facts.protected,
        }
    }

    /// On tables, views and foreign tables; on sequences.
    pub(super) fn privileges(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Self::Writers | Self::Protected => (
                &sql::WRITER_TABLE_PRIVILEGES,
                &sql::WRITER_SEQUENCE_PRIVILEGES,
            ),
            Self::Readers => (&["SELECT"], &["SELECT"]),
        }
    }

    fn words(self) -> &'static str {
        match self {
            Self::Writers => "the read-write group",
            Self::Readers => "the read-only group",
            Self::Protected => "the protected user",
        }
    }
}

/// Makes both groups when they do not exist, and keeps the writers members
/// of nothing (what keeps the readers to reading is
/// [`privileges::keep_readers_reading_only`], before a reader joins).
/// Refuses a group pgusers' role may not fill (on 16+, one another role
/// made), naming the GRANT.
pub(super) async fn ensure(tx: &impl GenericClient, facts: &Facts) -> Result<(), RoleError> {
    // Three questions in one round trip (see `sql::pipelined`): whether
    // pgusers' role may fill each group, and what the writers group was
    // made a member of (nothing, when it is made below).
    let ((readers, writers), memberships) = sql::pipelined(
        sql::pipelined(
            privileges::may_fill(tx, facts, &facts.readers),
            privileges::may_fill(tx, facts, &facts.writers),
        ),
        writers_memberships(tx, facts),
    )
    .await?;
    for (group, kind, may_fill) in [
        (&facts.readers, "read-only", readers),
        (&facts.writers, "read-write", writers),
    ] {
        let fail = |e| refusal(facts, e, group);
        match may_fill {
            Some(true) => {}
            Some(false) => {
                return Err(RoleError::MissingPrivilege {
                    admin: facts.admin.clone(),
                    needs: format!(
                        "ADMIN OPTION on the {kind} group \"{group}\", which another role made, \
                         to make users members of it"
                    ),
                    fix: format!(
                        "GRANT {} TO {} WITH ADMIN OPTION;",
                        ident(group),
                        ident(&facts.admin)
                    ),
                });
            }
            None => {
                tx.batch_execute(&format!(
                    "CREATE ROLE {group} NOLOGIN; COMMENT ON ROLE {group} IS {comment};",
                    group = ident(group),
                    comment = sql::literal(&format!(
                        "pgusers: {kind} users of database {}",
                        facts.database
                    ))
                ))
                .await
                .map_err(fail)?;
            }
        }
    }
    keep_writers_member_of_nothing(tx, facts, memberships).await
}

/// What the writers group was made a member of, as the REVOKEs that take
/// it back.
async fn writers_memberships(
    tx: &impl GenericClient,
    facts: &Facts,
) -> Result<Vec<String>, RoleError> {
    Ok(sql::rows(tx, sql::ROLE_MEMBERSHIPS, &[&facts.writers])
        .await
        .map_err(|e| refusal(facts, e, &facts.writers))?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

/// Takes back any membership the writers group was given (`revokes`, from
/// [`writers_memberships`]: before 15 a role may grant itself to it;
/// before 16 each of its members could then act as that role).
async fn keep_writers_member_of_nothing(
    tx: &impl GenericClient,
    facts: &Facts,
    revokes: Vec<String>,
) -> Result<(), RoleError> {
    let fail = |e| refusal(facts, e, &facts.writers);
    for revoke in &revokes {
        tracing::warn!(group = %facts.writers, statement = %revoke, "the read-write group was made a member of a role: taking it back");
        tx.batch_execute(revoke).await.map_err(fail)?;
    }
    Ok(())
}

/// Gives the groups what they lack on the database and the application
/// schemas, and the protected user's default privileges
/// (`sql/group_gaps.sql`): only what is missing, so a change rewrites no
/// catalog row that is already right. Acts for the protected user and the
/// users pgusers made; refuses, naming each statement and whose right it
/// is, when PostgreSQL granted less (a GRANT pgusers' role may not make
/// only warns). With [`Left::Logged`] (an upgrade), what is left is logged
/// instead: the doctor shows it, and the next create refuses.
pub(super) async fn share(
    tx: &impl GenericClient,
    facts: &Facts,
    left_is: Left,
) -> Result<(), RoleError> {
    let gaps = group_gaps(tx, facts).await?;
    if gaps.is_empty() {
        return Ok(());
    }
    let mut owners: Vec<&str> = gaps.iter().map(|gap| gap.owner.as_str()).collect();
    owners.sort_unstable();
    owners.dedup();
    for owner in owners {
        if acts_for(tx, facts, owner).await? {
            ensure_privileges_of(
                tx,
                facts,
                owner,
                "to give pgusers' groups what they get on what it owns",
            )
            .await?;
        }
    }
    for gap in &gaps {
        tx.batch_execute(&gap.statement)
            .await
            .map_err(|e| refusal(facts, e, &gap.owner))?;
    }
    let left = group_gaps(tx, facts).await?;
    if left.is_empty() {
        return Ok(());
    }
    if left_is == Left::Logged {
        tracing::warn!(database = %facts.database, statements = %left.iter().map(|gap| format!("{} (as \"{}\")", gap.statement, gap.owner)).collect::<Vec<_>>().join(" "),
            "pgusers' groups lack what pgusers' role may not give them: the access doctor shows it");
        return Ok(());
    }
    let mut owners: Vec<&str> = left.iter().map(|gap| gap.owner.as_str()).collect();
    owners.sort_unstable();
    owners.dedup();
    let mut fixes = Vec::new();
    for owner in &owners {
        let superuser: bool = sql::one(tx, sql::IS_SUPERUSER, &[owner])
            .await
            .map_err(|e| refusal(facts, e, owner))?
            .get(0);
        if superuser {
            // Acting for a superuser would make pgusers' role one: the
            // statements, to run as it.
            let statements: Vec<&str> = left
                .iter()
                .filter(|gap| gap.owner == *owner)
                .map(|gap| gap.statement.as_str())
                .collect();
            fixes.push(format!(
                "{} (as \"{owner}\", in database \"{}\")",
                statements.join(" "),
                facts.database
            ));
        } else {
            fixes.push(privileges::inherit_grant(facts, owner));
        }
    }
    Err(RoleError::MissingPrivilege {
        admin: facts.admin.clone(),
        needs: format!(
            "to give pgusers' groups what they get on database \"{}\" and its schemas, which \
             belong to {}",
            facts.database,
            owners
                .iter()
                .map(|owner| format!("\"{owner}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        fix: fixes.join(" "),
    })
}

/// What the groups lack on the database, a schema, the protected user's
/// default privileges or large objects (`sql/group_gaps.sql`).
pub(super) struct GroupGap {
    /// The statement that gives it.
    pub(super) statement: String,
    /// Whose right it is to run it.
    pub(super) owner: String,
    /// What it is about, in words ("schema sales").
    pub(super) subject: String,
}

pub(super) async fn group_gaps(
    client: &impl GenericClient,
    facts: &Facts,
) -> Result<Vec<GroupGap>, RoleError> {
    Ok(sql::rows(
        client,
        sql::GROUP_GAPS.as_str(),
        &[&facts.protected, &facts.admin_super],
    )
    .await
    .map_err(|e| refusal(facts, e, &facts.writers))?
    .iter()
    .map(|row| GroupGap {
        statement: row.get(0),
        owner: row.get(1),
        subject: row.get(2),
    })
    .collect())
}

/// Whether pgusers acts for `role`: the protected user, or a user it made.
pub(super) async fn acts_for(
    tx: &impl GenericClient,
    facts: &Facts,
    role: &str,
) -> Result<bool, RoleError> {
    if role == facts.protected {
        return Ok(true);
    }
    Ok(sql::one(tx, sql::IS_MARKED, &[&facts.mark, &role])
        .await
        .map_err(|e| refusal(facts, e, role))?
        .get(0))
}

/// A relation `grantee` lacks its share of: `regclass` text, whether it
/// is a sequence, its owner, whether pgusers' role may give it, its relkind.
pub(super) struct Gap {
    pub(super) name: String,
    pub(super) sequence: bool,
    pub(super) owner: String,
    may_give: bool,
    pub(super) relkind: String,
}

/// The relations in the application schemas `grantee` lacks its share of
/// (`sql/relation_gaps.sql`): every one, or with `since` (a look's floor,
/// [`privileges::Looks`]) those among what may have changed since.
pub(super) async fn relation_gaps(
    tx: &impl GenericClient,
    facts: &Facts,
    grantee: Grantee,
    since: Option<&str>,
) -> Result<Vec<Gap>, RoleError> {
    let (tables, sequences) = grantee.privileges();
    let to_vec = |list: &[&str]| list.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
    let only_users = grantee == Grantee::Protected;
    Ok(sql::rows(
        tx,
        sql::RELATION_GAPS.as_str(),
        &[
            &facts.protected as &(dyn tokio_postgres::types::ToSql + Sync),
            &grantee.name(facts),
            &to_vec(tables),
            &to_vec(sequences),
            &only_users,
            &since,
        ],
    )
    .await
    .map_err(|e| refusal(facts, e, grantee.name(facts)))?
    .iter()
    .map(|row| Gap {
        name: row.get(0),
        sequence: row.get(1),
        owner: row.get(2),
        may_give: row.get(3),
        relkind: row.get(4),
    })
    .collect())
}

/// Gives `grantee` its share of the tables, views and sequences in the
/// application schemas it lacks (`sql/relation_gaps.sql`): those of any
/// owner for a group (a table a role pgusers does not manage made, once
/// pgusers' role may give it), those of the users pgusers made for the
/// protected user. Acts for the owners pgusers acts for; refuses, naming
/// the GRANTs, when pgusers' role may not give the rest; skips, without
/// holding the change up, a relation another transaction holds (the
/// doctor finds it). With `looks`, reads only what may have changed since
/// its last look for `grantee`, and when it finds no gap returns what to
/// record once the transaction commits.
pub(super) async fn share_existing(
    tx: &impl GenericClient,
    facts: &Facts,
    grantee: Grantee,
    left_is: Left,
    looks: Option<&Looks>,
) -> Result<Option<(Look, LookedAt)>, RoleError> {
    let mut gaps = match looks {
        Some(looks) => {
            let look = Look::Gaps(grantee);
            let (now, gaps) = privileges::look_from(
                looks,
                look,
                look_begins(tx, facts, grantee.name(facts)).await?,
                |since| async move { relation_gaps(tx, facts, grantee, since.as_deref()).await },
            )
            .await?;
            if gaps.is_empty() {
                return Ok(Some((look, now)));
            }
            gaps
        }
        None => relation_gaps(tx, facts, grantee, None).await?,
    };
    let mut acted = false;
    let mut owners: Vec<String> = gaps
        .iter()
        .filter(|gap| !gap.may_give)
        .map(|gap| gap.owner.clone())
        .collect();
    owners.sort_unstable();
    owners.dedup();
    for owner in &owners {
        if acts_for(tx, facts, owner).await? {
            ensure_privileges_of(tx, facts, owner, "to share what it owns").await?;
            acted = true;
        }
    }
    if acted {
        gaps = relation_gaps(tx, facts, grantee, None).await?;
    }
    let (tables, sequences) = grantee.privileges();
    let refused: Vec<&Gap> = gaps.iter().filter(|gap| !gap.may_give).collect();
    if !refused.is_empty() && left_is == Left::Logged {
        tracing::warn!(database = %facts.database, grantee = %grantee.name(facts),
            objects = %refused.iter().map(|gap| gap.name.as_str()).collect::<Vec<_>>().join(", "),
            "pgusers' role may not share these: the access doctor shows them");
        gaps.retain(|gap| gap.may_give);
    } else if !refused.is_empty() {
        let admin = ident(&facts.admin);
        let grants: Vec<String> = refused
            .iter()
            .map(|gap| {
                let (kind, privileges) = if gap.sequence {
                    ("SEQUENCE", sequences)
                } else {
                    ("TABLE", tables)
                };
                format!(
                    "GRANT {} ON {kind} {} TO {admin} WITH GRANT OPTION;",
                    privileges.join(", "),
                    gap.name
                )
            })
            .collect();
        let names: Vec<&str> = refused.iter().map(|gap| gap.name.as_str()).collect();
        return Err(RoleError::MissingPrivilege {
            admin: facts.admin.clone(),
            needs: format!(
                "to give {} what it gets on {} (it is not a superuser, and does not act for \
                 the owner)",
                grantee.words(),
                names.join(", ")
            ),
            fix: format!(
                "{} (as the owner of each, in database \"{}\"), or give them to the protected \
                 user \"{}\" with ALTER ... OWNER TO; then try again",
                grants.join(" "),
                facts.database,
                facts.protected
            ),
        });
    }
    let objects: Vec<(String, bool)> = gaps
        .into_iter()
        .map(|gap| (gap.name, gap.sequence))
        .collect();
    let grants = sql::OnExisting::new(grantee.name(facts), tables, sequences);
    privileges::grant_on_existing(tx, facts, &grants, &objects).await?;
    Ok(None)
}

/// What gives the groups what the user `deleted` owned and the protected
/// user now owns (`moved`: `regclass` text, whether a sequence), for what
/// it made before its default privileges shared it: statements to run.
pub(super) async fn moved_grants(
    tx: &impl GenericClient,
    facts: &Facts,
    moved: &[(String, bool)],
) -> Result<String, RoleError> {
    let mut statements = String::new();
    if moved.is_empty() {
        return Ok(statements);
    }
    for grantee in [Grantee::Writers, Grantee::Readers] {
        let exists = sql::at_most_one(tx, sql::ROLE_EXISTS, &[&grantee.name(facts)])
            .await
            .map_err(|e| refusal(facts, e, &facts.protected))?
            .is_some();
        if exists {
            let (tables, sequences) = grantee.privileges();
            statements.push_str(
                &sql::OnExisting::new(grantee.name(facts), tables, sequences).on_many(moved),
            );
        }
    }
    Ok(statements)
}

/// Makes `users` (quoted, comma-separated) members of `group` with its
/// privileges and, on 16+, without `SET ROLE` to it.
pub(super) fn membership(group: &str, users: &str, version_num: i32) -> String {
    let options = if version_num >= SET_OPTION {
        " WITH INHERIT TRUE, SET FALSE"
    } else {
        ""
    };
    format!("GRANT {} TO {users}{options};", ident(group))
}

/// The default privileges, in any schema or in `schema` (quoted), that
/// share what `roles` (a quoted list) make with the groups: the read-write
/// group reads and writes it, the read-only group reads it. For a role
/// pgusers does not manage (the doctor's SQL); its own users get
/// [`creator_defaults`].
pub(super) fn groups_defaults(roles: &str, schema: Option<&str>, facts: &Facts) -> String {
    let (writers, readers) = (ident(&facts.writers), ident(&facts.readers));
    let tables = sql::WRITER_TABLE_PRIVILEGES.join(", ");
    let sequences = sql::WRITER_SEQUENCE_PRIVILEGES.join(", ");
    let alter = match schema {
        Some(schema) => format!("ALTER DEFAULT PRIVILEGES FOR ROLE {roles} IN SCHEMA {schema}"),
        None => format!("ALTER DEFAULT PRIVILEGES FOR ROLE {roles}"),
    };
    format!(
        "{alter} GRANT {tables} ON TABLES TO {writers};
{alter} GRANT {sequences} ON SEQUENCES TO {writers};
{alter} GRANT SELECT ON TABLES TO {readers};
{alter} GRANT SELECT ON SEQUENCES TO {readers};"
    )
}

/// The default privileges of read-write user `user` (a quoted list of
/// them, too): what it makes, in any schema, the read-write group and the
/// protected user read and write, the read-only group reads, and all
/// three use the schemas it makes.
pub(super) fn creator_defaults(users: &str, facts: &Facts) -> String {
    let (writers, readers, protected) = (
        ident(&facts.writers),
        ident(&facts.readers),
        ident(&facts.protected),
    );
    let tables = sql::WRITER_TABLE_PRIVILEGES.join(", ");
    let sequences = sql::WRITER_SEQUENCE_PRIVILEGES.join(", ");
    format!(
        "ALTER DEFAULT PRIVILEGES FOR ROLE {users} GRANT {tables} ON TABLES TO {writers}, {protected};
         ALTER DEFAULT PRIVILEGES FOR ROLE {users} GRANT {sequences} ON SEQUENCES TO {writers}, {protected};
         ALTER DEFAULT PRIVILEGES FOR ROLE {users} GRANT SELECT ON TABLES TO {readers};
         ALTER DEFAULT PRIVILEGES FOR ROLE {users} GRANT SELECT ON SEQUENCES TO {readers};
         ALTER DEFAULT PRIVILEGES FOR ROLE {users} GRANT USAGE ON SCHEMAS TO {writers}, {readers}, {protected};"
    )
}
