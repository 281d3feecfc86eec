use pgusers::domain::{NewPassword, RoleName};
use pgusers::roles::{Access, Restriction, RoleError};

use crate::helpers::{ident, sqlstate, test_db, username};

#[tokio::test]
async fn deleting_a_user_keeps_its_tables_now_owned_by_the_protected_user() {
    let db = test_db().await;
    let (name, secret) = db.create_user("leaver", Access::ReadWrite).await;
    let client = db.connect_as(name.as_str(), secret.expose()).await.unwrap();
    client
        .batch_execute("CREATE TABLE precious (v int); INSERT INTO precious VALUES (42);")
        .await
        .unwrap();
    drop(client);

    let ownership = db
        .roles
        .ownership(&RoleName::from(name.clone()))
        .await
        .unwrap();
    assert_eq!(
        ownership.objects,
        ["table public.precious"],
        "the confirmation lists what moves, not pgusers' default privileges"
    );
    assert!(ownership.code.is_empty(), "a table is no code");

    db.roles
        .delete(&RoleName::from(name.clone()))
        .await
        .unwrap();

    assert!(!db.role_exists(name.as_str()).await, "the role is dropped");
    let owner = db.table_owner("precious").await;
    assert_eq!(owner, db.protected, "the protected user owns the table now");
    let protected = db.connect_as_protected().await;
    let value: i32 = protected
        .query_one("SELECT v FROM precious", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        value, 42,
        "the data is still there and readable by the protected user"
    );
}

#[tokio::test]
async fn deleting_a_user_ends_its_open_sessions() {
    let db = test_db().await;
    let (name, secret) = db.create_user("online", Access::ReadOnly).await;
    let session = db.connect_as(name.as_str(), secret.expose()).await.unwrap();
    session.batch_execute("SELECT 1").await.unwrap();

    db.roles
        .delete(&RoleName::from(name.clone()))
        .await
        .unwrap();

    assert!(
        session.batch_execute("SELECT 1").await.is_err(),
        "the open session was ended"
    );
    assert!(db.connect_as(name.as_str(), secret.expose()).await.is_err());
}

#[tokio::test]
async fn deleting_a_user_that_does_not_exist_says_so() {
    let db = test_db().await;
    let result = db
        .roles
        .delete(&RoleName::parse("nobody_here_at_all").unwrap())
        .await;
    assert!(matches!(result, Err(RoleError::NotFound(_))));
}

#[tokio::test]
async fn superusers_and_the_role_pgusers_connects_as_cannot_be_touched() {
    let db = test_db().await;
    let admin = db.admin_in_use();
    // With a superuser admin, `postgres` is both: the role pgusers connects as wins.
    let superuser_reason = if admin == "postgres" {
        Restriction::Administrator
    } else {
        Restriction::Superuser
    };

    for (name, reason) in [
        (admin.as_str(), Restriction::Administrator),
        ("postgres", superuser_reason),
    ] {
        let target = RoleName::parse(name).unwrap();
        for result in [
            db.roles.delete(&target).await,
            db.roles.reset_password(&target).await.map(|_| ()),
        ] {
            match result {
                Err(RoleError::NotManageable { reason: got, .. }) => assert_eq!(got, reason),
                other => panic!("{name}: expected NotManageable, got {other:?}"),
            }
        }
        assert!(db.role_exists(name).await);
    }
}

#[tokio::test]
async fn the_readers_group_is_not_a_user_and_cannot_be_deleted() {
    let db = test_db().await;
    db.roles
        .create(&username("ro"), NewPassword::Generate, Access::ReadOnly)
        .await
        .unwrap();
    let group = RoleName::parse(&format!("pgusers-readonly-{}", db.name)).unwrap();

    assert!(matches!(
        db.roles.delete(&group).await,
        Err(RoleError::NotManageable {
            reason: Restriction::NoLogin,
            ..
        })
    ));
    assert!(
        db.roles
            .list()
            .await
            .unwrap()
            .iter()
            .all(|u| u.username != group.as_str())
    );
}

#[tokio::test]
async fn a_user_with_objects_in_another_database_is_refused_and_nothing_changes() {
    let db = test_db().await;
    let (name, secret) = db.create_user("spread", Access::ReadWrite).await;
    let here = db.connect_as(name.as_str(), secret.expose()).await.unwrap();
    here.batch_execute("CREATE TABLE mine_here (v int)")
        .await
        .unwrap();
    // The same user owns a table in another database of the server.
    let other = crate::helpers::test_db().await;
    other
        .admin()
        .await
        .batch_execute(&format!(
            "GRANT CREATE ON SCHEMA public TO {}",
            name.as_str()
        ))
        .await
        .unwrap();
    let there = other
        .connect_as(name.as_str(), secret.expose())
        .await
        .unwrap();
    there
        .batch_execute("CREATE TABLE mine_there (v int)")
        .await
        .unwrap();
    let target = RoleName::from(name.clone());

    let result = db.roles.delete(&target).await;

    match result {
        Err(error @ RoleError::NotManageable { .. }) => {
            assert!(error.to_string().contains(&other.name), "{error}");
        }
        other => panic!("expected NotManageable, got {other:?}"),
    }
    here.batch_execute("SELECT * FROM mine_here")
        .await
        .expect("the user's session was not ended");
    let owner = db.table_owner("mine_here").await;
    assert_eq!(owner, name.as_str(), "nothing was reassigned");
}

