//! Sessions, login throttling and operators, through the real dashboard.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use pgusers::domain::{OperatorName, OperatorPassword};
use pgusers::notice::Announce;
use pgusers::roles::RoleManager;
use pgusers::state::{FormKey, LoginPolicy, StateSettings, StateStore};
use pgusers::web::SessionPolicy;

use crate::helpers::{
    Browser, cluster, csrf_token, dashboard, form_id, quick_lockout, unique_name,
};

/// A browser on the dashboard of `app` whose connections come from `ip`
/// (any of 127.0.0.0/8 reaches the dashboard on 127.0.0.1), as another
/// client would.
fn browser_from(app: &crate::helpers::TestApp, ip: &str) -> Browser {
    let ip: IpAddr = ip.parse().unwrap();
    Browser {
        address: app.address.clone(),
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(ip)
            .build()
            .unwrap(),
        database: app.database.clone(),
    }
}

/// A number from the state database.
async fn count(app: &crate::helpers::TestApp, query: &str) -> i64 {
    app.state_admin()
        .await
        .query_one(query, &[])
        .await
        .unwrap()
        .get(0)
}

/// Failed logins the state database holds against `admin`.
async fn failures_of_admin(app: &crate::helpers::TestApp) -> i64 {
    app.state_admin()
        .await
        .query_one(
            "SELECT count(*) FROM login_failures WHERE operator = 'admin'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_login_ends_after_the_idle_timeout() {
    let app = dashboard()
        .sessions(SessionPolicy {
            idle: Duration::from_secs(1),
            lifetime: Duration::from_secs(3600),
        })
        .logins(LoginPolicy::default())
        .start()
        .await;
    app.log_in().await;
    assert_eq!(app.get(&app.users("")).await.status, 200);

    tokio::time::sleep(Duration::from_millis(2100)).await;

    let page = app.get(&app.users("")).await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location,
        Some(crate::helpers::login_for(&app.users("")))
    );
}

/// The session row's last-seen time and the transaction that last wrote
/// it (its `xmin`), both as text: an UPDATE changes the second even when it
/// writes the same time.
async fn session_row(app: &crate::helpers::TestApp) -> (String, String) {
    let row = app
        .state_admin()
        .await
        .query_one(
            "SELECT seen_at::text, xmin::text FROM operator_sessions",
            &[],
        )
        .await
        .expect("one session");
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn a_page_view_writes_nothing_to_the_session() {
    let app = dashboard().start().await;
    app.log_in().await;
    let before = session_row(&app).await;

    for _ in 0..2 {
        assert_eq!(app.get(&app.users("")).await.status, 200);
    }

    assert_eq!(
        session_row(&app).await,
        before,
        "neither seen_at nor the row's version changed: no UPDATE"
    );
}

#[tokio::test]
async fn activity_keeps_a_login_alive_past_the_idle_timeout_and_idleness_then_ends_it() {
    // Idle 4 s, so a refresh grain of 0.4 s: each request below comes after
    // more than a grain and records the session as used, and within the
    // timeout of the one before even when a loaded machine takes seconds to
    // answer (at 2 s, one CI run under load saw a request answered late).
    let app = dashboard()
        .sessions(SessionPolicy {
            idle: Duration::from_secs(4),
            lifetime: Duration::from_secs(3600),
        })
        .logins(LoginPolicy::default())
        .start()
        .await;
    app.log_in().await;

    let active = Instant::now();
    while active.elapsed() < Duration::from_millis(9000) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            app.get(&app.users("")).await.status,
            200,
            "still logged in {:?} after the login",
            active.elapsed()
        );
    }

    tokio::time::sleep(Duration::from_millis(8100)).await;
    let page = app.get(&app.users("")).await;
    assert_eq!(page.status, 303, "idle for twice the timeout");
    assert_eq!(
        page.location,
        Some(crate::helpers::login_for(&app.users("")))
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM operator_sessions").await,
        0,
        "the expired session is deleted"
    );
}

#[tokio::test]
async fn a_login_forgets_sessions_abandoned_past_the_idle_timeout() {
    let app = dashboard()
        .sessions(SessionPolicy {
            idle: Duration::from_secs(1),
            lifetime: Duration::from_secs(3600),
        })
        .logins(LoginPolicy::default())
        .start()
        .await;
    app.log_in().await;
    // Never used again: no request will find it expired and delete it.
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let another = Browser::on(app.address.clone(), &app.database);
    assert_eq!(
        another.log_in_with(&app.operator_password).await.status,
        303
    );

    assert_eq!(
        count(&app, "SELECT count(*) FROM operator_sessions").await,
        1,
        "only the new session is kept"
    );
}

#[tokio::test]
async fn a_login_ends_after_its_lifetime_even_when_active() {
    let app = dashboard()
        .sessions(SessionPolicy {
            idle: Duration::from_secs(3600),
            lifetime: Duration::from_secs(2),
        })
        .logins(LoginPolicy::default())
        .start()
        .await;
    app.log_in().await;

    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        app.get(&app.users("")).await;
    }

    assert_eq!(
        app.get(&app.users("")).await.status,
        303,
        "expired despite activity"
    );
}

