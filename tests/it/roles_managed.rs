//! The role module under either kind of administrator (a superuser, or a
//! managed service's CREATEROLE master: `PGUSERS_TEST_ADMIN=createrole`):
//! what it takes for itself, what it refuses, and what it lists.

use pgusers::domain::{NewPassword, Password, RoleName};
use pgusers::roles::{Access, RoleError, RoleManager};

use crate::helpers::{
    AdminKind, TestDb, admin_kind, createrole_admin, ident, password, sqlstate, test_db,
    unique_name,
};

const INSUFFICIENT_PRIVILEGE: &str = "42501";

#[tokio::test]
async fn the_admin_takes_inherit_but_never_set_on_the_read_write_users_it_makes() {
    let db = test_db().await;
    let (writer, _) = db.create_user("rw", Access::ReadWrite).await;
    let (reader, _) = db.create_user("ro", Access::ReadOnly).await;

    let memberships = |user: String| {
        let db = &db;
        async move {
            db.admin()
                .await
                .query(
                    "SELECT pg_has_role($2::text, $1::text, 'USAGE'),
                            pg_has_role($2::text, $1::text, 'MEMBER'),
                            (SELECT rolsuper FROM pg_roles WHERE rolname = $2)",
                    &[&user, &db.admin_in_use()],
                )
                .await
                .unwrap()
                .into_iter()
                .map(|row| {
                    (
                        row.get::<_, bool>(0),
                        row.get::<_, bool>(1),
                        row.get::<_, bool>(2),
                    )
                })
                .next()
                .unwrap()
        }
    };
    let (uses_writer, _, superuser) = memberships(writer.to_string()).await;
    let (uses_reader, _, _) = memberships(reader.to_string()).await;
    assert_eq!(
        superuser,
        admin_kind() == AdminKind::Superuser,
        "pgusers never makes its role a superuser"
    );
    assert!(
        uses_writer,
        "the admin has the read-write user's privileges"
    );
    if !superuser {
        assert!(!uses_reader, "nothing is taken on a read-only user");
    }
    if !superuser && db.version_num().await >= 160_000 {
        let set: bool = db
            .admin()
            .await
            .query_one(
                "SELECT bool_or(m.set_option) FROM pg_auth_members m
                  WHERE m.roleid = $1::text::regrole AND m.member = $2::text::regrole",
                &[&writer.as_str(), &db.admin_in_use()],
            )
            .await
            .unwrap()
            .get(0);
        assert!(!set, "the admin cannot SET ROLE to the users it makes");
    }
}

#[tokio::test]
async fn a_read_write_user_is_made_after_the_admin_lost_the_protected_users_privileges() {
    let db = test_db().await;
    let admin = ident(&db.admin_in_use());
    let protected = ident(&db.protected);
    if admin_kind() == AdminKind::CreateRole {
        if db.version_num().await >= 160_000 {
            // Keep the grant (and its SET, to hand the database over), drop INHERIT.
            db.as_admin_in_use()
                .await
                .batch_execute(&format!("GRANT {protected} TO {admin} WITH INHERIT FALSE"))
                .await
                .unwrap();
        } else {
            db.admin()
                .await
                .batch_execute(&format!("REVOKE {protected} FROM {admin}"))
                .await
                .unwrap();
        }
    }

    let (writer, secret) = db.create_user("rw", Access::ReadWrite).await;

    let as_protected = db.connect_as_protected().await;
    as_protected
        .batch_execute("CREATE TABLE later (v int)")
        .await
        .unwrap();
    db.run_as(&writer, &secret, "INSERT INTO later VALUES (1)")
        .await;
    assert_eq!(db.count("SELECT count(*) FROM later").await, 1);
}

