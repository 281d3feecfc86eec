//! Settings that cannot work, and a database that goes away: what the CLI,
//! `serve` and the dashboard say, and that no password is ever in it.

use std::process::Stdio;
use std::time::{Duration, Instant};

use pgusers::domain::{OperatorPassword, RoleName};
use pgusers::notice::Announce;
use pgusers::roles::RoleManager;
use pgusers::state::{StateSettings, StateStore};

use crate::helpers::{Browser, TestDb, cluster, conninfo, dashboard, test_db, unique_name};

/// A password nobody could mistake for other text in an error message.
const WRONG_PASSWORD: &str = "Wr0ng-Pa55word-Canary";

struct Exited {
    /// None: still running after the deadline (then killed).
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `pgusers` with only the test's settings and waits up to 30 s for it
/// to exit by itself.
fn pgusers(args: &[&str], env: &[(&str, String)]) -> Exited {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut command = crate::helpers::pgusers_binary();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("PGUSERS_DATA_DIR", dir.path())
        .env("PGUSERS_LISTEN", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Exited {
        code,
        stdout: std::fs::read_to_string(out).unwrap(),
        stderr: std::fs::read_to_string(err).unwrap(),
    }
}

async fn pgusers_async(args: &'static [&'static str], env: Vec<(&'static str, String)>) -> Exited {
    tokio::task::spawn_blocking(move || pgusers(args, &env))
        .await
        .unwrap()
}

/// The shared cluster's TCP port, where logins need a password.
fn tcp_port() -> u16 {
    cluster().admin_config("postgres").get_ports()[0]
}

/// The test database's protected user, over TCP, with a wrong password.
fn wrong_password_url(db: &TestDb) -> String {
    format!(
        "postgres://{}:{WRONG_PASSWORD}@127.0.0.1:{}/{}",
        db.protected,
        tcp_port(),
        db.name
    )
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_wrong_password_in_database_url_exits_2_saying_authentication_failed_for_that_user() {
    let db = test_db().await;
    let url = wrong_password_url(&db);

    let run = pgusers_async(&["database-users-list"], vec![("DATABASE_URL", url)]).await;

    assert_eq!(run.code, Some(2), "a setting to fix: {}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "Authentication failed for user \"{}\" at 127.0.0.1:{}",
            db.protected,
            tcp_port()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("password authentication failed"));
    assert!(!run.stderr.contains(WRONG_PASSWORD), "{}", run.stderr);
    assert!(!run.stdout.contains(WRONG_PASSWORD));
}

#[tokio::test]
async fn a_database_that_does_not_exist_exits_2_naming_it() {
    let db = test_db().await;
    let missing = unique_name("nodb");
    let mut config = db.admin_config();
    config.dbname(&missing);

    let run = pgusers_async(
        &["database-users-list"],
        vec![("DATABASE_URL", conninfo(&config))],
    )
    .await;

    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("Database \"{missing}\" does not exist at ")),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_malformed_database_url_exits_2_naming_the_part_without_echoing_the_url() {
    let bad_port = format!("postgres://someone:{WRONG_PASSWORD}@127.0.0.1:notaport/app");
    let no_equals = format!("host=127.0.0.1 user=someone password {WRONG_PASSWORD}");

    let port = pgusers_async(&["databases"], vec![("DATABASE_URL", bad_port)]).await;
    let syntax = pgusers_async(&["databases"], vec![("DATABASE_URL", no_equals)]).await;

    assert_eq!(port.code, Some(2), "{}", port.stderr);
    assert!(
        port.stderr.starts_with(
            "Error: DATABASE_URL is not a valid connection string: invalid value for option `port`"
        ),
        "{}",
        port.stderr
    );
    assert_eq!(syntax.code, Some(2), "{}", syntax.stderr);
    assert!(syntax.stderr.contains("expected `=`"), "{}", syntax.stderr);
    for run in [&port, &syntax] {
        // Not even the first character of the password.
        assert!(!run.stderr.contains("`W`"), "{}", run.stderr);
        assert!(!run.stderr.contains(WRONG_PASSWORD), "{}", run.stderr);
    }
}

#[tokio::test]
async fn a_closed_port_exits_4_saying_connection_refused_at_host_and_port() {
    let port = closed_port();
    let url = format!("postgres://someone:{WRONG_PASSWORD}@127.0.0.1:{port}/app");

    let run = pgusers_async(&["database-users-list"], vec![("DATABASE_URL", url)]).await;

    assert_eq!(run.code, Some(4), "try again later: {}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("Connection refused at 127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(WRONG_PASSWORD));
}

#[tokio::test]
async fn serve_with_a_wrong_password_exits_2_before_printing_an_address() {
    let db = test_db().await;
    let url = wrong_password_url(&db);

    let run = pgusers_async(&["serve"], vec![("DATABASE_URL", url)]).await;

    assert_eq!(run.code, Some(2), "refused at start: {}", run.stderr);
    assert!(!run.stdout.contains("pgusers dashboard:"), "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!(
            "Error: Authentication failed for user \"{}\"",
            db.protected
        )),
        "the CLI's message: {}",
        run.stderr
    );
    assert!(!run.stderr.contains(WRONG_PASSWORD));
}

#[tokio::test]
async fn serve_with_a_protected_user_naming_no_role_exits_2_before_printing_anything() {
    let db = test_db().await;
    let nobody = unique_name("nobody");
    let env = vec![
        ("DATABASE_URL", conninfo(&db.admin_config())),
        ("PGUSERS_PROTECTED_USER", nobody.clone()),
    ];

    let serve = pgusers_async(&["serve"], env.clone()).await;
    let cli = pgusers_async(&["database-users-list"], env).await;

    assert_eq!(serve.code, Some(2), "refused at start: {}", serve.stderr);
    assert_eq!(serve.stdout, "", "no address, no operator password");
    assert_eq!(cli.code, Some(2), "{}", cli.stderr);
    assert!(
        serve
            .stderr
            .contains(&format!("The protected user \"{nobody}\" does not exist")),
        "{}",
        serve.stderr
    );
    assert!(
        serve.stderr.ends_with(&cli.stderr),
        "the CLI's message: {:?} vs {:?}",
        serve.stderr,
        cli.stderr
    );
}

#[tokio::test]
async fn a_dashboard_whose_database_goes_down_answers_503_saying_so_on_login_and_pages_without_naming_the_server()
 {
    let (mut pg, root, address) = crate::helpers::dashboard_on_own_cluster().await;
    let socket = format!(".s.PGSQL.{}", pg.port());
    let visitor = Browser::on(address.clone(), "postgres");
    let operator = Browser::on(address, "postgres");
    assert_eq!(operator.log_in_with("operator-password").await.status, 303);
    // A login form opened before PostgreSQL stops.
    let token = crate::helpers::csrf_token(&visitor.get("/login").await.body);

    let mut pg = tokio::task::spawn_blocking(move || {
        pg.stop().unwrap();
        pg
    })
    .await
    .unwrap();
    // The page's failed session lookup ends the state database's last
    // answer: readiness asks again at once.
    let page = operator.get(&operator.users("")).await;
    let health = visitor.get("/healthz").await;
    let ready = visitor.get("/readyz").await;
    let live = visitor.get("/livez").await;
    let login_page = visitor.get("/login").await;
    let login = visitor
        .post(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("username", "admin"),
                ("password", "operator-password"),
            ],
        )
        .await;

