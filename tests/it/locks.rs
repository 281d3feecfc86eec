//! No other role can block pgusers' changes: the locks they may take (the
//! advisory keys pgusers used before, its change lock's role) hold nothing
//! up, and a session holding a user's table while it is deleted is named.

use std::time::{Duration, Instant};

use pgusers::domain::{LimitsChange, NewPassword, RoleName};
use pgusers::roles::{Access, RoleError};

use crate::helpers::{
    ident, password, test_db, test_db_alone, unique_name, username, verifier_literal,
};

/// What a role that may connect can try against pgusers' locks: the
/// advisory keys it used (its change key, a user's delete key; whichever
/// another attacker does not hold already), and every lock role of
/// pgusers' (each refused, in a block of its own, then the transaction is
/// kept open).
fn hold_what_it_can(victim: &str) -> String {
    format!(
        "SELECT pg_try_advisory_lock(31638951536456307);
         SELECT pg_try_advisory_lock(x'70677564'::int, hashtext('{victim}'));
         BEGIN;
         SELECT pg_try_advisory_xact_lock(31638951536456307);
         DO $$ DECLARE lock_role text; BEGIN
             FOR lock_role IN SELECT rolname FROM pg_roles
                               WHERE rolname LIKE 'pgusers-lock-%' LOOP
                 BEGIN
                     EXECUTE format('COMMENT ON ROLE %I IS %L', lock_role, 'mine');
                 EXCEPTION WHEN OTHERS THEN NULL;
                 END;
             END LOOP;
         END $$;"
    )
}

/// A login role pgusers did not make, with `attributes` (`CREATEDB`: one
/// it does not manage); its name and password.
async fn outsider(
    db: &crate::helpers::TestDb,
    attributes: &str,
) -> (String, pgusers::domain::Password) {
    let name = unique_name("outsider");
    let secret = password();
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {} LOGIN {attributes} PASSWORD {}",
            ident(&name),
            verifier_literal(&secret)
        ))
        .await
        .unwrap();
    (name, secret)
}

#[tokio::test]
async fn a_reader_another_databases_user_and_an_unmanaged_role_holding_what_they_can_block_nothing()
{
    // Timed: on a cluster of its own.
    let (_cluster, db) = test_db_alone().await;
    let (victim, victim_secret) = db.create_user("victim", Access::ReadWrite).await;
    db.run_as(&victim, &victim_secret, "CREATE TABLE victim_table (v int)")
        .await;
    let (reader, reader_secret) = db.create_user("reader", Access::ReadOnly).await;
    let (outsider, outsider_secret) = outsider(&db, "CREATEDB").await;
    // The reader also holds the victim's table, as a report in a long
    // transaction would.
    let reader_client = db
        .connect_as(reader.as_str(), reader_secret.expose())
        .await
        .unwrap();
    reader_client
        .batch_execute(&hold_what_it_can(victim.as_str()))
        .await
        .unwrap();
    reader_client
        .batch_execute("SELECT count(*) FROM public.victim_table")
        .await
        .unwrap();
    let elsewhere = db
        .connect_to("postgres", &outsider, outsider_secret.expose())
        .await
        .unwrap();
    elsewhere
        .batch_execute(&hold_what_it_can(victim.as_str()))
        .await
        .unwrap();
    let here = db
        .connect_as(&outsider, outsider_secret.expose())
        .await
        .unwrap();
    here.batch_execute(&hold_what_it_can(victim.as_str()))
        .await
        .unwrap();
    let target = RoleName::from(victim.clone());
    let started = Instant::now();

    let created = db
        .roles
        .create(
            &username("newcomer"),
            NewPassword::Generate,
            Access::ReadWrite,
        )
        .await;
    let reset = db.roles.reset_password(&target).await;
    let limited = db.roles.set_limits(&target, &LimitsChange::default()).await;
    let ended = db.roles.end_sessions(&target).await;
    let deleted = db.roles.delete(&target).await;

    assert!(created.is_ok(), "{created:?}");
    reset.expect("the reset goes through");
    assert!(limited.is_ok(), "{limited:?}");
    assert!(ended.is_ok(), "{ended:?}");
    // The reader's session held the table: pgusers may end it (End
    // sessions would), so it did, and the delete went through.
    deleted.expect("the delete ends the reader's session holding the table");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "nothing waited for the locks others hold, but the delete for the table: {:?}",
        started.elapsed()
    );
    assert!(
        reader_client.batch_execute("SELECT 1").await.is_err(),
        "the reader's session was ended"
    );
    assert!(!db.role_exists(victim.as_str()).await);
    assert_eq!(db.table_owner("victim_table").await, db.protected);
    here.batch_execute("SELECT 1")
        .await
        .expect("a session holding nothing of the user's is left alone");
}