#[tokio::test]
async fn a_deleted_users_security_definer_function_cannot_act_as_the_protected_user() {
    let db = test_db().await;
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute("CREATE TABLE invoices (v int); INSERT INTO invoices VALUES (1);")
        .await
        .unwrap();
    let (writer, secret) = db.create_user("trapper", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("victim", Access::ReadOnly).await;
    db.run_as(
        &writer,
        &secret,
        "CREATE FUNCTION innocent() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
                 AS $$ BEGIN DROP TABLE public.invoices; END $$;",
    )
    .await;
    let target = RoleName::from(writer.clone());

    let preview = db.roles.ownership(&target).await.unwrap();
    db.roles.delete(&target).await.unwrap();

    let warned = preview
        .code
        .iter()
        .find(|c| c.object == "function public.innocent()")
        .expect("the confirmation names the function");
    assert!(warned.to_string().contains("SECURITY DEFINER"), "{warned}");
    let reader = db
        .connect_as(reader.as_str(), reader_secret.expose())
        .await
        .unwrap();
    let fired = reader.batch_execute("SELECT innocent()").await;
    assert_eq!(sqlstate(fired), "42501", "it runs with the reader's rights");
    let admin = db.admin().await;
    let row = admin
        .query_one(
            "SELECT prosecdef, pg_get_userbyid(proowner)::text FROM pg_proc WHERE proname = 'innocent'",
            &[],
        )
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0), "no longer SECURITY DEFINER");
    assert_eq!(row.get::<_, String>(1), db.protected, "kept, not lost");
    assert_eq!(
        db.table_owner("invoices").await,
        db.protected,
        "the trap did not fire"
    );
}

#[tokio::test]
async fn a_deleted_users_view_cannot_read_with_the_protected_users_rights() {
    let db = test_db().await;
    let (writer, secret) = db.create_user("viewer", Access::ReadWrite).await;
    let (reader_name, reader_secret) = db.create_user("peeker", Access::ReadOnly).await;
    let reader = reader_name.clone();
    let readers = format!("pgusers-readonly-{}", db.name);
    let writers = format!("pgusers-writers-{}", db.name);
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute(&format!(
            "CREATE TABLE salaries (amount int); INSERT INTO salaries VALUES (100000);
             REVOKE ALL ON salaries FROM \"{writers}\", \"{readers}\";"
        ))
        .await
        .unwrap();
    db.run_as(
        &writer,
        &secret,
        "CREATE VIEW peek AS SELECT amount FROM salaries",
    )
    .await;
    let reader = db
        .connect_as(reader.as_str(), reader_secret.expose())
        .await
        .unwrap();
    let before = reader.batch_execute("SELECT * FROM peek").await;
    assert_eq!(
        sqlstate(before),
        "42501",
        "the view's owner could not read it"
    );
    let target = RoleName::from(writer.clone());

    let preview = db.roles.ownership(&target).await.unwrap();
    db.roles.delete(&target).await.unwrap();

    assert!(
        preview.code.iter().any(|c| c.object == "view public.peek"),
        "{preview:?}"
    );
    let after = reader.batch_execute("SELECT * FROM peek").await;
    assert_eq!(
        sqlstate(after),
        "42501",
        "still not readable through the view"
    );
    let kept: i64 = protected
        .query_one("SELECT count(*) FROM peek", &[])
        .await
        .expect("the view is kept and works for the protected user")
        .get(0);
    assert_eq!(kept, 1);
    // PostgreSQL 15+ keeps the reader's grant and checks the table as the
    // reader (security_invoker); 14 cannot, so the grant is revoked.
    let row = db
        .admin()
        .await
        .query_one(
            "SELECT current_setting('server_version_num')::int >= 150000,
                    has_table_privilege($1, 'public.peek', 'SELECT')",
            &[&reader_name.as_str()],
        )
        .await
        .unwrap();
    let (invoker_views, still_granted): (bool, bool) = (row.get(0), row.get(1));
    assert_eq!(still_granted, invoker_views);
}

#[tokio::test]
async fn a_user_holding_locks_on_its_tables_is_still_deleted() {
    let db = test_db().await;
    let (name, secret) = db.create_user("locker", Access::ReadWrite).await;
    let client = db.connect_as(name.as_str(), secret.expose()).await.unwrap();
    client
        .batch_execute("CREATE TABLE busy (v int)")
        .await
        .unwrap();
    client
        .batch_execute("BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE;")
        .await
        .unwrap();

    db.roles
        .delete(&RoleName::from(name.clone()))
        .await
        .unwrap();

    let owner = db.table_owner("busy").await;
    assert_eq!(owner, db.protected);
}