#[tokio::test]
async fn a_user_the_admin_made_by_hand_is_deleted_keeping_its_tables_and_ending_its_sessions() {
    let db = test_db().await;
    let name = unique_name("by_hand");
    let secret = password();
    db.make_role_as_admin(&name, &secret, "").await;
    db.as_admin_in_use()
        .await
        .batch_execute(&format!(
            "GRANT CREATE ON SCHEMA public TO {}",
            ident(&name)
        ))
        .await
        .unwrap();
    let session = db.connect_as(&name, secret.expose()).await.unwrap();
    session
        .batch_execute("CREATE TABLE kept (v int); INSERT INTO kept VALUES (7);")
        .await
        .unwrap();

    db.roles
        .delete(&RoleName::parse(&name).unwrap())
        .await
        .unwrap();

    assert!(!db.role_exists(&name).await);
    assert_eq!(db.table_owner("kept").await, db.protected);
    let value: i32 = db
        .connect_as_protected()
        .await
        .query_one("SELECT v FROM kept", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(value, 7);
    assert!(
        session.batch_execute("SELECT 1").await.is_err(),
        "the open session was ended"
    );
}

#[tokio::test]
async fn when_pgusers_connects_as_the_protected_user_it_is_listed_as_protected() {
    let db = test_db().await;
    let admin = db.admin_in_use();
    let roles = RoleManager::new(db.roles_config(), 1, Some(RoleName::parse(&admin).unwrap()));

    let listed = roles.list().await.unwrap();

    let row = listed
        .iter()
        .find(|u| u.username == admin)
        .unwrap_or_else(|| panic!("{admin} is listed: {listed:?}"));
    assert!(row.protected && !row.manageable());
    let target = RoleName::parse(&admin).unwrap();
    for result in [
        roles.reset_password(&target).await.map(|_| ()),
        roles.delete(&target).await,
    ] {
        assert!(matches!(result, Err(RoleError::Protected(_))), "{result:?}");
    }
    assert!(db.role_exists(&admin).await);
}

#[tokio::test]
async fn a_read_only_user_is_never_made_able_to_create_tables_when_everyone_may_create_in_public() {
    let db = test_db().await;
    db.open_public_schema_to_everyone().await;
    let name = crate::helpers::username("ro");
    let secret = Password::generate();

    let created = db
        .roles
        .create(&name, NewPassword::Chosen(secret.clone()), Access::ReadOnly)
        .await;

    match admin_kind() {
        AdminKind::Superuser => {
            created.unwrap();
            let client = db.connect_as(name.as_str(), secret.expose()).await.unwrap();
            assert_eq!(
                sqlstate(client.batch_execute("CREATE TABLE mine (v int)").await),
                INSUFFICIENT_PRIVILEGE
            );
        }
        AdminKind::CreateRole => {
            match created {
                Err(error @ RoleError::MissingPrivilege { .. }) => {
                    let message = error.to_string();
                    assert!(
                        message.contains("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
                            && message.contains("\"postgres\""),
                        "{message}"
                    );
                    assert!(!message.contains("permission denied"), "{message}");
                }
                other => panic!("expected a refusal naming the REVOKE, got {other:?}"),
            }
            assert!(!db.role_exists(name.as_str()).await, "nothing was made");
        }
    }
}

#[tokio::test]
async fn a_grant_pgusers_cannot_revoke_stops_the_delete_with_the_revoke_to_run_and_changes_nothing()
{
    let db = test_db().await;
    let (user, secret) = db.create_user("granted", Access::ReadOnly).await;
    // A table of the superuser's, shared with the user by its owner.
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE TABLE theirs (v int); GRANT SELECT ON theirs TO {}",
            ident(user.as_str())
        ))
        .await
        .unwrap();

    let deleted = db.roles.delete(&RoleName::from(user.clone())).await;

    match admin_kind() {
        AdminKind::Superuser => {
            deleted.unwrap();
            assert!(!db.role_exists(user.as_str()).await);
        }
        AdminKind::CreateRole => {
            match deleted {
                Err(error @ RoleError::MissingPrivilege { .. }) => {
                    let message = error.to_string();
                    assert!(
                        message.contains(&format!(
                            "REVOKE ALL ON TABLE public.theirs FROM {};",
                            ident(user.as_str())
                        )),
                        "{message}"
                    );
                }
                other => panic!("expected a refusal naming the REVOKE, got {other:?}"),
            }
            assert!(db.role_exists(user.as_str()).await, "nothing was deleted");
            db.connect_as(user.as_str(), secret.expose())
                .await
                .expect("the user still logs in");
        }
    }
}

#[tokio::test]
async fn a_group_another_role_made_is_refused_on_16_and_later_with_the_grant_that_fixes_it() {
    for (group, access) in [
        ("pgusers-readonly", Access::ReadOnly),
        ("pgusers-writers", Access::ReadWrite),
    ] {
        let db = test_db().await;
        // As when the database was managed by another admin before.
        let group = format!("{group}-{}", db.name);
        db.admin()
            .await
            .batch_execute(&format!("CREATE ROLE {} NOLOGIN", ident(&group)))
            .await
            .unwrap();
        let name = crate::helpers::username("grp");

        let created = db.roles.create(&name, NewPassword::Generate, access).await;

        if admin_kind() == AdminKind::CreateRole && db.version_num().await >= 160_000 {
            match created {
                Err(error @ RoleError::MissingPrivilege { .. }) => {
                    let grant = format!(
                        "GRANT {} TO {} WITH ADMIN OPTION;",
                        ident(&group),
                        ident(&db.admin_in_use())
                    );
                    assert!(error.to_string().contains(&grant), "{error}");
                }
                other => panic!("expected a refusal naming the GRANT, got {other:?}"),
            }
            assert!(!db.role_exists(name.as_str()).await, "nothing was made");
        } else {
            created.unwrap();
            assert_eq!(
                db.listed(name.as_str()).await.read_only,
                access == Access::ReadOnly
            );
        }
    }
}

