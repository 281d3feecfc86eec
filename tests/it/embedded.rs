//! The embedded cluster and the dashboard's behaviour when PostgreSQL goes away.

use pgusers::embedded::ClusterOptions;
use pgusers::roles::RoleManager;
use pgusers::state::{OperatorSecret, StateSettings, StateStore};

use crate::helpers::{Browser, new_cluster, spawn_server};

#[tokio::test]
async fn the_dashboard_answers_503_while_postgresql_is_down_and_recovers_by_itself() {
    let (mut cluster, root) = tokio::task::spawn_blocking(|| {
        new_cluster(&ClusterOptions {
            ephemeral: true,
            ..ClusterOptions::default()
        })
    })
    .await
    .unwrap();
    let roles = RoleManager::new(pgusers::db::pool(cluster.admin_config("postgres"), 2), None);
    let state = StateStore::new(StateSettings {
        config: cluster.admin_config("pgusers"),
        create_with: Some(cluster.admin_config("postgres")),
        admin_password: Some(OperatorSecret::new("operator-password".into())),
    });
    let address = spawn_server(roles, state);
    let browser = Browser::new(address.clone());
    assert_eq!(browser.get("/healthz").await.status, 200);
    let logged_in = Browser::new(address);
    assert_eq!(logged_in.log_in_with("operator-password").await.status, 303);

    cluster = tokio::task::spawn_blocking(move || {
        cluster.stop().unwrap();
        cluster
    })
    .await
    .unwrap();
    assert_eq!(browser.get("/healthz").await.status, 503);
    let page = logged_in.get("/settings/users").await;
    assert_eq!(page.status, 503, "a page says the database is unavailable");
    assert!(page.body.contains("The database is unavailable right now."));
    let login = browser.log_in_with("operator-password").await;
    assert_eq!(login.status, 503);
    assert!(
        login
            .body
            .contains("The database is unavailable right now.")
    );

    let mut cluster = tokio::task::spawn_blocking(move || {
        cluster.start().unwrap();
        cluster
    })
    .await
    .unwrap();
    assert_eq!(
        browser.get("/healthz").await.status,
        200,
        "recovered without a restart"
    );
    assert_eq!(
        browser.log_in_with("operator-password").await.status,
        303,
        "login works again"
    );

    tokio::task::spawn_blocking(move || cluster.stop())
        .await
        .unwrap()
        .unwrap();
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn the_default_database_is_provisioned_once_with_the_guides_grants_and_reused() {
    use pgusers::embedded::DefaultDatabase;

    let dir = tempfile::Builder::new()
        .prefix("pgusers-default-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .tempdir()
        .unwrap();

    let mut first = DefaultDatabase::start(dir.path()).await.unwrap();
    let provisioned = first.provisioned.clone();
    let admin = pgusers::db::connect(&first.admin_config()).await.unwrap();
    let owner: String = admin
        .query_one("SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()", &[])
        .await
        .unwrap()
        .get(0);
    let can_create: bool = admin
        .query_one(
            "SELECT has_schema_privilege($1, 'public', 'CREATE')",
            &[&provisioned.protected_user],
        )
        .await
        .unwrap()
        .get(0);
    let default_acl: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_default_acl WHERE defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1)",
            &[&provisioned.protected_user],
        )
        .await
        .unwrap()
        .get(0);
    drop(admin);
    let port = first.cluster.port();
    tokio::task::spawn_blocking(move || first.cluster.stop())
        .await
        .unwrap()
        .unwrap();

    assert_eq!(
        owner, provisioned.protected_user,
        "the protected user owns the database"
    );
    assert!(can_create, "GRANT CREATE ON SCHEMA public");
    assert_eq!(default_acl, 2, "default privileges on tables and sequences");
    assert!(provisioned.database.len() >= 6);
    let record = std::fs::read_to_string(dir.path().join("database.json")).unwrap();
    assert!(
        !record.to_lowercase().contains("password"),
        "no password is kept"
    );

    let mut second = DefaultDatabase::start(dir.path()).await.unwrap();
    assert_eq!(
        second.provisioned.database, provisioned.database,
        "reused, not provisioned again"
    );
    assert_eq!(
        second.cluster.port(),
        port,
        "the same address after a restart"
    );
    let roles = RoleManager::new(pgusers::db::pool(second.admin_config(), 1), None);
    let users = roles.list().await.unwrap();
    assert_eq!(users.len(), 1);
    assert!(users[0].protected);
    tokio::task::spawn_blocking(move || second.cluster.stop())
        .await
        .unwrap()
        .unwrap();
}
