//! Whose users these are: which login roles pgusers may hand out.
//!
//! pgusers hands out *application users of this database* and never more
//! power than it creates. A login role is one of them when nothing about it
//! gives more than an application user has:
//! - it has none of CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS (SUPERUSER
//!   roles are administrators and not listed at all);
//! - it holds no privilege on server-wide objects (parameters, tablespaces,
//!   subscriptions), none beyond PUBLIC's on system catalogs and functions
//!   or foreign servers, none on functions or views that run with a
//!   privileged role's rights, and does not own schema `public`;
//! - it is not a member, directly or through other roles, of a superuser, a
//!   predefined `pg_*` role, the protected user, the owner of any database,
//!   pgusers' own administrator role, or a role with one of the attributes
//!   above (`SET ROLE` would give it their rights);
//! - it owns nothing and holds no privilege in another database of the
//!   server, and is not a read-only user of another database (a member of
//!   that database's `pgusers-readonly-…` group) or a user pgusers made
//!   for another database (a member of its `pgusers-users-…` mark role),
//!   nor a member of a role that does: such a role is *that* database's user, and a password for it
//!   would open that database too. A privilege there on an object an
//!   application user of this database owns does not count (that user
//!   granted it: one user must not make another unmanageable).
//!
//! A role with no footprint anywhere (made by hand, granted nothing) counts
//! as this database's user: it can do no more than PUBLIC may.
//!
//! The rules live in one SQL fragment, [`RESTRICTIONS`], read by the list and
//! by every change, so what the page offers and what a change accepts agree.

use serde::{Serialize, Serializer};

/// Why a login role is not one pgusers manages, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restriction {
    /// A superuser: an administrator, never listed.
    Superuser,
    /// The role pgusers itself connects as.
    Administrator,
    /// A predefined `pg_*` role.
    Predefined,
    /// A role that cannot log in: a group, not a user.
    NoLogin,
    CreateRole,
    CreateDb,
    Replication,
    BypassRls,
    MemberOfSuperuser(String),
    MemberOfPredefined(String),
    MemberOfAdmin(String),
    MemberOfProtected(String),
    MemberOfDatabaseOwner(String),
    /// A member of a role with CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS.
    MemberOfPrivileged(String),
    /// Holds privileges on (or owns) server-wide objects: parameters,
    /// tablespaces, subscriptions, other databases' settings.
    ServerWide(String),
    /// A member of a role that holds such server-wide privileges.
    MemberOfServerWide {
        role: String,
        objects: String,
    },
    /// Holds privileges beyond an application user's: on system catalogs
    /// or functions (`pg_authid`, `pg_read_binary_file`…), on foreign
    /// servers, on code that runs with a privileged role's rights; or owns
    /// schema `public`.
    PrivilegedObjects(String),
    /// A member of a role that holds such privileges.
    MemberOfPrivilegedObjects {
        role: String,
        objects: String,
    },
    /// A member of another database's read-only group.
    ReaderElsewhere(String),
    /// Carries another database's mark: pgusers made it for that database.
    MadeElsewhere(String),
    /// Owns objects or holds privileges in these other databases.
    UserElsewhere(String),
    /// A member of `role`, which owns objects or holds privileges in `databases`.
    MemberOfUserElsewhere {
        role: String,
        databases: String,
    },
    /// On PostgreSQL 16+, pgusers' role (not a superuser) holds no ADMIN
    /// OPTION on `user`, so PostgreSQL lets it change nothing about it: a
    /// role another role made.
    NoAdminOption {
        user: String,
        admin: String,
    },
    /// A reason the SQL gives that this code does not know: refused all
    /// the same, so a new rule can never let a role through by mistake.
    Unrecognised(String),
}

