use pgusers::domain::NewPassword;
use pgusers::roles::{Access, RoleManager};

use crate::helpers::{ident, sqlstate, test_db, test_db_alone, unique_name, username};

const INSUFFICIENT_PRIVILEGE: &str = "42501";

#[tokio::test]
async fn a_read_only_user_reads_old_tables_and_tables_created_later_by_the_protected_and_read_write_users()
 {
    let db = test_db().await;
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute("CREATE TABLE before_ro (v int); INSERT INTO before_ro VALUES (1);")
        .await
        .unwrap();
    let (writer_before, writer_before_password) = db.create_user("rwa", Access::ReadWrite).await;

    let (reader, reader_password) = db.create_user("ro", Access::ReadOnly).await;

    let (writer_after, writer_after_password) = db.create_user("rwb", Access::ReadWrite).await;
    protected
        .batch_execute("CREATE TABLE by_protected (v int); INSERT INTO by_protected VALUES (2);")
        .await
        .unwrap();
    for (writer, secret, table) in [
        (&writer_before, &writer_before_password, "by_writer_before"),
        (&writer_after, &writer_after_password, "by_writer_after"),
    ] {
        let client = db.logged_in(writer, secret).await;
        client
            .batch_execute(&format!(
                "CREATE TABLE {table} (id serial, v int); INSERT INTO {table} (v) VALUES (3);"
            ))
            .await
            .unwrap();
    }

    let client = db.logged_in(&reader, &reader_password).await;
    for table in [
        "before_ro",
        "by_protected",
        "by_writer_before",
        "by_writer_after",
    ] {
        let rows = client.query(&format!("SELECT v FROM {table}"), &[]).await;
        assert_eq!(
            rows.map(|r| r.len()).unwrap_or(0),
            1,
            "the read-only user reads {table}"
        );
    }
}

#[tokio::test]
async fn a_read_only_user_cannot_write_or_create() {
    let db = test_db().await;
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute(
            "CREATE TABLE data (id serial PRIMARY KEY, v int); INSERT INTO data (v) VALUES (1);",
        )
        .await
        .unwrap();
    let (reader, secret) = db.create_user("ro", Access::ReadOnly).await;

    let client = db.logged_in(&reader, &secret).await;

    for statement in [
        "INSERT INTO data (v) VALUES (2)",
        "UPDATE data SET v = 3",
        "DELETE FROM data",
        "TRUNCATE data",
        "CREATE TABLE mine (v int)",
        "CREATE SCHEMA mine",
        "SELECT nextval('data_id_seq')",
    ] {
        assert_eq!(
            sqlstate(client.batch_execute(statement).await),
            INSUFFICIENT_PRIVILEGE,
            "{statement} must be refused"
        );
    }
    let count: i64 = client
        .query_one("SELECT count(*) FROM data", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1, "nothing changed");
}

#[tokio::test]
async fn read_only_is_stored_in_the_database_and_seen_by_a_new_manager() {
    let db = test_db().await;
    let reader = username("ro");
    let writer = username("rw");
    db.roles
        .create(&reader, NewPassword::Generate, Access::ReadOnly)
        .await
        .unwrap();
    db.roles
        .create(&writer, NewPassword::Generate, Access::ReadWrite)
        .await
        .unwrap();

    let fresh = RoleManager::new(db.roles_config(), 1, None);
    let users = fresh.list().await.unwrap();

    let find = |name: &str| {
        users
            .iter()
            .find(|u| u.username == name)
            .expect("listed")
            .read_only
    };
    assert!(find(reader.as_str()));
    assert!(!find(writer.as_str()));
}

#[tokio::test]
async fn a_reader_that_was_also_granted_a_write_is_not_shown_as_read_only() {
    let db = test_db().await;
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute("CREATE TABLE notes (v int)")
        .await
        .unwrap();
    let (plain, _) = db.create_user("plain_ro", Access::ReadOnly).await;
    let (plus, secret) = db.create_user("plus_ro", Access::ReadOnly).await;
    protected
        .batch_execute(&format!("GRANT INSERT ON notes TO {plus}"))
        .await
        .unwrap();

    assert!(db.listed(plain.as_str()).await.read_only);
    assert!(
        !db.listed(plus.as_str()).await.read_only,
        "it can write, so it is not shown as read-only"
    );
    db.run_as(&plus, &secret, "INSERT INTO notes VALUES (1)")
        .await;
}

