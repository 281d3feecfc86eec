//! Provisioning a new database the way the product guide describes: a
//! database and its protected default user, with the guide's grants.

use rand::RngExt;
use rand::seq::IndexedRandom;
use tokio_postgres::Config;

use super::{RoleError, sql};
use crate::domain::{Password, Username};
use sql::ident;

/// Creates database `name` owned by a new login role `name` (the protected
/// default user), with `password`, and grants it the guide's privileges.
///
/// `server` is an administrator's connection to any database of the server.
pub async fn provision_database(
    server: &Config,
    name: &Username,
    password: &Password,
) -> Result<(), RoleError> {
    let user = name.as_str();
    let fail = |e| RoleError::from_postgres(e, user);
    let admin = crate::db::connect(server).await.map_err(fail)?;
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN {password}",
            role = ident(user),
            password = sql::password_clause(password)
        ))
        .await
        .map_err(fail)?;
    // CREATE DATABASE cannot run inside a transaction block: its own statement.
    admin
        .batch_execute(&format!("CREATE DATABASE {0} OWNER {0}", ident(user)))
        .await
        .map_err(fail)?;
    let mut in_database = server.clone();
    in_database.dbname(user);
    let client = crate::db::connect(&in_database).await.map_err(fail)?;
    client
        .batch_execute(&sql::read_write_grants(user, user, user))
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
