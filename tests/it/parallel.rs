//! Changes of different users go on at once: each takes the lock of its
//! user's lowercased name, and the shared lock only to change what users
//! share when another change does the same at once.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use pgusers::domain::{LimitsChange, NewPassword, RoleName, Username};
use pgusers::roles::{Access, RoleError};

use crate::helpers::{ident, literal, password, test_db, test_db_alone, unique_name, username};

/// A new name whose name lock is `taken`'s, or not.
fn name_by_lock(shared: &str, taken: &str, same: bool) -> Username {
    let held = pgusers::roles::name_lock_role(shared, taken);
    loop {
        let name = username(if same { "beside" } else { "apart" });
        if (pgusers::roles::name_lock_role(shared, name.as_str()) == held) == same {
            return name;
        }
    }
}

/// A superuser's session holding the lock of role `lock` (one of
/// pgusers' lock roles) in an open transaction, as a change running long
/// would, until it commits or is dropped.
async fn hold_lock(db: &crate::helpers::TestDb, lock: &str) -> tokio_postgres::Client {
    let holder = db.admin().await;
    holder
        .batch_execute(&format!("BEGIN; COMMENT ON ROLE {} IS 'held'", ident(lock)))
        .await
        .unwrap();
    holder
}

#[tokio::test]
async fn a_held_name_lock_holds_up_the_changes_of_its_names_only() {
    // Timed: on a cluster of its own.
    let (_cluster, db) = test_db_alone().await;
    let shared = db.shared_lock_role().await;
    let held = username("held");
    db.roles
        .create(&held, NewPassword::Generate, Access::ReadWrite)
        .await
        .expect("created");
    let held_lock = pgusers::roles::name_lock_role(&shared, held.as_str());
    // A superuser's open transaction holds the name lock of `held`, as a
    // change of it running long would.
    let holder = hold_lock(&db, &held_lock).await;
    let target = RoleName::from(held.clone());
    // A new name whose lowercased name has the same name lock.
    let beside = name_by_lock(&shared, held.as_str(), true);
    let ended = |result| (result, Instant::now());
    let waiting_reset = async { ended(db.roles.reset_password(&target).await.map(|_| ())) };
    let waiting_beside = async {
        ended(
            db.roles
                .create(&beside, NewPassword::Generate, Access::ReadOnly)
                .await
                .map(|_| ()),
        )
    };
    // Another user, under another name lock: every change goes through
    // meanwhile; then the lock is let go.
    let others = async {
        let other = name_by_lock(&shared, held.as_str(), false);
        let started = Instant::now();
        db.roles
            .create(&other, NewPassword::Generate, Access::ReadWrite)
            .await
            .expect("created");
        let other_role = RoleName::from(other.clone());
        db.roles.reset_password(&other_role).await.expect("reset");
        db.roles
            .set_limits(&other_role, &LimitsChange::default())
            .await
            .expect("limits set");
        db.roles.delete(&other_role).await.expect("deleted");
        let took = started.elapsed();
        // Long enough for the held user's changes to have gone through
        // were they not waiting.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let let_go = Instant::now();
        holder.batch_execute("ROLLBACK").await.unwrap();
        (took, let_go)
    };

    let ((reset, reset_at), (made_beside, beside_at), (took, let_go)) =
        tokio::join!(waiting_reset, waiting_beside, others);

    assert!(
        took < Duration::from_secs(5),
        "another user's changes waited {took:?}"
    );
    assert!(
        reset_at > let_go && beside_at > let_go,
        "the held user's reset and a create under its name lock wait for it: \
         {reset:?} {made_beside:?}"
    );
    reset.expect("the reset goes on once the lock is let go");
    made_beside.expect("so does the create");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_and_deletes_at_once_on_a_new_database_all_go_through_and_case_twins_meet() {
    let db = test_db().await;
    // Nothing is made in the database yet: the first creates all find the
    // groups to make and the tables to share, at once.
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute("CREATE TABLE orders (v int); CREATE SEQUENCE order_numbers;")
        .await
        .unwrap();
    let names: Vec<Username> = (0..20).map(|_| username("many")).collect();
    let twins: Vec<(Username, Username)> = (0..4)
        .map(|_| {
            let lower = unique_name("twin");
            (
                Username::parse(&lower).unwrap(),
                Username::parse(&lower.to_uppercase()).unwrap(),
            )
        })
        .collect();
    let secrets: Vec<_> = names.iter().map(|_| password()).collect();
    let access = |i: usize| {
        if i.is_multiple_of(2) {
            Access::ReadWrite
        } else {
            Access::ReadOnly
        }
    };

    let creates = names
        .iter()
        .zip(&secrets)
        .enumerate()
        .map(|(i, (name, secret))| {
            db.roles
                .create(name, NewPassword::Chosen(secret.clone()), access(i))
        });
    let twin_creates = twins
        .iter()
        .flat_map(|(lower, upper)| [lower, upper])
        .map(|name| {
            db.roles
                .create(name, NewPassword::Generate, Access::ReadOnly)
        });
    let (created, twins_created) = tokio::join!(join_all(creates), join_all(twin_creates));

    for (name, created) in names.iter().zip(&created) {
        assert!(created.is_ok(), "{name}: {created:?}");
    }
    for (pair, made) in twins.iter().zip(twins_created.chunks(2)) {
        let taken = made
            .iter()
            .filter(|made| {
                matches!(made, Err(RoleError::AlreadyExists(name))
                    if name.eq_ignore_ascii_case(pair.0.as_str()))
            })
            .count();
        assert_eq!(
            (made.iter().filter(|made| made.is_ok()).count(), taken),
            (1, 1),
            "{pair:?}: {made:?}"
        );
    }
    // Each user has what its kind gives, on what was there before.
    for (i, (name, secret)) in names.iter().zip(&secrets).enumerate() {
        let client = db.connect_as(name.as_str(), secret.expose()).await.unwrap();
        let wrote = client
            .batch_execute("INSERT INTO orders VALUES (1); SELECT nextval('order_numbers')")
            .await;
        assert_eq!(
            wrote.is_ok(),
            access(i) == Access::ReadWrite,
            "{name}: {wrote:?}"
        );
        client
            .batch_execute("SELECT count(*) FROM orders")
            .await
            .expect("every user reads");
        if access(i) == Access::ReadWrite {
            client
                .batch_execute(&format!("CREATE TABLE {} (v int)", ident(name.as_str())))
                .await
                .unwrap();
        }
    }

    let deletes = names
        .iter()
        .map(|name| RoleName::from(name.clone()))
        .collect::<Vec<_>>();
    let deleted = join_all(deletes.iter().map(|name| db.roles.delete(name))).await;

    for (name, deleted) in names.iter().zip(&deleted) {
        assert!(deleted.is_ok(), "{name}: {deleted:?}");
        assert!(!db.role_exists(name.as_str()).await, "{name} is gone");
    }
    for (i, name) in names.iter().enumerate() {
        if access(i) == Access::ReadWrite {
            assert_eq!(db.table_owner(name.as_str()).await, db.protected);
        }
    }
}

#[tokio::test]
async fn a_create_that_loses_its_name_under_the_lock_never_sends_its_verifier() {
    // A create passes the first look at its name, then waits for the name
    // lock, which a change holds while the same name is made: under the
    // lock it must find the name taken before it sends its role, whose
    // failing statement PostgreSQL would log whole, verifier included
    // (only a superuser may turn that off).
    let db = test_db().await;
    // A first change makes the lock roles.
    db.create_user("racefirst", Access::ReadOnly).await;
    let shared = db.shared_lock_role().await;
    let name = username("racer");
    let lock = pgusers::roles::name_lock_role(&shared, name.as_str());
    let holder = hold_lock(&db, &lock).await;
    let race = async {
        // Once the create waits for the lock: the name made, the lock let
        // go. (A role's lock is the server's: the waiter must be in this
        // test's database, not another test's change meeting the same
        // lock, which would let the name be made before the create's
        // first look and prove nothing.)
        db.until_waiting_for(&format!(
            "classid = 'pg_authid'::regclass
             AND objid = (SELECT oid FROM pg_roles WHERE rolname = {})
             AND pid IN (SELECT pid FROM pg_stat_activity
                          WHERE datname = current_database())",
            literal(&lock)
        ))
        .await;
        holder
            .batch_execute(&format!(
                "CREATE ROLE {} NOLOGIN; COMMIT",
                ident(name.as_str())
            ))
            .await
            .unwrap();
    };
    let (made, ()) = tokio::join!(
        db.roles
            .create(&name, NewPassword::Chosen(password()), Access::ReadWrite),
        race
    );
    assert!(
        matches!(&made, Err(RoleError::AlreadyExists(taken)) if taken == name.as_str()),
        "{made:?}"
    );
    let logged: Vec<String> = crate::helpers::cluster()
        .log()
        .lines()
        .filter(|line| line.contains(name.as_str()) && line.contains("SCRAM-SHA-256$"))
        .map(str::to_owned)
        .collect();
    assert!(logged.is_empty(), "{logged:?}");
    holder
        .batch_execute(&format!("DROP ROLE {}", ident(name.as_str())))
        .await
        .unwrap();
}
