//! Rights through group roles (issue 28): every read-write user is a member
//! of the database's writers group, every read-only user of its readers
//! group, so what the protected user or any read-write user makes, in any
//! schema, is at once written by every read-write user and the protected
//! user and read by every read-only user, with no ACL that grows with the
//! number of users. Checked by logging in as the users.

use pgusers::domain::{NewPassword, RoleName};
use pgusers::roles::{Access, Finding, Restriction, RoleError};
use tokio_postgres::Client;

use crate::helpers::{
    AdminKind, TestDb, admin_kind, ident, password, sqlstate, test_db, unique_name, username,
};

const INSUFFICIENT_PRIVILEGE: &str = "42501";

/// The read-write group of `db` (test databases have short names).
fn writers_of(db: &TestDb) -> String {
    format!("pgusers-writers-{}", db.name)
}

/// The read-only group of `db`.
fn readers_of(db: &TestDb) -> String {
    format!("pgusers-readonly-{}", db.name)
}

/// `who`, logged in as `client`, inserts a row into `table` (its `id` from
/// its serial default, so through `nextval`), reads it back, changes it and
/// deletes it.
async fn writes_and_reads(client: &Client, table: &str, who: &str) {
    let id: i32 = client
        .query_one(
            &format!("INSERT INTO {table} (v) VALUES (1) RETURNING id"),
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("{who} inserts into {table}: {e:?}"))
        .get(0);
    let read: i32 = client
        .query_one(&format!("SELECT v FROM {table} WHERE id = $1"), &[&id])
        .await
        .unwrap_or_else(|e| panic!("{who} reads {table}: {e:?}"))
        .get(0);
    assert_eq!(read, 1, "{who} reads back the row it inserted into {table}");
    let updated = client
        .execute(&format!("UPDATE {table} SET v = 2 WHERE id = $1"), &[&id])
        .await
        .unwrap_or_else(|e| panic!("{who} updates {table}: {e:?}"));
    assert_eq!(updated, 1, "{who} updates its row of {table}");
    let deleted = client
        .execute(&format!("DELETE FROM {table} WHERE id = $1"), &[&id])
        .await
        .unwrap_or_else(|e| panic!("{who} deletes from {table}: {e:?}"));
    assert_eq!(deleted, 1, "{who} deletes its row of {table}");
}

/// `who`, logged in as `client`, reads `table` and may not insert into it.
async fn reads_only(client: &Client, table: &str, who: &str) {
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap_or_else(|e| panic!("{who} reads {table}: {e:?}"));
    assert_eq!(
        sqlstate(
            client
                .batch_execute(&format!("INSERT INTO {table} (v) VALUES (1)"))
                .await
        ),
        INSUFFICIENT_PRIVILEGE,
        "{who} may not insert into {table}"
    );
}

/// The doctor's problems about this database and these users. On the
/// shared cluster the doctor lists every login role of the server, and
/// other tests' roles (a role made without a password, say) are problems
/// that are not this test's: findings about a role are kept only when the
/// role is the protected user or one of `users`; every other problem is.
async fn problems_here(db: &TestDb, users: &[&str]) -> Vec<Finding> {
    const ABOUT_A_ROLE: [&str; 4] = ["md5", "no-password", "expired", "not-manageable"];
    db.roles
        .check_access()
        .await
        .expect("the doctor runs")
        .into_iter()
        .filter(Finding::is_problem)
        .filter(|finding| match finding.key.split_once(':') {
            Some((kind, role)) if ABOUT_A_ROLE.contains(&kind) => {
                role == db.protected || users.contains(&role)
            }
            _ => true,
        })
        .collect()
}

