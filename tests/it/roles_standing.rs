//! Whose users these are: roles that are more than an application user of
//! this database are listed as not manageable, and every change refuses them.

use pgusers::domain::{NewPassword, RoleName, Username};
use pgusers::roles::{Access, Restriction, RoleError};

use crate::helpers::{AdminKind, TestDb, admin_kind, ident, password, test_db, unique_name};

/// A login role made by hand by the administrator pgusers connects as
/// (outside pgusers), with `extra` SQL run after by the superuser (`{}`
/// stands for its quoted name); its name and password.
async fn role_made_by_hand(db: &TestDb, prefix: &str, extra: &str) -> (String, String) {
    let name = unique_name(prefix);
    let secret = password();
    db.make_role_as_admin(&name, &secret, "").await;
    let quoted = format!("\"{name}\"");
    db.admin()
        .await
        .batch_execute(&extra.replace("{}", &quoted))
        .await
        .expect("the role is given its extras");
    (name, secret.expose().to_owned())
}

/// The stored password verifier, to prove a refused change changed nothing.
async fn verifier(db: &TestDb, name: &str) -> Option<String> {
    db.admin()
        .await
        .query_one(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
            &[&name],
        )
        .await
        .expect("the role exists")
        .get(0)
}

/// Asserts the role is listed with `expected`'s kind of restriction, and
/// that reset, set, rename and delete all refuse it and change nothing.
async fn assert_refused_everywhere(
    db: &TestDb,
    name: &str,
    expected: impl Fn(&Restriction) -> bool,
) {
    let listed = db.listed(name).await;
    // Judged afresh, as the CLI lists: the pages' kept list shows a role
    // made by hand within its bound only (`KEPT_FOR`).
    let mut list = Vec::new();
    db.roles
        .list_in_parts(1000, |part| {
            list.extend_from_slice(part);
            Ok::<_, RoleError>(())
        })
        .await
        .expect("the whole list");
    assert!(
        list.contains(&listed),
        "{name}: the whole list shows it as the narrowed one does: {listed:?}"
    );
    let reason = listed
        .not_manageable
        .clone()
        .unwrap_or_else(|| panic!("{name} should be listed as not manageable"));
    assert!(expected(&reason), "{name}: unexpected reason {reason:?}");
    assert!(!listed.manageable());

    let before = verifier(db, name).await;
    let target = RoleName::parse(name).unwrap();
    let results = [
        db.roles.reset_password(&target).await.map(|_| ()),
        db.roles.set_password(&target, &password()).await,
        db.roles
            .rename(&target, &Username::parse(&unique_name("renamed")).unwrap())
            .await,
        db.roles.ensure_changeable(&target).await,
        db.roles.ownership(&target).await.map(|_| ()),
        db.roles.delete(&target).await,
    ];
    for result in results {
        match result {
            Err(RoleError::NotManageable { user, reason: got }) => {
                assert_eq!(user, name);
                assert_eq!(got, reason);
            }
            other => panic!("{name}: expected NotManageable, got {other:?}"),
        }
    }
    assert!(db.role_exists(name).await, "{name} was not deleted");
    assert_eq!(
        verifier(db, name).await,
        before,
        "{name}'s password is unchanged"
    );
}

#[tokio::test]
async fn members_of_superusers_and_predefined_roles_are_not_manageable() {
    let db = test_db().await;
    let superuser = unique_name("su");
    db.admin()
        .await
        .batch_execute(&format!("CREATE ROLE {superuser} SUPERUSER NOLOGIN"))
        .await
        .unwrap();
    let (of_super, _) =
        role_made_by_hand(&db, "of_super", &format!("GRANT {superuser} TO {{}}")).await;
    let (of_program, _) =
        role_made_by_hand(&db, "of_program", "GRANT pg_execute_server_program TO {}").await;

    assert_refused_everywhere(
        &db,
        &of_super,
        |r| matches!(r, Restriction::MemberOfSuperuser(role) if *role == superuser),
    )
    .await;
    assert_refused_everywhere(&db, &of_program, |r| {
        matches!(r, Restriction::MemberOfPredefined(role) if role == "pg_execute_server_program")
    })
    .await;
}