#[tokio::test]
async fn a_table_the_admin_cannot_share_stops_a_new_user_with_the_grant_to_run() {
    let db = test_db().await;
    // A table of the superuser's, whose privileges only it may give away.
    db.admin()
        .await
        .batch_execute("CREATE TABLE theirs (v int); INSERT INTO theirs VALUES (7);")
        .await
        .unwrap();

    for (access, privileges) in [
        (Access::ReadOnly, "SELECT"),
        (
            Access::ReadWrite,
            "SELECT, INSERT, UPDATE, DELETE, TRUNCATE",
        ),
    ] {
        let name = crate::helpers::username("new");
        let secret = Password::generate();

        let created = db
            .roles
            .create(&name, NewPassword::Chosen(secret.clone()), access)
            .await;

        match admin_kind() {
            AdminKind::Superuser => {
                created.unwrap();
                let client = db.connect_as(name.as_str(), secret.expose()).await.unwrap();
                let row = client.query_one("SELECT v FROM theirs", &[]).await;
                assert_eq!(row.unwrap().get::<_, i32>(0), 7, "{access:?}");
            }
            AdminKind::CreateRole => {
                match created {
                    Err(error @ RoleError::MissingPrivilege { .. }) => {
                        let message = error.to_string();
                        let grant = format!(
                            "GRANT {privileges} ON TABLE public.theirs TO {} WITH GRANT OPTION;",
                            ident(&db.admin_in_use())
                        );
                        assert!(message.contains(&grant), "{message}");
                        assert!(!message.contains("permission denied"), "{message}");
                        // The GRANT it names is the fix.
                        db.admin().await.batch_execute(&grant).await.unwrap();
                    }
                    other => panic!("expected a refusal naming the GRANT, got {other:?}"),
                }
                assert!(!db.role_exists(name.as_str()).await, "nothing was made");
                db.roles
                    .create(&name, NewPassword::Chosen(secret.clone()), access)
                    .await
                    .expect("made once the GRANT is run");
                let client = db.connect_as(name.as_str(), secret.expose()).await.unwrap();
                let row = client.query_one("SELECT v FROM theirs", &[]).await;
                assert_eq!(row.unwrap().get::<_, i32>(0), 7, "{access:?}");
            }
        }
    }
}

/// The role module as a new CREATEROLE master (see [`createrole_admin`])
/// with `extra` role options, over `db`, protecting `db`'s protected user.
/// On PostgreSQL 16+, `on_protected` are the options of the protected
/// user's grant to it, as the service that made the protected user gives
/// (`None`: no grant).
async fn as_new_master(
    db: &TestDb,
    extra: &str,
    on_protected: Option<&str>,
) -> (String, RoleManager) {
    let (master, config) = createrole_admin(db, extra).await;
    if let Some(options) = on_protected
        && db.version_num().await >= 160_000
    {
        db.admin()
            .await
            .batch_execute(&format!(
                "GRANT {} TO {} {options}",
                ident(&db.protected),
                ident(&master)
            ))
            .await
            .unwrap();
    }
    if db.version_num().await < 150_000 {
        // Before 15 `public` belongs to the bootstrap superuser: the
        // service lets its master grant there (see docs/managed-postgresql.md).
        db.admin()
            .await
            .batch_execute(&format!(
                "GRANT CREATE, USAGE ON SCHEMA public TO {} WITH GRANT OPTION",
                ident(&master)
            ))
            .await
            .unwrap();
    }
    let protected = RoleName::parse(&db.protected).unwrap();
    (master, RoleManager::new(config, 1, Some(protected)))
}

#[tokio::test]
async fn a_superuser_protected_user_is_a_setting_to_fix_never_a_grant_that_makes_the_admin_one() {
    let db = test_db().await;
    db.admin()
        .await
        .batch_execute(&format!("ALTER ROLE {} SUPERUSER", ident(&db.protected)))
        .await
        .unwrap();
    let (_, roles) = as_new_master(&db, "", None).await;
    let name = crate::helpers::username("rw");

    let created = roles
        .create(&name, NewPassword::Generate, Access::ReadWrite)
        .await;

    match created {
        Err(error @ RoleError::Misconfigured(_)) => {
            let message = error.to_string();
            assert!(message.contains("is a superuser"), "{message}");
            assert!(message.contains("PGUSERS_PROTECTED_USER"), "{message}");
            assert!(!message.contains("GRANT"), "{message}");
        }
        other => panic!("expected a setting to fix, got {other:?}"),
    }
    assert!(!db.role_exists(name.as_str()).await, "nothing was made");
}

