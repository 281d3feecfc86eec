//! Properties over generated inputs, against the real server: what the
//! username, password and search rules accept behaves as the guide says.

use std::collections::BTreeSet;

use pgusers::domain::{NewPassword, Password, RoleName, Search, Username};
use pgusers::roles::{Access, Listing, RoleError, Window};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::helpers::{TestDb, test_db};

/// A runner for properties whose every case talks to PostgreSQL: fewer
/// cases than proptest's default 256, and no file of past failures (a
/// failing case is printed, shrunk, in the test's output).
fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Runs `check` on the current thread's runtime from inside a property.
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

/// The roles on `db`'s server whose name is `name` in any case.
async fn twins_of(db: &TestDb, name: &str) -> BTreeSet<String> {
    db.admin()
        .await
        .query(
            "SELECT rolname::text FROM pg_roles WHERE lower(rolname) = lower($1)",
            &[&name],
        )
        .await
        .expect("the catalog")
        .into_iter()
        .map(|row| row.get(0))
        .collect()
}

/// The names the role module lists for `db`.
async fn listed_names(db: &TestDb) -> BTreeSet<String> {
    db.roles
        .list()
        .await
        .expect("the list")
        .into_iter()
        .map(|user| user.username)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_string_accepted_as_a_username_creates_exactly_that_role_and_lists_back() {
    let db = test_db().await;
    // Mostly valid names, in every case and length, with some that are
    // not: those must be refused without reaching the server.
    let names = prop_oneof![
        4 => "[A-Za-z][A-Za-z0-9_]{5,31}",
        1 => "[A-Za-z0-9_ ]{0,40}",
    ];
    runner(48)
        .run(&names, |typed| {
            let Ok(name) = Username::parse(&typed) else {
                return Ok(());
            };
            block_on(async {
                // Other tests make and drop roles on the same server
                // meanwhile: only this name's case twins are compared.
                let before = twins_of(&db, &typed).await;
                let made = db
                    .roles
                    .create(
                        &name,
                        NewPassword::Chosen(Password::generate()),
                        Access::ReadOnly,
                    )
                    .await;
                let after = twins_of(&db, &typed).await;
                if before.is_empty() {
                    prop_assert!(made.is_ok(), "{typed:?}: {made:?}");
                    prop_assert_eq!(&after, &BTreeSet::from([typed.clone()]));
                    let found = db
                        .roles
                        .find(&RoleName::parse(&typed).expect("a role name"))
                        .await
                        .expect("found by its exact name");
                    prop_assert_eq!(&found.username, &typed);
                    prop_assert!(found.read_only);
                    prop_assert!(listed_names(&db).await.contains(&typed));
                } else {
                    // A name some role has, in any case, is refused, and
                    // nothing changes.
                    prop_assert!(matches!(made, Err(RoleError::AlreadyExists(_))), "{made:?}");
                    prop_assert_eq!(&after, &before);
                }
                Ok::<(), TestCaseError>(())
            })
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_password_accepted_lets_its_user_log_in_with_exactly_that_password() {
    let db = test_db().await;
    let (name, _) = db.create_user("pw", Access::ReadWrite).await;
    let role = RoleName::parse(name.as_str()).unwrap();
    // Any printable text, beyond ASCII too: the SCRAM verifier computed in
    // Rust must agree with the server's own SASLprep of what is typed.
    let passwords = prop_oneof![
        2 => "[!-&(-~]{24,64}",
        1 => "[^'\"\\p{Cc}]{24,64}",
    ];
    runner(40)
        .run(&passwords, |typed| {
            let Ok(chosen) = Password::parse(&typed) else {
                return Ok(());
            };
            block_on(async {
                db.roles
                    .set_password(&role, &chosen)
                    .await
                    .map_err(|e| TestCaseError::fail(format!("{e}")))?;
                let login = db.connect_as(name.as_str(), &typed).await;
                prop_assert!(login.is_ok(), "{typed:?} does not log in: {login:?}");
                // libpq, as psql and most drivers, prepares the password
                // with its own SASLprep, not the Rust one that made the
                // verifier.
                let psql = db.psql_as(name.as_str(), &typed, "SELECT 1");
                prop_assert!(
                    psql.is_ok(),
                    "{typed:?} does not log in with psql: {psql:?}"
                );
                let wrong = format!("{typed}x");
                prop_assert!(db.connect_as(name.as_str(), &wrong).await.is_err());
                Ok::<(), TestCaseError>(())
            })
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_lists_exactly_the_users_whose_name_contains_it_whatever_its_case() {
    let db = test_db().await;
    // Other tests make and drop roles on the same server meanwhile, and
    // this database lists them too (as other databases' users): the
    // search must find exactly these of this test's own, and nobody who
    // does not match.
    let mut ours = BTreeSet::from([db.protected.clone()]);
    for prefix in ["Alpha", "alpha_2", "beta", "BETA_x", "g_a_m_m_a", "delta9"] {
        ours.insert(
            db.create_user(prefix, Access::ReadWrite)
                .await
                .0
                .to_string(),
        );
    }
    // Parts of the names with their case changed at random, and text with
    // the characters a LIKE pattern or a regex would treat specially, and
    // a few beyond ASCII.
    let names: Vec<String> = ours.iter().cloned().collect();
    let parts = (
        proptest::sample::select(names),
        any::<proptest::sample::Index>(),
        1..8usize,
        any::<u64>(),
    )
        .prop_map(|(name, start, len, flips)| {
            let start = start.index(name.len());
            name[start..(start + len).min(name.len())]
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if flips >> (i % 64) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect::<String>()
        });
    let searches = prop_oneof![
        3 => parts,
        1 => "[aAbBgGlLpPhH_%\\\\.*0-9\\x00é€ ]{0,6}",
    ];
    runner(64)
        .run(&searches, |typed| {
            let search = Search::parse(&typed);
            let matches = |name: &String| {
                search.as_ref().is_none_or(|search| {
                    name.to_lowercase()
                        .contains(&search.as_str().to_lowercase())
                })
            };
            let expected: BTreeSet<String> = ours.iter().filter(|n| matches(n)).cloned().collect();
            block_on(async {
                let listing = Listing {
                    search: search.as_ref(),
                    window: Window::All,
                    ..Listing::everyone()
                };
                let found: BTreeSet<String> = db
                    .roles
                    .list_page(&listing)
                    .await
                    .map_err(|e| TestCaseError::fail(format!("{typed:?}: {e}")))?
                    .users
                    .into_iter()
                    .map(|user| user.username)
                    .collect();
                let wrong: Vec<&String> = found.iter().filter(|n| !matches(n)).collect();
                prop_assert!(wrong.is_empty(), "search {typed:?} found {wrong:?}");
                let found_ours: BTreeSet<String> = found.intersection(&ours).cloned().collect();
                prop_assert_eq!(found_ours, expected, "search {:?}", typed);
                Ok::<(), TestCaseError>(())
            })
        })
        .unwrap();
}