#[tokio::test]
async fn membership_counts_when_it_is_inherited_through_another_group() {
    let db = test_db().await;
    let group = unique_name("group");
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {group} NOLOGIN; GRANT pg_read_all_data TO {group}"
        ))
        .await
        .unwrap();
    let (indirect, _) = role_made_by_hand(&db, "indirect", &format!("GRANT {group} TO {{}}")).await;

    assert_refused_everywhere(
        &db,
        &indirect,
        |r| matches!(r, Restriction::MemberOfPredefined(role) if role == "pg_read_all_data"),
    )
    .await;
}

#[tokio::test]
async fn roles_with_createrole_replication_or_bypassrls_are_not_manageable() {
    let db = test_db().await;
    let (creator, _) = role_made_by_hand(&db, "creator", "ALTER ROLE {} CREATEROLE").await;
    let (replicator, _) = role_made_by_hand(&db, "replicator", "ALTER ROLE {} REPLICATION").await;
    let (bypasser, _) = role_made_by_hand(&db, "bypasser", "ALTER ROLE {} BYPASSRLS").await;
    let group = unique_name("creators");
    db.admin()
        .await
        .batch_execute(&format!("CREATE ROLE {group} NOLOGIN CREATEROLE"))
        .await
        .unwrap();
    let (of_creator, _) =
        role_made_by_hand(&db, "of_creator", &format!("GRANT {group} TO {{}}")).await;

    assert_refused_everywhere(&db, &creator, |r| *r == Restriction::CreateRole).await;
    assert_refused_everywhere(&db, &replicator, |r| *r == Restriction::Replication).await;
    assert_refused_everywhere(&db, &bypasser, |r| *r == Restriction::BypassRls).await;
    assert_refused_everywhere(
        &db,
        &of_creator,
        |r| matches!(r, Restriction::MemberOfPrivileged(role) if *role == group),
    )
    .await;
}

#[tokio::test]
async fn members_of_the_protected_user_or_of_a_database_owner_are_not_manageable() {
    let db = test_db().await;
    let other = test_db().await;
    let (of_protected, secret) = role_made_by_hand(
        &db,
        "of_protected",
        &format!("GRANT \"{}\" TO {{}}", db.protected),
    )
    .await;
    let (of_owner, _) = role_made_by_hand(
        &db,
        "of_owner",
        &format!("GRANT \"{}\" TO {{}}", other.protected),
    )
    .await;

    assert_refused_everywhere(
        &db,
        &of_protected,
        |r| matches!(r, Restriction::MemberOfProtected(role) if *role == db.protected),
    )
    .await;
    assert_refused_everywhere(
        &db,
        &of_owner,
        |r| matches!(r, Restriction::MemberOfDatabaseOwner(role) if *role == other.protected),
    )
    .await;
    // The reason is real: this member can act as the protected user.
    let client = db.connect_as(&of_protected, &secret).await.unwrap();
    client
        .batch_execute(&format!("SET ROLE \"{}\"", db.protected))
        .await
        .expect("a member of the protected user can become it");
}

#[tokio::test]
async fn users_of_another_database_of_the_server_are_not_manageable_here() {
    let db = test_db().await;
    let other = test_db().await;
    let (reader_there, _) = other.create_user("reader_there", Access::ReadOnly).await;
    let (writer_there, _) = other.create_user("writer_there", Access::ReadWrite).await;
    let (granted_there, _) = role_made_by_hand(
        &db,
        "granted_there",
        &format!("GRANT CONNECT ON DATABASE \"{}\" TO {{}}", other.name),
    )
    .await;

    assert_refused_everywhere(
        &db,
        reader_there.as_str(),
        |r| matches!(r, Restriction::ReaderElsewhere(group) if group.ends_with(&other.name)),
    )
    .await;
    assert_refused_everywhere(
        &db,
        writer_there.as_str(),
        |r| matches!(r, Restriction::WriterElsewhere(group) if group.ends_with(&other.name)),
    )
    .await;
    assert_refused_everywhere(
        &db,
        granted_there.as_str(),
        |r| matches!(r, Restriction::UserElsewhere(databases) if *databases == other.name),
    )
    .await;
    // Carrying only the other database's mark: pgusers made it for that
    // one (a database renamed or gone leaves a mark that does not count).
    let (made_there, _) = role_made_by_hand(
        &db,
        "made_there",
        &format!("GRANT \"pgusers-users-{}\" TO {{}}", other.name),
    )
    .await;
    assert_refused_everywhere(
        &db,
        &made_there,
        |r| matches!(r, Restriction::MadeElsewhere(mark) if mark.ends_with(&other.name)),
    )
    .await;
    let (stale_mark, _) = role_made_by_hand(
        &db,
        "stale_mark",
        "CREATE ROLE \"pgusers-users-gone_db\" NOLOGIN; GRANT \"pgusers-users-gone_db\" TO {}",
    )
    .await;
    assert!(db.listed(&stale_mark).await.manageable());
    db.admin()
        .await
        .batch_execute("DROP ROLE \"pgusers-users-gone_db\"")
        .await
        .unwrap();

    // In their own database they are ordinary users.
    let theirs = other.roles.list().await.unwrap();
    for user in [reader_there.as_str(), writer_there.as_str()] {
        let listed = theirs.iter().find(|u| u.username == user).unwrap();
        assert!(listed.manageable(), "{user} is managed by its own database");
    }
}

