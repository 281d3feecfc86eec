//! pgusers' mark on the users it makes, the upgrade steps, and what a
//! read-write user never holds on objects it does not own: privileges
//! that run or attach code as their owner.

use pgusers::domain::{NewPassword, RoleName, Username};
use pgusers::roles::{Access, RoleError};

use crate::helpers::{TestDb, ident, password, sqlstate, test_db, unique_name};

/// The mark role of `db`: its members are the users pgusers made there.
fn mark_of(db: &TestDb) -> String {
    format!("pgusers-users-{}", db.name)
}

/// The privileges that run code as a table's owner, on this server.
async fn code_privileges(db: &TestDb) -> Vec<&'static str> {
    if db.version_num().await >= 170_000 {
        vec!["TRIGGER", "REFERENCES", "MAINTAIN"]
    } else {
        vec!["TRIGGER", "REFERENCES"]
    }
}

/// Whether `user` carries `db`'s mark, by the catalog.
async fn marked(db: &TestDb, user: &str) -> bool {
    db.count(&format!(
        "SELECT count(*) FROM pg_auth_members
          WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = '{}')
            AND member = (SELECT oid FROM pg_roles WHERE rolname = '{user}')",
        mark_of(db)
    ))
    .await
        == 1
}

/// Whether `user` holds `privilege` on `table`, by PostgreSQL.
async fn holds(db: &TestDb, user: &str, table: &str, privilege: &str) -> bool {
    db.count(&format!(
        "SELECT has_table_privilege('{user}', '{table}', '{privilege}')::int::bigint"
    ))
    .await
        == 1
}

/// Leaves `db` as the pgusers before the mark left it: no mark role, no
/// read-write group, and `writers` granted one by one what that pgusers
/// gave each read-write user (CREATE on the database and on public, every
/// privilege on the protected user's tables, now and by its default
/// privileges in public, as `GRANT ALL` gave them), and the readers
/// following what each makes in public.
async fn as_an_older_pgusers_left_it(db: &TestDb, writers: &[&str]) {
    let mark = ident(&mark_of(db));
    let group = ident(&format!("pgusers-writers-{}", db.name));
    let readers = ident(&format!("pgusers-readonly-{}", db.name));
    let protected = ident(&db.protected);
    let admin = db.admin().await;
    // What the administrator in use granted the group (with a grant option
    // on a schema or a database it does not own) only it may take back.
    db.as_admin_in_use()
        .await
        .batch_execute(&format!(
            "REVOKE ALL ON SCHEMA public FROM {group}; REVOKE ALL ON DATABASE {} FROM {group};",
            ident(&db.name)
        ))
        .await
        .unwrap();
    // Their memberships go with them.
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {mark}; DROP OWNED BY {group}; DROP ROLE {group};"
        ))
        .await
        .unwrap();
    // Before step 3 anyone could make large objects.
    admin
        .batch_execute(
            "GRANT EXECUTE ON FUNCTION lo_create(oid), lo_creat(integer), lo_from_bytea(oid, bytea)
                 TO PUBLIC",
        )
        .await
        .unwrap();
    // What that pgusers granted, it granted as the administrator in use.
    let admin = db.as_admin_in_use().await;
    // Default privileges were set in public only.
    for creator in std::iter::once(protected.clone()).chain(writers.iter().map(|w| ident(w))) {
        admin
            .batch_execute(&format!(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {creator} REVOKE ALL ON TABLES FROM {readers}, {protected};
                 ALTER DEFAULT PRIVILEGES FOR ROLE {creator} REVOKE ALL ON SEQUENCES FROM {readers}, {protected};
                 ALTER DEFAULT PRIVILEGES FOR ROLE {creator} REVOKE ALL ON SCHEMAS FROM {readers}, {protected};
                 ALTER DEFAULT PRIVILEGES FOR ROLE {creator} IN SCHEMA public
                     GRANT SELECT ON TABLES TO {readers};
                 ALTER DEFAULT PRIVILEGES FOR ROLE {creator} IN SCHEMA public
                     GRANT SELECT ON SEQUENCES TO {readers};"
            ))
            .await
            .unwrap();
    }
    for writer in writers {
        let writer = ident(writer);
        admin
            .batch_execute(&format!(
                "GRANT CREATE ON SCHEMA public TO {writer};
                 GRANT ALL PRIVILEGES ON DATABASE {database} TO {writer};
                 GRANT ALL ON ALL TABLES IN SCHEMA public TO {writer};
                 GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {writer};
                 ALTER DEFAULT PRIVILEGES FOR ROLE {protected} IN SCHEMA public
                     GRANT ALL ON TABLES TO {writer};
                 ALTER DEFAULT PRIVILEGES FOR ROLE {protected} IN SCHEMA public
                     GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {writer};",
                database = ident(&db.name)
            ))
            .await
            .unwrap();
    }
}

