//! Scale (issue 28), at a size CI runs on every major and admin kind; the
//! full size (10,000 users, 200 tables in 3 schemas) is the `users_page`
//! bench. Rights go to the two groups, so no access-control list grows with
//! the number of users: not a table's, a sequence's, a schema's, the
//! database's, a function's or a default privilege's.

use std::collections::BTreeMap;
use std::time::Instant;

use pgusers::roles::Access;

use crate::helpers::{TestDb, test_db};

/// Tables made before the users: 200, as in the full-size check.
const TABLES: usize = 200;

/// Every access-control list of this database (and the database's own),
/// with how many items each holds; shared with the full-size bench.
const ACL_SIZES: &str = include_str!("../../benches/acl_sizes.sql");

async fn acl_sizes(db: &TestDb) -> BTreeMap<String, i32> {
    db.admin()
        .await
        .query(ACL_SIZES, &[])
        .await
        .expect("the catalog answers")
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

/// Makes `count` users, half of each kind, through the role module, and
/// says how long the slowest create took.
async fn make_users(db: &TestDb, count: usize) -> std::time::Duration {
    let mut slowest = std::time::Duration::ZERO;
    for i in 0..count {
        let access = if i % 2 == 0 {
            Access::ReadWrite
        } else {
            Access::ReadOnly
        };
        let started = Instant::now();
        db.create_user("scal", access).await;
        slowest = slowest.max(started.elapsed());
    }
    slowest
}

#[tokio::test]
async fn no_access_control_list_grows_with_the_number_of_users() {
    let db = test_db().await;
    let (owner, owner_secret) = db.create_user("bill", Access::ReadWrite).await;
    let protected = db.connect_as_protected().await;
    let mut tables = String::from("CREATE SCHEMA sales;");
    for i in 0..TABLES / 2 {
        tables.push_str(&format!(
            "CREATE TABLE public.t{i} (id serial PRIMARY KEY, v int);"
        ));
    }
    for i in 0..TABLES / 4 {
        tables.push_str(&format!(
            "CREATE TABLE sales.t{i} (id serial PRIMARY KEY, v int);"
        ));
    }
    protected
        .batch_execute(&tables)
        .await
        .expect("the protected user makes its tables");
    let mut billing = String::from("CREATE SCHEMA billing;");
    for i in 0..TABLES / 4 {
        billing.push_str(&format!(
            "CREATE TABLE billing.t{i} (id serial PRIMARY KEY, v int);"
        ));
    }
    db.run_as(&owner, &owner_secret, &billing).await;

    make_users(&db, 9).await;
    let with_ten = acl_sizes(&db).await;
    let slowest = make_users(&db, 40).await;
    let with_fifty = acl_sizes(&db).await;
    eprintln!("the slowest of 40 creates took {slowest:?}");

    assert!(
        with_ten.len() > TABLES * 2,
        "every table and sequence has an access-control list: {}",
        with_ten.len()
    );
    assert_eq!(
        with_fifty, with_ten,
        "no access-control list has more items with 50 users than with 10"
    );

    let (writer, writer_secret) = db.create_user("scal", Access::ReadWrite).await;
    protected
        .batch_execute("CREATE TABLE public.after (id serial PRIMARY KEY, v int)")
        .await
        .expect("the protected user still makes tables");
    let as_writer = db.logged_in(&writer, &writer_secret).await;
    for table in ["public.after", "public.t0", "sales.t0", "billing.t0"] {
        as_writer
            .batch_execute(&format!("INSERT INTO {table} (v) VALUES (1)"))
            .await
            .unwrap_or_else(|e| panic!("the last read-write user writes {table}: {e:?}"));
    }
}