#[tokio::test]
async fn the_change_lock_is_a_role_only_pgusers_may_comment_on() {
    let db = test_db().await;
    let (first, _) = db.create_user("first", Access::ReadOnly).await;
    let (reader, reader_secret) = db.create_user("commenter", Access::ReadOnly).await;
    let reader_client = db
        .connect_as(reader.as_str(), reader_secret.expose())
        .await
        .unwrap();

    let shared_lock = db.shared_lock_role().await;
    // The shared lock, and the name lock of the user made first.
    for lock_role in [
        pgusers::roles::name_lock_role(&shared_lock, first.as_str()),
        shared_lock,
    ] {
        let tried = reader_client
            .batch_execute(&format!("COMMENT ON ROLE {} IS 'mine'", ident(&lock_role)))
            .await;

        assert_eq!(crate::helpers::sqlstate(tried), "42501");
        let row = db
            .admin()
            .await
            .query_one(
                "SELECT rolcanlogin, rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication
                    OR rolbypassrls,
                    shobj_description(oid, 'pg_authid'),
                    EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid)
               FROM pg_roles r WHERE rolname = $1",
                &[&lock_role],
            )
            .await
            .unwrap();
        assert!(!row.get::<_, bool>(0), "it cannot log in");
        assert!(!row.get::<_, bool>(1), "it has no powers");
        assert!(
            row.get::<_, String>(2).starts_with("pgusers:"),
            "it says what it is"
        );
        assert!(!row.get::<_, bool>(3), "it belongs to no role");
    }
}

#[tokio::test]
async fn a_session_pgusers_may_not_end_holding_the_user_is_named_and_holds_nothing_else_up() {
    // Timed: on a cluster of its own.
    let (_cluster, db) = test_db_alone().await;
    let (victim, _) = db.create_user("held", Access::ReadWrite).await;
    // No privilege on anything of the user's is needed to hold its role:
    // a grant to it on a table of one's own, in a transaction left open.
    // The protected user's sessions are never pgusers' to end.
    let elsewhere = db.connect_as_protected().await;
    let outsider = db.protected.clone();
    elsewhere
        .batch_execute(&format!(
            "BEGIN; CREATE TEMP TABLE mine (v int); GRANT SELECT ON mine TO {}",
            ident(victim.as_str())
        ))
        .await
        .unwrap();
    let target = RoleName::from(victim.clone());

    let (deleted, created) = tokio::join!(db.roles.delete(&target), async {
        // Once the user is locked out, the delete waits for its role.
        db.until_locked_out(victim.as_str()).await;
        let started = Instant::now();
        let created = db
            .roles
            .create(
                &username("meanwhile"),
                NewPassword::Generate,
                Access::ReadOnly,
            )
            .await;
        (created, started.elapsed())
    });

    match &deleted {
        Err(RoleError::HeldByOthers { sessions, .. }) => {
            assert!(sessions.contains(&outsider), "{sessions}");
        }
        other => panic!("the delete names who holds the user: {other:?}"),
    }
    let (created, took) = created;
    assert!(created.is_ok(), "{created:?}");
    assert!(took < Duration::from_secs(3), "a create waited {took:?}");
    assert_eq!(db.listed(victim.as_str()).await.connection_limit, None);
    elsewhere.batch_execute("ROLLBACK").await.unwrap();
    db.roles
        .delete(&target)
        .await
        .expect("deleted once it let go");
}

#[tokio::test]
async fn a_user_that_took_its_own_rights_to_change_its_table_is_still_deleted() {
    let db = test_db().await;
    let (victim, secret) = db.create_user("stubborn", Access::ReadWrite).await;
    db.run_as(
        &victim,
        &secret,
        &format!(
            "CREATE TABLE kept (v int);
             REVOKE UPDATE, DELETE, TRUNCATE ON kept FROM {user};
             CREATE SCHEMA {user}; CREATE TABLE {user}.hidden (v int);
             REVOKE USAGE ON SCHEMA {user} FROM {user};",
            user = ident(victim.as_str())
        ),
    )
    .await;

    db.roles
        .delete(&RoleName::from(victim.clone()))
        .await
        .expect("deleted");

    assert_eq!(db.table_owner("kept").await, db.protected);
    assert!(!db.role_exists(victim.as_str()).await);
}