#[tokio::test]
async fn repeated_failures_lock_out_the_address_across_restarts_without_saying_why() {
    let app = dashboard()
        .sessions(SessionPolicy::default())
        .logins(quick_lockout())
        .start()
        .await;

    for _ in 0..4 {
        let page = app.log_in_with("not-the-password").await;
        assert_eq!(page.status, 401);
        assert!(page.body.contains("Invalid name or password."));
    }
    let locked = app.log_in_with(&app.operator_password).await;

    assert_eq!(locked.status, 429, "even the right password is refused now");
    assert!(locked.body.contains("Too many failed logins."));
    assert!(
        !locked.body.to_lowercase().contains("password is"),
        "nothing says which part was wrong"
    );
    // The count lives in the state database: another dashboard process on
    // the same state refuses too.
    let replica = dashboard()
        .sessions(SessionPolicy::default())
        .logins(quick_lockout())
        .serve_one(
            &app.db.name,
            RoleManager::new(app.db.admin_config(), 1, None),
            app.state_store(),
        )
        .await;
    assert_eq!(
        replica.log_in_with(&app.operator_password).await.status,
        429
    );
    let stored = failures_of_admin(&app).await;
    assert_eq!(stored, 4);
}

#[tokio::test]
async fn a_successful_login_clears_the_names_failures() {
    let app = dashboard()
        .sessions(SessionPolicy::default())
        .logins(quick_lockout())
        .start()
        .await;

    for _ in 0..3 {
        app.log_in_with("not-the-password").await;
    }
    app.log_in().await;
    app.submit(&app.users(""), "/logout", &[]).await;
    app.log_in_with("not-the-password").await;

    // 3 cleared, then 1: far from the lockout by name.
    let failures = failures_of_admin(&app).await;
    assert_eq!(failures, 1);
}

#[tokio::test]
async fn a_removed_operator_is_logged_out_at_its_next_request() {
    let app = dashboard().start().await;
    let state = app.state_store();
    let jane = OperatorName::parse("jane").unwrap();
    state
        .add_operator(
            &jane,
            &OperatorPassword::parse("janes-long-password").unwrap(),
        )
        .await
        .unwrap();
    let browser = Browser::on(app.address.clone(), &app.database);
    let login = browser
        .submit(
            "/login",
            "/login",
            &[("username", "jane"), ("password", "janes-long-password")],
        )
        .await;
    assert_eq!(login.status, 303);
    assert_eq!(browser.get(&app.users("")).await.status, 200);

    state.remove_operator(&jane).await.unwrap();

    assert_eq!(browser.get(&app.users("")).await.status, 303);
}

#[tokio::test]
async fn the_last_operator_cannot_be_removed() {
    let app = dashboard().start().await;
    let state = app.state_store();

    let result = state
        .remove_operator(&OperatorName::parse("admin").unwrap())
        .await;

    assert!(
        matches!(result, Err(pgusers::state::StateError::LastOperator(_))),
        "{result:?}"
    );
    app.log_in().await;
}

#[tokio::test]
async fn attempts_sent_all_at_once_are_counted_before_any_password_is_checked() {
    let app = dashboard()
        .sessions(SessionPolicy::default())
        .logins(quick_lockout())
        .start()
        .await;
    let answers = app
        .logins_all_at_once(&vec!["admin".to_owned(); 12], "not-the-password")
        .await;

    let checked = answers.iter().filter(|status| **status == 401).count();
    let refused = answers.iter().filter(|status| **status == 429).count();
    assert_eq!(
        checked, 4,
        "only attempts before the lockout are checked: {answers:?}"
    );
    assert_eq!(refused, 8);
}

#[tokio::test]
async fn failures_from_one_address_lock_out_every_name() {
    let app = dashboard()
        .sessions(SessionPolicy::default())
        .logins(quick_lockout())
        .start()
        .await;

    for name in ["alice", "bobby", "carol", "david"] {
        let page = app
            .submit(
                "/login",
                "/login",
                &[("username", name), ("password", "guess-guess-guess")],
            )
            .await;
        assert_eq!(page.status, 401);
    }

    assert_eq!(app.log_in_with(&app.operator_password).await.status, 429);
}

/// The session cookie a browser holds, to replay it elsewhere.
async fn logged_in_cookie(app: &crate::helpers::TestApp) -> String {
    let token = crate::helpers::csrf_token(&app.get("/login").await.body);
    let response = app
        .client
        .post(format!("{}/login", app.address))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "admin"),
            ("password", app.operator_password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("the login sets the session cookie")
        .to_owned();
    cookie.split(';').next().unwrap().to_owned()
}

