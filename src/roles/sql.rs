//! Building the statements PostgreSQL takes without bind parameters.
//!
//! `CREATE ROLE`, `ALTER ROLE` and `GRANT` accept no `$1`: names are quoted
//! with PostgreSQL's own identifier rules and passwords travel only as SCRAM
//! verifiers, so no plaintext reaches the server, its log or its statistics.

use postgres_protocol::escape::{escape_identifier, escape_literal};

use crate::domain::Password;

/// A quoted identifier, safe for any name.
pub(crate) fn ident(name: &str) -> String {
    escape_identifier(name)
}

/// The `PASSWORD '…'` clause for a password: a SCRAM-SHA-256 verifier with a
/// fresh salt, computed here.
pub(crate) fn password_clause(password: &Password) -> String {
    let verifier = postgres_protocol::password::scram_sha_256(password.expose().as_bytes());
    format!("PASSWORD {}", escape_literal(&verifier))
}

/// What a read-write user gets on tables (and views) it does not own: to
/// read and change their rows, nothing that runs or attaches code (see
/// [`code_privileges`]).
pub(crate) const WRITER_TABLE_PRIVILEGES: [&str; 5] =
    ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"];

/// What a read-write user gets on sequences it does not own (all there is:
/// none runs code).
pub(crate) const WRITER_SEQUENCE_PRIVILEGES: [&str; 3] = ["USAGE", "SELECT", "UPDATE"];

/// The table privileges a user pgusers made never holds on objects it does
/// not own, on PostgreSQL `version_num`: each lets it run code with the
/// owner's rights, or attach code PostgreSQL runs as whoever changes the
/// table.
/// - TRIGGER: its trigger on another role's table runs as whoever writes
///   that table (the application, a superuser).
/// - REFERENCES: the foreign key's check runs as the referenced table's
///   owner, and calls any implicit cast from the user's own column type
///   (`CREATE CAST … AS IMPLICIT` on a type it made): the user's function,
///   run as that owner. (Cascading actions run as the referencing table's
///   owner, the user itself: no gain there.)
/// - MAINTAIN (17+): `VACUUM`, `ANALYZE`, `REFRESH MATERIALIZED VIEW` and
///   `REINDEX` run the table's expressions as its owner, when the user
///   chooses.
pub(crate) fn code_privileges(version_num: i32) -> &'static [&'static str] {
    if version_num >= 170_000 {
        &["TRIGGER", "REFERENCES", "MAINTAIN"]
    } else {
        &["TRIGGER", "REFERENCES"]
    }
}

/// The default user's grants from the product guide, for `user` on
/// `database`, but for what runs code ([`code_privileges`]): on the
/// database, schema `public`, and the tables and sequences `protected`
/// makes there from now on. Those there now: [`OnExisting::writer`].
pub(crate) fn read_write_grants(user: &str, database: &str, protected: &str) -> String {
    let (user, database, protected) = (ident(user), ident(database), ident(protected));
    let tables = WRITER_TABLE_PRIVILEGES.join(", ");
    let sequences = WRITER_SEQUENCE_PRIVILEGES.join(", ");
    format!(
        "GRANT CREATE ON SCHEMA public TO {user};
         GRANT ALL PRIVILEGES ON DATABASE {database} TO {user};
         ALTER DEFAULT PRIVILEGES FOR USER {protected} IN SCHEMA public GRANT {tables} ON TABLES TO {user};
         ALTER DEFAULT PRIVILEGES FOR USER {protected} IN SCHEMA public GRANT {sequences} ON SEQUENCES TO {user};"
    )
}

/// Privileges for a role on the tables and sequences in `public` now.
pub(crate) struct OnExisting {
    pub(crate) grantee: String,
    tables: String,
    sequences: String,
}

impl OnExisting {
    /// A read-write user's ([`WRITER_TABLE_PRIVILEGES`]).
    pub(crate) fn writer(user: &str) -> Self {
        Self {
            grantee: user.to_owned(),
            tables: WRITER_TABLE_PRIVILEGES.join(", "),
            sequences: WRITER_SEQUENCE_PRIVILEGES.join(", "),
        }
    }

    /// The readers group's: reading.
    pub(crate) fn readers(group: &str) -> Self {
        Self {
            grantee: group.to_owned(),
            tables: "SELECT".to_owned(),
            sequences: "SELECT".to_owned(),
        }
    }

    /// On all of them, in two statements.
    pub(crate) fn on_all(&self) -> String {
        let grantee = ident(&self.grantee);
        format!(
            "GRANT {} ON ALL TABLES IN SCHEMA public TO {grantee};
             GRANT {} ON ALL SEQUENCES IN SCHEMA public TO {grantee};",
            self.tables, self.sequences
        )
    }

    /// On one, named as `regclass` text; `sequence` says which kind.
    pub(crate) fn on_one(&self, name: &str, sequence: bool) -> String {
        let (kind, privileges) = if sequence {
            ("SEQUENCE", &self.sequences)
        } else {
            ("TABLE", &self.tables)
        };
        format!(
            "GRANT {privileges} ON {kind} {name} TO {};",
            ident(&self.grantee)
        )
    }
}

/// Puts pgusers' mark on `users` (quoted, comma-separated): membership of
/// the `mark` role, which gives nothing (on 16+ not even its privileges or
/// `SET ROLE`; before, the role is kept holding nothing, see
/// [`super::upgrade`]).
pub(crate) fn mark(mark: &str, users: &str, version_num: i32) -> String {
    let options = if version_num >= 160_000 {
        " WITH INHERIT FALSE, SET FALSE"
    } else {
        ""
    };
    format!("GRANT {} TO {users}{options};", ident(mark))
}

/// Lets `readers` read what `creator` will create in `public` from now on.
pub(crate) fn readers_follow(creator: &str, readers: &str) -> String {
    let (creator, readers) = (ident(creator), ident(readers));
    format!(
        "ALTER DEFAULT PRIVILEGES FOR ROLE {creator} IN SCHEMA public GRANT SELECT ON TABLES TO {readers};
         ALTER DEFAULT PRIVILEGES FOR ROLE {creator} IN SCHEMA public GRANT SELECT ON SEQUENCES TO {readers};"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_so_names_cannot_inject_sql() {
        assert_eq!(ident("my_user"), "\"my_user\"");
        assert_eq!(ident("a\"; DROP ROLE x; --"), "\"a\"\"; DROP ROLE x; --\"");
    }

    #[test]
    fn the_password_clause_carries_a_verifier_not_the_password() {
        let password = Password::parse("a-very-secret-password-of-30ch").unwrap();
        let clause = password_clause(&password);
        assert!(clause.starts_with("PASSWORD 'SCRAM-SHA-256$4096:"));
        assert!(!clause.contains("very-secret"));
    }
}
