//! Two `pgusers serve` processes sharing the session key and the state
//! database behave as one dashboard: how pgusers scales past one machine,
//! stateless processes behind any load balancer, state in PostgreSQL.
//!
//! Each test starts real processes of the binary on ports of their own,
//! over a state database of the test's own; controls (another key, another
//! state database) show that what is shared is what makes them one.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use pgusers::domain::OperatorPassword;
use pgusers::notice::Announce;
use pgusers::state::{StateSettings, StateStore};
use tokio_postgres::Client;

use crate::binary::{Running, start, terminate};
use crate::helpers::{
    Browser, TestDb, cluster, conninfo, csrf_token, state_of, test_db, token_of, unique_name,
};

/// A running `serve` process, killed when dropped unless stopped, so a
/// failing assertion leaves no process behind.
struct Replica {
    running: Option<Running>,
    address: String,
    _dir: tempfile::TempDir,
}

impl Replica {
    /// Starts `serve` over `db` with state database `state_db` and session
    /// key `key`, in a data directory of its own.
    async fn start(db: &TestDb, state_db: &str, key: &str) -> Self {
        Self::start_with(db, state_db, key, &[]).await
    }

    /// As [`Replica::start`], with more settings in `extra` (environment
    /// variables).
    async fn start_with(
        db: &TestDb,
        state_db: &str,
        key: &str,
        extra: &[(&'static str, &str)],
    ) -> Self {
        let mut env = vec![
            ("DATABASE_URL", db.database_url()),
            (
                "PGUSERS_STATE_URL",
                conninfo(&cluster().admin_config(state_db)),
            ),
            ("PGUSERS_SESSION_KEY", key.to_owned()),
        ];
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        // The log is written next to the data directory: both inside one
        // temporary directory, removed with it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let running = tokio::task::spawn_blocking(move || start(&path, &env))
            .await
            .unwrap();
        Self {
            address: running.address.clone(),
            running: Some(running),
            _dir: dir,
        }
    }

    /// Sends SIGTERM and checks the process exits cleanly.
    async fn stop(mut self) {
        let running = self.running.take().unwrap();
        tokio::task::spawn_blocking(move || terminate(running))
            .await
            .unwrap();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(running) = &mut self.running {
            let _ = running.child.kill();
            let _ = running.child.wait();
        }
    }
}

/// A new session key (as long as `serve` asks, or longer).
fn session_key() -> String {
    let key: String = (0..5).map(|_| unique_name("key")).collect();
    assert!(key.len() >= pgusers::web::SESSION_KEY_LEN);
    key
}

/// Two replicas, A and B, sharing one state database (set up, with
/// operator `admin`) and one session key.
struct Two {
    db: TestDb,
    store: StateStore,
    state_db: String,
    key: String,
    operator_password: String,
    a: Replica,
    b: Replica,
}

async fn two_replicas() -> Two {
    let db = test_db().await;
    let (store, state_db, operator_password) = state_of(&db).await;
    let key = session_key();
    let a = Replica::start(&db, &state_db, &key).await;
    let b = Replica::start(&db, &state_db, &key).await;
    Two {
        db,
        store,
        state_db,
        key,
        operator_password,
        a,
        b,
    }
}

/// Another state database for `db`, set up, with operator `admin` and the
/// same password: its name.
async fn another_state_database(db: &TestDb, operator_password: &str) -> String {
    let name = format!("{}_other", db.name);
    StateStore::new(StateSettings {
        config: cluster().admin_config(&name).into(),
        create_with: Some(cluster().admin_config("postgres").into()),
        admin_password: Some(OperatorPassword::parse(operator_password).unwrap()),
        announce: Announce::Stdout,
        bootstrap_operator: true,
    })
    .ensure_ready()
    .await
    .expect("the other state database is set up");
    name
}

async fn state_admin(state_db: &str) -> Client {
    pgusers::db::connect(&cluster().admin_config(state_db))
        .await
        .expect("the state database")
}

/// A browser on `replica` whose connections come from `ip` (any of
/// 127.0.0.0/8 reaches a replica on 127.0.0.1), as a client of its own.
fn browser_from(replica: &Replica, database: &str, ip: &str) -> Browser {
    Browser {
        address: replica.address.clone(),
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(ip.parse::<IpAddr>().unwrap())
            .build()
            .unwrap(),
        database: database.to_owned(),
    }
}

/// The same browser (its cookies) pointed at `replica`: one browser, two
/// replicas behind one name, as a load balancer would send it.
fn same_browser_on(browser: &Browser, replica: &Replica) -> Browser {
    Browser {
        address: replica.address.clone(),
        client: browser.client.clone(),
        database: browser.database.clone(),
    }
}

/// Logs `browser` in as `admin`; the session cookie it was given, to replay
/// it elsewhere.
async fn log_in(browser: &Browser, password: &str) -> String {
    let token = csrf_token(&browser.get("/login").await.body);
    let response = browser
        .client
        .post(format!("{}/login", browser.address))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "admin"),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "the login succeeds");
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("the login sets the session cookie");
    cookie.split(';').next().unwrap().to_owned()
}

