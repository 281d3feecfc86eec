//! Provisioning a new database the way the product guide describes: a
//! database and its protected default user, with the guide's grants.

use super::{RoleError, sql};
use crate::domain::{Password, Username};
use rand::RngExt;
use rand::seq::IndexedRandom;
use sql::ident;

/// Creates `database` owned by a new login role `owner` (the protected
/// default user) with `password`, and grants it the guide's privileges. The
/// guide's database and user share one name; they may differ here.
///
/// `server` is an administrator's connection to another database of the
/// server. When a step fails, what the earlier steps made is dropped again,
/// so a retry starts clean.
pub async fn provision_database(
    server: impl Into<crate::db::Conninfo>,
    database: &str,
    owner: &Username,
    password: &Password,
) -> Result<(), RoleError> {
    let server = server.into();
    let user = owner.as_str();
    let fail = |e| RoleError::from_postgres(e, user);
    let admin = crate::db::connect(&super::admin_config(server.clone()))
        .await
        .map_err(fail)?;
    admin
        .batch_execute(&format!(
            "BEGIN; {unlogged}; CREATE ROLE {role} LOGIN {password}; COMMIT;",
            unlogged = crate::db::UNLOGGED,
            role = ident(user),
            password = sql::password_clause(password)
        ))
        .await
        .map_err(fail)?;
    let mut made = Made {
        role: Some(user),
        database: None,
    };
    // CREATE DATABASE cannot run inside a transaction block: its own statement.
    let created = admin
        .batch_execute(&format!(
            "CREATE DATABASE {} OWNER {}",
            ident(database),
            ident(user)
        ))
        .await
        .map_err(|e| RoleError::from_postgres(e, database));
    if created.is_ok() {
        made.database = Some(database);
    }
    let granted = match created {
        Ok(()) => grant_owner(&server, database, user).await,
        Err(error) => Err(error),
    };
    if granted.is_err() {
        made.undo(&admin).await;
    }
    granted
}

/// What a provisioning made so far, to drop again if a later step fails,
/// and nothing else.
struct Made<'a> {
    role: Option<&'a str>,
    database: Option<&'a str>,
}

impl Made<'_> {
    async fn undo(&self, admin: &tokio_postgres::Client) {
        // One statement each: DROP DATABASE cannot share a query string.
        let database = self.database.map(|d| format!("DROP DATABASE {}", ident(d)));
        let role = self.role.map(|r| format!("DROP ROLE {}", ident(r)));
        for statement in database.into_iter().chain(role) {
            if let Err(error) = admin.batch_execute(&statement).await {
                tracing::warn!(error = %crate::failure::chain(&error), "cleaning up after a failed provisioning failed");
            }
        }
    }
}

/// Lets the new database's owner create in `public` whoever else may: it
/// owns the database (all its privileges), and since PostgreSQL 15 public
/// through `pg_database_owner`; before, public belongs to the bootstrap
/// superuser and PUBLIC may create there only until pgusers' first
/// read-only user closes it. The groups are made at the first user.
async fn grant_owner(
    server: &crate::db::Conninfo,
    database: &str,
    user: &str,
) -> Result<(), RoleError> {
    let fail = |e| RoleError::from_postgres(e, user);
    let in_database = super::admin_config(server.clone()).map_config(|mut config| {
        config.dbname(database);
        config
    });
    let client = crate::db::connect(&in_database).await.map_err(fail)?;
    client
        .batch_execute(&format!("GRANT CREATE ON SCHEMA public TO {}", ident(user)))
        .await
        .map_err(fail)
}

const ADJECTIVES: &[&str] = &[
    "amber", "brave", "calm", "eager", "gentle", "happy", "lucky", "misty", "noble", "quiet",
    "rapid", "silent", "sunny", "swift", "tidy", "vivid",
];
const NOUNS: &[&str] = &[
    "app", "badger", "cedar", "comet", "falcon", "harbor", "maple", "otter", "pine", "river",
    "robin", "stone", "tiger", "willow",
];

/// A random name in the guide's style, such as `quiet_otter_4553`.
pub fn random_default_name() -> Username {
    let mut rng = rand::rng();
    let adjective = ADJECTIVES.choose(&mut rng).unwrap_or(&"my");
    let noun = NOUNS.choose(&mut rng).unwrap_or(&"app");
    let number: u16 = rng.random_range(1000..10000);
    Username::parse(&format!("{adjective}_{noun}_{number}"))
        .expect("word lists and a four-digit number always make a valid username")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_follow_the_username_rules() {
        for _ in 0..100 {
            let name = random_default_name();
            assert!(Username::parse(name.as_str()).is_ok());
        }
    }
}
