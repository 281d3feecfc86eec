use pgusers::domain::{RoleName, Username};
use pgusers::roles::RoleError;

use crate::helpers::{password, test_db};

#[tokio::test]
async fn the_protected_user_cannot_be_deleted_renamed_or_have_its_password_changed() {
    let db = test_db().await;
    let protected = RoleName::parse(&db.protected).unwrap();

    let delete = db.roles.delete(&protected).await;
    let reset = db.roles.reset_password(&protected).await;
    let set = db.roles.set_password(&protected, &password()).await;
    let rename = db
        .roles
        .rename(&protected, &Username::parse("renamed_protected").unwrap())
        .await;

    assert!(matches!(delete, Err(RoleError::Protected(_))), "{delete:?}");
    assert!(matches!(reset, Err(RoleError::Protected(_))), "{reset:?}");
    assert!(matches!(set, Err(RoleError::Protected(_))), "{set:?}");
    assert!(matches!(rename, Err(RoleError::Protected(_))), "{rename:?}");
    // Still there, same name, same password.
    db.connect_as_protected().await;
}

#[tokio::test]
async fn a_configured_protected_user_is_protected_and_receives_what_deleted_users_owned() {
    use pgusers::roles::{Access, RoleManager};

    let db = test_db().await;
    let (chosen, _) = db.create_user("chosen", Access::ReadWrite).await;
    let (leaver, secret) = db.create_user("leaver", Access::ReadWrite).await;
    let leaver_client = db
        .connect_as(leaver.as_str(), secret.expose())
        .await
        .unwrap();
    leaver_client
        .batch_execute("CREATE TABLE kept (v int)")
        .await
        .unwrap();
    drop(leaver_client);
    let roles = RoleManager::new(db.roles_config(), 1, Some(RoleName::from(chosen.clone())));

    let refused = roles.delete(&RoleName::from(chosen.clone())).await;
    roles.delete(&RoleName::from(leaver.clone())).await.unwrap();

    assert!(matches!(refused, Err(RoleError::Protected(_))));
    let listed = roles.list().await.unwrap();
    assert!(
        listed
            .iter()
            .find(|u| u.username == chosen.as_str())
            .unwrap()
            .protected
    );
    let owner = db.table_owner("kept").await;
    assert_eq!(
        owner,
        chosen.as_str(),
        "the configured protected user receives the table"
    );
}

#[tokio::test]
async fn a_protected_user_that_does_not_exist_stops_every_change_with_a_clear_message() {
    use pgusers::domain::NewPassword;
    use pgusers::roles::{Access, RoleManager};

    let db = test_db().await;
    let (existing, _) = db.create_user("existing", Access::ReadWrite).await;
    let misspelt = RoleManager::new(
        db.roles_config(),
        1,
        Some(RoleName::parse(&db.protected.to_uppercase()).unwrap()),
    );

    let create = misspelt
        .create(
            &crate::helpers::username("new"),
            NewPassword::Generate,
            Access::ReadOnly,
        )
        .await;
    let reset_owner = misspelt
        .reset_password(&RoleName::parse(&db.protected).unwrap())
        .await;
    let delete = misspelt.delete(&RoleName::from(existing.clone())).await;
    let list = misspelt.list().await;

    for result in [
        create.map(|_| ()),
        reset_owner.map(|_| ()),
        delete,
        list.map(|_| ()),
    ] {
        match result {
            Err(error @ RoleError::ProtectedUserMissing(_)) => {
                assert!(error.to_string().contains("PGUSERS_PROTECTED_USER"));
            }
            other => panic!("expected ProtectedUserMissing, got {other:?}"),
        }
    }
    db.connect_as_protected().await;
}

#[tokio::test]
async fn owners_of_other_databases_on_the_server_are_protected_too() {
    let db = test_db().await;
    let other = test_db().await;
    let other_owner = RoleName::parse(&other.protected).unwrap();

    let reset = db.roles.reset_password(&other_owner).await;
    let delete = db.roles.delete(&other_owner).await;

    assert!(
        matches!(reset, Err(RoleError::OwnsDatabase { .. })),
        "{reset:?}"
    );
    assert!(
        matches!(delete, Err(RoleError::OwnsDatabase { .. })),
        "{delete:?}"
    );
    let listed = db.roles.list().await.unwrap();
    assert!(
        listed
            .iter()
            .find(|u| u.username == other.protected)
            .unwrap()
            .protected
    );
    other.connect_as_protected().await;
}

#[tokio::test]
async fn an_ordinary_user_can_be_renamed() {
    use pgusers::roles::Access;

    let db = test_db().await;
    let (before, secret) = db.create_user("before", Access::ReadWrite).await;
    let after = crate::helpers::username("after");

    db.roles
        .rename(&RoleName::from(before.clone()), &after)
        .await
        .unwrap();

    db.connect_as(after.as_str(), secret.expose())
        .await
        .unwrap();
    assert!(
        db.connect_as(before.as_str(), secret.expose())
            .await
            .is_err()
    );
}