#[tokio::test]
async fn a_deleted_users_triggers_and_rules_are_disabled_and_its_expression_indexes_dropped() {
    let db = test_db().await;
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute("CREATE TABLE orders (v int)")
        .await
        .unwrap();
    let (writer, secret) = db.create_user("leaves_code", Access::ReadWrite).await;
    // pgusers gives no TRIGGER on others' tables; an owner may, by hand.
    protected
        .batch_execute(&format!(
            "GRANT TRIGGER ON orders TO {}",
            ident(writer.as_str())
        ))
        .await
        .unwrap();
    db.run_as(
        &writer,
        &secret,
        "CREATE FUNCTION tg() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN RAISE EXCEPTION 'the trap fired as %', current_user; END $$;
             CREATE TRIGGER trap AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION tg();
             CREATE FUNCTION twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
             CREATE TABLE measures (x int);
             INSERT INTO measures VALUES (1), (2);
             CREATE INDEX measures_twice ON measures (twice(x));
             CREATE INDEX measures_plain ON measures (x);
             CREATE STATISTICS measures_stats ON (twice(x)), x FROM measures;
             CREATE TABLE leak (v int);
             CREATE RULE copy AS ON INSERT TO measures DO ALSO INSERT INTO leak VALUES (NEW.x);",
    )
    .await;
    let target = RoleName::from(writer.clone());

    let preview = db.roles.ownership(&target).await.unwrap();
    db.roles.delete(&target).await.unwrap();

    let named = |needle: &str| preview.code.iter().any(|c| c.object.contains(needle));
    assert!(named("trigger trap"), "{preview:?}");
    assert!(named("rule copy"), "{preview:?}");
    assert!(named("measures_twice"), "{preview:?}");
    assert!(named("measures_stats"), "{preview:?}");
    assert!(!named("measures_plain"), "a plain index is no code");
    protected
        .batch_execute("INSERT INTO orders VALUES (1)")
        .await
        .expect("the trigger no longer fires as the protected user");
    assert_eq!(
        db.count("SELECT count(*) FROM pg_trigger WHERE tgname = 'trap' AND tgenabled = 'D'")
            .await,
        1,
        "kept, disabled"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pg_rewrite WHERE rulename = 'copy' AND ev_enabled = 'D'")
            .await,
        1,
        "kept, disabled"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'measures_twice'")
            .await,
        0,
        "the index calling the user's function is gone"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'measures_stats'")
            .await,
        0
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'measures_plain'")
            .await,
        1
    );
    assert_eq!(
        db.count("SELECT count(*) FROM measures").await,
        2,
        "no data lost"
    );
}

#[tokio::test]
async fn a_user_being_deleted_cannot_log_in_to_add_code_while_the_delete_waits() {
    let db = test_db().await;
    let (writer, secret) = db.create_user("racer", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("holder", Access::ReadOnly).await;
    db.run_as(&writer, &secret, "CREATE VIEW slow AS SELECT 1 AS one")
        .await;
    // A reader's open transaction holds the view, so the delete waits.
    let holder = db
        .connect_as(reader.as_str(), reader_secret.expose())
        .await
        .unwrap();
    holder
        .batch_execute("BEGIN; SELECT * FROM slow;")
        .await
        .unwrap();
    let target = RoleName::from(writer.clone());
    let roles = &db.roles;

    let (deleted, late_login) = tokio::join!(roles.delete(&target), async {
        // Once the delete has locked the user out and waits for the view.
        db.until_locked_out(writer.as_str()).await;
        let login = db.connect_as(writer.as_str(), secret.expose()).await;
        holder.batch_execute("COMMIT").await.unwrap();
        login
    });

    assert!(
        late_login.is_err(),
        "the user could log in while its delete was under way"
    );
    deleted.expect("the delete finishes once the reader lets go");
    assert!(!db.role_exists(writer.as_str()).await);
}

#[tokio::test]
async fn a_rule_on_a_deleted_users_view_is_dropped_and_a_trigger_calling_its_code_in_when_disabled()
{
    let db = test_db().await;
    let protected = db.connect_as_protected().await;
    protected
        .batch_execute("CREATE TABLE notes (v int); INSERT INTO notes VALUES (1);")
        .await
        .unwrap();
    let (writer, secret) = db.create_user("rules", Access::ReadWrite).await;
    // pgusers gives no TRIGGER on others' tables; an owner may, by hand.
    protected
        .batch_execute(&format!(
            "GRANT TRIGGER ON notes TO {}",
            ident(writer.as_str())
        ))
        .await
        .unwrap();
    db.run_as(
        &writer,
        &secret,
        "CREATE TABLE t3 (v int);
         CREATE VIEW v3 AS SELECT * FROM t3;
         CREATE RULE r3 AS ON INSERT TO v3 DO INSTEAD DELETE FROM notes;
         CREATE FUNCTION w2(int) RETURNS boolean LANGUAGE sql AS 'SELECT true';
         CREATE TRIGGER t3 BEFORE UPDATE ON notes FOR EACH ROW WHEN (w2(new.v))
             EXECUTE FUNCTION suppress_redundant_updates_trigger();
         CREATE FUNCTION guard(int) RETURNS boolean LANGUAGE sql AS 'SELECT true';
         CREATE TABLE guarded (v int CHECK (guard(v)));
         CREATE FUNCTION veq(varchar, varchar) RETURNS boolean LANGUAGE sql
             AS 'SELECT $1::text = $2::text';
         CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = veq);
         CREATE FUNCTION lower(varchar) RETURNS text LANGUAGE sql AS 'SELECT $1::text';",
    )
    .await;
    let target = RoleName::from(writer.clone());

    let preview = db.roles.ownership(&target).await.unwrap();
    db.roles
        .delete(&target)
        .await
        .expect("a rule on a view cannot stop the delete");

    let named = |needle: &str| preview.code.iter().any(|c| c.object.contains(needle));
    assert!(named("rule r3"), "{preview:?}");
    assert!(named("trigger t3"), "{preview:?}");
    assert!(
        named("constraint guarded_v_check"),
        "named for review: {preview:?}"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pg_rewrite WHERE rulename = 'r3'")
            .await,
        0
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pg_trigger WHERE tgname = 't3' AND tgenabled = 'D'")
            .await,
        1
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'v3'")
            .await,
        1,
        "the view stays"
    );
}