/// Whether `user` holds anything of its own on `table` (an ACL item naming
/// it), by the catalog.
async fn item_on(db: &TestDb, user: &str, table: &str) -> bool {
    db.count(&format!(
        "SELECT count(*) FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
          WHERE c.oid = '{table}'::regclass AND a.grantee = '{user}'::regrole"
    ))
    .await
        > 0
}

/// The step recorded in `db`'s mark role's comment.
async fn step_recorded(db: &TestDb) -> Option<String> {
    db.admin()
        .await
        .query_one(
            "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1",
            &[&mark_of(db)],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_read_write_user_cannot_attach_code_to_a_table_it_does_not_own() {
    let db = test_db().await;
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute(
            "CREATE TABLE before_it (id int PRIMARY KEY);
             CREATE TABLE denied (secret text);
             CREATE SEQUENCE numbers;",
        )
        .await
        .unwrap();
    let (writer, secret) = db.create_user("no_code", Access::ReadWrite).await;
    protected
        .batch_execute(
            "CREATE TABLE after_it (id int PRIMARY KEY);
             CREATE MATERIALIZED VIEW summary AS SELECT count(*) FROM after_it;",
        )
        .await
        .unwrap();
    let client = db.logged_in(&writer, &secret).await;

    for table in ["before_it", "after_it"] {
        // What it is given to do: read and change the rows.
        client
            .batch_execute(&format!(
                "INSERT INTO {table} VALUES (1); UPDATE {table} SET id = 2;
                 SELECT * FROM {table}; DELETE FROM {table}; TRUNCATE {table};"
            ))
            .await
            .unwrap_or_else(|e| panic!("{table}: {e:?}"));
        for privilege in code_privileges(&db).await {
            assert!(
                !holds(&db, writer.as_str(), table, privilege).await,
                "{privilege} on {table}"
            );
        }
        // The attack: a trigger that would run as whoever writes the table.
        let planted = client
            .batch_execute(&format!(
                "CREATE FUNCTION steal_{table}() RETURNS trigger LANGUAGE plpgsql AS
                     $$ BEGIN EXECUTE 'GRANT SELECT ON denied TO PUBLIC'; RETURN NEW; END $$;
                 CREATE TRIGGER steal AFTER INSERT ON {table}
                     FOR EACH ROW EXECUTE FUNCTION steal_{table}();"
            ))
            .await;
        assert_eq!(sqlstate(planted), "42501", "a trigger on {table}");
        // A foreign key's check runs as the referenced table's owner and
        // calls an implicit cast from the referencing column's type.
        let cast = client
            .batch_execute(&format!(
                "CREATE TYPE boxed_{table} AS (v int);
                 CREATE FUNCTION unbox_{table}(boxed_{table}) RETURNS int LANGUAGE plpgsql AS
                     $$ BEGIN EXECUTE 'GRANT SELECT ON denied TO PUBLIC'; RETURN ($1).v; END $$;
                 CREATE CAST (boxed_{table} AS int) WITH FUNCTION unbox_{table}(boxed_{table})
                     AS IMPLICIT;
                 CREATE TABLE refers_{table} (o boxed_{table} REFERENCES {table} (id));"
            ))
            .await;
        assert_eq!(sqlstate(cast), "42501", "a foreign key to {table}");
    }
    // Refreshing a materialized view runs its query as its owner.
    assert_eq!(
        sqlstate(
            client
                .batch_execute("REFRESH MATERIALIZED VIEW summary")
                .await
        ),
        "42501"
    );
    client
        .batch_execute("SELECT nextval('numbers')")
        .await
        .expect("it uses the protected user's sequences");
    protected
        .batch_execute("INSERT INTO after_it VALUES (3)")
        .await
        .expect("nothing it planted runs when the application writes");
    assert_eq!(
        db.count("SELECT has_table_privilege('public', 'denied', 'SELECT')::int::bigint")
            .await,
        0
    );
}

#[tokio::test]
async fn users_pgusers_makes_carry_its_mark_which_gives_them_nothing() {
    let db = test_db().await;
    let (writer, _) = db.create_user("marked_rw", Access::ReadWrite).await;
    let (reader, _) = db.create_user("marked_ro", Access::ReadOnly).await;
    let by_hand = unique_name("by_hand");
    db.make_role_as_admin(&by_hand, &password(), "").await;

    assert!(marked(&db, writer.as_str()).await);
    assert!(marked(&db, reader.as_str()).await);
    assert!(!marked(&db, &by_hand).await);
    assert!(!marked(&db, &db.protected).await);
    assert!(db.listed(reader.as_str()).await.read_only);
    assert!(!db.listed(writer.as_str()).await.read_only);
    assert!(db.listed(writer.as_str()).await.manageable());
    assert!(
        step_recorded(&db)
            .await
            .is_some_and(|comment| comment.ends_with("; step 4")),
        "{:?}",
        step_recorded(&db).await
    );
    if db.version_num().await >= 160_000 {
        let options = db
            .admin()
            .await
            .query_one(
                "SELECT bool_or(inherit_option), bool_or(set_option) FROM pg_auth_members
                  WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)",
                &[&mark_of(&db)],
            )
            .await
            .unwrap();
        assert_eq!(
            (options.get::<_, bool>(0), options.get::<_, bool>(1)),
            (false, false),
            "the mark gives neither its privileges nor SET ROLE"
        );
    }

    let renamed = Username::parse(&unique_name("renamed")).unwrap();
    db.roles
        .rename(&RoleName::from(writer.clone()), &renamed)
        .await
        .unwrap();
    assert!(marked(&db, renamed.as_str()).await, "a rename keeps it");
}

#[tokio::test]
async fn an_older_pgusers_users_are_marked_and_lose_what_runs_code_on_upgrade() {
    let db = test_db().await;
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute("CREATE TABLE orders (v int)")
        .await
        .unwrap();
    let (writer, writer_secret) = db.create_user("old_writer", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("old_reader", Access::ReadOnly).await;
    // A role someone made by hand and let read the protected user's tables.
    let analyst = unique_name("analyst");
    db.make_role_as_admin(&analyst, &password(), "").await;
    protected
        .batch_execute(&format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {}",
            ident(&analyst)
        ))
        .await
        .unwrap();
    as_an_older_pgusers_left_it(&db, &[writer.as_str()]).await;
    assert!(holds(&db, writer.as_str(), "orders", "TRIGGER").await);
    assert!(!marked(&db, writer.as_str()).await);
    // What an older pgusers let it do: a trigger on the protected user's
    // table, which would run as the application.
    db.run_as(
        &writer,
        &writer_secret,
        "CREATE FUNCTION planted() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'planted ran as %', current_user; END $$;
         CREATE TRIGGER planted BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION planted();
         CREATE FUNCTION fails(int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS
             $$ BEGIN RAISE EXCEPTION 'fails ran as %', current_user; END $$;
         CREATE DOMAIN failing AS int CHECK (fails(VALUE));
         CREATE TRIGGER through_a_type BEFORE INSERT ON orders FOR EACH ROW
             WHEN ((NEW.v::failing) IS NOT NULL)
             EXECUTE FUNCTION suppress_redundant_updates_trigger();",
    )
    .await;

    let from = db.roles.upgrade().await.unwrap();
    let again = db.roles.upgrade().await.unwrap();

    assert_eq!((from, again), (Some(0), None));
    protected
        .batch_execute("INSERT INTO orders VALUES (0)")
        .await
        .expect("the planted trigger is disabled");
    assert_eq!(
        db.count(
            "SELECT count(*) FROM pg_trigger
              WHERE tgname IN ('planted', 'through_a_type') AND tgenabled = 'D'"
        )
        .await,
        2,
        "kept, for a person to review"
    );
    assert!(marked(&db, writer.as_str()).await);
    assert!(marked(&db, reader.as_str()).await);
    assert!(!marked(&db, &analyst).await, "not a kind pgusers makes");
    protected
        .batch_execute("CREATE TABLE later (v int)")
        .await
        .unwrap();
    for table in ["orders", "later"] {
        for privilege in code_privileges(&db).await {
            assert!(
                !holds(&db, writer.as_str(), table, privilege).await,
                "{privilege} on {table}"
            );
        }
    }
    let client = db.logged_in(&writer, &writer_secret).await;
    client
        .batch_execute(
            "INSERT INTO orders VALUES (1); INSERT INTO later VALUES (1); DELETE FROM later;",
        )
        .await
        .expect("it writes what it wrote before");
    let reader_client = db.logged_in(&reader, &reader_secret).await;
    reader_client
        .batch_execute("SELECT * FROM orders; SELECT * FROM later;")
        .await
        .expect("the reader reads");
    assert_eq!(
        sqlstate(
            reader_client
                .batch_execute("INSERT INTO orders VALUES (2)")
                .await
        ),
        "42501"
    );
    assert!(db.listed(reader.as_str()).await.read_only);
    let stored = reader_client
        .batch_execute("SELECT lo_from_bytea(0, 'kept'::bytea)")
        .await;
    if matches!(
        crate::helpers::admin_kind(),
        crate::helpers::AdminKind::Superuser
    ) {
        assert_eq!(sqlstate(stored), "42501", "step 3 closed large objects");
    }
    client
        .batch_execute("SELECT lo_from_bytea(0, 'kept'::bytea)")
        .await
        .expect("a writer keeps making large objects");
    assert!(holds(&db, &analyst, "later", "SELECT").await);
    assert!(!holds(&db, &analyst, "later", "INSERT").await);
    // Step 4: what it holds, it holds through the read-write group.
    assert!(!item_on(&db, writer.as_str(), "orders").await);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a
              WHERE a.grantee = '{writer}'::regrole AND d.defaclrole <> a.grantee"
        ))
        .await,
        0,
        "no default privileges name it"
    );
}