#[tokio::test]
async fn a_change_lock_role_another_role_made_first_is_refused_with_the_drop_to_run_where_it_could_be_held()
 {
    let db = test_db().await;
    let shared_lock = db.shared_lock_role().await;
    let name = username("squatted");
    let name_lock = pgusers::roles::name_lock_role(&shared_lock, name.as_str());
    let superuser = db.admin().await;
    let createrole = crate::helpers::admin_kind() == crate::helpers::AdminKind::CreateRole;
    // The test's own master role has lock roles of its own to squat (the
    // shared one, which a new database's first create takes to make its
    // groups, and the name's); a superuser administrator's are every
    // test's, and stay as they are.
    if createrole {
        for role in [&shared_lock, &name_lock] {
            superuser
                .batch_execute(&format!(
                    "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} NOLOGIN",
                    role = ident(role)
                ))
                .await
                .unwrap();
        }
    }
    let held_elsewhere = createrole && db.version_num().await >= 160000;

    // Each refusal names the role to drop; dropped, the next try goes on
    // (the first create in a database takes the shared lock for its
    // upgrade, the name lock always; the upgrade, the shared lock always).
    let mut fixes = std::collections::BTreeSet::new();
    let mut created = Ok(());
    for _ in 0..3 {
        created = db
            .roles
            .create(&name, NewPassword::Generate, Access::ReadOnly)
            .await
            .map(|_| ());
        match &created {
            Err(RoleError::MissingPrivilege { fix, .. }) if held_elsewhere => {
                superuser.batch_execute(fix).await.unwrap();
                fixes.insert(fix.clone());
            }
            _ => break,
        }
    }
    let mut upgraded = Ok(());
    for _ in 0..2 {
        upgraded = db.roles.upgrade().await.map(|_| ());
        match &upgraded {
            Err(RoleError::MissingPrivilege { fix, .. }) if held_elsewhere => {
                superuser.batch_execute(fix).await.unwrap();
                fixes.insert(fix.clone());
            }
            _ => break,
        }
    }

    created.expect("made");
    upgraded.expect("upgraded");
    if held_elsewhere {
        assert_eq!(
            fixes,
            [&name_lock, &shared_lock]
                .map(|role| format!("DROP ROLE {};", ident(role)))
                .into()
        );
    } else {
        // CREATEROLE before 16 may take any role's lock; a superuser's
        // are its own.
        assert!(fixes.is_empty(), "{fixes:?}");
    }
}

#[tokio::test]
async fn another_databases_user_holding_the_user_is_ended_where_pgusers_may_else_named() {
    let db = test_db().await;
    let (victim, _) = db.create_user("held_far", Access::ReadWrite).await;
    let (outsider, outsider_secret) = outsider(&db, "").await;
    let elsewhere = db
        .connect_to("postgres", &outsider, outsider_secret.expose())
        .await
        .unwrap();
    elsewhere
        .batch_execute(&format!(
            "BEGIN; CREATE TEMP TABLE mine (v int); GRANT SELECT ON mine TO {}",
            ident(victim.as_str())
        ))
        .await
        .unwrap();
    let target = RoleName::from(victim.clone());

    let deleted = db.roles.delete(&target).await;

    // The superuser made the outsider: a CREATEROLE administrator on 16+
    // holds no ADMIN OPTION on it, so may not act for it.
    let may_end = matches!(
        crate::helpers::admin_kind(),
        crate::helpers::AdminKind::Superuser
    ) || db.version_num().await < 160_000;
    if may_end {
        deleted.expect("the outsider's session is ended and the delete goes on");
        assert!(elsewhere.batch_execute("SELECT 1").await.is_err());
        assert!(!db.role_exists(victim.as_str()).await);
    } else {
        match &deleted {
            Err(RoleError::HeldByOthers { sessions, .. }) => {
                assert!(sessions.contains(&outsider), "{sessions}");
            }
            other => panic!("the delete names who holds the user: {other:?}"),
        }
        assert_eq!(db.listed(victim.as_str()).await.connection_limit, None);
    }
}

