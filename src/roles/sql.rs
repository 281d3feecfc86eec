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

/// The default user's grants from the product guide, for `user` on `database`.
/// `protected` is the role whose future tables and sequences `user` gets.
pub(crate) fn read_write_grants(user: &str, database: &str, protected: &str) -> String {
    let (user, database, protected) = (ident(user), ident(database), ident(protected));
    format!(
        "GRANT CREATE ON SCHEMA public TO {user};
         GRANT ALL PRIVILEGES ON DATABASE {database} TO {user};
         GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO {user};
         GRANT ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public TO {user};
         ALTER DEFAULT PRIVILEGES FOR USER {protected} IN SCHEMA public GRANT ALL ON TABLES TO {user};
         ALTER DEFAULT PRIVILEGES FOR USER {protected} IN SCHEMA public GRANT ALL ON SEQUENCES TO {user};"
    )
}

/// Lets `readers` read what `creator` will create in `public` from now on.
pub(crate) fn readers_follow(creator: &str, readers: &str) -> String {
    let (creator, readers) = (ident(creator), ident(readers));
    format!(
        "ALTER DEFAULT PRIVILEGES FOR ROLE {creator} IN SCHEMA public GRANT SELECT ON TABLES TO {readers};
         ALTER DEFAULT PRIVILEGES FOR ROLE {creator} IN SCHEMA public GRANT SELECT ON SEQUENCES TO {readers};"
    )
}

/// Lets `readers` read every table and sequence in `public` now.
pub(crate) fn readers_read_existing(readers: &str) -> String {
    let readers = ident(readers);
    format!(
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {readers};
         GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {readers};"
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