#[tokio::test]
async fn a_read_only_group_given_more_than_reading_is_not_shown_read_only_and_the_next_reader_takes_it_back()
 {
    let db = test_db().await;
    let (writer, writer_secret) = db.create_user("rw", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("ro", Access::ReadOnly).await;
    let readers = ident(&format!("pgusers-readonly-{}", db.name));
    let as_writer = db.logged_in(&writer, &writer_secret).await;
    // The writer shares its table for writing with every read-only user,
    // and its own rights: before PostgreSQL 15 a role may grant itself to
    // the group; later, someone acting for it (here pgusers' own role).
    as_writer
        .batch_execute(&format!(
            "CREATE TABLE notes (v int); GRANT INSERT ON notes TO {readers};
             CREATE TABLE marks (v int); INSERT INTO marks VALUES (1);
             GRANT SELECT ON marks TO {readers}; GRANT UPDATE (v) ON marks TO {readers};
             CREATE SCHEMA scratch; GRANT USAGE, CREATE ON SCHEMA scratch TO {readers};
             ALTER DEFAULT PRIVILEGES GRANT INSERT ON TABLES TO {readers};
             ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT UPDATE ON SEQUENCES TO {readers};"
        ))
        .await
        .unwrap();
    let membership = format!("GRANT {} TO {readers}", ident(writer.as_str()));
    if as_writer.batch_execute(&membership).await.is_err() {
        db.as_admin_in_use()
            .await
            .batch_execute(&membership)
            .await
            .unwrap();
    }

    let shown_before = db.listed(reader.as_str()).await.read_only;
    db.create_user("ro2", Access::ReadOnly).await;
    let shown_after = db.listed(reader.as_str()).await.read_only;

    assert!(
        !shown_before,
        "a reader that can write is not shown read-only"
    );
    assert!(shown_after);
    let as_reader = db.logged_in(&reader, &reader_secret).await;
    assert_eq!(
        sqlstate(
            as_reader
                .batch_execute("INSERT INTO public.notes VALUES (1)")
                .await
        ),
        "42501"
    );
    assert_eq!(
        sqlstate(as_reader.batch_execute("DROP TABLE public.notes").await),
        INSUFFICIENT_PRIVILEGE
    );
    assert_eq!(
        sqlstate(
            as_reader
                .batch_execute("UPDATE public.marks SET v = 2")
                .await
        ),
        INSUFFICIENT_PRIVILEGE,
        "a column's write is taken back too"
    );
    assert_eq!(
        sqlstate(
            as_reader
                .batch_execute("CREATE TABLE scratch.mine (v int)")
                .await
        ),
        INSUFFICIENT_PRIVILEGE,
        "and CREATE on another schema"
    );
    as_writer
        .batch_execute("CREATE TABLE later (id serial, v int)")
        .await
        .unwrap();
    assert_eq!(
        sqlstate(
            as_reader
                .batch_execute("INSERT INTO public.later (v) VALUES (1)")
                .await
        ),
        INSUFFICIENT_PRIVILEGE,
        "default privileges given to the group are taken back: what the writer makes later \
         is not written"
    );
    assert_eq!(
        sqlstate(
            as_reader
                .batch_execute("SELECT setval('public.later_id_seq', 5)")
                .await
        ),
        INSUFFICIENT_PRIVILEGE,
        "nor its sequence set"
    );
    assert_eq!(
        as_reader
            .query_one("SELECT count(*) FROM public.notes", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        0,
        "it still reads"
    );
}

#[tokio::test]
async fn what_was_given_the_read_only_group_in_a_transaction_open_during_a_readers_create_is_taken_back_by_the_next()
 {
    let db = test_db().await;
    let (writer, writer_secret) = db.create_user("rw", Access::ReadWrite).await;
    db.create_user("ro", Access::ReadOnly).await;
    let readers = ident(&format!("pgusers-readonly-{}", db.name));
    let as_writer = db.logged_in(&writer, &writer_secret).await;
    // Begun before the next reader's create looks at what the group holds,
    // committed after: that look cannot see it; the one after it must,
    // though it reads only what changed since the last look.
    as_writer
        .batch_execute(&format!(
            "BEGIN; ALTER DEFAULT PRIVILEGES GRANT INSERT ON TABLES TO {readers};"
        ))
        .await
        .unwrap();
    db.create_user("ro_meanwhile", Access::ReadOnly).await;
    as_writer.batch_execute("COMMIT").await.unwrap();

    let (reader, reader_secret) = db.create_user("ro_after", Access::ReadOnly).await;

    as_writer
        .batch_execute("CREATE TABLE later (v int)")
        .await
        .unwrap();
    let as_reader = db.logged_in(&reader, &reader_secret).await;
    assert_eq!(
        sqlstate(
            as_reader
                .batch_execute("INSERT INTO public.later VALUES (1)")
                .await
        ),
        INSUFFICIENT_PRIVILEGE
    );
}

/// The statements `sql/readers_strays.sql` names for `group`, reading the
/// rows written since `since` (a 64-bit transaction id), or every row.
async fn strays_since(
    client: &tokio_postgres::Client,
    group: &str,
    since: Option<i64>,
) -> Vec<String> {
    client
        .query(
            &crate::helpers::query_text("readers_strays"),
            &[&group, &since.map(|id| id.to_string())],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
async fn a_look_at_the_readers_group_since_a_floor_reads_what_came_after_it_or_everything_when_it_is_far_or_ahead()
 {
    // On a cluster of its own: no other test's transaction holds the
    // floor back.
    let (_cluster, db) = test_db_alone().await;
    let (writer, writer_secret) = db.create_user("rw", Access::ReadWrite).await;
    db.create_user("ro", Access::ReadOnly).await;
    let group = format!("pgusers-readonly-{}", db.name);
    let as_writer = db.logged_in(&writer, &writer_secret).await;
    as_writer
        .batch_execute(&format!(
            "CREATE TABLE early (v int); GRANT INSERT ON early TO {};",
            ident(&group)
        ))
        .await
        .unwrap();
    // Any id after every transaction above will do as a floor (a look
    // takes the oldest one still running when it begins).
    let floor = crate::helpers::floor_now(&as_writer).await;
    as_writer
        .batch_execute(&format!(
            "CREATE TABLE late (v int); GRANT UPDATE ON late TO {};",
            ident(&group)
        ))
        .await
        .unwrap();
    let admin = db.admin().await;
    crate::helpers::until_floor_passed(&admin, floor).await;
    let names = |strays: &[String], table: &str| {
        strays.iter().any(|s| s.contains(&format!("{table} FROM")))
    };

    let all = strays_since(&admin, &group, None).await;
    let since = strays_since(&admin, &group, Some(floor)).await;
    assert!(names(&all, "early") && names(&all, "late"), "{all:?}");
    assert!(
        names(&since, "late") && !names(&since, "early"),
        "only what came after the floor: {since:?}"
    );
    for far in crate::helpers::floors_read_whole(floor) {
        let strays = strays_since(&admin, &group, Some(far)).await;
        assert!(
            names(&strays, "early") && names(&strays, "late"),
            "since {far}: {strays:?}"
        );
    }
}

/// The readers group of `db`.
async fn readers_group(db: &crate::helpers::TestDb) -> String {
    db.admin()
        .await
        .query_one(
            "SELECT rolname::text FROM pg_roles
              WHERE rolname = 'pgusers-readonly-' || current_database()",
            &[],
        )
        .await
        .expect("the readers group")
        .get(0)
}

/// Whether a new read-only user (named after `tag`) is still listed as
/// read-only once the administrator ran `given` (`{group}` naming its
/// readers group) and the user could then run `write`.
async fn read_only_once_its_group_was_given(tag: &str, given: &str, write: &str) -> bool {
    let db = test_db().await;
    let (reader, secret) = db.create_user(tag, Access::ReadOnly).await;
    let group = ident(&readers_group(&db).await);
    db.admin()
        .await
        .batch_execute(&given.replace("{group}", &group))
        .await
        .unwrap();
    db.run_as(&reader, &secret, write).await;
    db.listed(reader.as_str()).await.read_only
}

#[tokio::test]
async fn a_reader_whose_group_may_write_a_system_table_is_not_shown_read_only() {
    assert!(
        !read_only_once_its_group_was_given(
            "sysro",
            "GRANT INSERT ON information_schema.sql_features TO {group}",
            "INSERT INTO information_schema.sql_features VALUES ('X', 'x', '', '', 'NO', NULL, NULL)",
        )
        .await
    );
}

#[tokio::test]
async fn a_reader_who_may_write_a_system_table_through_public_is_not_shown_read_only() {
    let db = test_db().await;
    let (reader, secret) = db.create_user("sysrp", Access::ReadOnly).await;
    db.admin()
        .await
        .batch_execute("GRANT INSERT ON information_schema.sql_parts TO PUBLIC")
        .await
        .unwrap();
    db.run_as(
        &reader,
        &secret,
        "INSERT INTO information_schema.sql_parts VALUES ('X', 'x', 'NO', NULL, NULL)",
    )
    .await;
    let listed = db.listed(reader.as_str()).await;
    db.admin()
        .await
        .batch_execute(
            "DELETE FROM information_schema.sql_parts WHERE feature_id = 'X';
             REVOKE INSERT ON information_schema.sql_parts FROM PUBLIC",
        )
        .await
        .unwrap();

    assert!(!listed.read_only, "it writes: {listed:?}");
}

#[tokio::test]
async fn a_reader_whose_group_owns_a_table_is_not_shown_read_only() {
    assert!(
        !read_only_once_its_group_was_given(
            "ownro",
            "CREATE TABLE public.owned_by_readers (v int);
             ALTER TABLE public.owned_by_readers OWNER TO {group}",
            "INSERT INTO public.owned_by_readers VALUES (1)",
        )
        .await
    );
}

#[tokio::test]
async fn a_reader_granted_its_group_twice_by_two_grantors_is_still_read_only() {
    // PostgreSQL 16 and later keep one membership row per grantor; before
    // 16 the second GRANT only says the role is already a member.
    let db = test_db().await;
    let (reader, _) = db.create_user("twice_ro", Access::ReadOnly).await;
    let group = ident(&readers_group(&db).await);
    let grantor = ident(&unique_name("grantor"));
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {grantor} NOLOGIN;
             GRANT {group} TO {grantor} WITH ADMIN OPTION;
             SET ROLE {grantor};
             GRANT {group} TO {reader};
             RESET ROLE;"
        ))
        .await
        .unwrap();
    let rows: i64 = db
        .admin()
        .await
        .query_one(
            "SELECT count(*) FROM pg_auth_members
              WHERE member = $1::text::regrole AND roleid = $2::text::regrole",
            &[&reader.as_str(), &readers_group(&db).await],
        )
        .await
        .unwrap()
        .get(0);
    let expected_rows = if db.version_num().await >= 160000 {
        2
    } else {
        1
    };

    assert_eq!(rows, expected_rows);
    assert!(db.listed(reader.as_str()).await.read_only);
}

#[tokio::test]
async fn a_read_only_user_stores_no_large_object_under_a_superuser_admin_and_is_listed_read_only_either_way()
 {
    let db = test_db().await;
    let (before, before_secret) = db.create_user("lo_before", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("lo_reader", Access::ReadOnly).await;
    let (after, after_secret) = db.create_user("lo_after", Access::ReadWrite).await;
    let client = db.logged_in(&reader, &reader_secret).await;

    let stored = client
        .batch_execute("SELECT lo_from_bytea(0, convert_to(repeat('x', 1048576), 'UTF8'))")
        .await;
    // What PostgreSQL lets any role do for itself, whatever pgusers does.
    client
        .batch_execute("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC")
        .await
        .unwrap();

    match crate::helpers::admin_kind() {
        crate::helpers::AdminKind::Superuser => assert_eq!(sqlstate(stored), "42501"),
        // A CREATEROLE role cannot take it from PUBLIC: docs/how-it-works.md says so.
        crate::helpers::AdminKind::CreateRole => stored.unwrap(),
    }
    assert!(
        db.listed(reader.as_str()).await.read_only,
        "never listed read-write for what PUBLIC lets it do"
    );
    for (user, secret) in [(&before, &before_secret), (&after, &after_secret)] {
        db.logged_in(user, secret)
            .await
            .batch_execute("SELECT lo_from_bytea(0, 'x'::bytea)")
            .await
            .unwrap_or_else(|e| panic!("{user} keeps large objects: {e:?}"));
    }
    db.connect_as_protected()
        .await
        .batch_execute("SELECT lo_from_bytea(0, 'x'::bytea)")
        .await
        .expect("the protected user keeps large objects");
}

#[tokio::test]
async fn default_privileges_on_large_objects_given_to_the_group_keep_only_reading_on_18() {
    let db = test_db().await;
    let (writer, writer_secret) = db.create_user("lorw", Access::ReadWrite).await;
    if db.version_num().await < 180_000 {
        // ALTER DEFAULT PRIVILEGES … ON LARGE OBJECTS is new in 18.
        return;
    }
    let readers = ident(&format!("pgusers-readonly-{}", db.name));
    db.run_as(
        &writer,
        &writer_secret,
        &format!("ALTER DEFAULT PRIVILEGES GRANT SELECT, UPDATE ON LARGE OBJECTS TO {readers}"),
    )
    .await;

    db.create_user("loro", Access::ReadOnly).await;

    let held = |privilege: &'static str| {
        let sql = format!(
            "SELECT count(*) FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a
              WHERE d.defaclobjtype = 'L' AND d.defaclrole = '{writer}'::regrole
                AND a.grantee = '{readers}'::regrole AND a.privilege_type = '{privilege}'"
        );
        let db = &db;
        async move { db.count(&sql).await }
    };
    assert_eq!(
        held("UPDATE").await,
        0,
        "writing large objects is taken back"
    );
    assert_eq!(held("SELECT").await, 1, "reading them is kept");
}