#[tokio::test]
async fn a_backup_holding_the_users_table_is_named_never_ended() {
    let db = test_db().await;
    let (victim, victim_secret) = db.create_user("dumped", Access::ReadWrite).await;
    db.run_as(&victim, &victim_secret, "CREATE TABLE dumped_table (v int)")
        .await;
    // A backup's role reads everything: more than an application user.
    let (backup, backup_secret) = outsider(&db, "IN ROLE pg_read_all_data").await;
    let dump = db
        .connect_as(&backup, backup_secret.expose())
        .await
        .unwrap();
    dump.batch_execute("BEGIN; LOCK TABLE public.dumped_table IN ACCESS SHARE MODE;")
        .await
        .unwrap();

    let deleted = db.roles.delete(&RoleName::from(victim.clone())).await;

    match &deleted {
        Err(RoleError::HeldByOthers { sessions, .. }) => {
            assert!(sessions.contains(&backup), "{sessions}");
        }
        other => panic!("the delete names the backup: {other:?}"),
    }
    dump.batch_execute("SELECT 1")
        .await
        .expect("the backup's session was not ended");
    assert_eq!(db.listed(victim.as_str()).await.connection_limit, None);
    dump.batch_execute("COMMIT").await.unwrap();
}

#[tokio::test]
async fn a_migration_left_open_on_a_table_holds_no_create_up_and_the_doctor_fixes_the_rest() {
    // Timed: on a cluster of its own.
    let (_cluster, db) = test_db_alone().await;
    let migration = db.connect_as_protected().await;
    migration
        .batch_execute("CREATE TABLE orders (v int); CREATE TABLE customers (v int);")
        .await
        .unwrap();
    migration
        .batch_execute("BEGIN; ALTER TABLE orders ADD COLUMN note text;")
        .await
        .unwrap();
    let started = Instant::now();

    let (writer, _) = db.create_user("during", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("during_ro", Access::ReadOnly).await;

    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the creates waited {:?}",
        started.elapsed()
    );
    let holds = |user: &str, table: &str, privilege: &str| {
        format!("SELECT has_table_privilege('{user}', '{table}', '{privilege}')::int::bigint")
    };
    assert_eq!(
        db.count(&holds(writer.as_str(), "customers", "INSERT"))
            .await,
        1
    );
    assert_eq!(
        db.count(&holds(
            &format!("pgusers-readonly-{}", db.name),
            "customers",
            "SELECT"
        ))
        .await,
        1
    );
    migration.batch_execute("COMMIT").await.unwrap();
    // What the open migration held, the doctor finds and its Fix grants.
    let found = db.roles.check_access().await.unwrap();
    let keys: Vec<&str> = found.iter().map(|f| f.key.as_str()).collect();
    assert!(keys.contains(&"unwritable:public.orders"), "{keys:?}");
    assert!(keys.contains(&"unreadable:public.orders"), "{keys:?}");
    for key in ["unwritable:public.orders", "unreadable:public.orders"] {
        db.roles.fix_access(key).await.unwrap().expect("fixed");
    }
    assert_eq!(
        db.count(&holds(writer.as_str(), "orders", "INSERT")).await,
        1
    );
    db.connect_as(reader.as_str(), reader_secret.expose())
        .await
        .unwrap()
        .batch_execute("SELECT * FROM orders")
        .await
        .expect("the reader reads it after the Fix");
}

#[tokio::test]
async fn many_tables_held_at_once_hold_a_create_up_two_seconds_at_most() {
    // Timed: on a cluster of its own.
    let (_cluster, db) = test_db_alone().await;
    let (holder, holder_secret) = db.create_user("holder_of_many", Access::ReadWrite).await;
    let tables: Vec<String> = (1..=8).map(|n| format!("held_{n}")).collect();
    db.run_as(
        &holder,
        &holder_secret,
        &tables
            .iter()
            .map(|t| format!("CREATE TABLE {t} (v int);"))
            .collect::<String>(),
    )
    .await;
    let session = db
        .connect_as(holder.as_str(), holder_secret.expose())
        .await
        .unwrap();
    session.batch_execute("BEGIN").await.unwrap();
    for table in &tables {
        session
            .batch_execute(&format!("ALTER TABLE {table} ADD COLUMN w int"))
            .await
            .unwrap();
    }

    for access in [Access::ReadOnly, Access::ReadWrite] {
        let started = Instant::now();
        db.create_user("meanwhile", access).await;
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{access:?}: {:?}",
            started.elapsed()
        );
    }
    session.batch_execute("ROLLBACK").await.unwrap();
}
