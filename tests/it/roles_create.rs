use pgusers::domain::NewPassword;
use pgusers::roles::{Access, RoleError, RoleManager};

use crate::helpers::{password, sqlstate, test_db, username};

#[tokio::test]
async fn a_read_write_user_logs_in_with_its_password_and_can_create_and_write() {
    let db = test_db().await;
    let name = username("rw");
    let chosen = password();

    let generated = db
        .roles
        .create(
            &name,
            NewPassword::Chosen(chosen.clone()),
            Access::ReadWrite,
        )
        .await
        .unwrap();

    assert!(generated.is_none(), "a chosen password is not echoed back");
    let client = db.connect_as(name.as_str(), chosen.expose()).await.unwrap();
    client
        .batch_execute("CREATE TABLE notes (id serial PRIMARY KEY, body text); INSERT INTO notes (body) VALUES ('hi');")
        .await
        .unwrap();
    let count: i64 = client
        .query_one("SELECT count(*) FROM notes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_read_write_user_can_write_to_tables_the_protected_user_creates_later() {
    let db = test_db().await;
    let (name, chosen) = db.create_user("rw", Access::ReadWrite).await;

    let protected = db.connect_as_protected().await;
    protected
        .batch_execute("CREATE TABLE later (id serial PRIMARY KEY, v int)")
        .await
        .unwrap();

    let client = db.connect_as(name.as_str(), chosen.expose()).await.unwrap();
    client
        .batch_execute("INSERT INTO later (v) VALUES (1)")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_generated_password_has_64_characters_and_lets_the_user_log_in() {
    let db = test_db().await;
    let name = username("gen");

    let generated = db
        .roles
        .create(&name, NewPassword::Generate, Access::ReadWrite)
        .await
        .unwrap()
        .expect("a generated password is returned once");

    assert_eq!(generated.expose().len(), 64);
    db.connect_as(name.as_str(), generated.expose())
        .await
        .unwrap();
    assert!(
        db.connect_as(name.as_str(), "not-the-password-at-all-000")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn creating_a_name_that_exists_says_already_exists() {
    let db = test_db().await;
    let name = username("dup");
    db.roles
        .create(&name, NewPassword::Generate, Access::ReadWrite)
        .await
        .unwrap();

    let again = db
        .roles
        .create(&name, NewPassword::Generate, Access::ReadOnly)
        .await;

    assert!(matches!(again, Err(RoleError::AlreadyExists(n)) if n == name.as_str()));
}

#[tokio::test]
async fn two_concurrent_creates_of_one_name_give_one_user_and_one_already_exists() {
    let db = test_db().await;
    let name = username("race");
    let other = RoleManager::new(db.roles_config(), 2, None);
    let first_password = password();
    let second_password = password();

    let (first, second) = tokio::join!(
        db.roles.create(
            &name,
            NewPassword::Chosen(first_password.clone()),
            Access::ReadWrite
        ),
        other.create(
            &name,
            NewPassword::Chosen(second_password.clone()),
            Access::ReadOnly
        ),
    );

    let outcomes = [first.is_ok(), second.is_ok()];
    assert_eq!(
        outcomes.iter().filter(|ok| **ok).count(),
        1,
        "exactly one create wins"
    );
    let loser = if first.is_ok() { second } else { first };
    assert!(
        matches!(loser, Err(RoleError::AlreadyExists(_))),
        "got {loser:?}"
    );
    let winner_password = if outcomes[0] {
        &first_password
    } else {
        &second_password
    };
    db.connect_as(name.as_str(), winner_password.expose())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_create_that_fails_half_way_leaves_nothing_behind() {
    let db = test_db().await;
    let name = username("atomic");
    // An event trigger that rejects default privileges once the new role
    // exists (a read-write user's, set for it) makes the create fail after
    // its CREATE ROLE, inside the transaction.
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE FUNCTION refuse_grants() RETURNS event_trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
                 RAISE EXCEPTION 'refused for the test';
               END IF;
             END $$;
             CREATE EVENT TRIGGER refuse_grants ON ddl_command_end WHEN TAG IN ('ALTER DEFAULT PRIVILEGES')
               EXECUTE FUNCTION refuse_grants();",
            name = name.as_str()
        ))
        .await
        .unwrap();

    let result = db
        .roles
        .create(&name, NewPassword::Generate, Access::ReadWrite)
        .await;

    assert!(matches!(result, Err(RoleError::Database(_))), "{result:?}");
    assert!(
        !db.role_exists(name.as_str()).await,
        "the role must not exist after a failed create"
    );
}

#[tokio::test]
async fn a_name_that_differs_from_an_existing_one_only_by_case_already_exists() {
    let db = test_db().await;
    let (lower, _) = db.create_user("case", Access::ReadWrite).await;
    let upper = pgusers::domain::Username::parse(&lower.as_str().to_uppercase()).unwrap();

    let result = db
        .roles
        .create(&upper, NewPassword::Generate, Access::ReadWrite)
        .await;

    assert!(matches!(result, Err(RoleError::AlreadyExists(n)) if n == lower.as_str()));
}

#[tokio::test]
async fn names_that_need_quoting_cannot_inject_sql() {
    let db = test_db().await;
    // Mixed case survives quoting exactly as typed.
    let name = pgusers::domain::Username::parse(&format!("Mixed_{}", &username("x").as_str()[2..]))
        .unwrap();
    let chosen = password();
    db.roles
        .create(
            &name,
            NewPassword::Chosen(chosen.clone()),
            Access::ReadWrite,
        )
        .await
        .unwrap();
    db.connect_as(name.as_str(), chosen.expose()).await.unwrap();
    let admin = db.admin().await;
    assert_eq!(
        sqlstate(
            admin
                .batch_execute(&format!("SET ROLE {}", name.as_str()))
                .await
        ),
        "22023",
        "unquoted, the name folds to lower case and does not exist: it was quoted"
    );
}

#[tokio::test]
async fn a_name_is_free_exactly_when_create_would_not_refuse_it_as_taken() {
    let db = test_db().await;
    let (user, _) = db.create_user("free", Access::ReadWrite).await;
    let twin = pgusers::domain::Username::parse(&user.as_str().to_uppercase()).unwrap();
    let fresh = username("free");

    let taken = db.roles.ensure_name_free(&twin).await;
    let protected = db
        .roles
        .ensure_name_free(&pgusers::domain::Username::parse(&db.protected).unwrap())
        .await;

    assert!(matches!(taken, Err(RoleError::AlreadyExists(n)) if n == user.as_str()));
    assert!(
        matches!(&protected, Err(RoleError::AlreadyExists(n)) if *n == db.protected),
        "{protected:?}"
    );
    db.roles.ensure_name_free(&fresh).await.unwrap();
    assert!(
        !db.role_exists(fresh.as_str()).await,
        "checking creates nothing"
    );
}