    for (what, answer) in [
        ("health", &health),
        // The state database is on the stopped server too.
        ("readiness", &ready),
        ("page", &page),
        ("login page", &login_page),
        ("login", &login),
    ] {
        assert_eq!(answer.status, 503, "{what}: {}", answer.body);
        assert!(
            answer.body.contains("PostgreSQL cannot be reached"),
            "{what} says why: {}",
            answer.body
        );
        // Nobody is logged in as far as the page can tell (the sessions are
        // in the stopped cluster): where the server is stays in the log.
        assert!(!answer.body.contains(&socket), "{what}: {}", answer.body);
    }
    // The process itself is fine: restarting it would not help.
    assert_eq!(live.status, 200, "{}", live.body);
    tokio::task::spawn_blocking(move || pg.stop())
        .await
        .unwrap()
        .unwrap();
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn a_state_database_refusing_pgusers_password_answers_503_at_login_not_500() {
    let db = test_db().await;
    let mut state_config = tokio_postgres::Config::new();
    state_config
        .host("127.0.0.1")
        .port(tcp_port())
        .user(&db.protected)
        .password(db.protected_password.expose())
        .dbname(&db.name);
    let state = StateStore::new(StateSettings {
        config: state_config.into(),
        create_with: None,
        admin_password: Some(OperatorPassword::parse("operator-password").unwrap()),
        announce: Announce::Stdout,
        bootstrap_operator: true,
    });
    let roles = RoleManager::new(db.admin_config(), 2, None);
    let browser = dashboard().serve_one(&db.name, roles, state).await;
    // With a wrong password from the start, pgusers would not start at
    // all: the password changes under the running dashboard, and the
    // connections it had end.
    let admin = db.admin().await;
    admin
        .batch_execute(&format!(
            "ALTER ROLE {} PASSWORD {}",
            crate::helpers::ident(&db.protected),
            crate::helpers::verifier_literal(&crate::helpers::password())
        ))
        .await
        .unwrap();
    end_sessions_of(&admin, &db.protected).await;

    // The login page itself answers 503: its form could not work.
    let login = browser.get("/login").await;
    let ready = browser.get("/readyz").await;
    let health = browser.get("/healthz").await;
    let live = browser.get("/livez").await;

    assert_eq!(login.status, 503, "{}", login.body);
    assert!(
        login.body.contains("PostgreSQL refused its settings"),
        "{}",
        login.body
    );
    assert!(!login.body.contains(&db.protected), "{}", login.body);
    assert!(!login.body.contains(db.protected_password.expose()));
    // Not ready, though the managed database answers: nobody could log in.
    for (what, answer) in [("readiness", &ready), ("health", &health)] {
        assert_eq!(answer.status, 503, "{what}: {}", answer.body);
        assert!(
            answer.body.contains("PostgreSQL refused its settings"),
            "{what}: {}",
            answer.body
        );
        assert!(
            !answer.body.contains(&db.protected),
            "{what}: {}",
            answer.body
        );
    }
    assert_eq!(live.status, 200, "{}", live.body);
}

/// Ends every session of `user` and waits until they are gone, and a
/// moment more, so their clients have seen it.
async fn end_sessions_of(admin: &tokio_postgres::Client, user: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 = admin
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1",
                &[&user],
            )
            .await
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{user}'s sessions did not end");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn a_protected_user_dropped_while_running_answers_503_naming_it() {
    let db = test_db().await;
    let doomed = unique_name("doomed");
    db.admin()
        .await
        .batch_execute(&format!("CREATE ROLE {doomed} LOGIN"))
        .await
        .unwrap();
    let roles = RoleManager::new(
        db.admin_config(),
        2,
        Some(RoleName::parse(&doomed).unwrap()),
    );
    let state_db = format!("{}_state", db.name);
    let state = StateStore::new(StateSettings {
        config: cluster().admin_config(&state_db).into(),
        create_with: Some(cluster().admin_config("postgres").into()),
        admin_password: Some(OperatorPassword::parse("operator-password").unwrap()),
        announce: Announce::Stdout,
        bootstrap_operator: true,
    });
    let browser = dashboard().serve_one(&db.name, roles, state).await;
    assert_eq!(browser.log_in_with("operator-password").await.status, 303);

