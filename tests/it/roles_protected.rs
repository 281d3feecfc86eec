use pgusers::domain::{RoleName, Username};
use pgusers::roles::RoleError;

use crate::helpers::{password, test_db};

#[tokio::test]
async fn the_protected_user_cannot_be_deleted_renamed_or_have_its_password_changed() {
    let db = test_db().await;
    let protected = RoleName::parse(&db.name).unwrap();

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
async fn a_configured_protected_user_is_protected_too() {
    use pgusers::domain::NewPassword;
    use pgusers::roles::{Access, RoleManager};

    let db = test_db().await;
    let chosen = crate::helpers::username("chosen");
    db.roles
        .create(&chosen, NewPassword::Generate, Access::ReadWrite)
        .await
        .unwrap();
    let roles = RoleManager::new(
        pgusers::db::pool(crate::helpers::cluster().admin_config(&db.name), 1),
        Some(RoleName::from(chosen.clone())),
    );

    let result = roles.delete(&RoleName::from(chosen.clone())).await;

    assert!(matches!(result, Err(RoleError::Protected(_))));
    let listed = roles.list().await.unwrap();
    assert!(
        listed
            .iter()
            .find(|u| u.username == chosen.as_str())
            .unwrap()
            .protected
    );
    assert!(
        !listed
            .iter()
            .find(|u| u.username == db.name)
            .unwrap()
            .protected
    );
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