#[tokio::test]
async fn a_user_other_roles_may_act_as_is_refused_with_the_revokes_and_nothing_changes() {
    let db = test_db().await;
    let (user, secret) = db.create_user("shared", Access::ReadWrite).await;
    // From 16 on, a member that may not SET ROLE still has the user's
    // rights over its objects (to make a routine SECURITY DEFINER again).
    let options = if db.version_num().await >= 160_000 {
        " WITH SET FALSE"
    } else {
        ""
    };
    let member = db.make_member_of(user.as_str(), options).await;
    let revoke = format!("REVOKE {} FROM {};", ident(user.as_str()), ident(&member));
    let target = RoleName::from(user.clone());

    let refused = db.roles.delete(&target).await;

    match refused {
        Err(error @ RoleError::ActedAsByOthers { .. }) => {
            let message = error.to_string();
            assert!(message.contains(&format!("\"{member}\"")), "{message}");
            assert!(message.contains(&revoke), "{message}");
        }
        other => panic!("expected a refusal naming the member, got {other:?}"),
    }
    db.connect_as(user.as_str(), secret.expose())
        .await
        .expect("nothing changed: the user still logs in");
    db.as_admin_in_use()
        .await
        .batch_execute(&revoke)
        .await
        .unwrap();
    db.roles
        .delete(&target)
        .await
        .expect("deleted once nobody else may act as it");
}