impl Restriction {
    /// The restriction named by [`RESTRICTIONS`]' `kind`, `via` and
    /// `detail` columns.
    pub(super) fn from_row(kind: &str, via: String, detail: Option<String>) -> Self {
        let detail = detail.unwrap_or_default();
        match kind {
            "createrole" => Self::CreateRole,
            "createdb" => Self::CreateDb,
            "replication" => Self::Replication,
            "bypassrls" => Self::BypassRls,
            "superuser" => Self::MemberOfSuperuser(via),
            "predefined" => Self::MemberOfPredefined(via),
            "admin" => Self::MemberOfAdmin(via),
            "protected" => Self::MemberOfProtected(via),
            "owner" => Self::MemberOfDatabaseOwner(via),
            "privileged" => Self::MemberOfPrivileged(via),
            "server" => Self::ServerWide(detail),
            "member_server" => Self::MemberOfServerWide {
                role: via,
                objects: detail,
            },
            "system" => Self::PrivilegedObjects(detail),
            "member_system" => Self::MemberOfPrivilegedObjects {
                role: via,
                objects: detail,
            },
            "reader_elsewhere" => Self::ReaderElsewhere(via),
            "marked_elsewhere" => Self::MadeElsewhere(via),
            "elsewhere" => Self::UserElsewhere(detail),
            "member_elsewhere" => Self::MemberOfUserElsewhere {
                role: via,
                databases: detail,
            },
            "no_admin" => Self::NoAdminOption {
                user: via,
                admin: detail,
            },
            other => Self::Unrecognised(other.to_owned()),
        }
    }
}

impl std::fmt::Display for Restriction {
    /// Names from the catalog are shown with hidden characters escaped, so
    /// a reason can go to a terminal or a page as it is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::domain::visible as v;
        match self {
            Self::Superuser => f.write_str("it is a superuser, an administrator of the server"),
            Self::Administrator => f.write_str("it is the role pgusers connects as"),
            Self::Predefined => f.write_str("it is a predefined role of PostgreSQL"),
            Self::NoLogin => f.write_str("it cannot log in: it is a group, not a user"),
            Self::CreateRole => f.write_str("it can create and alter roles (CREATEROLE)"),
            Self::CreateDb => f.write_str("it can create databases (CREATEDB)"),
            Self::Replication => f.write_str("it can replicate the whole server (REPLICATION)"),
            Self::BypassRls => f.write_str("it bypasses row-level security (BYPASSRLS)"),
            Self::MemberOfSuperuser(role) => {
                write!(f, "it is a member of the superuser \"{}\"", v(role))
            }
            Self::MemberOfPredefined(role) => {
                write!(f, "it is a member of the predefined role \"{}\"", v(role))
            }
            Self::MemberOfAdmin(role) => write!(
                f,
                "it is a member of \"{}\", the role pgusers connects as",
                v(role)
            ),
            Self::MemberOfProtected(role) => {
                write!(f, "it is a member of the protected user \"{}\"", v(role))
            }
            Self::MemberOfDatabaseOwner(role) => {
                write!(
                    f,
                    "it is a member of \"{}\", which owns a database",
                    v(role)
                )
            }
            Self::MemberOfPrivileged(role) => write!(
                f,
                "it is a member of \"{}\", which has CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS",
                v(role)
            ),
            Self::ServerWide(objects) => write!(
                f,
                "it holds privileges on server-wide objects ({})",
                v(objects)
            ),
            Self::MemberOfServerWide { role, objects } => write!(
                f,
                "it is a member of \"{}\", which holds privileges on server-wide objects ({})",
                v(role),
                v(objects)
            ),
            Self::PrivilegedObjects(objects) => write!(
                f,
                "it holds privileges beyond an application user's ({})",
                v(objects)
            ),
            Self::MemberOfPrivilegedObjects { role, objects } => write!(
                f,
                "it is a member of \"{}\", which holds privileges beyond an application user's ({})",
                v(role),
                v(objects)
            ),
            Self::ReaderElsewhere(group) => write!(
                f,
                "it is a read-only user of another database (a member of \"{}\")",
                v(group)
            ),
            Self::MadeElsewhere(mark) => write!(
                f,
                "pgusers made it for another database (it is a member of \"{}\")",
                v(mark)
            ),
            Self::UserElsewhere(databases) => write!(
                f,
                "it is a user of database {} (it owns objects or holds privileges there)",
                v(databases)
            ),
            Self::MemberOfUserElsewhere { role, databases } => write!(
                f,
                "it is a member of \"{}\", a user of database {}",
                v(role),
                v(databases)
            ),
            Self::NoAdminOption { user, admin } => write!(
                f,
                "the role pgusers connects as, \"{admin}\", has no ADMIN OPTION on it \
                 (on PostgreSQL 16 and later a role that is not a superuser manages only \
                 such roles; another role made this one). To let pgusers manage it, have a \
                 superuser or a role holding ADMIN OPTION on it run: GRANT {} TO {} WITH ADMIN OPTION",
                postgres_protocol::escape::escape_identifier(v(user).as_ref()),
                postgres_protocol::escape::escape_identifier(v(admin).as_ref()),
                admin = v(admin)
            ),
            Self::Unrecognised(kind) => {
                write!(f, "it has a privilege pgusers does not know ({})", v(kind))
            }
        }
    }
}

