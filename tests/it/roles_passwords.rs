use pgusers::domain::{NewPassword, RoleName};
use pgusers::roles::Access;

use crate::helpers::{AdminKind, admin_kind, cluster, password, test_db, username};

#[tokio::test]
async fn setting_a_password_replaces_the_old_one() {
    let db = test_db().await;
    let name = username("pw");
    let old = password();
    let new = password();
    db.roles
        .create(&name, NewPassword::Chosen(old.clone()), Access::ReadWrite)
        .await
        .unwrap();

    db.roles
        .set_password(&RoleName::from(name.clone()), &new)
        .await
        .unwrap();

    assert!(
        db.connect_as(name.as_str(), old.expose()).await.is_err(),
        "the old password stops working"
    );
    db.connect_as(name.as_str(), new.expose()).await.unwrap();
}

#[tokio::test]
async fn resetting_a_password_generates_a_new_one_that_works() {
    let db = test_db().await;
    let (name, old) = db.create_user("pw", Access::ReadOnly).await;

    let fresh = db
        .roles
        .reset_password(&RoleName::from(name.clone()))
        .await
        .unwrap();

    assert_ne!(fresh, old);
    assert_eq!(fresh.expose().len(), 64);
    db.connect_as(name.as_str(), fresh.expose()).await.unwrap();
    assert!(db.connect_as(name.as_str(), old.expose()).await.is_err());
}

#[tokio::test]
async fn no_password_nor_verifier_reaches_the_server_log() {
    let db = test_db().await;
    let name = username("secret");
    let chosen = password();
    let later = password();
    let generated = db
        .roles
        .create(
            &username("secretgen"),
            NewPassword::Generate,
            Access::ReadOnly,
        )
        .await
        .unwrap()
        .expect("generated");
    db.roles
        .create(
            &name,
            NewPassword::Chosen(chosen.clone()),
            Access::ReadWrite,
        )
        .await
        .unwrap();
    db.roles
        .set_password(&RoleName::from(name.clone()), &later)
        .await
        .unwrap();
    let reset = db
        .roles
        .reset_password(&RoleName::from(name.clone()))
        .await
        .unwrap();

    let verifier: String = db
        .admin()
        .await
        .query_one(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
            &[&name.as_str()],
        )
        .await
        .unwrap()
        .get(0);
    let log = cluster().log();

    for secret in [&chosen, &later, &reset, &generated, &db.protected_password] {
        assert!(
            !log.contains(secret.expose()),
            "a plaintext password is in the server log"
        );
    }
    if admin_kind() == AdminKind::CreateRole {
        // Only a superuser may switch statement logging off for a change:
        // under a CREATEROLE admin the server logs the verifier (never the
        // password) when it logs every statement.
        return;
    }
    assert!(
        log.contains("set_config('log_statement', 'none', true)"),
        "the cluster logs every statement, up to the one that turns it off for the change"
    );
    assert!(
        !log.contains(&format!("CREATE ROLE \"{}\"", name.as_str())),
        "the statement carrying a verifier is not logged"
    );
    assert!(
        !log.contains(&verifier[..40]),
        "no verifier of this user is in the server log"
    );
    for secret in [&chosen, &later, &reset, &generated, &db.protected_password] {
        assert!(
            !log.contains(secret.expose()),
            "a plaintext password is in the server log"
        );
    }
}