#[tokio::test]
async fn application_users_of_this_database_stay_manageable() {
    let db = test_db().await;
    let (writer, _) = db.create_user("writer", Access::ReadWrite).await;
    let (reader, _) = db.create_user("reader", Access::ReadOnly).await;
    let (by_hand, _) = role_made_by_hand(&db, "by_hand", "").await;
    // A member of an ordinary application user is no more than that user.
    let (of_writer, _) =
        role_made_by_hand(&db, "of_writer", &format!("GRANT \"{writer}\" TO {{}}")).await;

    let listed = db.roles.list().await.unwrap();
    for user in [
        writer.as_str(),
        reader.as_str(),
        by_hand.as_str(),
        of_writer.as_str(),
    ] {
        let row = listed.iter().find(|u| u.username == user).unwrap();
        assert_eq!(row.not_manageable, None, "{user}");
        assert!(row.manageable(), "{user}");
        db.roles
            .ensure_changeable(&RoleName::parse(user).unwrap())
            .await
            .unwrap_or_else(|e| panic!("{user}: {e}"));
    }
    db.roles
        .update_password(&RoleName::parse(&of_writer).unwrap(), NewPassword::Generate)
        .await
        .expect("a member of an application user can be reset");
}

#[tokio::test]
async fn a_name_matching_two_case_twins_made_elsewhere_already_exists() {
    let db = test_db().await;
    let base = unique_name("twin");
    let (upper, mixed) = (base.to_uppercase(), format!("T{}", &base[1..]));
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE \"{upper}\" LOGIN; CREATE ROLE \"{mixed}\" LOGIN;"
        ))
        .await
        .unwrap();

    let result = db
        .roles
        .create(
            &Username::parse(&base).unwrap(),
            NewPassword::Generate,
            Access::ReadWrite,
        )
        .await;

    match result {
        Err(RoleError::AlreadyExists(name)) => assert!(name == upper || name == mixed),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert!(!db.role_exists(&base).await);
}

#[tokio::test]
async fn a_users_function_named_like_a_built_in_never_runs_as_the_administrator() {
    let db = test_db().await;
    let (writer, secret) = db.create_user("shadow", Access::ReadWrite).await;
    let admin_name: String = db
        .admin()
        .await
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    let client = db
        .connect_as(writer.as_str(), secret.expose())
        .await
        .unwrap();
    // The trap: a better match for the argument types than the built-ins,
    // in `public` and in a schema named after the administrator.
    // Each returns what the built-in would, so nothing looks wrong.
    let trap = |schema: &str, function: &str, returns: &str| {
        format!(
            "CREATE FUNCTION \"{schema}\".{function}(name) RETURNS {returns} LANGUAGE plpgsql AS $$
             BEGIN
               IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
                 EXECUTE 'ALTER ROLE {writer} SUPERUSER';
               END IF;
               RETURN pg_catalog.{function}($1::text);
             END $$;"
        )
    };
    client
        .batch_execute(&format!(
            "CREATE SCHEMA \"{admin_name}\"; {} {} {}",
            trap("public", "octet_length", "int"),
            trap(&admin_name, "octet_length", "int"),
            trap("public", "lower", "text"),
        ))
        .await
        .unwrap();

    db.roles.list().await.unwrap();
    db.roles
        .create(
            &crate::helpers::username("after"),
            NewPassword::Generate,
            Access::ReadOnly,
        )
        .await
        .unwrap();
    db.roles
        .ensure_changeable(&RoleName::from(writer.clone()))
        .await
        .unwrap();

    let superuser: bool = db
        .admin()
        .await
        .query_one(
            "SELECT rolsuper FROM pg_roles WHERE rolname = $1",
            &[&writer.as_str()],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        !superuser,
        "the user's function did not run as the administrator"
    );
}