/// Whether routine `name` (in `public`) runs as its owner, and who owns it.
async fn routine_facts(db: &crate::helpers::TestDb, name: &str) -> (bool, String) {
    let row = db
        .admin()
        .await
        .query_one(
            "SELECT prosecdef, pg_get_userbyid(proowner)::text FROM pg_proc
              WHERE proname = $1 AND pronamespace = 'public'::regnamespace",
            &[&name],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn a_table_made_as_the_user_during_its_delete_stops_the_delete_and_loses_nothing() {
    let db = test_db().await;

    let (writer, secret, deleted) = delete_while_its_code_runs(
        &db,
        "maker",
        "CREATE TABLE public.late (v int); INSERT INTO public.late VALUES (7);",
    )
    .await;

    match deleted {
        Err(error @ RoleError::ActedWhileDeleted { .. }) => {
            assert!(error.to_string().contains("table public.late"), "{error}");
        }
        other => panic!("expected the delete to stop, got {other:?}"),
    }
    assert!(db.role_exists(writer.as_str()).await);
    db.connect_as(writer.as_str(), secret.expose())
        .await
        .expect("its lock-out is undone");
    assert_eq!(
        routine_facts(&db, "slow_maker").await,
        (true, writer.to_string()),
        "its routine runs as it again"
    );
    assert_eq!(db.table_owner("late").await, writer.as_str());

    db.roles
        .delete(&RoleName::from(writer.clone()))
        .await
        .expect("deleted when tried again");
    assert_eq!(db.table_owner("late").await, db.protected);
    let kept: i32 = db
        .admin()
        .await
        .query_one("SELECT v FROM public.late", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 7, "nothing made meanwhile was lost");
}

/// Where a delete is held, after it looked at the user's code.
#[derive(Clone, Copy)]
enum HeldAt {
    /// At `REASSIGN OWNED`: someone is using the user's sequence `held`
    /// (which a delete does not lock before it looks, as it does the
    /// user's tables).
    Move,
    /// Before the move, at marking the user's routines unreviewed: someone
    /// is commenting routine `slow_maker` in a transaction left open.
    Mark,
}

/// Deletes a read-write user while a call of its SECURITY DEFINER routine
/// `slow_maker`, begun before the delete, runs `made` as the user while the
/// delete is held (`at`). The user, its password and the delete's result.
async fn delete_while_its_code_runs(
    db: &crate::helpers::TestDb,
    prefix: &str,
    made: &str,
) -> (
    pgusers::domain::Username,
    pgusers::domain::Password,
    Result<(), RoleError>,
) {
    delete_held_while_its_code_runs(db, prefix, made, HeldAt::Move, "").await
}

/// [`delete_while_its_code_runs`], held `at`, with the protected user
/// running `protected_made` while the delete is held.
async fn delete_held_while_its_code_runs(
    db: &crate::helpers::TestDb,
    prefix: &str,
    made: &str,
    at: HeldAt,
    protected_made: &str,
) -> (
    pgusers::domain::Username,
    pgusers::domain::Password,
    Result<(), RoleError>,
) {
    let (writer, secret) = db.create_user(prefix, Access::ReadWrite).await;
    // The call waits inside the routine, running as the user, until the
    // gate (an advisory lock) opens.
    db.run_as(
        &writer,
        &secret,
        &format!(
            "CREATE SEQUENCE held;
             CREATE FUNCTION slow_maker() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
             BEGIN
               PERFORM pg_advisory_xact_lock_shared(2026);
               {made}
             END $$;"
        ),
    )
    .await;
    let gate = db.admin().await;
    gate.batch_execute("SELECT pg_advisory_lock(2026)")
        .await
        .unwrap();
    // Waited for under the name lock, for 3 s at most.
    let (hold, waiting) = match at {
        HeldAt::Move => (
            "BEGIN; SELECT nextval('public.held');",
            "relation = 'public.held'::regclass",
        ),
        HeldAt::Mark => (
            "BEGIN; COMMENT ON FUNCTION public.slow_maker() IS 'held';",
            "locktype = 'object' AND classid = 'pg_proc'::regclass",
        ),
    };
    let holder = db.admin().await;
    holder.batch_execute(hold).await.unwrap();
    let caller = db.connect_as_protected().await;
    let protected = db.connect_as_protected().await;
    let target = RoleName::from(writer.clone());

    let (called, deleted) = tokio::join!(
        async {
            // A call begun before the delete runs as the user to its end;
            // the delete goes on once the call has made its object.
            let called = caller.batch_execute("SELECT public.slow_maker()").await;
            holder.batch_execute("COMMIT").await.unwrap();
            called
        },
        async {
            db.until_waiting_for("locktype = 'advisory'").await;
            let made_while_the_delete_waits = async {
                db.until_waiting_for(waiting).await;
                protected.batch_execute(protected_made).await.unwrap();
                gate.batch_execute("SELECT pg_advisory_unlock(2026)")
                    .await
                    .unwrap();
            };
            tokio::join!(db.roles.delete(&target), made_while_the_delete_waits).0
        }
    );
    called.unwrap();
    (writer, secret, deleted)
}

#[tokio::test]
async fn what_its_code_makes_before_the_move_stops_a_delete_not_what_others_make() {
    let db = test_db().await;

    // Made after the delete looked at what the user owns: the move would
    // give it to the protected user. The protected user's own table, made
    // meanwhile, is not the user's doing.
    let (writer, secret, deleted) = delete_held_while_its_code_runs(
        &db,
        "early",
        "CREATE TABLE public.early (v int); INSERT INTO public.early VALUES (7);",
        HeldAt::Mark,
        "CREATE TABLE public.own_meanwhile (v int);",
    )
    .await;

    match deleted {
        Err(error @ RoleError::ActedWhileDeleted { .. }) => {
            let message = error.to_string();
            assert!(message.contains("table public.early"), "{message}");
            assert!(!message.contains("own_meanwhile"), "{message}");
        }
        other => panic!("expected the delete to stop, got {other:?}"),
    }
    assert_eq!(
        db.table_owner("early").await,
        writer.as_str(),
        "nothing moved"
    );
    db.connect_as(writer.as_str(), secret.expose())
        .await
        .expect("its lock-out is undone");

    db.roles
        .delete(&RoleName::from(writer.clone()))
        .await
        .expect("deleted when tried again");
    assert_eq!(db.table_owner("early").await, db.protected);
}

#[tokio::test]
async fn a_definer_routine_made_as_the_user_during_its_delete_never_reaches_the_protected_user() {
    let db = test_db().await;

    let (writer, _, deleted) = delete_while_its_code_runs(
        &db,
        "spawner",
        "CREATE FUNCTION public.evil() RETURNS text LANGUAGE sql SECURITY DEFINER
           AS 'SELECT current_user::text';",
    )
    .await;

    match deleted {
        Err(error @ RoleError::ActedWhileDeleted { .. }) => {
            assert!(
                error.to_string().contains("function public.evil()"),
                "{error}"
            );
        }
        other => panic!("expected the delete to stop, got {other:?}"),
    }
    assert_eq!(routine_facts(&db, "evil").await, (true, writer.to_string()));

    let target = RoleName::from(writer.clone());
    db.roles
        .delete(&target)
        .await
        .expect("deleted when tried again");
    assert_eq!(
        routine_facts(&db, "evil").await,
        (false, db.protected.clone()),
        "it reaches the protected user running as its caller"
    );
}

#[tokio::test]
async fn a_view_made_as_the_user_during_its_delete_never_reads_as_the_protected_user() {
    let db = test_db().await;
    db.connect_as_protected()
        .await
        .batch_execute("CREATE TABLE secret (v text); INSERT INTO secret VALUES ('mine');")
        .await
        .unwrap();

    let (writer, _, deleted) = delete_while_its_code_runs(
        &db,
        "viewer",
        "CREATE VIEW public.steal AS SELECT * FROM public.secret;
         GRANT SELECT ON public.steal TO PUBLIC;",
    )
    .await;

    match deleted {
        Err(error @ RoleError::ActedWhileDeleted { .. }) => {
            assert!(error.to_string().contains("view public.steal"), "{error}");
        }
        other => panic!("expected the delete to stop, got {other:?}"),
    }
    let owner: String = db
        .admin()
        .await
        .query_one(
            "SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 'steal'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(owner, writer.as_str(), "nothing moved");
}

#[tokio::test]
async fn while_a_delete_waits_the_users_definer_routines_run_as_their_caller() {
    let db = test_db().await;
    let (writer, secret) = db.create_user("definer", Access::ReadWrite).await;
    db.run_as(
        &writer,
        &secret,
        "CREATE TABLE held (v int);
         CREATE FUNCTION whoami() RETURNS text LANGUAGE sql SECURITY DEFINER
           AS 'SELECT current_user::text';",
    )
    .await;
    let holder = db.admin().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE public.held IN ACCESS SHARE MODE;")
        .await
        .unwrap();
    let caller = db.connect_as_protected().await;
    let target = RoleName::from(writer.clone());

    let (deleted, during) = tokio::join!(db.roles.delete(&target), async {
        // The lock-out is done once the delete waits for the table.
        db.until_waiting_for("relation = 'public.held'::regclass")
            .await;
        let during: String = caller
            .query_one("SELECT public.whoami()", &[])
            .await
            .unwrap()
            .get(0);
        holder.batch_execute("COMMIT").await.unwrap();
        during
    });

    deleted.expect("the delete finishes once the reader lets go");
    assert_eq!(during, db.protected, "not as the user being deleted");
}

#[tokio::test]
async fn a_deleted_users_tables_reach_the_read_write_users_that_were_there_before_them() {
    let db = test_db().await;
    let (leaver, leaver_secret) = db.create_user("leaver", Access::ReadWrite).await;
    let (peer, peer_secret) = db.create_user("peer", Access::ReadWrite).await;
    let (reader, reader_secret) = db.create_user("reader", Access::ReadOnly).await;
    db.run_as(
        &leaver,
        &leaver_secret,
        "CREATE TABLE handed_over (id serial PRIMARY KEY, v int); INSERT INTO handed_over (v) VALUES (1);
         CREATE VIEW handed_over_view AS SELECT * FROM handed_over;",
    )
    .await;
    let peer_client = db
        .connect_as(peer.as_str(), peer_secret.expose())
        .await
        .unwrap();
    peer_client
        .batch_execute(
            "INSERT INTO handed_over (v) VALUES (2); DELETE FROM handed_over WHERE v = 2;",
        )
        .await
        .expect("a peer's table is shared while its maker lives");

    db.roles.delete(&RoleName::from(leaver)).await.unwrap();

    assert_eq!(db.table_owner("handed_over").await, db.protected);
    // Exactly the guide's grants (no TRIGGER or REFERENCES beyond them
    // would be wrong, nor fewer); a view reads with the rights of whoever
    // queries it (15+) or is granted to nobody (14): never with its owner's,
    // now the protected user's.
    let granted = |object: &str, privilege: &str| {
        format!("SELECT has_table_privilege('{peer}', '{object}', '{privilege}')::int::bigint")
    };
    for privilege in ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"] {
        assert_eq!(
            db.count(&granted("handed_over", privilege)).await,
            1,
            "{privilege}"
        );
    }
    for privilege in ["TRIGGER", "REFERENCES"] {
        assert_eq!(
            db.count(&granted("handed_over", privilege)).await,
            0,
            "{privilege}"
        );
    }
    let invoker_view = db
        .count(
            "SELECT count(*) FROM pg_class
              WHERE relname = 'handed_over_view'
                AND 'security_invoker=true' = ANY (reloptions)",
        )
        .await;
    let view_granted = db.count(&granted("handed_over_view", "SELECT")).await;
    if db.version_num().await >= 150_000 {
        assert_eq!(invoker_view, 1, "the view reads with its reader's rights");
    } else {
        assert_eq!(view_granted, 0, "the view is granted to nobody");
    }
    // Its sequence too: the serial column's default works for the peer.
    peer_client
        .batch_execute("INSERT INTO handed_over (v) VALUES (2); UPDATE handed_over SET v = v + 1;")
        .await
        .expect("the peer writes the handed-over table");
    let reader_client = db
        .connect_as(reader.as_str(), reader_secret.expose())
        .await
        .unwrap();
    let rows: i64 = reader_client
        .query_one("SELECT count(*) FROM handed_over", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 2);
    assert_eq!(
        sqlstate(
            reader_client
                .batch_execute("INSERT INTO handed_over (v) VALUES (3)")
                .await
        ),
        "42501",
        "the reader still only reads"
    );
}

#[tokio::test]
async fn a_delete_while_another_delete_of_the_same_user_runs_is_refused_as_busy_and_the_first_goes_on()
 {
    let db = test_db().await;
    let (name, secret) = db.create_user("twice", Access::ReadWrite).await;
    let target = RoleName::from(name.clone());

    let (first, second) = db
        .while_deleting(&name, &secret, db.roles.delete(&target))
        .await;

    assert!(matches!(second, Err(RoleError::Busy)), "{second:?}");
    first.expect("the first delete goes on");
    assert!(!db.role_exists(name.as_str()).await);
}

#[tokio::test]
async fn a_delete_sent_right_after_a_delete_says_the_user_does_not_exist_not_busy() {
    let db = test_db().await;
    // Its lock is let go when the delete answers, not a moment later when
    // its connection's server process has exited.
    for _ in 0..5 {
        let (name, _) = db.create_user("twice", Access::ReadWrite).await;
        let name = RoleName::from(name);
        db.roles.delete(&name).await.unwrap();

        let again = db.roles.delete(&name).await;

        assert!(matches!(again, Err(RoleError::NotFound(_))), "{again:?}");
    }
}

/// The user's connection limit, comment and whether its routine `name`
/// is SECURITY DEFINER, as the catalog has them.
async fn lock_out_facts(
    db: &crate::helpers::TestDb,
    user: &str,
    routine: &str,
) -> (i32, Option<String>, bool) {
    let row = db
        .admin()
        .await
        .query_one(
            "SELECT r.rolconnlimit, shobj_description(r.oid, 'pg_authid'),
                    (SELECT prosecdef FROM pg_proc WHERE proname = $2)
               FROM pg_roles r WHERE r.rolname = $1",
            &[&user, &routine],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

/// Deletes `name` with the CLI while another session holds its table
/// `table`, and kills the process (as an ended command or a crash would)
/// once it has locked the user out, waiting for that lock: nothing of
/// that process is left to undo it.
async fn delete_cut_after_its_lock_out(db: &crate::helpers::TestDb, name: &RoleName, table: &str) {
    let holder = db.admin().await;
    holder
        .batch_execute(&format!(
            "BEGIN; LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
            ident(table)
        ))
        .await
        .unwrap();
    let comment = || async {
        db.admin()
            .await
            .query_one(
                "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1",
                &[&name.as_str()],
            )
            .await
            .unwrap()
            .get::<_, Option<String>>(0)
    };
    let before = comment().await;
    let started = std::time::Instant::now();
    'cut: loop {
        let mut child = crate::helpers::pgusers_binary()
            .env("DATABASE_URL", db.database_url())
            .env("PGUSERS_STATE_URL", db.state_url())
            .args(["database-users-delete", name.as_str()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        loop {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "the CLI's delete locks the user out"
            );
            let now = comment().await;
            if now != before
                && now
                    .as_deref()
                    .is_some_and(|c| c.starts_with("pgusers: being deleted"))
            {
                child.kill().unwrap();
                child.wait().unwrap();
                break 'cut;
            }
            // Busy: an earlier cut delete's session is still there.
            if child.try_wait().unwrap().is_some() {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue 'cut;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    holder.batch_execute("ROLLBACK").await.unwrap();
}

/// Resets `target`'s password once a cut delete's session has gone (it
/// goes a moment after its client); the password.
async fn reset_once_no_delete_runs(
    db: &crate::helpers::TestDb,
    target: &RoleName,
) -> pgusers::domain::Password {
    loop {
        match db.roles.reset_password(target).await {
            Err(RoleError::Busy) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            other => break other.expect("the reset is done"),
        }
    }
}

/// A read-write user with table `{stem}_table` and SECURITY DEFINER
/// function `{stem}_routine()`; its name and password.
async fn user_with_table_and_definer(
    db: &crate::helpers::TestDb,
    prefix: &str,
    stem: &str,
) -> (pgusers::domain::Username, pgusers::domain::Password) {
    let (name, secret) = db.create_user(prefix, Access::ReadWrite).await;
    db.run_as(
        &name,
        &secret,
        &format!(
            "CREATE TABLE {stem}_table (v int);
             CREATE FUNCTION {stem}_routine() RETURNS int LANGUAGE sql SECURITY DEFINER
                 AS 'SELECT 1';"
        ),
    )
    .await;
    (name, secret)
}

#[tokio::test]
async fn a_delete_dropped_half_way_is_undone_in_the_background() {
    let db = test_db().await;
    let (name, secret) = db.create_user("dropped", Access::ReadWrite).await;
    db.run_as(&name, &secret, "CREATE TABLE dropped_table (v int)")
        .await;
    let target = RoleName::from(name.clone());
    let holder = db.admin().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE dropped_table IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();

    // A request whose client went away, once the user is locked out and
    // the delete waits for the table: its future is dropped.
    let cut = tokio::select! {
        deleted = db.roles.delete(&target) => Err(deleted),
        limit = async {
            db.until_waiting_for("relation = 'public.dropped_table'::regclass")
                .await;
            db.listed(name.as_str()).await.connection_limit
        } => Ok(limit),
    };
    holder.batch_execute("ROLLBACK").await.unwrap();

    assert_eq!(
        cut.expect("the delete waited for the table"),
        Some(0),
        "locked out when its request went away"
    );
    let started = std::time::Instant::now();
    loop {
        let listed = db.listed(name.as_str()).await;
        if listed.connection_limit.is_none() {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "the lock-out is undone by itself: {listed:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    db.connect_as(name.as_str(), secret.expose())
        .await
        .expect("the user logs in again");
}

#[tokio::test]
async fn a_delete_cut_off_after_its_lock_out_is_undone_by_the_next_change_whose_password_works() {
    let db = test_db().await;
    let (name, _) = user_with_table_and_definer(&db, "cutoff", "cut").await;
    db.admin()
        .await
        .batch_execute(&format!(
            "ALTER ROLE {user} CONNECTION LIMIT 7; COMMENT ON ROLE {user} IS 'the team''s \"note\"'",
            user = ident(name.as_str())
        ))
        .await
        .unwrap();
    let target = RoleName::from(name.clone());

    delete_cut_after_its_lock_out(&db, &target, "cut_table").await;

    let (limit, comment, definer) = lock_out_facts(&db, name.as_str(), "cut_routine").await;
    assert_eq!(limit, 0, "locked out, and nobody left to undo it");
    assert!(!definer);
    assert_ne!(comment.as_deref(), Some("the team's \"note\""), "recorded");
    let password = reset_once_no_delete_runs(&db, &target).await;
    db.connect_as(name.as_str(), password.expose())
        .await
        .expect("the password just handed out works");
    assert_eq!(
        lock_out_facts(&db, name.as_str(), "cut_routine").await,
        (7, Some("the team's \"note\"".to_owned()), true),
        "its limit, comment and routine are as before the delete"
    );
    assert_eq!(
        db.table_owner("cut_table").await,
        name.as_str(),
        "nothing moved"
    );
    // A delete then goes through, whatever the earlier one left.
    db.roles.delete(&target).await.unwrap();
    assert!(!db.role_exists(name.as_str()).await);
    assert_eq!(db.table_owner("cut_table").await, db.protected);
}

#[tokio::test]
async fn a_delete_after_a_cut_off_one_records_what_the_user_had_before_either() {
    let db = test_db().await;
    let (name, _) = user_with_table_and_definer(&db, "twicecut", "twice").await;
    let target = RoleName::from(name.clone());
    delete_cut_after_its_lock_out(&db, &target, "twice_table").await;

    // The second delete finds the first one's lock-out: it must not take
    // it for what the user had.
    delete_cut_after_its_lock_out(&db, &target, "twice_table").await;

    let password = reset_once_no_delete_runs(&db, &target).await;
    db.connect_as(name.as_str(), password.expose())
        .await
        .expect("the user logs in again");
    assert_eq!(
        lock_out_facts(&db, name.as_str(), "twice_routine").await,
        (-1, None, true)
    );
}

#[tokio::test]
async fn a_password_change_rename_or_end_of_sessions_while_a_delete_of_the_user_runs_is_refused_as_busy()
 {
    let db = test_db().await;
    let (name, secret) = db.create_user("during", Access::ReadWrite).await;
    let target = RoleName::from(name.clone());

    // (The three at once: one after another, on a loaded machine, they
    // took about 3 s, as long as the delete waits for the table held
    // meanwhile before it gives up.)
    let (chosen_password, new_name) = (
        crate::helpers::password(),
        crate::helpers::username("renamed"),
    );
    let (deleted, (reset, chosen, renamed)) = db
        .while_deleting(&name, &secret, async {
            tokio::join!(
                db.roles.reset_password(&target),
                db.roles.set_password(&target, &chosen_password),
                db.roles.rename(&target, &new_name),
            )
        })
        .await;

    assert!(matches!(reset, Err(RoleError::Busy)), "{reset:?}");
    assert!(matches!(chosen, Err(RoleError::Busy)), "{chosen:?}");
    assert!(matches!(renamed, Err(RoleError::Busy)), "{renamed:?}");
    deleted.expect("the delete goes on");
}

#[tokio::test]
async fn a_lock_out_record_pgusers_did_not_write_is_never_trusted() {
    let db = test_db().await;
    let (name, _) = db.create_user("forged", Access::ReadWrite).await;
    let target = RoleName::from(name.clone());
    // Another administrator's session, alive, that a record may name.
    let other = db.admin().await;
    let (pid, admin): (i32, u32) = {
        let row = other
            .query_one(
                "SELECT pg_backend_pid(), (SELECT oid FROM pg_roles WHERE rolname = current_user)",
                &[],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    let records = [
        // Not JSON at all.
        "pgusers: being deleted; before: {".to_owned(),
        // A connection limit PostgreSQL refuses.
        format!(
            "pgusers: being deleted; before: {{\"limit\":-2,\"database\":0,\"definers\":[],\
             \"comment\":null,\"pid\":{pid},\"admin\":{admin},\"started\":0}}"
        ),
        // A live session that is not the delete's (another role's, whose
        // start pgusers' role does not see, or its own with another
        // start), which would keep the user busy while it lives.
        format!(
            "pgusers: being deleted; before: {{\"limit\":5,\"database\":0,\"definers\":[],\
             \"comment\":\"restored\",\"pid\":{pid},\"admin\":{admin},\"started\":0}}"
        ),
    ];
    for (i, record) in records.iter().enumerate() {
        db.admin()
            .await
            .batch_execute(&format!(
                "COMMENT ON ROLE {} IS {}",
                ident(name.as_str()),
                postgres_protocol::escape::escape_literal(record)
            ))
            .await
            .unwrap();

        let reset = db.roles.reset_password(&target).await;

        let password = reset.unwrap_or_else(|e| panic!("record {i}: {e:?}"));
        db.connect_as(name.as_str(), password.expose())
            .await
            .unwrap_or_else(|e| panic!("record {i}: {e:?}"));
        let row = db
            .admin()
            .await
            .query_one(
                "SELECT rolconnlimit, shobj_description(oid, 'pg_authid') FROM pg_roles
                  WHERE rolname = $1",
                &[&name.as_str()],
            )
            .await
            .unwrap();
        let (limit, comment): (i32, Option<String>) = (row.get(0), row.get(1));
        match i {
            // Unreadable: left as it is, nothing restored from it.
            0 | 1 => {
                assert_eq!(limit, -1, "record {i}");
                assert_eq!(comment.as_deref(), Some(record.as_str()), "record {i}");
            }
            // Readable, and no session of pgusers' own role with that start
            // runs it: an interrupted delete's, undone.
            _ => assert_eq!(comment.as_deref(), Some("restored"), "record {i}"),
        }
    }
}
