//! The embedded cluster and the dashboard's behaviour when PostgreSQL goes away.

use pgusers::embedded::supervisor::Policy;
use pgusers::embedded::{ClusterOptions, ClusterState, Supervisor};
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
    // The page's failed session lookup ended the state database's last
    // answer (which stands for 2 s otherwise).
    assert_eq!(browser.get("/readyz").await.status, 503);
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
    for probe in ["/healthz", "/readyz"] {
        assert_eq!(
            browser.get(probe).await.status,
            200,
            "{probe}: recovered without a restart"
        );
    }
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
    assert_eq!(
        default_acl, 0,
        "no default privileges yet: the groups' come with the first user"
    );
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

/// Waits (at most `within`) until the supervisor's state is one `wanted`
/// accepts; that state.
async fn state_until(
    states: &mut tokio::sync::watch::Receiver<ClusterState>,
    within: std::time::Duration,
    wanted: impl Fn(&ClusterState) -> bool,
) -> ClusterState {
    let reached = tokio::time::timeout(within, states.wait_for(|state| wanted(state)))
        .await
        .ok()
        .and_then(Result::ok)
        .map(|state| state.clone());
    reached.unwrap_or_else(|| {
        panic!(
            "not reached within {within:?}; the state is {:?}",
            *states.borrow()
        )
    })
}

#[tokio::test]
async fn a_server_that_cannot_come_back_is_given_up_after_the_cap_and_watched_again_once_started() {
    use std::time::Duration;
    let (cluster, root) = ephemeral_cluster().await;
    let (cluster_root, data, port) = (
        cluster.root().to_owned(),
        cluster.data_dir(),
        cluster.port(),
    );
    let policy = Policy {
        poll: Duration::from_millis(100),
        first_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        restarts: 2,
        window: Duration::from_secs(60),
    };
    let supervisor = Supervisor::start(cluster, policy);
    let mut states = supervisor.state();
    let pid: i32 = std::fs::read_to_string(data.join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // SAFETY: kill(2) with a PID and a signal number; no memory involved.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    // Another program takes the port as soon as the killed server lets go
    // of it: every restart fails.
    let taken = loop {
        if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            break listener;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let restarting = state_until(&mut states, Duration::from_secs(20), |state| {
        *state != ClusterState::Running
    })
    .await;
    let gave_up = state_until(&mut states, Duration::from_secs(30), |state| {
        matches!(state, ClusterState::GaveUp { .. })
    })
    .await;
    drop(taken);
    // A CLI command run now starts the server, and leaves it running: the
    // dashboard's process still holds the in-use lock.
    let still_running = tokio::task::spawn_blocking(move || {
        let mut command =
            pgusers::embedded::Cluster::open(&cluster_root, &ClusterOptions::default()).unwrap();
        command.start().unwrap();
        command.stop().unwrap();
        data.join("postmaster.pid").exists()
    })
    .await
    .unwrap();
    let watched = state_until(&mut states, Duration::from_secs(20), |state| {
        *state == ClusterState::Running
    })
    .await;

    assert!(
        matches!(restarting, ClusterState::Restarting { of: 2, .. }),
        "{restarting:?}"
    );
    assert_eq!(
        gave_up,
        ClusterState::GaveUp {
            restarts: 2,
            window: Duration::from_secs(60)
        }
    );
    let words = gave_up.explain().unwrap();
    assert!(
        words.contains("pgusers gave up after 2 restarts in 60 seconds: the server log says why"),
        "{words}"
    );
    assert!(still_running, "the command left it running");
    assert_eq!(watched, ClusterState::Running);
    let data = root.join("pg/data");
    tokio::task::spawn_blocking(move || drop(supervisor))
        .await
        .unwrap();
    assert!(
        !data.join("postmaster.pid").exists(),
        "dropping the supervisor stopped the server"
    );
    let _ = std::fs::remove_dir_all(root);
}