#[tokio::test]
async fn privileges_on_server_wide_objects_make_a_role_not_manageable() {
    let db = test_db().await;
    let (tablespace_user, _) = role_made_by_hand(
        &db,
        "ts_user",
        "GRANT CREATE ON TABLESPACE pg_default TO {}",
    )
    .await;
    let group = unique_name("ts_group");
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {group} NOLOGIN; GRANT CREATE ON TABLESPACE pg_default TO {group}"
        ))
        .await
        .unwrap();
    let (of_group, _) = role_made_by_hand(&db, "of_ts", &format!("GRANT {group} TO {{}}")).await;

    assert_refused_everywhere(&db, &tablespace_user, |r| {
        matches!(r, Restriction::ServerWide(objects) if objects.contains("tablespace pg_default"))
    })
    .await;
    assert_refused_everywhere(
        &db,
        &of_group,
        |r| matches!(r, Restriction::MemberOfServerWide { role, .. } if *role == group),
    )
    .await;

    let version: i32 = db
        .admin()
        .await
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .unwrap()
        .get(0);
    if version >= 150_000 {
        // PostgreSQL 15 added grants on parameters; ALTER SYSTEM leads to
        // running commands as the server.
        let (parameter_user, _) = role_made_by_hand(
            &db,
            "param",
            "GRANT ALTER SYSTEM ON PARAMETER archive_command TO {}",
        )
        .await;
        assert_refused_everywhere(&db, &parameter_user, |r| {
            matches!(r, Restriction::ServerWide(objects) if objects.contains("archive_command"))
        })
        .await;
    }
}

#[tokio::test]
async fn grants_on_system_catalogs_or_functions_beyond_publics_make_a_role_not_manageable() {
    let db = test_db().await;
    let (file_reader, _) = role_made_by_hand(
        &db,
        "file_reader",
        "GRANT EXECUTE ON FUNCTION pg_read_binary_file(text) TO {}",
    )
    .await;
    let (hash_reader, _) =
        role_made_by_hand(&db, "hash_reader", "GRANT SELECT ON pg_authid TO {}").await;

    assert_refused_everywhere(&db, &file_reader, |r| {
        matches!(r, Restriction::PrivilegedObjects(objects) if objects.contains("pg_read_binary_file"))
    })
    .await;
    assert_refused_everywhere(
        &db,
        &hash_reader,
        |r| matches!(r, Restriction::PrivilegedObjects(objects) if objects.contains("pg_authid")),
    )
    .await;
}

#[tokio::test]
async fn createdb_a_privileged_definer_function_or_owning_public_make_a_role_not_manageable() {
    let db = test_db().await;
    let (creator, _) = role_made_by_hand(&db, "dbcreator", "ALTER ROLE {} CREATEDB").await;
    let runner = unique_name("runner");
    let function = unique_name("admin_exec");
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {runner} LOGIN;
             CREATE FUNCTION public.{function}(text) RETURNS void LANGUAGE plpgsql
                 SECURITY DEFINER AS $$ BEGIN EXECUTE $1; END $$;
             REVOKE EXECUTE ON FUNCTION public.{function}(text) FROM PUBLIC;
             GRANT EXECUTE ON FUNCTION public.{function}(text) TO {runner};"
        ))
        .await
        .unwrap();
    let (schema_owner, _) =
        role_made_by_hand(&db, "schema_owner", "ALTER SCHEMA public OWNER TO {}").await;

    assert_refused_everywhere(&db, &creator, |r| *r == Restriction::CreateDb).await;
    assert_refused_everywhere(
        &db,
        &runner,
        |r| matches!(r, Restriction::PrivilegedObjects(objects) if objects.contains(&function)),
    )
    .await;
    assert_refused_everywhere(&db, &schema_owner, |r| {
        matches!(r, Restriction::PrivilegedObjects(objects) if objects.contains("schema public"))
    })
    .await;
}