impl Serialize for Restriction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Whether `pg_shdepend` row `s` is a grant of making large objects,
/// which pgusers takes from PUBLIC and gives back to every role but the
/// read-only users ([`super::privileges::LARGE_OBJECT_MAKERS`]): what
/// PUBLIC had, so it counts for nothing here. (Functions of `pg_catalog`
/// have the same oids in every database.)
macro_rules! large_object_grant {
    () => {
        "(s.deptype = 'a' AND s.classid = 'pg_proc'::regclass
          AND s.objid IN ('pg_catalog.lo_create(oid)'::regprocedure,
                          'pg_catalog.lo_creat(integer)'::regprocedure,
                          'pg_catalog.lo_from_bytea(oid, bytea)'::regprocedure))"
    };
}

/// CTEs (to follow `WITH RECURSIVE facts AS (…), scope(oid) AS (…)`)
/// defining `restrictions(role, kind, via, detail)` (and on the way
/// `readers(oid)`, the readers group, and `readers_deps`, its shared
/// dependencies, which the list also reads): for each role of
/// `scope` that is not an application user of this database, the first
/// reason found, in the order of [`Restriction`]. `via` is the role that
/// carries the reason (the role itself or one it is a member of); `detail`
/// names databases or objects. Only the roles of `scope` and those they
/// are members of are looked at, so judging a page of users costs what the
/// page holds, not what the server holds.
///
/// Like all of the module's SQL, it runs with `search_path` set to
/// `pg_catalog, pg_temp` (see [`super::admin_config`]), so no function or
/// operator a user creates can stand in for a built-in one.
pub(super) const RESTRICTIONS: &str = concat!("
  -- Every lookup below is by index, one per role: the planner cannot tell
  -- how few roles a page holds and how few groups they are in (it guesses
  -- a recursive CTE's size), and would otherwise read whole catalogs to
  -- hash them. `= ANY (ARRAY(...))` and a LATERAL subquery it may not
  -- flatten (`OFFSET 0`) keep it to lookups.
  ancestry(member, ancestor) AS (
      SELECT m.member, m.roleid FROM pg_auth_members m
       WHERE m.member = ANY (ARRAY(SELECT oid FROM scope))
      UNION
      SELECT a.member, m.roleid
        FROM ancestry a
       CROSS JOIN LATERAL (SELECT m.roleid FROM pg_auth_members m
                            WHERE m.member = a.ancestor OFFSET 0) m
  ),
  involved(oid) AS (SELECT oid FROM scope UNION SELECT ancestor FROM ancestry),
  -- What the involved roles own or are granted, read once, by the index on
  -- the role (`= ANY (ARRAY(...))`, not a join, so the planner looks up each
  -- role rather than reading the whole catalog). Default privileges in
  -- this database are left out: none of the checks below is about them,
  -- and the readers group has one for every user who creates tables.
  -- The readers group's are read always, apart (whether the group only
  -- reads looks at what it owns, and a page of read-write users does not
  -- involve it), and once.
  -- The group's oid (NULL while it does not exist), found once.
  readers AS (SELECT (SELECT oid FROM pg_roles WHERE rolname = facts.readers) AS oid FROM facts),
  -- The mark role's (see upgrade.rs), likewise.
  mark AS (SELECT (SELECT oid FROM pg_roles WHERE rolname = facts.mark) AS oid FROM facts),
  readers_deps AS MATERIALIZED (
      SELECT s.refobjid, s.classid, s.objid, s.objsubid, s.dbid, s.deptype
        FROM pg_shdepend s
       WHERE s.refclassid = 'pg_authid'::regclass
         AND s.refobjid = (SELECT oid FROM readers)
         AND NOT (s.dbid = (SELECT oid FROM facts) AND s.classid = 'pg_default_acl'::regclass)
  ),
  deps AS MATERIALIZED (
      SELECT * FROM readers_deps
      UNION ALL
      SELECT s.refobjid, s.classid, s.objid, s.objsubid, s.dbid, s.deptype
        FROM pg_shdepend s
       WHERE s.refclassid = 'pg_authid'::regclass
         AND s.refobjid = ANY (ARRAY(
                 SELECT oid FROM involved WHERE oid IS DISTINCT FROM (SELECT oid FROM readers)))
         AND NOT (s.dbid = (SELECT oid FROM facts) AND s.classid = 'pg_default_acl'::regclass)
  ),
  -- Other databases where a role owns objects or holds privileges: objects
  -- inside a database carry its oid; a grant on a database itself is a
  -- shared dependency (dbid 0) on that database. A privilege there whose
  -- object belongs to an application user of this database (the grantor,
  -- as a rule: `ALTER DEFAULT PRIVILEGES ... TO victim` run in another
  -- database makes a default-privileges object owned by whoever ran it)
  -- does not count: any user could otherwise make any other unmanageable.
  -- That owner is judged by its attributes and by its ties to this
  -- database alone, not by these rules (it may well be a user elsewhere
  -- now, by that very object).
  footprints(role, detail) AS (
      SELECT s.refobjid,
             string_agg(DISTINCT d.datname::text, ', ' ORDER BY d.datname::text)
        FROM deps s
        JOIN pg_database d
          ON d.oid = CASE WHEN s.dbid = 0 AND s.classid = 'pg_database'::regclass
                          THEN s.objid ELSE s.dbid END
       WHERE d.datname <> current_database()
         AND NOT ", large_object_grant!(), "
         -- What this database's readers group or mark role made elsewhere
         -- (before 16 any member may act as them): the members' own doing,
         -- not a tie of theirs to another database.
         AND s.refobjid IS DISTINCT FROM (SELECT oid FROM readers)
         AND s.refobjid IS DISTINCT FROM (SELECT oid FROM mark)
         AND NOT (s.deptype = 'a' AND s.dbid <> 0 AND EXISTS (
               SELECT 1 FROM pg_shdepend o JOIN pg_roles g ON g.oid = o.refobjid
                WHERE o.dbid = s.dbid AND o.classid = s.classid AND o.objid = s.objid
                  AND o.objsubid = 0 AND o.deptype = 'o'
                  AND o.refclassid = 'pg_authid'::regclass
                  -- (or by this database's readers group or mark role,
                  -- which any of their members may act as before 16)
                  AND (g.oid = (SELECT oid FROM readers) OR g.oid = (SELECT oid FROM mark)
                       OR (g.rolcanlogin AND g.rolname <> current_user
                  AND NOT (g.rolsuper OR g.rolcreaterole OR g.rolcreatedb
                           OR g.rolreplication OR g.rolbypassrls)
                  AND NOT EXISTS (SELECT 1 FROM pg_database od WHERE od.datdba = g.oid)
                  AND (EXISTS (SELECT 1 FROM pg_shdepend h
                                WHERE h.refclassid = 'pg_authid'::regclass
                                  AND h.refobjid = g.oid AND h.dbid = (SELECT oid FROM facts))
                       OR EXISTS (SELECT 1 FROM pg_auth_members m
                                   WHERE m.member = g.oid
                                     AND m.roleid = (SELECT oid FROM readers)))))))
       GROUP BY s.refobjid
  ),
  -- Server-wide objects a role owns or holds privileges on: parameters
  -- (GRANT SET/ALTER SYSTEM), tablespaces, subscriptions.
  server_wide(role, detail) AS (
      SELECT s.refobjid,
             string_agg(DISTINCT pg_describe_object(s.classid, s.objid, 0), ', ')
        FROM deps s
       WHERE s.dbid = 0
         AND s.classid NOT IN ('pg_database'::regclass,
                               'pg_auth_members'::regclass)
       GROUP BY s.refobjid
  ),
  -- Privileges beyond an application user's, in this database (PUBLIC's own
  -- grants are not recorded per role, so none of these is everyone's):
  -- grants on system catalogs and functions (pg_authid,
  -- pg_read_binary_file, lo_import...), on foreign servers, on functions that
  -- run with a privileged owner's rights and on views reading with them;
  -- and owning schema `public`, which lets one drop anything in it.
  privileged_owners(oid) AS (
      SELECT oid FROM pg_roles
       WHERE rolsuper OR rolcreaterole OR rolreplication OR rolbypassrls OR rolname ~ '^pg_'
  ),
  system_grants(role, detail) AS (
      SELECT s.refobjid,
             string_agg(DISTINCT pg_describe_object(s.classid, s.objid, s.objsubid), ', ')
        FROM deps s
       WHERE s.dbid = (SELECT oid FROM facts)
         AND NOT ", large_object_grant!(), "
         AND ((s.deptype = 'a'
               AND (s.classid IN ('pg_foreign_server'::regclass,
                                  'pg_foreign_data_wrapper'::regclass)
                    OR CASE s.classid
                         WHEN 'pg_proc'::regclass
                           THEN (SELECT p.pronamespace FROM pg_proc p WHERE p.oid = s.objid)
                         WHEN 'pg_class'::regclass
                           THEN (SELECT c.relnamespace FROM pg_class c WHERE c.oid = s.objid)
                         WHEN 'pg_namespace'::regclass THEN s.objid
                       END IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
                    OR (s.classid = 'pg_proc'::regclass AND EXISTS (
                          SELECT 1 FROM pg_proc p
                           WHERE p.oid = s.objid AND p.prosecdef
                             AND p.proowner IN (SELECT oid FROM privileged_owners)))
                    OR (s.classid = 'pg_class'::regclass AND EXISTS (
                          SELECT 1 FROM pg_class c
                           WHERE c.oid = s.objid AND c.relkind IN ('v', 'm')
                             AND c.relowner IN (SELECT oid FROM privileged_owners)))))
              OR (s.deptype = 'o' AND s.classid = 'pg_namespace'::regclass
                  AND s.objid = (SELECT oid FROM pg_namespace WHERE nspname = 'public')))
       GROUP BY s.refobjid
  ),
  restrictions(role, kind, via, detail) AS (
      SELECT DISTINCT ON (s.role) s.role, k.kind, a.rolname::text,
             CASE WHEN k.kind IN ('server', 'member_server') THEN sw.detail
                  WHEN k.kind IN ('system', 'member_system') THEN sg.detail
                  WHEN k.kind = 'no_admin' THEN facts.admin
                  ELSE f.detail END
        FROM (SELECT oid AS role, oid AS via FROM scope
              UNION ALL
              SELECT member, ancestor FROM ancestry) s
        CROSS JOIN LATERAL (SELECT * FROM pg_roles a WHERE a.oid = s.via OFFSET 0) a
        LEFT JOIN footprints f ON f.role = s.via
        LEFT JOIN server_wide sw ON sw.role = s.via
        LEFT JOIN system_grants sg ON sg.role = s.via
        CROSS JOIN facts
        CROSS JOIN LATERAL (SELECT CASE
            WHEN s.role = s.via THEN CASE
                WHEN a.rolcreaterole THEN 'createrole'
                WHEN a.rolcreatedb THEN 'createdb'
                WHEN a.rolreplication THEN 'replication'
                WHEN a.rolbypassrls THEN 'bypassrls'
                WHEN sw.detail IS NOT NULL THEN 'server'
                WHEN sg.detail IS NOT NULL THEN 'system'
                WHEN f.detail IS NOT NULL THEN 'elsewhere'
                -- Last, so every more specific reason wins.
                WHEN facts.version_num >= 160000 AND NOT facts.admin_super
                     AND NOT pg_has_role(current_user, a.oid, 'USAGE WITH ADMIN OPTION')
                    THEN 'no_admin' END
            WHEN a.rolsuper THEN 'superuser'
            WHEN a.rolname ~ '^pg_' THEN 'predefined'
            WHEN a.rolname = current_user THEN 'admin'
            WHEN a.rolname = facts.protected THEN 'protected'
            WHEN EXISTS (SELECT 1 FROM pg_database o WHERE o.datdba = a.oid)
                THEN 'owner'
            WHEN a.rolcreaterole OR a.rolcreatedb OR a.rolreplication OR a.rolbypassrls
                THEN 'privileged'
            WHEN sw.detail IS NOT NULL THEN 'member_server'
            WHEN sg.detail IS NOT NULL THEN 'member_system'
            WHEN a.rolname LIKE 'pgusers-readonly-%'
                 AND a.rolname <> facts.readers
                THEN 'reader_elsewhere'
            -- Another database's mark: pgusers made it for that one. A mark
            -- left by a database renamed or gone does not count.
            WHEN a.rolname LIKE 'pgusers-users-%' AND a.rolname <> facts.mark
                 AND EXISTS (SELECT 1 FROM pg_database o
                              WHERE a.rolname IN ('pgusers-users-' || o.datname,
                                                  'pgusers-users-' || o.oid::text))
                THEN 'marked_elsewhere'
            WHEN f.detail IS NOT NULL THEN 'member_elsewhere' END AS kind) k
       WHERE k.kind IS NOT NULL
       ORDER BY s.role, array_position(
           ARRAY['createrole', 'createdb', 'replication', 'bypassrls', 'superuser', 'predefined', 'admin',
                 'protected', 'owner', 'privileged', 'server', 'member_server', 'system',
                 'member_system', 'reader_elsewhere', 'elsewhere', 'member_elsewhere',
                 'marked_elsewhere',
                 'no_admin'],
           k.kind)
  )");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_large_object_grants_the_rules_ignore_are_those_pgusers_gives() {
        for function in super::super::privileges::LARGE_OBJECT_MAKERS {
            assert!(large_object_grant!().contains(function), "{function}");
        }
        assert_eq!(RESTRICTIONS.matches("lo_from_bytea").count(), 2);
    }

    #[test]
    fn the_rules_are_ascii_so_a_latin1_database_reads_them() {
        assert!(RESTRICTIONS.is_ascii());
    }

    #[test]
    fn every_kind_the_sql_names_has_a_restriction() {
        let kinds = [
            "createrole",
            "createdb",
            "replication",
            "bypassrls",
            "superuser",
            "predefined",
            "admin",
            "protected",
            "owner",
            "privileged",
            "server",
            "member_server",
            "system",
            "member_system",
            "reader_elsewhere",
            "marked_elsewhere",
            "elsewhere",
            "member_elsewhere",
            "no_admin",
        ];
        for kind in kinds {
            assert!(RESTRICTIONS.contains(&format!("'{kind}'")), "{kind}");
            assert!(
                !matches!(
                    Restriction::from_row(kind, "r".into(), Some("db".into())),
                    Restriction::Unrecognised(_)
                ),
                "{kind}"
            );
        }
        assert_eq!(
            Restriction::from_row("other", "r".into(), None),
            Restriction::Unrecognised("other".into())
        );
    }

    #[test]
    fn reasons_name_the_role_that_carries_them() {
        let reason = Restriction::from_row("superuser", "postgres".into(), None);
        assert_eq!(
            reason.to_string(),
            "it is a member of the superuser \"postgres\""
        );
        let reason = Restriction::from_row("elsewhere", "x".into(), Some("b1, b2".into()));
        assert!(reason.to_string().contains("database b1, b2"));
    }
}
