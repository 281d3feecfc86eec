//! The embedded cluster and the dashboard's behaviour when PostgreSQL goes away.

use pgusers::embedded::ClusterOptions;
use pgusers::roles::RoleManager;

use crate::helpers::{Browser, csrf_token, ephemeral_cluster};

#[tokio::test]
async fn the_dashboard_answers_503_while_postgresql_is_down_and_recovers_by_itself() {
    let (mut cluster, root, address) = crate::helpers::dashboard_on_own_cluster().await;
    let browser = Browser::on(address.clone(), "postgres");
    assert_eq!(browser.get("/healthz").await.status, 200);
    let logged_in = Browser::on(address, "postgres");
    assert_eq!(logged_in.log_in_with("operator-password").await.status, 303);
    let form_token = csrf_token(&logged_in.get(&browser.users("/new")).await.body);

    cluster = tokio::task::spawn_blocking(move || {
        cluster.stop().unwrap();
        cluster
    })
    .await
    .unwrap();
    assert_eq!(browser.get("/healthz").await.status, 503);
    let page = logged_in.get(&browser.users("")).await;
    assert_eq!(page.status, 503, "a page says the database is unavailable");
    assert!(page.body.contains("The database is unavailable right now:"));
    let created = logged_in
        .post(
            &browser.users(""),
            &[
                ("csrf_token", form_token.as_str()),
                ("username", "while_down"),
                ("password", ""),
                ("password_confirmation", ""),
            ],
        )
        .await;
    assert_eq!(created.status, 503, "a form answers 503 too");
    let login = browser.log_in_with("operator-password").await;
    assert_eq!(login.status, 503);
    assert!(
        login
            .body
            .contains("The database is unavailable right now:")
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

    let mut first = DefaultDatabase::start(dir.path(), pgusers::embedded::Announce::Stdout)
        .await
        .unwrap();
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

    let mut second = DefaultDatabase::start(dir.path(), pgusers::embedded::Announce::Stdout)
        .await
        .unwrap();
    assert_eq!(
        second.provisioned.database, provisioned.database,
        "reused, not provisioned again"
    );
    assert_eq!(
        second.cluster.port(),
        port,
        "the same address after a restart"
    );
    let roles = RoleManager::new(second.admin_config(), 1, None);
    let users = roles.list().await.unwrap();
    assert_eq!(users.len(), 1);
    assert!(users[0].protected);
    tokio::task::spawn_blocking(move || second.cluster.stop())
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_failed_provisioning_drops_what_it_made_and_nothing_else() {
    use pgusers::roles::provision_database;

    let cluster = crate::helpers::cluster();
    let owner = crate::helpers::username("orphan");
    let server = cluster.admin_config("postgres");

    // The database "postgres" exists: creating it fails after the role was made.
    let result = provision_database(&server, "postgres", &owner, &crate::helpers::password()).await;

    assert!(result.is_err());
    let admin = pgusers::db::connect(&server).await.unwrap();
    let role = admin
        .query_opt(
            "SELECT 1 FROM pg_roles WHERE rolname = $1",
            &[&owner.as_str()],
        )
        .await
        .unwrap();
    assert!(role.is_none(), "the role made for it was dropped");
    let database = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = 'postgres'", &[])
        .await
        .unwrap();
    assert!(
        database.is_some(),
        "the database it did not make is still there"
    );
}

#[tokio::test]
async fn the_cluster_keeps_running_until_the_last_pgusers_process_using_it_leaves() {
    let (mut first, root) = ephemeral_cluster().await;
    let cluster_root = first.root().to_owned();
    let port = first.port();

    let mut second = tokio::task::spawn_blocking(move || {
        // A CLI command joining the dashboard's cluster, then the dashboard leaving.
        let mut second =
            pgusers::embedded::Cluster::open(&cluster_root, &ClusterOptions::default()).unwrap();
        second.start().unwrap();
        first.stop().unwrap();
        second
    })
    .await
    .unwrap();
    assert_eq!(
        second.port(),
        port,
        "the second user joined the running server"
    );
    pgusers::db::connect(&second.admin_config("postgres"))
        .await
        .expect("still running while the second user is there");

    let data = second.data_dir();
    tokio::task::spawn_blocking(move || second.stop())
        .await
        .unwrap()
        .unwrap();

    assert!(
        !data.join("postmaster.pid").exists(),
        "the last user stopped it"
    );
    let _ = std::fs::remove_dir_all(root);
}