#[tokio::test]
async fn two_processes_meeting_an_older_database_upgrade_it_once() {
    let db = test_db().await;
    let (writer, _) = db.create_user("twice", Access::ReadWrite).await;
    as_an_older_pgusers_left_it(&db, &[writer.as_str()]).await;
    let other = pgusers::roles::RoleManager::new(db.roles_config(), 2, None);

    let (one, two) = tokio::join!(db.roles.upgrade(), other.upgrade());

    let mut outcomes = [one.unwrap(), two.unwrap()];
    outcomes.sort();
    assert_eq!(outcomes, [None, Some(0)]);
    assert!(marked(&db, writer.as_str()).await);
}

#[tokio::test]
async fn the_cli_upgrades_an_older_database_before_it_creates() {
    let db = test_db().await;
    db.connect_as_protected()
        .await
        .batch_execute("CREATE TABLE orders (v int)")
        .await
        .unwrap();
    let (writer, _) = db.create_user("cli_old", Access::ReadWrite).await;
    as_an_older_pgusers_left_it(&db, &[writer.as_str()]).await;
    let name = unique_name("cli_new");

    let created = crate::cli::run(
        crate::cli::cli(&db).args(["database-users-create", &name]),
        "\n\n",
    );

    assert_eq!(created.code, 0, "{}", created.stderr);
    assert!(marked(&db, writer.as_str()).await);
    assert!(marked(&db, &name).await);
    assert!(!holds(&db, writer.as_str(), "orders", "TRIGGER").await);
    assert!(step_recorded(&db).await.unwrap().ends_with("; step 4"));
}