async fn status_with_cookie(app: &crate::helpers::TestApp, cookie: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}{}", app.address, app.users("")))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn logging_out_ends_the_session_on_the_server_so_a_copied_cookie_is_useless() {
    let app = dashboard().start().await;
    let copied = logged_in_cookie(&app).await;
    assert_eq!(status_with_cookie(&app, &copied).await, 200);

    let out = app.submit(&app.users(""), "/logout", &[]).await;

    assert_eq!(out.status, 303);
    assert_eq!(status_with_cookie(&app, &copied).await, 303);
}

/// The session id inside a session cookie (`name=value`), read with the
/// dashboard's key as the dashboard reads it.
fn session_id_in(app: &crate::helpers::TestApp, cookie: &str) -> String {
    use actix_web::cookie::{Cookie, CookieJar, Key};

    let mut jar = CookieJar::new();
    jar.add_original(Cookie::parse_encoded(cookie.to_owned()).unwrap());
    let state = jar
        .private(&Key::from(&app.session_key))
        .get("pgusers_session")
        .expect("the dashboard's key opens its cookie");
    let values: std::collections::HashMap<String, String> =
        serde_json::from_str(state.value()).unwrap();
    serde_json::from_str(&values["sid"]).expect("the cookie names a session")
}

/// A session cookie carrying `sid`, made with the dashboard's own key: what
/// someone who has the key and a copy of the state database could forge.
fn cookie_with_session_id(app: &crate::helpers::TestApp, sid: &str) -> String {
    use actix_web::cookie::{Cookie, CookieJar, Key};

    let state = serde_json::json!({ "sid": serde_json::to_string(sid).unwrap() }).to_string();
    let mut jar = CookieJar::new();
    jar.private_mut(&Key::from(&app.session_key))
        .add(Cookie::new("pgusers_session", state));
    let sealed = jar.get("pgusers_session").unwrap();
    sealed.encoded().to_string()
}