/// The status of the users page of `database` on `replica`, asked with
/// `cookie` alone (no browser): 200 when it is a live session there, 303 to
/// the login page when not.
async fn users_page_with(replica: &Replica, database: &str, cookie: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}/databases/{database}/settings/database-users",
            replica.address
        ))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The status of `GET /api/databases` on `replica` with `token`.
async fn api_with(replica: &Replica, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/api/databases", replica.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_login_on_one_replica_is_valid_on_the_other_and_a_logout_on_either_ends_it_on_both() {
    let Two {
        db,
        store,
        state_db,
        key,
        operator_password,
        a,
        b,
    } = two_replicas().await;
    // Controls: the same state database with another key, and the same key
    // with another state database (holding an `admin` with the same password).
    let other_key = Replica::start(&db, &state_db, &session_key()).await;
    let other_state_db = another_state_database(&db, &operator_password).await;
    let other_state = Replica::start(&db, &other_state_db, &key).await;
    let on_a = Browser::on(a.address.clone(), &db.name);

    // The cookie A gives works on B, alone, in a client that never saw A.
    let cookie = log_in(&on_a, &operator_password).await;
    assert_eq!(users_page_with(&a, &db.name, &cookie).await, 200);
    assert_eq!(
        users_page_with(&b, &db.name, &cookie).await,
        200,
        "A's login is valid on B"
    );
    // Not on a replica with another key, though its state database holds
    // the session; nor on one with the same key and another state database.
    assert_eq!(
        users_page_with(&other_key, &db.name, &cookie).await,
        303,
        "another key: the cookie means nothing"
    );
    assert_eq!(
        users_page_with(&other_state, &db.name, &cookie).await,
        303,
        "another state database: no such session"
    );

    // A logout on B (the browser sent there) ends the session on A too,
    // even for a copy of the cookie.
    let on_b = same_browser_on(&on_a, &b);
    let token = csrf_token(&on_b.get(&on_b.users("")).await.body);
    let out = on_b
        .post("/logout", &[("csrf_token", token.as_str())])
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/login?logged_out"));
    assert_eq!(
        users_page_with(&a, &db.name, &cookie).await,
        303,
        "logged out on B, so on A"
    );
    assert_eq!(users_page_with(&b, &db.name, &cookie).await, 303);
    let again = on_a.get(&on_a.users("")).await;
    assert_eq!(again.status, 303, "the browser is logged out on A");
    assert_eq!(
        again.location,
        Some(crate::helpers::login_for(&on_a.users("")))
    );

    // One API token, made once in the shared state, works on both; not on a
    // replica with another state database.
    let (_, api_token) = token_of(&store, "admin", true).await;
    assert_eq!(api_with(&a, api_token.expose()).await, 200);
    assert_eq!(api_with(&b, api_token.expose()).await, 200);
    assert_eq!(api_with(&other_state, api_token.expose()).await, 401);

    for replica in [a, b, other_key, other_state] {
        replica.stop().await;
    }
}

#[tokio::test]
async fn a_login_kept_alive_on_one_replica_stays_valid_on_the_other_past_its_idle_timeout() {
    let db = test_db().await;
    let (_store, state_db, operator_password) = state_of(&db).await;
    let key = session_key();
    // Idle 2 s, so a refresh grain of 0.2 s.
    let idle = [("PGUSERS_SESSION_IDLE", "2s")];
    let a = Replica::start_with(&db, &state_db, &key, &idle).await;
    let b = Replica::start_with(&db, &state_db, &key, &idle).await;
    let cookie = log_in(
        &Browser::on(a.address.clone(), &db.name),
        &operator_password,
    )
    .await;
    let logged_in = Instant::now();

    // Used on B only, for longer than the idle timeout.
    while logged_in.elapsed() < Duration::from_millis(3000) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            users_page_with(&b, &db.name, &cookie).await,
            200,
            "B keeps it alive {:?} after the login",
            logged_in.elapsed()
        );
    }

    // A last saw it at the login, more than its idle span ago, yet accepts
    // it: B's use was recorded where A reads it.
    assert_eq!(
        users_page_with(&a, &db.name, &cookie).await,
        200,
        "A sees B's activity"
    );

    a.stop().await;
    b.stop().await;
}

/// Creates database user `name` through the dashboard's form, as `browser`.
async fn create_user(browser: &Browser, name: &str) {
    let fields = [
        ("username", name),
        ("password", ""),
        ("password_confirmation", ""),
    ];
    let created = browser
        .submit(&browser.users("/new"), &browser.users(""), &fields)
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
}

/// One audit log entry: actor, source, action, database, target, outcome,
/// detail and client address.
type Entry = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