#[tokio::test]
async fn a_database_a_newer_pgusers_upgraded_is_refused_not_downgraded() {
    let db = test_db().await;
    db.create_user("first", Access::ReadWrite).await;
    db.admin()
        .await
        .batch_execute(&format!(
            "COMMENT ON ROLE {} IS 'pgusers: a later version; step 99'",
            ident(&mark_of(&db))
        ))
        .await
        .unwrap();
    let name = crate::helpers::username("after");

    let created = db
        .roles
        .create(&name, NewPassword::Generate, Access::ReadWrite)
        .await;
    let upgraded = db.roles.upgrade().await;

    for outcome in [created.map(|_| ()), upgraded.map(|_| ())] {
        match outcome {
            Err(error @ RoleError::Misconfigured(_)) => {
                let message = error.to_string();
                assert!(
                    message.contains("newer pgusers") && message.contains("step 99"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(!db.role_exists(name.as_str()).await);
}

#[tokio::test]
async fn a_role_given_to_the_mark_is_taken_back_before_the_next_change() {
    let db = test_db().await;
    db.create_user("first", Access::ReadWrite).await;
    let giver = unique_name("giver");
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {giver} NOLOGIN; GRANT {giver} TO {mark};",
            giver = ident(&giver),
            mark = ident(&mark_of(&db))
        ))
        .await
        .unwrap();
    let name = crate::helpers::username("next");

    let created = db
        .roles
        .create(&name, NewPassword::Generate, Access::ReadOnly)
        .await;

    let memberships = db
        .count(&format!(
            "SELECT count(*) FROM pg_auth_members
              WHERE member = (SELECT oid FROM pg_roles WHERE rolname = '{}')",
            mark_of(&db)
        ))
        .await;
    let createrole_16 = matches!(
        crate::helpers::admin_kind(),
        crate::helpers::AdminKind::CreateRole
    ) && db.version_num().await >= 160_000;
    // Nothing is refused for it: whoever gave it cannot hold pgusers up.
    created.unwrap();
    if createrole_16 {
        // Only a role with ADMIN OPTION on the giver may take it back; the
        // list then errs on the safe side.
        assert_eq!(memberships, 1);
        assert!(!db.listed(name.as_str()).await.read_only);
    } else {
        assert_eq!(memberships, 0);
        assert!(db.listed(name.as_str()).await.read_only);
    }
}

#[tokio::test]
async fn a_user_acting_as_the_mark_or_granting_it_holds_nothing_up() {
    let db = test_db().await;
    let (reader, reader_secret) = db.create_user("as_mark", Access::ReadOnly).await;
    let (writer, writer_secret) = db.create_user("to_mark", Access::ReadWrite).await;
    let mark = ident(&mark_of(&db));
    // Before 16 a member may act as the mark and make what PUBLIC may.
    let acted = db
        .logged_in(&reader, &reader_secret)
        .await
        .batch_execute(&format!(
            "SET ROLE {mark}; ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC;"
        ))
        .await;
    if db.version_num().await >= 160_000 {
        assert_eq!(
            sqlstate(acted),
            "42501",
            "SET FALSE: nobody acts as the mark"
        );
    } else {
        acted.unwrap();
    }
    // A writer gives the mark a write on its table: before 16 every member
    // would inherit it.
    db.run_as(
        &writer,
        &writer_secret,
        &format!("CREATE TABLE given (v int); GRANT INSERT ON given TO {mark};"),
    )
    .await;

    let next = db
        .roles
        .create(
            &crate::helpers::username("next"),
            NewPassword::Generate,
            Access::ReadOnly,
        )
        .await;

    next.expect("nothing made or given as the mark holds pgusers up");
    assert!(
        !holds(&db, &mark_of(&db), "given", "INSERT").await,
        "taken back"
    );
    assert!(db.listed(reader.as_str()).await.read_only);
    assert_eq!(
        sqlstate(
            db.logged_in(&reader, &reader_secret)
                .await
                .batch_execute("INSERT INTO given VALUES (1)")
                .await
        ),
        "42501"
    );
}

#[tokio::test]
async fn the_doctors_fix_never_makes_a_hand_made_role_a_writer() {
    let db = test_db().await;
    let (writer, _) = db.create_user("doc_writer", Access::ReadWrite).await;
    let analyst = unique_name("analyst");
    let analyst_secret = password();
    db.make_role_as_admin(&analyst, &analyst_secret, "").await;
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute(&format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {};
             CREATE TABLE reports (v int);",
            ident(&analyst)
        ))
        .await
        .unwrap();

    let found = db.roles.check_access().await.unwrap();
    let fixed = db
        .roles
        .fix_access(&format!("read-write:{analyst}"))
        .await
        .unwrap();

    let about = |name: &str| {
        found
            .iter()
            .filter(|f| f.key.contains(name))
            .map(|f| f.key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(about(&analyst), Vec::<String>::new());
    assert_eq!(
        about(writer.as_str()),
        Vec::<String>::new(),
        "no TRIGGER or REFERENCES asked for"
    );
    assert!(fixed.is_none());
    let client = db
        .connect_as(&analyst, analyst_secret.expose())
        .await
        .unwrap();
    client
        .batch_execute("SELECT * FROM reports")
        .await
        .expect("it reads, as its maker decided");
    assert_eq!(
        sqlstate(client.batch_execute("INSERT INTO reports VALUES (1)").await),
        "42501"
    );
}

#[tokio::test]
async fn what_a_member_makes_as_the_mark_or_the_readers_in_another_database_ties_nobody_there() {
    let db = test_db().await;
    let (reader, reader_secret) = db.create_user("far_reader", Access::ReadOnly).await;
    let (writer, _) = db.create_user("far_writer", Access::ReadWrite).await;
    let readers = db
        .count(&format!(
            "SELECT count(*) FROM pg_roles WHERE rolname = 'pgusers-readonly-{}'",
            db.name
        ))
        .await;
    assert_eq!(readers, 1);
    let elsewhere = db
        .connect_to("postgres", reader.as_str(), reader_secret.expose())
        .await
        .unwrap();
    for group in [mark_of(&db), format!("pgusers-readonly-{}", db.name)] {
        // Default privileges naming another user make an object of the
        // group's there, with a grant to that user.
        let acted = elsewhere
            .batch_execute(&format!(
                "SET ROLE {}; ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC, {};
                 RESET ROLE;",
                ident(&group),
                ident(writer.as_str())
            ))
            .await;
        if db.version_num().await >= 160_000 {
            // Memberships there are without SET: nobody acts as the mark
            // or the readers group.
            assert_eq!(sqlstate(acted), "42501", "nobody acts as {group} on 16+");
        } else {
            acted.unwrap_or_else(|e| panic!("{group}: {e:?}"));
        }
    }

    for user in [reader.as_str(), writer.as_str()] {
        let listed = db.listed(user).await;
        assert!(listed.manageable(), "{user}: {:?}", listed.not_manageable);
    }
    assert!(db.listed(reader.as_str()).await.read_only);
    crate::helpers::drop_owned_in_postgres(&mark_of(&db)).await;
    crate::helpers::drop_owned_in_postgres(&format!("pgusers-readonly-{}", db.name)).await;
}

/// What `user` may do on every relation, on schema public and on the
/// database, by PostgreSQL's privilege functions (one row per right held).
async fn rights_of(db: &TestDb, user: &str) -> std::collections::BTreeSet<String> {
    let rows = db
        .admin()
        .await
        .query(
            "SELECT c.oid::regclass::text || ' ' || p
               FROM pg_class c
              CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                      'USAGE']) p
              WHERE c.relnamespace = 'public'::regnamespace
                AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
                AND CASE WHEN c.relkind = 'S'
                         THEN p IN ('USAGE', 'SELECT', 'UPDATE')
                              AND has_sequence_privilege($1, c.oid, p)
                         ELSE p <> 'USAGE' AND has_table_privilege($1, c.oid, p) END
             UNION ALL
             SELECT 'schema public ' || p FROM unnest(ARRAY['USAGE', 'CREATE']) p
              WHERE has_schema_privilege($1, 'public', p)
             UNION ALL
             SELECT 'database ' || p FROM unnest(ARRAY['CONNECT', 'CREATE', 'TEMPORARY']) p
              WHERE has_database_privilege($1, current_database(), p)",
            &[&user],
        )
        .await
        .unwrap();
    rows.iter().map(|row| row.get(0)).collect()
}

#[tokio::test]
async fn step_4_turns_per_user_grants_into_group_memberships_and_nothing_is_lost() {
    let db = test_db().await;
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute("CREATE TABLE orders (id serial PRIMARY KEY, v int)")
        .await
        .unwrap();
    let (one, one_secret) = db.create_user("step4_one", Access::ReadWrite).await;
    let (two, two_secret) = db.create_user("step4_two", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("step4_ro", Access::ReadOnly).await;
    db.run_as(&one, &one_secret, "CREATE TABLE ones (v int)")
        .await;
    as_an_older_pgusers_left_it(&db, &[one.as_str(), two.as_str()]).await;
    let before: Vec<_> = futures_util::future::join_all(
        [&one, &two, &reader].map(|user| rights_of(&db, user.as_str())),
    )
    .await;

    let from = db.roles.upgrade().await.unwrap();

    assert_eq!(from, Some(0));
    assert!(step_recorded(&db).await.unwrap().ends_with("; step 4"));
    let after: Vec<_> = futures_util::future::join_all(
        [&one, &two, &reader].map(|user| rights_of(&db, user.as_str())),
    )
    .await;
    for ((user, before), after) in [&one, &two, &reader].iter().zip(&before).zip(&after) {
        let lost: Vec<_> = before.difference(after).collect();
        assert!(lost.is_empty(), "{user} lost {lost:?}");
    }
    // Nothing per user is left: no item names a user on what it does not
    // own, on the database, on public or in default privileges.
    for user in [&one, &two] {
        let items = db
            .count(&format!(
                "SELECT (SELECT count(*) FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
                          WHERE a.grantee = '{user}'::regrole AND c.relowner <> a.grantee)
                      + (SELECT count(*) FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a
                          WHERE a.grantee = '{user}'::regrole)
                      + (SELECT count(*) FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
                          WHERE a.grantee = '{user}'::regrole)
                      + (SELECT count(*) FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a
                          WHERE a.grantee = '{user}'::regrole AND d.defaclrole <> a.grantee)"
            ))
            .await;
        assert_eq!(items, 0, "{user} holds per-user items");
    }
    // And what one made, the other writes now, and the reader reads.
    db.run_as(
        &two,
        &two_secret,
        "INSERT INTO ones VALUES (1); INSERT INTO orders (v) VALUES (1);",
    )
    .await;
    db.run_as(&one, &one_secret, "CREATE TABLE later (v int)")
        .await;
    db.run_as(&two, &two_secret, "INSERT INTO later VALUES (1)")
        .await;
    protected
        .batch_execute("INSERT INTO later VALUES (2); INSERT INTO ones VALUES (2);")
        .await
        .expect("the protected user writes the users' tables");
    let reading = db.logged_in(&reader, &reader_secret).await;
    reading
        .batch_execute("SELECT * FROM ones, later, orders")
        .await
        .expect("the reader reads them");
    assert_eq!(
        sqlstate(reading.batch_execute("INSERT INTO ones VALUES (3)").await),
        "42501"
    );
}

#[tokio::test]
async fn step_4_takes_back_only_what_the_group_now_gives_the_user() {
    let db = test_db().await;
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute("CREATE TABLE orders (id serial PRIMARY KEY, v int)")
        .await
        .unwrap();
    let (plain, plain_secret) = db.create_user("step4_pl", Access::ReadWrite).await;
    let (noinherit, noinherit_secret) = db.create_user("step4_ni", Access::ReadWrite).await;
    as_an_older_pgusers_left_it(&db, &[plain.as_str(), noinherit.as_str()]).await;
    // Someone gave one user more by hand in public's default privileges (to
    // hand reading on: pgusers never gives a grant option), and made the
    // other NOINHERIT: before 16 its membership of the group gives it
    // nothing.
    db.admin()
        .await
        .batch_execute(&format!(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public
                 GRANT SELECT ON TABLES TO {} WITH GRANT OPTION;
             ALTER ROLE {} NOINHERIT;",
            ident(&db.protected),
            ident(plain.as_str()),
            ident(noinherit.as_str())
        ))
        .await
        .unwrap();

    db.roles.upgrade().await.unwrap();

    protected
        .batch_execute("CREATE TABLE later (id serial PRIMARY KEY, v int)")
        .await
        .unwrap();
    assert!(
        holds(
            &db,
            plain.as_str(),
            "public.later",
            "SELECT WITH GRANT OPTION"
        )
        .await,
        "the right given by hand in public's default privileges is kept"
    );
    for (user, secret) in [(&plain, &plain_secret), (&noinherit, &noinherit_secret)] {
        db.run_as(
            user,
            secret,
            "INSERT INTO orders (v) VALUES (1); INSERT INTO later (v) VALUES (1);",
        )
        .await;
    }
    // On 16+ the membership inherits whatever the role's attribute says
    // (pgusers grants it WITH INHERIT TRUE), so the group's rights replace
    // the user's own; before 16 the NOINHERIT user keeps its own.
    let kept = item_on(&db, noinherit.as_str(), "public.orders").await;
    assert_eq!(kept, db.version_num().await < 160_000);
    assert!(
        !item_on(&db, plain.as_str(), "public.orders").await,
        "the group's rights replace the inheriting user's own"
    );
}