    db.admin()
        .await
        .batch_execute(&format!("DROP ROLE {doomed}"))
        .await
        .unwrap();
    let page = browser.get(&browser.users("")).await;
    let health = browser.get("/healthz").await;

    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.body.contains(&doomed), "{}", page.body);
    assert!(page.body.contains("PGUSERS_PROTECTED_USER"));
    assert_eq!(health.status, 503, "{}", health.body);
    assert!(!health.body.contains(&doomed), "public: {}", health.body);
}

#[tokio::test]
async fn a_role_that_may_not_create_roles_exits_2_saying_what_it_needs() {
    let db = test_db().await;
    let weak = unique_name("weak");
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE ROLE {weak} LOGIN PASSWORD 'weak-role-password'"
        ))
        .await
        .unwrap();
    let url = format!(
        "postgres://{weak}:weak-role-password@127.0.0.1:{}/{}",
        tcp_port(),
        db.name
    );

    let run = pgusers_async(&["database-users-list"], vec![("DATABASE_URL", url)]).await;

    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "User \"{weak}\" that pgusers connects as may not create roles"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("CREATEROLE"));
    assert!(!run.stderr.contains("weak-role-password"));
}

#[tokio::test]
async fn the_floor_route_asks_the_managed_database_behind_the_session_and_says_when_it_cannot() {
    // The benchmarks' floor: one SELECT 1 on the managed database's pool,
    // behind the operator's session like a page.
    let db = test_db().await;
    let (master, config) = crate::helpers::createrole_admin(&db, "").await;
    let state = StateStore::new(StateSettings {
        config: cluster().admin_config(&format!("{}_state", db.name)).into(),
        create_with: Some(cluster().admin_config("postgres").into()),
        admin_password: Some(OperatorPassword::parse("operator-password").unwrap()),
        announce: Announce::Stdout,
        bootstrap_operator: true,
    });
    state.ensure_ready().await.expect("the state database");
    let browser = dashboard()
        .serve_one(&db.name, RoleManager::new(config, 2, None), state)
        .await;
    let floor = browser.database_page("/floor");

    let anonymous = browser.get(&floor).await;
    assert_eq!(anonymous.status, 303, "{}", anonymous.body);
    assert_eq!(browser.log_in_with("operator-password").await.status, 303);
    let answered = browser.get(&floor).await;
    assert_eq!(
        (answered.status, answered.body.as_str()),
        (200, "ok\n"),
        "{}",
        answered.body
    );
    assert_eq!(answered.cache_control.as_deref(), Some("no-store"));
    assert_eq!(browser.get("/databases/no_such_db/floor").await.status, 404);

    // The managed database refuses pgusers' role from now on; the state
    // database (the session) still works.
    let admin = db.admin().await;
    admin
        .batch_execute(&format!(
            "ALTER ROLE {} PASSWORD {}",
            crate::helpers::ident(&master),
            crate::helpers::verifier_literal(&crate::helpers::password())
        ))
        .await
        .unwrap();
    end_sessions_of(&admin, &master).await;
    let refused = browser.get(&floor).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(
        refused.body.contains(&format!(
            "Authentication failed for user &#34;{master}&#34;"
        )),
        "{}",
        refused.body
    );
}