#[tokio::test]
async fn a_noinherit_admin_before_16_is_told_to_inherit_and_then_works() {
    let db = test_db().await;
    // What the service gives the role that made the protected user.
    let (master, roles) = as_new_master(&db, "NOINHERIT", Some("WITH ADMIN OPTION")).await;
    let v16 = db.version_num().await >= 160_000;
    let name = crate::helpers::username("rw");

    let first = roles
        .create(&name, NewPassword::Generate, Access::ReadWrite)
        .await;

    if v16 {
        // Each grant says INHERIT on 16 and later: the role's default is moot.
        first.expect("made on 16+ whatever the role's INHERIT");
        return;
    }
    match first {
        Err(error @ RoleError::MissingPrivilege { .. }) => {
            let fix = format!("ALTER ROLE {} INHERIT;", ident(&master));
            assert!(error.to_string().contains(&fix), "{error}");
            db.admin().await.batch_execute(&fix).await.unwrap();
        }
        other => panic!("expected a refusal naming ALTER ROLE, got {other:?}"),
    }
    assert!(!db.role_exists(name.as_str()).await, "nothing was made");
    roles
        .create(&name, NewPassword::Generate, Access::ReadWrite)
        .await
        .expect("made once the role inherits");
}

#[tokio::test]
async fn a_database_owned_by_another_role_than_the_protected_user_names_its_owner() {
    let db = test_db().await;
    let owner = unique_name("dbowner");
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {owner} NOLOGIN; ALTER DATABASE {} OWNER TO {owner}",
            ident(&db.name)
        ))
        .await
        .unwrap();
    let (_, roles) = as_new_master(&db, "", Some("WITH ADMIN OPTION")).await;
    let name = crate::helpers::username("rw");

    let first = roles
        .create(&name, NewPassword::Generate, Access::ReadWrite)
        .await;

    match first {
        Err(error @ RoleError::MissingPrivilege { .. }) => {
            let message = error.to_string();
            assert!(
                message.contains(&format!("and its schemas, which belong to \"{owner}\"")),
                "{message}"
            );
            let fix = message
                .split("run: ")
                .nth(1)
                .unwrap_or_else(|| panic!("a statement to run in {message}"));
            assert!(
                fix.starts_with(&format!("GRANT {} TO ", ident(&owner))),
                "{fix}"
            );
            db.admin().await.batch_execute(fix).await.unwrap();
        }
        other => panic!("expected a refusal naming the owner, got {other:?}"),
    }
    assert!(!db.role_exists(name.as_str()).await, "nothing was made");
    roles
        .create(&name, NewPassword::Generate, Access::ReadWrite)
        .await
        .expect("made once the GRANT it named is run");
}

#[tokio::test]
async fn a_deleted_users_functions_reach_the_protected_user_when_the_admin_could_not_set_role_to_it()
 {
    let db = test_db().await;
    // ADMIN OPTION, but not SET: PostgreSQL 16+ asks for SET to give the
    // protected user a function or a type.
    let (_, roles) = as_new_master(&db, "", Some("WITH ADMIN OPTION, SET FALSE")).await;
    let name = crate::helpers::username("coder");
    let secret = Password::generate();
    roles
        .create(
            &name,
            NewPassword::Chosen(secret.clone()),
            Access::ReadWrite,
        )
        .await
        .unwrap();
    db.run_as(
        &name,
        &secret,
        "CREATE FUNCTION helper() RETURNS int LANGUAGE sql AS 'SELECT 1';
         CREATE TYPE mood AS ENUM ('ok');",
    )
    .await;

    roles
        .delete(&RoleName::from(name.clone()))
        .await
        .expect("deleted, its function and type moved");

    assert!(!db.role_exists(name.as_str()).await);
    let owners: Vec<String> = db
        .admin()
        .await
        .query(
            "SELECT pg_get_userbyid(proowner)::text FROM pg_proc WHERE proname = 'helper'
             UNION ALL
             SELECT pg_get_userbyid(typowner)::text FROM pg_type WHERE typname = 'mood'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(owners, [db.protected.clone(), db.protected.clone()]);
}