/// Every row of every table of the state database, as text.
async fn whole_state_database(app: &crate::helpers::TestApp) -> String {
    let client = app.state_admin().await;
    let tables = client
        .query(
            "SELECT quote_ident(table_name) FROM information_schema.tables
              WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            &[],
        )
        .await
        .unwrap();
    let mut everything = String::new();
    for table in tables {
        let table: String = table.get(0);
        let rows: String = client
            .query_one(
                &format!("SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t"),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        everything.push_str(&rows);
    }
    everything
}

#[tokio::test]
async fn the_state_database_holds_only_a_hash_of_a_session_id_so_a_copied_row_logs_nobody_in() {
    let app = dashboard().start().await;
    let cookie = logged_in_cookie(&app).await;
    let sid = session_id_in(&app, &cookie);
    // A confirmation form sent, so that its claim is stored too.
    let user = app
        .db
        .create_user("hashed", pgusers::roles::Access::ReadOnly)
        .await
        .0;
    let sent = app
        .submit(
            &app.users(&format!("/{user}/reset")),
            &app.users(&format!("/{user}/reset")),
            &[],
        )
        .await;

    let everything = whole_state_database(&app).await;

    assert_eq!(status_with_cookie(&app, &cookie).await, 200);
    assert!(!everything.contains(&sid), "the session id is stored");
    assert!(everything.contains(&pgusers::state::session_hash(&sid)));
    let stored: Vec<String> = app
        .state_admin()
        .await
        .query(
            "SELECT id_hash FROM operator_sessions
             UNION ALL SELECT session_hash FROM form_uses",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(stored.len() >= 2, "{stored:?} ({})", sent.status);
    for row in stored {
        assert_eq!(
            status_with_cookie(&app, &cookie_with_session_id(&app, &row)).await,
            303,
            "a value copied from the state database logged in"
        );
    }
}

mod state_migrations {
    refinery::embed_migrations!("src/state/migrations");
}

#[tokio::test]
async fn sessions_open_before_ids_were_hashed_stay_logged_in_and_keep_their_form_claims() {
    let name = unique_name("state_v6");
    let superuser = pgusers::db::connect(&cluster().admin_config("postgres"))
        .await
        .unwrap();
    superuser
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let mut client = pgusers::db::connect(&cluster().admin_config(&name))
        .await
        .unwrap();
    // The state as the version before this one left it.
    state_migrations::migrations::runner()
        .set_target(refinery::Target::Version(6))
        .run_async(&mut client)
        .await
        .unwrap();
    let id = "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5kL7nP9r";
    client
        .batch_execute(&format!(
            "INSERT INTO operators (name, password_hash) VALUES ('admin', 'x');
             INSERT INTO operator_sessions (id, operator) VALUES ('{id}', 'admin');
             INSERT INTO form_uses (session_id, form_id, operator, action, target)
             VALUES ('{id}', 'f1', 'admin', 'reset_password', 'someone');"
        ))
        .await
        .unwrap();
    let store = StateStore::new(StateSettings {
        config: cluster().admin_config(&name).into(),
        create_with: None,
        admin_password: None,
        announce: Announce::Stdout,
        bootstrap_operator: false,
    });

    let operator = store
        .check_session(
            id,
            Duration::from_secs(3600),
            Duration::from_secs(3600),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let hash = pgusers::state::session_hash(id);
    let claim = store
        .form_use(&FormKey {
            session_hash: &hash,
            form_id: "f1",
        })
        .await
        .unwrap();
    let stored: String = client
        .query_one(
            "SELECT (SELECT string_agg(s::text, ' ') FROM operator_sessions s)
                 || (SELECT string_agg(f::text, ' ') FROM form_uses f)",
            &[],
        )
        .await
        .unwrap()
        .get(0);

    assert_eq!(operator.as_deref(), Some("admin"));
    assert_eq!(claim.map(|used| used.target).as_deref(), Some("someone"));
    assert!(!stored.contains(id), "{stored}");
}

#[tokio::test]
async fn a_new_operator_password_ends_its_other_sessions() {
    let app = dashboard().start().await;
    let copied = logged_in_cookie(&app).await;

    app.state_store()
        .set_operator_password(
            &OperatorName::parse("admin").unwrap(),
            &OperatorPassword::parse("a-brand-new-password").unwrap(),
        )
        .await
        .unwrap();

    assert_eq!(status_with_cookie(&app, &copied).await, 303);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_strict() {
    let app = dashboard().start().await;
    let response = app
        .client
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap();

    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_owned();

    assert!(cookie.starts_with("pgusers_session="));
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Strict"));
    assert!(!cookie.contains("Secure"), "plain HTTP on loopback");
}

#[tokio::test]
async fn a_password_typed_into_the_name_field_is_never_recorded() {
    let app = dashboard().start().await;
    let slip = "my secret password 123";

    app.submit("/login", "/login", &[("username", slip), ("password", "x")])
        .await;

    let everything: String = app
        .state_admin()
        .await
        .query_one(
            "SELECT (SELECT coalesce(string_agg(a::text, ' '), '') FROM audit_log a)
                 || (SELECT coalesce(string_agg(f::text, ' '), '') FROM login_failures f)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(everything.contains("(not an operator name)"));
    assert!(!everything.contains(slip));
}

/// Opens a raw connection to the dashboard: no client library would send
/// a body as slowly as these tests do.
async fn raw_connection(app: &crate::helpers::TestApp) -> tokio::net::TcpStream {
    let authority = app.address.trim_start_matches("http://");
    tokio::net::TcpStream::connect(authority)
        .await
        .expect("the dashboard accepts connections")
}

/// Sends a POST head with `framing` (a length or chunked header), then
/// `piece` every 300 ms for 30 s; what the server answered, and when the
/// connection closed, within 10 s.
async fn trickle(framing: &str, piece: &'static [u8]) -> (String, Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = dashboard()
        .tune(|settings| {
            settings.limits.body_timeout = Duration::from_secs(1);
        })
        .start()
        .await;
    let (mut reader, mut writer) = raw_connection(&app).await.into_split();
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n\r\n",
        app.address.trim_start_matches("http://")
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let drip = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(piece).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });

    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection well before the body is complete")
        .expect("reading the answer");
    drip.abort();
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_form_sent_one_byte_at_a_time_is_cut_off_with_408_and_the_connection_closed() {
    // 100 bytes at one each 300 ms would take 30 s to arrive.
    let (answer, elapsed) = trickle("Content-Length: 100", b"a").await;

    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(elapsed < Duration::from_secs(5));
}

#[tokio::test]
async fn a_chunked_form_sent_one_byte_at_a_time_is_cut_off_and_the_connection_closed() {
    let (answer, elapsed) = trickle("Transfer-Encoding: chunked", b"1\r\na\r\n").await;

    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(elapsed < Duration::from_secs(5));
}

#[tokio::test]
async fn a_request_head_sent_slowly_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = dashboard()
        .tune(|settings| {
            settings.limits.head_timeout = Duration::from_secs(1);
        })
        .start()
        .await;
    let mut connection = raw_connection(&app).await;
    connection
        .write_all(b"GET /login HTTP/1.1\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();

    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), connection.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .ok();

    // actix-web's own default would wait 5 s.
    assert!(started.elapsed() < Duration::from_secs(3));
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_form_larger_than_any_of_the_dashboards_is_refused_with_413() {
    let app = dashboard().start().await;

    let answer = app
        .client
        .post(format!("{}/login", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("username={}", "a".repeat(32 * 1024)))
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), 413);
    assert!(answer.headers().get("content-security-policy").is_some());
}

#[tokio::test]
async fn a_login_name_longer_than_any_valid_value_is_refused_with_413_and_never_counted() {
    let app = dashboard().start().await;
    let token = csrf_token(&app.get("/login").await.body);
    // 10 KB in a 12 KB body: within the body limit, far past any name.
    let body = format!(
        "csrf_token={token}&username={}&password={}",
        "a".repeat(10 * 1024),
        "p".repeat(1024)
    );

    let answer = app
        .client
        .post(format!("{}/login", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), 413);
    let page = answer.text().await.unwrap();
    assert!(
        page.contains("The field &#34;username&#34; is longer than any value"),
        "{page}"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM login_failures").await,
        0,
        "the attempt was counted"
    );
}

#[tokio::test]
async fn dashboard_forms_and_searches_with_a_field_longer_than_any_valid_value_are_refused_with_413()
 {
    let app = dashboard().start().await;
    app.log_in().await;
    let name = format!("{}{}", unique_name("huge"), "a".repeat(10 * 1024));

    let created = app
        .submit(
            &app.users("/new"),
            &app.users(""),
            &[("username", name.as_str()), ("read_only", "on")],
        )
        .await;
    let searched = app
        .get(&app.users(&format!("?q={}", "a".repeat(10 * 1024))))
        .await;
    let label = app
        .submit(
            "/api-tokens",
            "/api-tokens",
            &[("label", &"l".repeat(2048))],
        )
        .await;

    for (what, page) in [
        ("create", &created),
        ("search", &searched),
        ("token", &label),
    ] {
        assert_eq!(page.status, 413, "{what}: {}", page.body);
        assert!(page.body.contains("is longer than any value"), "{what}");
        // The operator is still shown as logged in on the refusal.
        assert!(page.body.contains("Log out"), "{what}");
    }
    assert!(searched.body.contains("The field &#34;q&#34;"));
    assert!(!app.db.role_exists(&name[..63]).await);
    assert_eq!(
        count(&app, "SELECT count(*) FROM api_tokens").await,
        0,
        "a token was made"
    );
}

/// Logs in as `admin` with extra request headers, as a proxy would pass
/// them on; returns the status.
async fn log_in_through(app: &crate::helpers::TestApp, headers: &[(&str, &str)]) -> u16 {
    let token = csrf_token(&app.get("/login").await.body);
    let mut request = app.client.post(format!("{}/login", app.address)).form(&[
        ("csrf_token", token.as_str()),
        ("username", "admin"),
        ("password", app.operator_password.as_str()),
    ]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

/// The client address the audit log holds for `admin`'s successful login.
async fn recorded_login_address(app: &crate::helpers::TestApp) -> Option<String> {
    app.state_admin()
        .await
        .query_one(
            "SELECT client_address FROM audit_log WHERE action = 'login' AND actor = 'admin'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_cross_origin_form_is_refused_even_with_a_forwarded_host_matching_its_origin() {
    let app = dashboard().start().await;
    app.log_in().await;
    let form_page = app.get(&app.users("/new")).await.body;
    let token = csrf_token(&form_page);
    let id = form_id(&form_page).expect("the form has an id");
    let name = unique_name("forged");
    let form = [
        ("csrf_token", token.as_str()),
        ("form_id", id.as_str()),
        ("username", name.as_str()),
        ("password", ""),
        ("password_confirmation", ""),
    ];
    let forge = |header: &'static str, value: &'static str| {
        app.client
            .post(format!("{}{}", app.address, app.users("")))
            .header("Origin", "http://evil.example")
            .header(header, value)
            .form(&form)
            .send()
    };

    let by_x_forwarded_host = forge("X-Forwarded-Host", "evil.example").await.unwrap();
    let by_forwarded = forge("Forwarded", "host=evil.example").await.unwrap();

    assert_eq!(by_x_forwarded_host.status(), 403);
    assert_eq!(by_forwarded.status(), 403);
    assert!(!app.db.role_exists(&name).await, "nothing was created");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_audit_log_records_the_forwarded_client_address() {
    let app = dashboard()
        .tune(|settings| {
            settings.trusted_proxies = "127.0.0.1".parse().unwrap();
        })
        .start()
        .await;

    // The browser spoke HTTPS to the proxy at dash.example, and tried to
    // pass off 198.51.100.1 as its address before the proxy appended its own.
    let status = log_in_through(
        &app,
        &[
            ("Origin", "https://dash.example"),
            ("X-Forwarded-Host", "dash.example"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-For", "198.51.100.1, 203.0.113.7"),
        ],
    )
    .await;

    assert_eq!(status, 303, "the proxied origin is this site");
    assert_eq!(
        recorded_login_address(&app).await.as_deref(),
        Some("203.0.113.7")
    );
}

#[tokio::test]
async fn without_a_trusted_proxy_the_peer_address_is_recorded_whatever_the_headers_claim() {
    let app = dashboard().start().await;

    let status = log_in_through(
        &app,
        &[
            ("X-Forwarded-For", "203.0.113.7"),
            ("X-Real-IP", "203.0.113.7"),
            ("Forwarded", "for=203.0.113.7"),
        ],
    )
    .await;

    assert_eq!(status, 303);
    assert_eq!(
        recorded_login_address(&app).await.as_deref(),
        Some("127.0.0.1")
    );
}

#[tokio::test]
async fn failures_for_a_name_from_many_addresses_do_not_lock_out_its_right_password_from_another() {
    let app = dashboard()
        .sessions(SessionPolicy::default())
        .logins(quick_lockout())
        .start()
        .await;

    for n in 2..=9 {
        let attacker = browser_from(&app, &format!("127.0.0.{n}"));
        assert_eq!(attacker.log_in_with("a-guessed-password").await.status, 401);
    }
    let operator = browser_from(&app, "127.0.0.10");
    let login = operator.log_in_with(&app.operator_password).await;

    assert_eq!(login.status, 303, "the name is slowed down, never locked");
    assert_eq!(operator.get(&app.users("")).await.status, 200);
    assert_eq!(failures_of_admin(&app).await, 8, "the guesses still count");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM operator_sessions WHERE operator = 'admin'"
        )
        .await,
        1
    );
    // Each guessing address is still locked out once it has failed enough.
    let attacker = browser_from(&app, "127.0.0.2");
    for _ in 0..3 {
        attacker.log_in_with("a-guessed-password").await;
    }
    assert_eq!(
        attacker.log_in_with(&app.operator_password).await.status,
        429
    );
}

#[tokio::test]
async fn forty_eight_right_passwords_sent_all_at_once_all_log_in() {
    let app = dashboard().start().await;
    let mut ready = Vec::new();
    for _ in 0..48 {
        let browser = Browser::on(app.address.clone(), &app.database);
        let token = csrf_token(&browser.get("/login").await.body);
        ready.push((browser, token));
    }

    let logins: Vec<_> = ready
        .into_iter()
        .map(|(browser, token)| {
            let password = app.operator_password.clone();
            tokio::spawn(async move {
                browser
                    .post(
                        "/login",
                        &[
                            ("csrf_token", token.as_str()),
                            ("username", "admin"),
                            ("password", password.as_str()),
                        ],
                    )
                    .await
                    .status
            })
        })
        .collect();
    let mut answers = Vec::new();
    for login in logins {
        answers.push(login.await.unwrap());
    }

    assert!(answers.iter().all(|status| *status == 303), "{answers:?}");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM operator_sessions WHERE operator = 'admin'"
        )
        .await,
        48
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM login_failures").await,
        0,
        "right passwords leave no failure behind"
    );
}

#[tokio::test]
async fn wrong_guesses_for_many_names_sent_all_at_once_from_one_address_stop_at_the_lockout() {
    let app = dashboard()
        .sessions(SessionPolicy::default())
        .logins(quick_lockout())
        .start()
        .await;
    let names: Vec<String> = (0..12).map(|n| format!("name-{n}")).collect();

    let answers = app.logins_all_at_once(&names, "a-guessed-password").await;

    assert_eq!(
        answers.iter().filter(|s| **s == 401).count(),
        4,
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|s| **s == 429).count(),
        8,
        "{answers:?}"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM login_failures WHERE address = '127.0.0.1' AND NOT pending"
        )
        .await,
        4
    );
}

#[tokio::test]
async fn names_that_cannot_be_operator_names_are_refused_without_reaching_postgresql() {
    let app = dashboard()
        .sessions(SessionPolicy::default())
        .logins(LoginPolicy {
            first_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            ..LoginPolicy::default()
        })
        .start()
        .await;
    let marker = crate::helpers::unique_name("typed");
    let slip = format!("my-password-{marker}-with spaces 'x'");
    let with_nul = format!("admin\0{marker}");
    // Long, but within the field limit (web::limits), past which it would
    // be refused before being read at all.
    let very_long = format!("{marker}{}", "a".repeat(900));

    for typed in [&slip, &with_nul, &very_long] {
        let page = app
            .submit(
                "/login",
                "/login",
                &[
                    ("username", typed.as_str()),
                    ("password", "a-wrong-password"),
                ],
            )
            .await;
        assert_eq!(page.status, 401, "{:?}", &typed[..40.min(typed.len())]);
        assert!(page.body.contains("Invalid name or password."));
    }
    // Not UTF-8 once decoded (the form decoder replaces what is not), with
    // a NUL byte: refused like any other, never a 500.
    let token = csrf_token(&app.get("/login").await.body);
    let garbled = app
        .client
        .post(format!("{}/login", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={token}&username=%FF%FE%00&password=x"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(garbled, 401);

    assert!(
        !cluster().log().contains(&marker),
        "what was typed as a name reached PostgreSQL's log"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM login_failures WHERE operator = '(not an operator name)'"
        )
        .await,
        4
    );
}

#[tokio::test]
async fn an_operators_argon2_hash_never_reaches_the_server_log() {
    let app = dashboard().start().await;
    let store = app.state_store();
    let name = OperatorName::parse(&unique_name("op").replace('_', "-")).unwrap();
    store
        .add_operator(
            &name,
            &OperatorPassword::parse("a-long-operator-password").unwrap(),
        )
        .await
        .unwrap();

    let rows = app
        .state_admin()
        .await
        .query("SELECT password_hash FROM operators", &[])
        .await
        .unwrap();
    let log = cluster().log();

    assert_eq!(rows.len(), 2, "the first operator and the one added");
    for row in rows {
        let hash: String = row.get(0);
        assert!(!log.contains(&hash), "an argon2 hash is in the server log");
    }
}

/// A schema and a `search_path` setting planted in the state database (by
/// whoever may change its settings) change nothing pgusers' statements
/// mean: operators are still read from, and written to, `public`.
#[tokio::test]
async fn the_state_database_ignores_a_planted_search_path() {
    let db = crate::helpers::test_db().await;
    let (_, state_db, operator_password) = crate::helpers::state_of(&db).await;
    let admin = pgusers::db::connect(&cluster().admin_config(&state_db))
        .await
        .unwrap();
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA planted;
             CREATE TABLE planted.operators (name text, password_hash text, created_at timestamptz);
             ALTER DATABASE {} SET search_path = planted, public",
            crate::helpers::ident(&state_db)
        ))
        .await
        .unwrap();
    let unpinned = pgusers::db::connect(&cluster().admin_config(&state_db))
        .await
        .unwrap();
    let seen: String = unpinned
        .query_one("SHOW search_path", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(seen, "planted, public", "the plant took");

    let state = StateStore::new(StateSettings {
        config: cluster().admin_config(&state_db).into(),
        create_with: None,
        admin_password: None,
        announce: Announce::Stdout,
        bootstrap_operator: false,
    });
    state.ensure_ready().await.unwrap();

    assert!(
        state
            .verify_operator("admin", operator_password.clone())
            .await
            .unwrap()
    );
    let operators = state.list_operators().await.unwrap();
    assert_eq!(operators.len(), 1, "{operators:?}");
    let planted: i64 = admin
        .query_one("SELECT count(*) FROM planted.operators", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(planted, 0);
}

/// What `serve` and the CLI log at the most detailed level (`RUST_LOG`
/// asking for every level, and by name for the module that logs each
/// statement's text) while every kind of secret passes through them: chosen passwords (a
/// form, a JSON body, standard input), generated ones (a page, a JSON
/// answer), an API token, the SCRAM verifier PostgreSQL keeps, and a
/// password typed into the login form's name field. Each change is logged
/// in its span (so the scan looks where the secrets would be), and no
/// secret is anywhere in the log.
/// Every level, and by name the modules that log statements and parameters.
const ALL_LEVELS: &str = "trace,tokio_postgres::simple_query=trace,tokio_postgres::query=trace";

#[tokio::test]
async fn the_log_names_each_change_in_its_span_and_never_a_secret() {
    use crate::binary::{start, terminate};

    let db = crate::helpers::test_db().await;
    let (store, state_db, operator_password) = crate::helpers::state_of(&db).await;
    let key: String = (0..5).map(|_| unique_name("key")).collect();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = vec![
        ("DATABASE_URL", db.database_url()),
        (
            "PGUSERS_STATE_URL",
            crate::helpers::conninfo(&crate::helpers::cluster().admin_config(&state_db)),
        ),
        ("PGUSERS_SESSION_KEY", key),
        ("RUST_LOG", ALL_LEVELS.to_owned()),
    ];
    let running = tokio::task::spawn_blocking(move || start(&data, &env))
        .await
        .unwrap();
    let browser = Browser::on(running.address.clone(), &db.name);
    let user = unique_name("logged_user");
    let chosen_in_form = format!("form-chosen-{}", unique_name("pw"));
    let chosen_in_json = format!("json-chosen-{}", unique_name("pw"));
    let chosen_on_stdin = format!("stdin-chosen-{}", unique_name("pw"));
    let wrong_box = format!("typed in the name box '{}'", unique_name("pw"));

    // A password typed where the name goes, then the right login.
    let refused = browser
        .submit(
            "/login",
            "/login",
            &[("username", wrong_box.as_str()), ("password", "whatever")],
        )
        .await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    browser.log_in_with(&operator_password).await;
    // The dashboard: create with a chosen password.
    let created = browser
        .submit(
            &browser.users("/new"),
            &browser.users(""),
            &[
                ("username", user.as_str()),
                ("password", chosen_in_form.as_str()),
                ("password_confirmation", chosen_in_form.as_str()),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    // The API: a chosen password, then a generated one.
    let (_, token) = crate::helpers::token_of(&store, "admin", false).await;
    let api = reqwest::Client::new();
    let user_url = format!("{}/api/databases/{}/users/{user}", running.address, db.name);
    let set = api
        .patch(&user_url)
        .bearer_auth(token.expose())
        .json(&serde_json::json!({"database_user": {
            "password": chosen_in_json, "password_confirmation": chosen_in_json}}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let reset: serde_json::Value = api
        .post(format!("{user_url}/reset_password"))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let generated = reset["database_user"]["password"]
        .as_str()
        .expect("a generated password")
        .to_owned();
    // The CLI: a chosen password on standard input, at the same level.
    let cli = crate::cli::run(
        crate::cli::cli(&db).env("RUST_LOG", ALL_LEVELS).args([
            "database-users-update-password",
            "--password-stdin",
            &user,
        ]),
        &format!("{chosen_on_stdin}\n"),
    );
    assert_eq!(cli.code, 0, "{}", cli.stderr);
    let verifier: String = db
        .admin()
        .await
        .query_one(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
            &[&user],
        )
        .await
        .map(|row| row.get(0))
        .unwrap_or_default();
    let log = running.log();
    tokio::task::spawn_blocking(move || terminate(running))
        .await
        .unwrap();

    // The scan looks where secrets would be: each change is in the log,
    // in its span, from each front end.
    for (source, action) in [
        ("dashboard", "create user"),
        ("api", "set password"),
        ("api", "reset password"),
    ] {
        assert!(
            log.lines().any(|line| line.contains("change{")
                && line.contains(&format!("action=\"{action}\""))
                && line.contains(&format!("source=\"{source}\""))
                && line.contains(&format!("user={user}"))
                && line.contains("change done")),
            "{source} {action} is logged in its span:\n{log}"
        );
    }
    assert!(
        cli.stderr.contains("action=\"set password\"") && cli.stderr.contains("source=\"cli\""),
        "the CLI's change is logged in its span:\n{}",
        cli.stderr
    );
    let mut secrets = vec![
        ("a password chosen in the form", chosen_in_form.clone()),
        ("a password chosen in JSON", chosen_in_json.clone()),
        (
            "a password chosen on standard input",
            chosen_on_stdin.clone(),
        ),
        ("a generated password", generated),
        ("an API token", token.expose().to_owned()),
        ("the login form's name field", wrong_box.clone()),
    ];
    if !verifier.is_empty() {
        secrets.push(("the user's SCRAM verifier", verifier));
    }
    // Any verifier: each password change above made one.
    secrets.push(("a SCRAM verifier", "SCRAM-SHA-256$".to_owned()));
    for (what, secret) in secrets {
        assert!(!log.contains(&secret), "{what} is in serve's log:\n{log}");
        assert!(
            !cli.stderr.contains(&secret) && !cli.stdout.contains(&secret),
            "{what} is in the CLI's output"
        );
    }
}

#[tokio::test]
async fn a_locked_out_address_is_named_on_the_page_and_pgusers_operators_unlock_lets_it_log_in_at_once()
 {
    let app = dashboard()
        .sessions(SessionPolicy::default())
        .logins(quick_lockout())
        .start()
        .await;
    for _ in 0..4 {
        assert_eq!(app.log_in_with("not-the-password").await.status, 401);
    }
    let locked = app.log_in_with(&app.operator_password).await;
    // An attempt left in flight by a serve killed mid-login: counted as a
    // failure once older than any check takes, and forgotten with them.
    app.state_admin()
        .await
        .execute(
            "INSERT INTO login_failures (operator, address, pending, at)
             VALUES ('admin', '127.0.0.1', true, now() - interval '10 minutes')",
            &[],
        )
        .await
        .unwrap();
    let unlock = |args: &[&str]| {
        let mut command = crate::cli::cli(&app.db);
        command.args(["operators", "unlock"]).args(args);
        crate::cli::run(&mut command, "")
    };

    let not_an_address = unlock(&["localhost'; --"]);
    let elsewhere = unlock(&["192.0.2.7"]);
    let still = app.log_in_with(&app.operator_password).await.status;
    let unlocked = unlock(&["127.0.0.1"]);
    let again = app.log_in_with(&app.operator_password).await;

    assert_eq!(locked.status, 429);
    assert!(
        locked
            .body
            .contains("run `pgusers operators unlock 127.0.0.1` on the server"),
        "{}",
        locked.body
    );
    assert_eq!(not_an_address.code, 2, "{not_an_address:?}");
    assert!(
        not_an_address.stderr.contains("is not an IP address"),
        "{not_an_address:?}"
    );
    assert_eq!(elsewhere.code, 0, "{elsewhere:?}");
    assert!(
        elsewhere
            .stdout
            .contains("No failed login is counted from 192.0.2.7"),
        "{elsewhere:?}"
    );
    assert_eq!(still, 429, "another address's unlock changes nothing here");
    assert_eq!(unlocked.code, 0, "{unlocked:?}");
    assert_eq!(
        unlocked.stdout,
        "Forgot 5 failed logins from 127.0.0.1: it may log in again at once.\n"
    );
    assert_eq!(again.status, 303, "the right password works at once");
    assert_eq!(failures_of_admin(&app).await, 0);
    let recorded = app
        .state_store()
        .audit_entries(0, 50)
        .await
        .unwrap()
        .entries;
    assert!(
        recorded
            .iter()
            .any(|e| e.action == "unlock logins" && e.target.as_deref() == Some("127.0.0.1")),
        "the unlock is in the audit log"
    );
    let audit = crate::cli::run(crate::cli::cli(&app.db).args(["audit", "--limit", "5"]), "");
    assert!(
        audit.stdout.contains("unlock logins (address 127.0.0.1)"),
        "beside its action, not under USER: {}",
        audit.stdout
    );
}
