//! The `pgusers` binary with no configuration at all, as `cargo run` starts it.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Browser, conninfo, test_db};

struct Running {
    child: Child,
    output: Vec<String>,
    address: String,
}

/// Starts the binary on `data_dir` and reads its standard output until the
/// dashboard's address is printed.
fn start(data_dir: &Path, env: &[(&str, String)]) -> Running {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgusers"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PGUSERS_") || key == "DATABASE_URL" {
            command.env_remove(key);
        }
    }
    let mut child = command
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("PGUSERS_DATA_DIR", data_dir)
        .env("PGUSERS_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut output = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        let done = line.starts_with("pgusers dashboard: ");
        output.push(line);
        if done {
            break;
        }
    }
    assert!(
        output
            .last()
            .is_some_and(|l| l.starts_with("pgusers dashboard: ")),
        "the dashboard started: {output:?}"
    );
    Running {
        child,
        output,
        address: format!("http://127.0.0.1:{port}"),
    }
}

/// Sends SIGTERM and waits for a clean exit.
fn terminate(mut running: Running) {
    // SAFETY: signalling a child process we own.
    unsafe { libc::kill(running.child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = running.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "pgusers did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The text between the first pair of double quotes after `prefix`.
fn quoted_after(lines: &[String], prefix: &str) -> Option<String> {
    let line = lines.iter().find(|l| l.starts_with(prefix))?;
    let rest = &line[prefix.len()..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].to_owned())
}

#[tokio::test]
async fn with_no_configuration_the_binary_provisions_a_database_serves_it_and_stops_postgresql_on_sigterm()
 {
    let dir = tempfile::Builder::new()
        .prefix("pgusers-bin-")
        .permissions(std::fs::Permissions::from_mode(0o755))
        .tempdir()
        .unwrap();
    let data_dir = dir.path().to_owned();

    let first = tokio::task::spawn_blocking({
        let data_dir = data_dir.clone();
        move || start(&data_dir, &[])
    })
    .await
    .unwrap();
    let database =
        quoted_after(&first.output, "Created database ").expect("the database is announced");
    let operator_password = quoted_after(
        &first.output,
        "Created the dashboard operator \"admin\" with password ",
    )
    .expect("the operator password is printed once");
    let browser = Browser::new(first.address.clone());
    assert_eq!(browser.get("/healthz").await.status, 200);
    assert_eq!(browser.log_in_with(&operator_password).await.status, 303);
    let users = browser.get("/settings/users").await.body;
    assert!(
        users.contains(&format!("data-username=\"{database}\"")),
        "the protected user is listed"
    );

    tokio::task::spawn_blocking(move || terminate(first))
        .await
        .unwrap();
    assert!(
        !data_dir.join("postgres/data/postmaster.pid").exists(),
        "PostgreSQL was stopped cleanly"
    );
    let key_mode = std::fs::metadata(data_dir.join("session.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(key_mode & 0o777, 0o600, "the session key is private");

    let second = tokio::task::spawn_blocking({
        let data_dir = data_dir.clone();
        move || start(&data_dir, &[])
    })
    .await
    .unwrap();
    assert!(
        !second.output.iter().any(|l| l.contains("Created")),
        "a second run reuses the database and the operator: {:?}",
        second.output
    );
    tokio::task::spawn_blocking(move || terminate(second))
        .await
        .unwrap();
}

#[tokio::test]
async fn with_database_url_the_binary_manages_that_database_and_leaves_the_server_running() {
    let db = test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let url = conninfo(&db.admin_config());
    let env = [
        ("DATABASE_URL", url),
        ("PGUSERS_ADMIN_PASSWORD", "an-operator-password".to_owned()),
    ];
    let data_dir = dir.path().to_owned();

    let running = tokio::task::spawn_blocking(move || start(&data_dir, &env))
        .await
        .unwrap();

    assert!(
        !running.output.iter().any(|l| l.contains("Created")),
        "nothing is provisioned or printed"
    );
    let browser = Browser::new(running.address.clone());
    assert_eq!(
        browser.log_in_with("an-operator-password").await.status,
        303
    );
    let users = browser.get("/settings/users").await.body;
    let row = &users[users
        .find(&format!("data-username=\"{}\"", db.protected))
        .expect("owner listed")..];
    assert!(
        row[..row.find("</tr>").unwrap()].contains("Protected"),
        "the owner is the protected user"
    );
    tokio::task::spawn_blocking(move || terminate(running))
        .await
        .unwrap();
    db.connect_as_protected().await;
}
