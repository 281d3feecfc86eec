//! What clients without a session can make the dashboard spend: slow
//! connections are cut off without holding up anyone else, and requests
//! without a session or token never cost a round trip to PostgreSQL.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pgusers::domain::OperatorPassword;
use pgusers::notice::Announce;
use pgusers::roles::RoleManager;
use pgusers::state::{StateSettings, StateStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_postgres::config::Host;

use crate::helpers::{Browser, TestApp, cluster, dashboard, state_of, test_db, token_of};

/// Opens a connection to the dashboard, sends `head` at once and then
/// `drip` one byte every 200 ms; what the server answered and when it
/// closed the connection, or `None` if it was still open after 15 s.
async fn slow_client(
    address: String,
    head: String,
    drip: &'static [u8],
) -> Option<(String, Duration)> {
    let started = Instant::now();
    let stream = tokio::net::TcpStream::connect(address).await.ok()?;
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(head.as_bytes()).await.ok()?;
    let trickle = tokio::spawn(async move {
        for byte in drip.iter().cycle().take(200) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(15), reader.read_to_end(&mut answer))
        .await
        .ok()
        .map(|_| started.elapsed());
    trickle.abort();
    closed.map(|after| (String::from_utf8_lossy(&answer).into_owned(), after))
}

#[tokio::test]
async fn many_more_slow_clients_than_workers_neither_delay_a_normal_request_nor_stay_connected() {
    let app = dashboard()
        .tune(|settings| {
            settings.limits.head_timeout = Duration::from_secs(2);
            settings.limits.body_timeout = Duration::from_secs(2);
        })
        .start()
        .await;
    let authority = app.address.trim_start_matches("http://").to_owned();
    // actix-web starts one worker per core: many times more slow clients.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let slow = (workers * 16).max(32);
    let mut clients = Vec::new();
    for i in 0..slow {
        let head = if i % 2 == 0 {
            // A head that never ends: one more byte of a header at a time.
            "GET /login HTTP/1.1\r\nX-Slow: ".to_owned()
        } else {
            // A whole head, then a body of 1,000 bytes, one at a time.
            format!(
                "POST /login HTTP/1.1\r\nHost: {authority}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: 1000\r\n\r\n"
            )
        };
        clients.push(tokio::spawn(slow_client(authority.clone(), head, b"a")));
    }
    // Every slow client is connected and sending.
    tokio::time::sleep(Duration::from_millis(800)).await;

    let started = Instant::now();
    let normal = app.get("/login").await;
    let waited = started.elapsed();

    assert_eq!(normal.status, 200);
    assert!(
        waited < Duration::from_millis(1500),
        "a normal request waited {waited:?} behind {slow} slow clients"
    );
    for (i, client) in clients.into_iter().enumerate() {
        let (answer, after) = client
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("slow client {i} was still connected after 15 s"));
        // 2 s to send the head, 2 s more for the body; then the answer.
        assert!(
            after < Duration::from_secs(6),
            "client {i} closed after {after:?}"
        );
        if i % 2 == 1 {
            assert!(answer.starts_with("HTTP/1.1 408"), "client {i}: {answer}");
        } else {
            assert!(
                answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
                "client {i}: {answer}"
            );
        }
    }
}

/// A TCP proxy in front of the shared cluster's Unix socket that counts the
/// bytes clients send to PostgreSQL.
struct CountingProxy {
    port: u16,
    sent: Arc<AtomicU64>,
}

impl CountingProxy {
    async fn start(socket: PathBuf) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::UnixStream::connect(&socket).await else {
                    continue;
                };
                let counter = counter.clone();
                tokio::spawn(async move {
                    let (mut from_client, mut to_client) = client.into_split();
                    let (mut from_server, mut to_server) = server.into_split();
                    let upstream = async {
                        let mut buffer = vec![0u8; 16 * 1024];
                        while let Ok(n @ 1..) = from_client.read(&mut buffer).await {
                            counter.fetch_add(n as u64, Ordering::SeqCst);
                            if to_server.write_all(&buffer[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = to_server.shutdown().await;
                    };
                    let downstream = async {
                        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                        let _ = to_client.shutdown().await;
                    };
                    tokio::join!(upstream, downstream);
                });
            }
        });
        Self { port, sent }
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// The bytes sent once none has gone through for 300 ms: what earlier
    /// requests sent has all arrived, however slowly a loaded machine
    /// passes it on.
    async fn settled(&self) -> u64 {
        loop {
            let sent = self.sent();
            tokio::time::sleep(Duration::from_millis(300)).await;
            if self.sent() == sent {
                return sent;
            }
        }
    }

    /// The cluster's connection settings for `dbname`, through this proxy.
    fn config(&self, dbname: &str) -> tokio_postgres::Config {
        let direct = cluster().admin_config(dbname);
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(self.port)
            .user(direct.get_user().unwrap())
            .dbname(dbname)
            .connect_timeout(Duration::from_secs(5));
        config
    }
}

/// The Unix socket of the shared cluster.
fn cluster_socket() -> PathBuf {
    let config = cluster().admin_config("postgres");
    let Some(Host::Unix(dir)) = config.get_hosts().first() else {
        panic!("the test cluster listens on a Unix socket");
    };
    dir.join(format!(".s.PGSQL.{}", config.get_ports()[0]))
}

#[tokio::test]
async fn requests_without_a_session_or_a_valid_token_never_reach_postgresql() {
    let proxy = CountingProxy::start(cluster_socket()).await;
    let db = test_db().await;
    let (direct_state, state_db, operator_password) = state_of(&db).await;
    let (_, token) = token_of(&direct_state, "admin", false).await;
    // The dashboard reaches both its state and the managed database through
    // the proxy only.
    let state = StateStore::new(StateSettings {
        config: proxy.config(&state_db).into(),
        create_with: None,
        admin_password: Some(OperatorPassword::parse(&operator_password).unwrap()),
        announce: Announce::Stdout,
        bootstrap_operator: true,
    });
    let roles = RoleManager::new(proxy.config(&db.name), 4, None);
    let browser = dashboard().serve_one(&db.name, roles, state).await;
    let app = TestApp {
        browser,
        db,
        operator_password,
        state_db,
        form_ids: pgusers::web::FormIds::new(&[0; 64]),
        session_key: Vec::new(),
    };
    // Warm-up: a login, pages and an API call open the pools' connections.
    app.log_in().await;
    assert_eq!(app.get(&app.users("")).await.status, 200);
    let api = reqwest::Client::new();
    let users_api = format!("{}/api/databases/{}/users", app.address, app.db.name);
    let listed = api
        .get(&users_api)
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let before = proxy.settled().await;
    assert!(before > 0, "the dashboard does not go through the proxy");

    let anonymous = Browser::on(app.address.clone(), &app.db.name);
    // The login page is the one exception, below: it asks the state
    // database whether it answers, at most once per 2 s.
    let get = [
        "/".to_owned(),
        "/activity".to_owned(),
        "/api-tokens".to_owned(),
        app.database_page(""),
        app.database_page("/settings"),
        app.users(""),
        app.users("?q=someone&show=read-only&page=2"),
        app.users("/new"),
        app.users("/someone/reset"),
        app.users("/someone/delete"),
        "/settings/database-users".to_owned(),
        "/no-such-page".to_owned(),
    ];
    let post = [
        "/login".to_owned(),
        "/logout".to_owned(),
        "/api-tokens".to_owned(),
        "/api-tokens/0123456789/revoke".to_owned(),
        app.users(""),
        app.users("/someone/reset"),
        app.users("/someone/delete"),
    ];
    let form = [
        ("csrf_token", "not-the-token"),
        ("form_id", "00"),
        ("username", "admin"),
        ("password", "a-guess-at-the-password"),
    ];
    let api_paths = [
        "/api/databases".to_owned(),
        users_api.trim_start_matches(&app.address).to_owned(),
        format!("/api/databases/{}/users/someone", app.db.name),
        format!(
            "/api/databases/{}/users/someone/reset_password",
            app.db.name
        ),
        "/api/no-such-endpoint".to_owned(),
    ];
    let malformed_tokens = [
        None,
        Some("garbage"),
        Some("pgu_0123456789_short"),
        Some("pgu_XYZ_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ];
    let cookies = [None, Some("pgusers_session=not-a-sealed-cookie")];
    let mut sent = 0;
    for _ in 0..4 {
        for cookie in cookies {
            for path in &get {
                let mut request = anonymous.client.get(format!("{}{path}", app.address));
                if let Some(cookie) = cookie {
                    request = request.header("Cookie", cookie);
                }
                let status = request.send().await.unwrap().status().as_u16();
                assert!(matches!(status, 200 | 303 | 404), "GET {path}: {status}");
                sent += 1;
            }
            for path in &post {
                let mut request = anonymous
                    .client
                    .post(format!("{}{path}", app.address))
                    .form(&form);
                if let Some(cookie) = cookie {
                    request = request.header("Cookie", cookie);
                }
                let status = request.send().await.unwrap().status().as_u16();
                assert!(matches!(status, 303 | 403), "POST {path}: {status}");
                sent += 1;
            }
        }
        for token in malformed_tokens {
            for path in &api_paths {
                for method in [reqwest::Method::GET, reqwest::Method::POST] {
                    let mut request = api
                        .request(method.clone(), format!("{}{path}", app.address))
                        .json(&serde_json::json!({"database_user": {"name": "someone"}}));
                    if let Some(token) = token {
                        request = request.bearer_auth(token);
                    }
                    let status = request.send().await.unwrap().status().as_u16();
                    assert!(
                        matches!(status, 401 | 404 | 405),
                        "{method} {path}: {status}"
                    );
                    sent += 1;
                }
            }
        }
    }
    assert!(sent >= 300, "only {sent} requests");
    assert_eq!(
        proxy.settled().await - before,
        0,
        "{sent} requests without a session or a valid token sent bytes to PostgreSQL"
    );
    // The proxy still counts: a logged-in page view does reach PostgreSQL.
    assert_eq!(app.get(&app.users("")).await.status, 200);
    assert!(proxy.sent() > before);

    // A flood of login pages costs the state database one `SELECT 1` per
    // 2 s, not one each: what one costs, then what a burst does.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let before_one = proxy.settled().await;
    assert_eq!(anonymous.get("/login").await.status, 200);
    let one = proxy.settled().await - before_one;
    assert!(one > 0, "the login page asks the state database");
    // Sent at once, after the last answer has expired: they share one.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let started = std::time::Instant::now();
    let before_burst = proxy.settled().await;
    let statuses = futures_util::future::join_all((0..200).map(|_| anonymous.get("/login"))).await;
    assert!(statuses.iter().all(|page| page.status == 200));
    let windows = (started.elapsed().as_secs_f64() / 2.0).ceil() as u64 + 1;
    let burst = proxy.settled().await - before_burst;
    assert!(
        burst <= one * windows,
        "200 login pages in {:?} cost {burst} bytes, one check {one}",
        started.elapsed()
    );
}
