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
//!   server, and is not a read-only or read-write user of another database
//!   (a member of that database's `pgusers-readonly-…` or
//!   `pgusers-writers-…` group) or a user pgusers made
//!   for another database (a member of its `pgusers-users-…` mark role),
//!   nor a member of a role that does: such a role is *that* database's user, and a password for it
//!   would open that database too. A privilege there on an object an
//!   application user of this database owns does not count (that user
//!   granted it: one user must not make another unmanageable).
//!
//! A role with no footprint anywhere (made by hand, granted nothing) counts
//! as this database's user: it can do no more than PUBLIC may.
//!
//! The rules live in one SQL fragment, `sql/restrictions.sql`, read by the
//! list and by every change, so what the page offers and what a change
//! accepts agree.

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
    /// A member of another database's read-write group.
    WriterElsewhere(String),
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
    /// The restriction named by the `kind`, `via` and `detail` columns of
    /// `sql/restrictions.sql`.
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
            "writer_elsewhere" => Self::WriterElsewhere(via),
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
            Self::WriterElsewhere(group) => write!(
                f,
                "it is a read-write user of another database (a member of \"{}\")",
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
                super::sql::ident(&v(user)),
                super::sql::ident(&v(admin)),
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

#[cfg(test)]
mod tests {
    use super::super::sql::{LARGE_OBJECT_GRANT, RESTRICTIONS};
    use super::*;

    #[test]
    fn the_large_object_grants_the_rules_ignore_are_those_pgusers_gives() {
        for function in super::super::privileges::LARGE_OBJECT_MAKERS {
            assert!(LARGE_OBJECT_GRANT.contains(function), "{function}");
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
            "writer_elsewhere",
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