/// The audit log entries in `state` that match the condition `query`,
/// oldest first.
async fn entries(
    state: &Client,
    query: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Vec<Entry> {
    state
        .query(
            &format!(
                "SELECT actor, source, action, database_name, target, outcome, detail, client_address
                   FROM audit_log WHERE {query} ORDER BY id"
            ),
            params,
        )
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.get(0),
                row.get(1),
                row.get(2),
                row.get(3),
                row.get(4),
                row.get(5),
                row.get(6),
                row.get(7),
            )
        })
        .collect()
}

#[tokio::test]
async fn actions_on_either_replica_are_written_to_one_audit_log_with_their_details() {
    let two = two_replicas().await;
    let database = two.db.name.as_str();
    // A client of A's from one address, a client of B's from another, so
    // each entry tells which replica wrote it.
    let on_a = browser_from(&two.a, database, "127.0.0.2");
    let on_b = browser_from(&two.b, database, "127.0.0.3");
    let (from_a, from_b) = (unique_name("rep_a"), unique_name("rep_b"));
    log_in(&on_a, &two.operator_password).await;
    create_user(&on_a, &from_a).await;
    log_in(&on_b, &two.operator_password).await;
    create_user(&on_b, &from_b).await;

    let state = state_admin(&two.state_db).await;
    let entry = |action: &str, target: Option<&str>, address: &str| -> Entry {
        (
            "admin".into(),
            "dashboard".into(),
            action.into(),
            target.map(|_| database.to_owned()),
            target.map(str::to_owned),
            "ok".into(),
            None,
            Some(address.into()),
        )
    };
    assert_eq!(
        entries(&state, "action = 'login'", &[]).await,
        vec![
            entry("login", None, "127.0.0.2"),
            entry("login", None, "127.0.0.3"),
        ]
    );
    assert_eq!(
        entries(&state, "target IN ($1, $2)", &[&from_a, &from_b]).await,
        vec![
            entry("create user", Some(&from_a), "127.0.0.2"),
            entry("create user", Some(&from_b), "127.0.0.3"),
        ]
    );

    let Two { a, b, .. } = two;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn failed_logins_on_either_replica_count_together_toward_the_lockout_of_their_address() {
    // The real policy (`LoginPolicy::default()`, which `serve` uses): an
    // address is locked out from its tenth failure in 15 minutes.
    let lock_after = pgusers::state::LoginPolicy::default().lock_after;
    assert_eq!(lock_after, 10);
    let two = two_replicas().await;
    let database = two.db.name.as_str();
    let guesser = "127.0.0.4";
    let (guessing_a, guessing_b) = (
        browser_from(&two.a, database, guesser),
        browser_from(&two.b, database, guesser),
    );

    // Half the failures on each replica, so neither alone reaches the
    // lockout. Sent all at once, so none waits for the slowdown that comes
    // before it; under names no operator has, so `admin` is not slowed down.
    let names = |n| (0..n).map(|_| unique_name("guess")).collect::<Vec<_>>();
    let (on_a, on_b) = (names(lock_after / 2), names(lock_after - lock_after / 2));
    let (answers_a, answers_b) = tokio::join!(
        guessing_a.logins_all_at_once(&on_a, "not-the-password"),
        guessing_b.logins_all_at_once(&on_b, "not-the-password"),
    );
    assert!(
        answers_a
            .iter()
            .chain(&answers_b)
            .all(|status| *status == 401),
        "each failure is checked and refused: {answers_a:?} {answers_b:?}"
    );

    // The address is locked out on both, even with the right password.
    for browser in [&guessing_a, &guessing_b] {
        let page = browser.log_in_with(&two.operator_password).await;
        assert_eq!(page.status, 429, "locked out on {}", browser.address);
    }
    // Only that address: another logs in on either.
    let elsewhere = browser_from(&two.b, database, "127.0.0.5");
    assert_eq!(
        elsewhere.log_in_with(&two.operator_password).await.status,
        303
    );

    // One audit log: every failure, from either replica, then the lockout
    // recorded once for both (B's refusal came after A's).
    let state = state_admin(&two.state_db).await;
    let refused = entries(
        &state,
        "action = 'failed login' AND client_address = $1",
        &[&guesser],
    )
    .await;
    let (failures, lockout) = refused.split_at(refused.len().saturating_sub(1));
    let mut failed_names: Vec<_> = failures
        .iter()
        .map(|(actor, _, _, _, _, outcome, detail, _)| {
            assert_eq!((outcome.as_str(), detail), ("refused", &None));
            actor.clone()
        })
        .collect();
    let mut guessed: Vec<_> = on_a.iter().chain(&on_b).cloned().collect();
    failed_names.sort();
    guessed.sort();
    assert_eq!(failed_names, guessed, "{refused:#?}");
    let [(actor, _, _, _, _, outcome, Some(detail), _)] = lockout else {
        panic!("one lockout recorded last: {refused:#?}");
    };
    assert_eq!((actor.as_str(), outcome.as_str()), ("admin", "refused"));
    assert!(detail.starts_with("locked out"), "{detail}");

    let Two { a, b, .. } = two;
    a.stop().await;
    b.stop().await;
}