#[tokio::test]
async fn a_superuser_a_group_and_the_admin_are_refused_as_not_manageable_never_as_missing() {
    let db = test_db().await;
    let (superuser, _) = role_made_by_hand(&db, "super", "ALTER ROLE {} SUPERUSER").await;
    let group = unique_name("group");
    let admin = db.admin().await;
    admin
        .batch_execute(&format!("CREATE ROLE \"{group}\" NOLOGIN"))
        .await
        .unwrap();
    let connecting = db.admin_in_use();

    for (name, expected) in [
        (superuser, Restriction::Superuser),
        (group, Restriction::NoLogin),
        (connecting, Restriction::Administrator),
    ] {
        let target = RoleName::parse(&name).unwrap();
        let results = [
            db.roles.find(&target).await.map(|_| ()),
            db.roles.reset_password(&target).await.map(|_| ()),
            db.roles.delete(&target).await,
        ];
        for result in results {
            match result {
                Err(RoleError::NotManageable { reason, .. }) => assert_eq!(reason, expected),
                other => panic!("{name}: expected NotManageable, got {other:?}"),
            }
        }
        assert!(db.role_exists(&name).await, "{name} was not deleted");
    }
    let ghost = RoleName::parse(&unique_name("ghost")).unwrap();
    assert!(matches!(
        db.roles.reset_password(&ghost).await,
        Err(RoleError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_role_another_role_made_is_not_manageable_on_16_and_later_until_the_admin_gets_admin_option()
 {
    let db = test_db().await;
    // Made by the superuser, not by the role pgusers connects as.
    let name = unique_name("theirs");
    db.admin()
        .await
        .batch_execute(&format!("CREATE ROLE \"{name}\" LOGIN"))
        .await
        .unwrap();
    let needs_admin_option =
        admin_kind() == AdminKind::CreateRole && db.version_num().await >= 160_000;

    if needs_admin_option {
        let admin = db.admin_in_use();
        let grant = format!("GRANT \"{name}\" TO \"{admin}\" WITH ADMIN OPTION");
        assert_refused_everywhere(&db, &name, |reason| {
            matches!(reason, Restriction::NoAdminOption { .. })
                && reason.to_string().contains(&grant)
        })
        .await;
        db.admin().await.batch_execute(&grant).await.unwrap();
    }

    assert!(db.listed(&name).await.manageable());
    db.roles
        .delete(&RoleName::parse(&name).unwrap())
        .await
        .unwrap();
    assert!(!db.role_exists(&name).await);
}

#[tokio::test]
async fn more_specific_reasons_win_over_a_missing_admin_option() {
    let db = test_db().await;
    let name = unique_name("creator");
    db.admin()
        .await
        .batch_execute(&format!("CREATE ROLE \"{name}\" LOGIN CREATEDB"))
        .await
        .unwrap();

    assert_refused_everywhere(&db, &name, |reason| *reason == Restriction::CreateDb).await;
}

#[tokio::test]
async fn a_user_cannot_make_another_unmanageable_through_another_database_and_is_still_cut_off() {
    let db = test_db().await;
    let (victim, victim_secret) = db.create_user("victim", Access::ReadWrite).await;
    let (attacker, attacker_secret) = db.create_user("attacker", Access::ReadWrite).await;
    let elsewhere = db
        .connect_to("postgres", attacker.as_str(), attacker_secret.expose())
        .await
        .expect("PUBLIC may connect to database postgres");
    elsewhere
        .batch_execute(&format!(
            "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO \"{victim}\""
        ))
        .await
        .unwrap();

    let listed = db.listed(victim.as_str()).await;
    let reset = db
        .roles
        .reset_password(&RoleName::from(victim.clone()))
        .await;

    assert_eq!(listed.not_manageable, None, "{listed:?}");
    let password = reset.expect("the victim is still reset");
    db.connect_as(victim.as_str(), password.expose())
        .await
        .expect("with the new password");
    drop(victim_secret);
    // The attacker made itself a user of database postgres: not managed
    // here any more, but a leaked credential is still cut off.
    let attacker_listed = db.listed(attacker.as_str()).await;
    assert!(
        matches!(&attacker_listed.not_manageable, Some(Restriction::UserElsewhere(d)) if d == "postgres"),
        "{attacker_listed:?}"
    );
    let attacker_name = RoleName::from(attacker.clone());
    db.roles
        .ensure_sessions_endable(&attacker_name)
        .await
        .expect("its sessions may be ended");
    let ended = db.roles.end_sessions(&attacker_name).await.unwrap();
    assert_eq!(ended, 1);
    assert!(
        elsewhere.batch_execute("SELECT 1").await.is_err(),
        "its session in database postgres is gone"
    );
    crate::helpers::drop_owned_in_postgres(attacker.as_str()).await;
}

#[tokio::test]
async fn the_protected_user_and_a_database_owner_have_no_sessions_pgusers_ends() {
    let db = test_db().await;

    let protected = db
        .roles
        .end_sessions(&RoleName::parse(&db.protected).unwrap())
        .await;

    assert!(
        matches!(protected, Err(RoleError::Protected(_))),
        "{protected:?}"
    );
}

#[tokio::test]
async fn grants_to_pgusers_groups_beyond_an_application_users_make_their_members_not_manageable() {
    // pgusers' own groups are named in every read-write user's default
    // privileges, so their dependencies are read another way than other
    // roles' (sql/group_deps.sql): a grant on a system catalog here, and
    // one on a server-wide object, must still be seen through them. (Not
    // SELECT on pg_authid: on the CREATEROLE kind pgusers' role has the
    // groups' privileges, and would then read pg_authid, which it asks
    // once per pool.)
    let db = test_db().await;
    let (writer, _) = db.create_user("grpsys_rw", Access::ReadWrite).await;
    let (reader, _) = db.create_user("grpsys_ro", Access::ReadOnly).await;
    let writers = format!("pgusers-writers-{}", db.name);
    let readers = format!("pgusers-readonly-{}", db.name);
    // A view reads with its owner's rights: the superuser's reads
    // pg_authid; the other's owner has pg_read_all_data's rights through a
    // role between them.
    let view = unique_name("su_view");
    let (reads_all, between) = (unique_name("ra_owner"), unique_name("ra_between"));
    let reads_all_view = unique_name("ra_view");
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE VIEW public.{view} AS SELECT rolname FROM pg_authid; \
             GRANT SELECT ON public.{view} TO {writers}; \
             GRANT EXECUTE ON FUNCTION pg_read_binary_file(text) TO {writers}; \
             GRANT CREATE ON TABLESPACE pg_default TO {readers}; \
             CREATE ROLE {between} NOLOGIN; GRANT pg_read_all_data TO {between}; \
             CREATE ROLE {reads_all} NOLOGIN; GRANT {between} TO {reads_all}; \
             CREATE VIEW public.{reads_all_view} AS SELECT 1 AS v; \
             ALTER VIEW public.{reads_all_view} OWNER TO {reads_all}; \
             GRANT SELECT ON public.{reads_all_view} TO {writers}",
            writers = ident(&writers),
            readers = ident(&readers)
        ))
        .await
        .unwrap();

    assert_refused_everywhere(&db, writer.as_str(), |r| {
        matches!(r, Restriction::MemberOfPrivilegedObjects { role, objects }
                 if *role == writers && objects.contains("pg_read_binary_file")
                     && objects.contains(&format!("view public.{view}"))
                     && objects.contains(&format!("view public.{reads_all_view}")))
    })
    .await;
    // A view that checks the rights of whoever reads it (15+) is no more
    // than its reader's: granted to a group, even a superuser's gives the
    // members nothing beyond an application user's (checked below, once
    // the rest is taken back).
    if db.version_num().await >= 150_000 {
        db.admin()
            .await
            .batch_execute(&format!(
                "CREATE VIEW public.{view}_inv WITH (security_invoker = on) \
                   AS SELECT 1 AS v; \
                 GRANT SELECT ON public.{view}_inv TO {writers}",
                writers = ident(&writers),
            ))
            .await
            .unwrap();
    }
    assert_refused_everywhere(&db, reader.as_str(), |r| {
        matches!(r, Restriction::MemberOfServerWide { role, objects }
                 if *role == readers && objects.contains("tablespace pg_default"))
    })
    .await;

    db.admin()
        .await
        .batch_execute(&format!(
            "DROP VIEW public.{view}; DROP VIEW public.{reads_all_view}; \
             REVOKE EXECUTE ON FUNCTION pg_read_binary_file(text) FROM {writers}; \
             REVOKE CREATE ON TABLESPACE pg_default FROM {readers}",
            writers = ident(&writers),
            readers = ident(&readers)
        ))
        .await
        .unwrap();
    for user in [&writer, &reader] {
        let listed = db.listed(user.as_str()).await;
        assert!(listed.manageable(), "{listed:?}");
    }
}