#[tokio::test]
async fn the_issue_scenario_every_writer_and_the_protected_user_write_a_table_migrator_made() {
    let db = test_db().await;
    let (app_writer, app_secret) = db.create_user("appw", Access::ReadWrite).await;
    let (migrator, migrator_secret) = db.create_user("migr", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("rord", Access::ReadOnly).await;
    db.run_as(
        &migrator,
        &migrator_secret,
        "CREATE TABLE orders (id serial PRIMARY KEY, v int)",
    )
    .await;
    let as_app = db.logged_in(&app_writer, &app_secret).await;
    let as_protected = db.connect_as_protected().await;
    let as_reader = db.logged_in(&reader, &reader_secret).await;

    writes_and_reads(&as_app, "orders", "the other read-write user").await;
    writes_and_reads(&as_protected, "orders", "the protected user").await;
    reads_only(&as_reader, "orders", "the read-only user").await;
    as_app
        .batch_execute(
            "CREATE FUNCTION appw_f() RETURNS trigger LANGUAGE plpgsql
               AS $$BEGIN RETURN NEW; END$$",
        )
        .await
        .expect("a read-write user makes a function in public");
    assert_eq!(
        sqlstate(
            as_app
                .batch_execute(
                    "CREATE TRIGGER appw_t BEFORE INSERT ON orders
                       FOR EACH ROW EXECUTE FUNCTION appw_f()"
                )
                .await
        ),
        INSUFFICIENT_PRIVILEGE,
        "a user who does not own the table may not put a trigger on it"
    );
    as_app
        .batch_execute("INSERT INTO orders (v) VALUES (5); TRUNCATE orders")
        .await
        .expect("the other read-write user truncates the migrator's table");
    let left: i64 = db
        .logged_in(&migrator, &migrator_secret)
        .await
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the truncate emptied the table");
    let version = db.version_num().await;
    let admin = db.admin().await;
    for user in [app_writer.as_str(), db.protected.as_str(), reader.as_str()] {
        let mut withheld = vec!["TRIGGER", "REFERENCES"];
        if version >= 170_000 {
            withheld.push("MAINTAIN");
        }
        for privilege in withheld {
            let held: bool = admin
                .query_one(
                    "SELECT has_table_privilege($1::name, 'public.orders', $2::text)",
                    &[&user, &privilege],
                )
                .await
                .unwrap()
                .get(0);
            assert!(!held, "{user} holds no {privilege} on the migrator's table");
        }
    }
    let problems = problems_here(
        &db,
        &[app_writer.as_str(), migrator.as_str(), reader.as_str()],
    )
    .await;
    assert!(
        problems.is_empty(),
        "the doctor finds no problem: {problems:#?}"
    );
}

#[tokio::test]
async fn a_schema_the_protected_user_makes_after_the_users_is_used_by_every_user() {
    let db = test_db().await;
    let (writer, writer_secret) = db.create_user("rwsa", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("rosa", Access::ReadOnly).await;

    db.connect_as_protected()
        .await
        .batch_execute("CREATE SCHEMA sales; CREATE TABLE sales.deals (id serial, v int)")
        .await
        .expect("the protected user makes a schema and a table in it");

    let as_writer = db.logged_in(&writer, &writer_secret).await;
    writes_and_reads(&as_writer, "sales.deals", "the read-write user").await;
    let as_reader = db.logged_in(&reader, &reader_secret).await;
    reads_only(&as_reader, "sales.deals", "the read-only user").await;
    assert_eq!(
        sqlstate(
            as_writer
                .batch_execute("CREATE TABLE sales.x (v int)")
                .await
        ),
        INSUFFICIENT_PRIVILEGE,
        "a read-write user may not create in the protected user's schema"
    );
    let problems = problems_here(&db, &[writer.as_str(), reader.as_str()]).await;
    assert!(
        problems.is_empty(),
        "the doctor finds no problem: {problems:#?}"
    );
}

#[tokio::test]
async fn a_schema_a_writer_makes_is_used_by_everyone_and_created_in_by_its_owner_only() {
    let db = test_db().await;
    let (migrator, migrator_secret) = db.create_user("migr", Access::ReadWrite).await;
    let (other, other_secret) = db.create_user("appw", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("rord", Access::ReadOnly).await;

    db.run_as(
        &migrator,
        &migrator_secret,
        "CREATE SCHEMA billing; CREATE TABLE billing.invoices (id serial, v int)",
    )
    .await;

    let as_other = db.logged_in(&other, &other_secret).await;
    writes_and_reads(&as_other, "billing.invoices", "the other read-write user").await;
    writes_and_reads(
        &db.connect_as_protected().await,
        "billing.invoices",
        "the protected user",
    )
    .await;
    let as_reader = db.logged_in(&reader, &reader_secret).await;
    reads_only(&as_reader, "billing.invoices", "the read-only user").await;
    assert_eq!(
        sqlstate(
            as_other
                .batch_execute("CREATE TABLE billing.x (v int)")
                .await
        ),
        INSUFFICIENT_PRIVILEGE,
        "a read-write user may not create in another read-write user's schema"
    );
    db.run_as(
        &migrator,
        &migrator_secret,
        "CREATE TABLE billing.more (v int)",
    )
    .await;
    let problems = problems_here(&db, &[migrator.as_str(), other.as_str(), reader.as_str()]).await;
    assert!(
        problems.is_empty(),
        "the doctor finds no problem: {problems:#?}"
    );
}

/// The sizes of the ACLs that would grow if pgusers granted to each user:
/// a name for each, and its number of entries (0 for a default ACL).
async fn acl_sizes(db: &TestDb) -> Vec<(&'static str, i32)> {
    let row = db
        .admin()
        .await
        .query_one(
            "SELECT
               (SELECT coalesce(cardinality(relacl), 0) FROM pg_class
                 WHERE oid = 'public.t'::regclass),
               (SELECT coalesce(cardinality(relacl), 0) FROM pg_class
                 WHERE oid = 'public.t_id_seq'::regclass),
               (SELECT coalesce(cardinality(relacl), 0) FROM pg_class
                 WHERE oid = 'public.w'::regclass),
               (SELECT coalesce(cardinality(relacl), 0) FROM pg_class
                 WHERE oid = 's2.u'::regclass),
               (SELECT coalesce(cardinality(nspacl), 0) FROM pg_namespace
                 WHERE nspname = 'public'),
               (SELECT coalesce(cardinality(nspacl), 0) FROM pg_namespace
                 WHERE nspname = 's2'),
               (SELECT coalesce(cardinality(datacl), 0) FROM pg_database
                 WHERE datname = current_database()),
               (SELECT coalesce(sum(cardinality(defaclacl)), 0)::int FROM pg_default_acl
                 WHERE defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1)),
               (SELECT coalesce(max(cardinality(defaclacl)), 0) FROM pg_default_acl)",
            &[&db.protected.as_str()],
        )
        .await
        .expect("the ACLs are read");
    [
        "table public.t",
        "sequence public.t_id_seq",
        "table public.w (a read-write user's)",
        "table s2.u",
        "schema public",
        "schema s2",
        "the database",
        "the protected user's default privileges (all rows)",
        "the largest default ACL of the database (any role's)",
    ]
    .into_iter()
    .enumerate()
    .map(|(i, name)| (name, row.get::<_, i32>(i)))
    .collect()
}

#[tokio::test]
async fn no_acl_grows_with_the_number_of_users() {
    let db = test_db().await;
    db.connect_as_protected()
        .await
        .batch_execute(
            "CREATE TABLE t (id serial);
             CREATE SCHEMA s2; CREATE TABLE s2.u (v int);",
        )
        .await
        .expect("the protected user makes its tables and schema");
    let mut first = Vec::new();
    for _ in 0..3 {
        first.push(db.create_user("rwn", Access::ReadWrite).await);
        db.create_user("ron", Access::ReadOnly).await;
    }
    let (maker, maker_secret) = &first[0];
    db.run_as(maker, maker_secret, "CREATE TABLE w (id serial)")
        .await;
    let with_three = acl_sizes(&db).await;

    for _ in 0..3 {
        db.create_user("rwm", Access::ReadWrite).await;
        db.create_user("rom", Access::ReadOnly).await;
    }
    let with_six = acl_sizes(&db).await;

    assert_eq!(
        with_six, with_three,
        "no ACL has more entries with 6 users of each kind than with 3"
    );
}

#[tokio::test]
async fn memberships_inherit_and_on_16_never_set() {
    let db = test_db().await;
    let (writer, writer_secret) = db.create_user("rwms", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("roms", Access::ReadOnly).await;
    let (writers, readers) = (writers_of(&db), readers_of(&db));
    let version = db.version_num().await;
    let admin = db.admin().await;
    // inherit_option and set_option exist from 16 on; before, a member
    // inherits when the member role has INHERIT (rolinherit).
    let options = if version >= 160_000 {
        "bool_or(m.inherit_option), bool_or(m.set_option)"
    } else {
        "bool_or(u.rolinherit), NULL::bool"
    };
    let membership = |user: String, group: String| {
        let (admin, options) = (&admin, options);
        async move {
            let row = admin
                .query_one(
                    &format!(
                        "SELECT count(*), {options}
                           FROM pg_auth_members m
                           JOIN pg_roles u ON u.oid = m.member
                           JOIN pg_roles g ON g.oid = m.roleid
                          WHERE u.rolname = $1 AND g.rolname = $2"
                    ),
                    &[&user, &group],
                )
                .await
                .unwrap();
            (
                row.get::<_, i64>(0),
                row.get::<_, Option<bool>>(1),
                row.get::<_, Option<bool>>(2),
            )
        }
    };

    for (user, group) in [(&writer, &writers), (&reader, &readers)] {
        let (rows, inherits, sets) = membership(user.to_string(), group.clone()).await;
        assert!(rows >= 1, "{user} is a member of {group}");
        assert_eq!(inherits, Some(true), "{user} inherits {group}'s rights");
        if version >= 160_000 {
            assert_eq!(sets, Some(false), "{user} may not SET ROLE to {group}");
        }
    }
    let (reader_in_writers, _, _) = membership(reader.to_string(), writers.clone()).await;
    assert_eq!(
        reader_in_writers, 0,
        "a read-only user is no member of the writers group"
    );
    if version >= 160_000 {
        for (user, secret, group) in [
            (&writer, &writer_secret, &writers),
            (&reader, &reader_secret, &readers),
        ] {
            let client = db.logged_in(user, secret).await;
            assert_eq!(
                sqlstate(
                    client
                        .batch_execute(&format!("SET ROLE {}", ident(group)))
                        .await
                ),
                INSUFFICIENT_PRIVILEGE,
                "{user} cannot act as {group}, so what it makes is its own"
            );
        }
    }
    // Before 16 a membership has no SET option: any member may SET ROLE
    // to its group, so there is nothing to assert about it there.
}

#[tokio::test]
async fn deleting_a_writer_loses_nothing_and_its_tables_stay_shared() {
    let db = test_db().await;
    let (migrator, migrator_secret) = db.create_user("migr", Access::ReadWrite).await;
    let (other, other_secret) = db.create_user("appw", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("rord", Access::ReadOnly).await;
    db.run_as(
        &migrator,
        &migrator_secret,
        "CREATE TABLE kept (id serial, v int); INSERT INTO kept (v) VALUES (7);",
    )
    .await;

    db.roles
        .delete(&RoleName::from(migrator.clone()))
        .await
        .expect("the read-write user is deleted");

    assert!(
        !db.role_exists(migrator.as_str()).await,
        "the role is dropped"
    );
    assert_eq!(
        db.table_owner("kept").await,
        db.protected,
        "the protected user owns the deleted user's table"
    );
    let values: Vec<i32> = db
        .connect_as_protected()
        .await
        .query("SELECT v FROM kept", &[])
        .await
        .expect("the protected user reads the table")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(values, [7], "the table keeps its row");
    let as_other = db.logged_in(&other, &other_secret).await;
    writes_and_reads(&as_other, "kept", "the other read-write user").await;
    let as_reader = db.logged_in(&reader, &reader_secret).await;
    reads_only(&as_reader, "kept", "the read-only user").await;
    let read: Vec<i32> = as_reader
        .query("SELECT v FROM kept", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(read, [7], "the read-only user reads the deleted user's row");
    let problems = problems_here(&db, &[other.as_str(), reader.as_str()]).await;
    assert!(
        problems.is_empty(),
        "the doctor finds no problem: {problems:#?}"
    );
}

#[tokio::test]
async fn a_member_of_another_databases_writers_group_is_that_databases_user() {
    let db = test_db().await;
    let elsewhere = test_db().await;
    let writers = writers_of(&db);
    let (writer, _) = db.create_user("rwel", Access::ReadWrite).await;
    // A role made by hand, granted nothing but the writers group.
    let by_hand = unique_name("wgmb");
    elsewhere
        .make_role_as_admin(&by_hand, &password(), "")
        .await;
    db.admin()
        .await
        .batch_execute(&format!("GRANT {} TO {}", ident(&writers), ident(&by_hand)))
        .await
        .expect("the superuser grants the writers group");

    let is_member: bool = db
        .admin()
        .await
        .query_one(
            "SELECT EXISTS (SELECT FROM pg_auth_members m
                              JOIN pg_roles u ON u.oid = m.member
                              JOIN pg_roles g ON g.oid = m.roleid
                             WHERE u.rolname = $1 AND g.rolname = $2)",
            &[&writer.as_str(), &writers],
        )
        .await
        .unwrap()
        .get(0);
    assert!(is_member, "pgusers made {writer} a member of {writers}");
    for user in [writer.as_str(), by_hand.as_str()] {
        let listed = elsewhere.listed(user).await;
        assert_eq!(
            listed.not_manageable,
            Some(Restriction::WriterElsewhere(writers.clone())),
            "{user} is listed in the other database as {}'s read-write user",
            db.name
        );
        assert!(!listed.manageable(), "{user}");
        let target = RoleName::parse(user).unwrap();
        match elsewhere.roles.delete(&target).await {
            Err(RoleError::NotManageable {
                user: refused,
                reason,
            }) => {
                assert_eq!(refused, user);
                assert_eq!(reason, Restriction::WriterElsewhere(writers.clone()));
            }
            other => panic!("{user}: expected NotManageable, got {other:?}"),
        }
        assert!(elsewhere.role_exists(user).await, "{user} was not deleted");
    }
    assert!(
        db.listed(writer.as_str()).await.manageable(),
        "in its own database the read-write user is an ordinary user"
    );
}

#[tokio::test]
async fn a_view_of_a_predefined_roles_member_is_never_given_but_a_security_invoker_one_is() {
    let db = test_db().await;
    // The owner has pg_read_all_data's rights through a role between them:
    // its view reads every table. The protected user is in pg_monitor,
    // which gives a view nothing: its view stays shared. A materialized
    // view's query runs as its owner: one of a pg_monitor member may have
    // kept what only that owner reads (every session's query).
    let (owner, between) = (unique_name("pdm_owner"), unique_name("pdm_between"));
    let monitor = unique_name("pdm_monitor");
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {between} NOLOGIN; GRANT pg_read_all_data TO {between}; \
             CREATE ROLE {owner} NOLOGIN; GRANT {between} TO {owner}; \
             CREATE VIEW public.reads_all AS SELECT 1 AS v; \
             ALTER VIEW public.reads_all OWNER TO {owner}; \
             GRANT pg_monitor TO {protected}; \
             CREATE VIEW public.monitored AS SELECT 1 AS v; \
             ALTER VIEW public.monitored OWNER TO {protected}; \
             CREATE ROLE {monitor} NOLOGIN; GRANT pg_monitor TO {monitor}; \
             CREATE MATERIALIZED VIEW public.monitor_kept AS SELECT 1 AS v; \
             ALTER MATERIALIZED VIEW public.monitor_kept OWNER TO {monitor};",
            protected = ident(&db.protected)
        ))
        .await
        .unwrap();
    let (writer, _) = db.create_user("pdmrw", Access::ReadWrite).await;
    let (reader, _) = db.create_user("pdmro", Access::ReadOnly).await;
    for user in [writer.as_str(), reader.as_str()] {
        let listed = db.listed(user).await;
        assert!(listed.manageable(), "{user} stays manageable: {listed:?}");
    }
    let admin = db.admin().await;
    let reads = async |group: &str, view: &str| -> bool {
        admin
            .query_one(
                "SELECT has_table_privilege($1::name, $2::text, 'SELECT')",
                &[&group, &view],
            )
            .await
            .unwrap()
            .get(0)
    };
    for group in [writers_of(&db), readers_of(&db)] {
        assert!(!reads(&group, "public.reads_all").await, "{group}");
        assert!(!reads(&group, "public.monitor_kept").await, "{group}");
        assert!(reads(&group, "public.monitored").await, "{group}");
    }
    let problems = problems_here(&db, &[writer.as_str(), reader.as_str()]).await;
    assert!(
        !problems
            .iter()
            .any(|f| f.key.contains("reads_all") || f.key.contains("monitor_kept")),
        "the doctor offers no SQL that would make every user unmanageable: {problems:#?}"
    );

    // A view that checks its reader's rights (15+) gives nothing beyond
    // them, whoever owns it: a superuser's is shared like a table of a role
    // pgusers does not manage, given to the group of the next create's user
    // when pgusers' role may give it (a superuser), else that create names
    // it.
    if db.version_num().await < 150_000 {
        return;
    }
    // (One with a rule beyond its SELECT is not: the rule is checked as
    // its owner.)
    admin
        .batch_execute(
            "CREATE VIEW public.invoker_view WITH (security_invoker = on) AS SELECT 1 AS v; \
             CREATE VIEW public.invoker_ruled WITH (security_invoker = on) AS SELECT 1 AS v; \
             CREATE RULE ruled AS ON INSERT TO public.invoker_ruled DO INSTEAD NOTHING",
        )
        .await
        .unwrap();
    let next = username("pdmrw2");
    let made = db
        .roles
        .create(&next, NewPassword::Chosen(password()), Access::ReadWrite)
        .await;
    match (admin_kind(), made) {
        (AdminKind::Superuser, Ok(_)) => {
            let writers = writers_of(&db);
            assert!(reads(&writers, "public.invoker_view").await, "{writers}");
            assert!(!reads(&writers, "public.invoker_ruled").await, "{writers}");
        }
        (AdminKind::CreateRole, Err(RoleError::MissingPrivilege { needs, .. })) => {
            assert!(needs.contains("invoker_view"), "{needs}");
            assert!(!needs.contains("invoker_ruled"), "{needs}");
        }
        (kind, other) => panic!("{kind:?}: {other:?}"),
    }
}

#[tokio::test]
async fn a_view_of_a_superuser_is_never_given_to_the_groups_so_their_members_stay_manageable() {
    let db = test_db().await;
    // A view reads with its owner's rights: one of a superuser's, granted
    // to a group, would make every member more than an application user.
    db.admin()
        .await
        .batch_execute(
            "CREATE VIEW public.super_view AS SELECT rolname FROM pg_authid;
             CREATE MATERIALIZED VIEW public.super_matview AS SELECT 1 AS v;",
        )
        .await
        .unwrap();
    let (writer, _) = db.create_user("svrw", Access::ReadWrite).await;
    let (reader, _) = db.create_user("svro", Access::ReadOnly).await;

    for user in [writer.as_str(), reader.as_str()] {
        let listed = db.listed(user).await;
        assert!(listed.manageable(), "{user} stays manageable: {listed:?}");
    }
    let admin = db.admin().await;
    for group in [writers_of(&db), readers_of(&db)] {
        for view in ["public.super_view", "public.super_matview"] {
            let reads: bool = admin
                .query_one(
                    "SELECT has_table_privilege($1::name, $2::text, 'SELECT')",
                    &[&group, &view],
                )
                .await
                .unwrap()
                .get(0);
            assert!(!reads, "{group} is not given {view}");
        }
    }
    let problems = problems_here(&db, &[writer.as_str(), reader.as_str()]).await;
    assert!(
        !problems
            .iter()
            .any(|f| f.key.contains("super_view") || f.key.contains("super_matview")),
        "the doctor offers no SQL that would make every user unmanageable: {problems:#?}"
    );
    // Nor default privileges of the superuser that made them, which would
    // give the groups its next view.
    let superuser: String = admin
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    let for_it = format!("FOR ROLE {}", ident(&superuser));
    for finding in &problems {
        let sql = finding.fix_sql.as_deref().unwrap_or_default();
        assert!(!sql.contains(&for_it), "{finding:#?}");
    }
}

/// The relations the read-write group of `db` lacks its share of
/// (`sql/relation_gaps.sql`), reading what may have changed since `since`
/// (a 64-bit transaction id), or everything.
async fn writers_gaps_since(admin: &Client, db: &TestDb, since: Option<i64>) -> Vec<String> {
    let tables: Vec<String> = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"]
        .map(String::from)
        .to_vec();
    let sequences: Vec<String> = ["USAGE", "SELECT", "UPDATE"].map(String::from).to_vec();
    admin
        .query(
            &crate::helpers::query_text("relation_gaps"),
            &[
                &db.protected.as_str(),
                &writers_of(db),
                &tables,
                &sequences,
                &false,
                &since.map(|id| id.to_string()),
            ],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
async fn a_look_for_the_groups_gaps_since_a_floor_reads_what_may_have_changed_after_it() {
    // On a cluster of its own: no other test's transaction holds the
    // floor back for long.
    let (_cluster, db) = crate::helpers::test_db_alone().await;
    let (writer, writer_secret) = db.create_user("gapw", Access::ReadWrite).await;
    let writers = ident(&writers_of(&db));
    let as_writer = db.logged_in(&writer, &writer_secret).await;
    as_writer
        .batch_execute(&format!(
            "CREATE TABLE early (v int); REVOKE INSERT ON early FROM {writers};
             CREATE VIEW early_view AS SELECT 1 AS v; REVOKE INSERT ON early_view FROM {writers};"
        ))
        .await
        .unwrap();
    let admin = db.admin().await;
    // Schemas of roles pgusers does not manage: not application schemas,
    // their tables no gaps.
    admin
        .batch_execute(
            "CREATE ROLE gap_outsider NOLOGIN;
             CREATE SCHEMA aside AUTHORIZATION gap_outsider;
             CREATE TABLE aside.kept (v int);
             ALTER TABLE aside.kept OWNER TO gap_outsider;
             CREATE ROLE gap_joiner NOLOGIN;
             CREATE SCHEMA joined AUTHORIZATION gap_joiner;
             CREATE TABLE joined.kept (v int);
             ALTER TABLE joined.kept OWNER TO gap_joiner;",
        )
        .await
        .unwrap();
    // Any id after every transaction above will do as a floor (a look
    // takes the oldest one still running when it begins).
    let floor = crate::helpers::floor_now(&as_writer).await;
    as_writer
        .batch_execute(&format!(
            "CREATE TABLE late (v int); REVOKE INSERT ON late FROM {writers};"
        ))
        .await
        .unwrap();
    let has = |gaps: &[String], table: &str| gaps.iter().any(|gap| gap == table);
    crate::helpers::until_floor_passed(&admin, floor).await;

    let all = writers_gaps_since(&admin, &db, None).await;
    for table in ["early", "early_view", "late"] {
        assert!(has(&all, table), "{table}: {all:?}");
    }
    assert!(
        !has(&all, "aside.kept") && !has(&all, "joined.kept"),
        "{all:?}"
    );
    let since = writers_gaps_since(&admin, &db, Some(floor)).await;
    assert_eq!(
        since,
        ["early_view", "late"],
        "what was written after the floor, and every view (its owner's privileges \
         change without a row of its own)"
    );
    for far in crate::helpers::floors_read_whole(floor) {
        let gaps = writers_gaps_since(&admin, &db, Some(far)).await;
        assert!(
            has(&gaps, "early") && has(&gaps, "late"),
            "since {far}: {gaps:?}"
        );
    }

    // A schema that became an application schema, by its row (a new
    // owner) or by its owner becoming a user pgusers made (a membership
    // of the mark role): its relations, however old, are looked at.
    admin
        .batch_execute(&format!(
            "ALTER SCHEMA aside OWNER TO {}",
            ident(db.protected.as_str())
        ))
        .await
        .unwrap();
    let since = writers_gaps_since(&admin, &db, Some(floor)).await;
    assert!(
        has(&since, "aside.kept") && !has(&since, "joined.kept"),
        "{since:?}"
    );
    admin
        .batch_execute(&format!(
            "GRANT {} TO gap_joiner",
            ident(&format!("pgusers-users-{}", db.name))
        ))
        .await
        .unwrap();
    let since = writers_gaps_since(&admin, &db, Some(floor)).await;
    assert!(
        has(&since, "joined.kept") && !has(&since, "early"),
        "{since:?}"
    );
}

#[tokio::test]
async fn what_a_group_loses_after_a_create_looked_is_given_back_by_the_next_create() {
    let db = test_db().await;
    let (first, first_secret) = db.create_user("gfirst", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("gfread", Access::ReadOnly).await;
    // Each kind's looks found nothing: recorded, the next reads only what
    // changed since.
    let recorded = |name: &str| {
        db.roles
            .looks_recorded()
            .into_iter()
            .find(|(look, _, _)| look == name)
            .map(|(_, key, floor)| (key, floor.parse::<i64>().expect("a transaction id")))
    };
    let (writers_key, writers_floor) = recorded("Gaps(Writers)").expect("the writers' look");
    assert!(recorded("Gaps(Readers)").is_some() && recorded("ReadersStrays").is_some());
    let as_protected = db.connect_as_protected().await;
    as_protected
        .batch_execute(&format!(
            "CREATE TABLE lost (id serial PRIMARY KEY, v int);
             REVOKE INSERT ON lost FROM {};
             REVOKE SELECT ON lost FROM {};",
            ident(&writers_of(&db)),
            ident(&readers_of(&db))
        ))
        .await
        .unwrap();
    let as_first = db.logged_in(&first, &first_secret).await;
    assert_eq!(
        sqlstate(
            as_first
                .batch_execute("INSERT INTO lost (v) VALUES (1)")
                .await
        ),
        INSUFFICIENT_PRIVILEGE
    );

    db.create_user("gsecond", Access::ReadWrite).await;
    assert_eq!(
        recorded("Gaps(Writers)"),
        Some((writers_key.clone(), writers_floor)),
        "a look that found a gap records nothing"
    );
    writes_and_reads(
        &as_first,
        "lost",
        "a read-write user, once the next writer was made",
    )
    .await;
    let as_reader = db.logged_in(&reader, &reader_secret).await;
    assert_eq!(
        sqlstate(as_reader.batch_execute("SELECT * FROM lost").await),
        INSUFFICIENT_PRIVILEGE,
        "a writer's create gives back only the read-write group's share"
    );
    db.create_user("gsecread", Access::ReadOnly).await;
    reads_only(
        &as_reader,
        "lost",
        "a read-only user, once the next reader was made",
    )
    .await;

    // The next writer's look finds none: a later floor, the same key.
    let (third, _) = db.create_user("gthird", Access::ReadWrite).await;
    let (key, floor) = recorded("Gaps(Writers)").expect("the writers' look");
    assert!(key == writers_key && floor > writers_floor, "{key} {floor}");
    // A create refused (its name taken) records nothing.
    let again = db
        .roles
        .create(&third, NewPassword::Generate, Access::ReadWrite)
        .await;
    assert!(
        matches!(again, Err(RoleError::AlreadyExists(_))),
        "{again:?}"
    );
    assert_eq!(recorded("Gaps(Writers)"), Some((key, floor)));
}
