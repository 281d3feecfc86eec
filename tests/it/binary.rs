//! The `pgusers` binary with no configuration at all, as `cargo run` starts it.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Browser, conninfo, test_db};

pub(crate) struct Running {
    pub(crate) child: Child,
    pub(crate) output: Vec<String>,
    pub(crate) address: String,
    /// Standard error, a file as under a service manager.
    log: PathBuf,
}

impl Running {
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// The log, once it holds `text` (read every 100 ms, for at most `within`).
    async fn log_once_it_says(&self, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let log = self.log();
            if log.contains(text) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "the log does not say {text:?} within {within:?}: {log}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A test that fails midway still stops its `serve`, and so the embedded
/// PostgreSQL it runs: SIGTERM, then SIGKILL if it lingers.
impl Drop for Running {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        // SAFETY: signalling a child process we own.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the dashboard's address is given.
enum Listen {
    /// `PGUSERS_LISTEN`.
    Env,
    /// `pgusers serve --listen …`.
    ServeFlag,
}

/// Starts the binary on `data_dir` and reads its standard output until the
/// dashboard's address is printed.
pub(crate) fn start(data_dir: &Path, env: &[(&str, String)]) -> Running {
    start_with(data_dir, env, Listen::Env)
}

fn start_with(data_dir: &Path, env: &[(&str, String)], listen: Listen) -> Running {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    // Beside the data directory: callers keep both in one temporary one.
    let log = data_dir.with_extension(format!("{port}.log"));
    let mut command = crate::helpers::pgusers_binary();
    match listen {
        Listen::Env => command.env("PGUSERS_LISTEN", &address),
        Listen::ServeFlag => command.args(["serve", "--listen", &address]),
    };
    let mut child = command
        // What the test gives (RUST_LOG too) over what it runs under.
        .env_remove("RUST_LOG")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("PGUSERS_DATA_DIR", data_dir)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
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
        address: format!("http://{address}"),
        log,
    }
}

/// Sends SIGTERM and waits for a clean exit.
pub(crate) fn terminate(mut running: Running) {
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
    // The log is written next to the data directory, inside the temporary one.
    let (_dir, data_dir) = data_dir();

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
    let postgres_port = first
        .output
        .iter()
        .find_map(|l| l.strip_prefix("Connection URL: "))
        .and_then(|url| url.rsplit_once('@'))
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(host_port, _)| host_port.to_owned())
        .expect("the connection URL is printed");
    let browser = Browser::on(first.address.clone(), &database);
    assert_eq!(browser.get("/").await.status, 303, "to the login page");
    assert_eq!(browser.get("/healthz").await.status, 200);
    assert_eq!(browser.log_in_with(&operator_password).await.status, 303);
    let users = browser.get(&browser.users("")).await.body;
    assert!(
        users.contains(&format!("data-username=\"{database}\"")),
        "the protected user is listed"
    );

    let first_log = first.log.clone();
    tokio::task::spawn_blocking(move || terminate(first))
        .await
        .unwrap();
    let first_log = std::fs::read_to_string(first_log).unwrap();
    assert!(
        !first_log.contains("ERROR"),
        "a visit before login is routine: {first_log}"
    );
    assert!(
        !first_log.contains('\x1b'),
        "no colour codes in a log file: {first_log:?}"
    );
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
        move || start_with(&data_dir, &[], Listen::ServeFlag)
    })
    .await
    .unwrap();
    assert!(
        !second.output.iter().any(|l| l.contains("Created")),
        "a second run reuses the database and the operator: {:?}",
        second.output
    );
    let managing = second
        .output
        .iter()
        .find(|l| l.starts_with(&format!("Managing database \"{database}\"")))
        .unwrap_or_else(|| panic!("the database is named: {:?}", second.output));
    assert!(
        managing.contains(&postgres_port),
        "PostgreSQL's port is shown: {managing}"
    );
    assert!(
        managing.contains(&data_dir.join("postgres").display().to_string()),
        "the data directory is shown: {managing}"
    );
    let second_log = second.log();
    tokio::task::spawn_blocking(move || terminate(second))
        .await
        .unwrap();
    assert!(
        !second_log.contains("NOTICE"),
        "a second start has nothing new to report: {second_log}"
    );
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
    // The log is written next to the data directory, inside the temporary one.
    let data_dir = dir.path().join("data");

    let running = tokio::task::spawn_blocking(move || start(&data_dir, &env))
        .await
        .unwrap();

    assert!(
        !running.output.iter().any(|l| l.contains("Created")),
        "nothing is provisioned or printed"
    );
    assert!(
        running
            .output
            .iter()
            .any(|l| l.starts_with(&format!("Managing database \"{}\" on ", db.name))),
        "the managed database is named: {:?}",
        running.output
    );
    let superuser = db.admin_config().get_user().unwrap().to_owned();
    assert!(
        running.log().contains(&format!(
            "Administrator: \"{superuser}\", a superuser, on PostgreSQL "
        )),
        "the log says which kind of administrator pgusers runs as: {}",
        running.log()
    );
    let browser = Browser::on(running.address.clone(), &db.name);
    assert_eq!(
        browser.log_in_with("an-operator-password").await.status,
        303
    );
    let users = browser
        .get(&browser.users(&format!("?q={}", db.protected)))
        .await
        .body;
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

#[tokio::test]
async fn an_unexpected_failure_is_logged_once_with_its_cause_and_shown_without_it() {
    let db = test_db().await;
    let (state, state_db, operator_password) = crate::helpers::state_of(&db).await;
    let (_, token) = crate::helpers::token_of(&state, "admin", true).await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", conninfo(&db.roles_config())),
        (
            "PGUSERS_STATE_URL",
            conninfo(&crate::helpers::cluster().admin_config(&state_db)),
        ),
    ];
    // The log is written next to the data directory, inside the temporary one.
    let data_dir = dir.path().join("data");
    let running = tokio::task::spawn_blocking(move || start(&data_dir, &env))
        .await
        .unwrap();
    let browser = Browser::on(running.address.clone(), &db.name);
    assert_eq!(browser.log_in_with(&operator_password).await.status, 303);
    // The audit log's table goes away under the running dashboard: a
    // failure nobody planned for.
    pgusers::db::connect(&crate::helpers::cluster().admin_config(&state_db))
        .await
        .unwrap()
        .batch_execute(
            "ALTER TABLE audit_log RENAME TO audit_log_gone;
             ALTER TABLE api_tokens RENAME TO api_tokens_gone",
        )
        .await
        .unwrap();

    let page = browser.get("/activity").await;
    let api = browser
        .client
        .get(format!("{}/api/databases", running.address))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    let (api_status, api_body) = (api.status().as_u16(), api.text().await.unwrap());

    assert_eq!(page.status, 500, "{}", page.body);
    assert!(page.body.contains("Something went wrong"), "{}", page.body);
    assert!(!page.body.contains("audit_log"), "no cause on the page");
    assert_eq!(api_status, 500, "{api_body}");
    assert!(!api_body.contains("api_tokens"), "no cause in the answer");
    let log = running.log();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert_eq!(errors.len(), 2, "each logged once: {errors:#?}");
    assert!(
        errors[0].contains("request failed: Something went wrong")
            && errors[0].contains("relation \"audit_log\" does not exist"),
        "the log line says what failed and why: {}",
        errors[0]
    );
    assert!(
        errors[1].contains("/api/databases")
            && errors[1].contains("relation \"api_tokens\" does not exist"),
        "{}",
        errors[1]
    );
    tokio::task::spawn_blocking(move || terminate(running))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_failure_the_add_form_shows_is_logged_once_with_its_cause() {
    let db = test_db().await;
    let doomed = crate::helpers::unique_name("doomed");
    db.admin()
        .await
        .batch_execute(&format!("CREATE ROLE {doomed} LOGIN"))
        .await
        .unwrap();
    let (_, state_db, operator_password) = crate::helpers::state_of(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", conninfo(&db.admin_config())),
        ("PGUSERS_PROTECTED_USER", doomed.clone()),
        (
            "PGUSERS_STATE_URL",
            conninfo(&crate::helpers::cluster().admin_config(&state_db)),
        ),
    ];
    // The log is written next to the data directory, inside the temporary one.
    let data_dir = dir.path().join("data");
    let running = tokio::task::spawn_blocking(move || start(&data_dir, &env))
        .await
        .unwrap();
    let browser = Browser::on(running.address.clone(), &db.name);
    assert_eq!(browser.log_in_with(&operator_password).await.status, 303);
    let form = browser.get(&browser.users("/new")).await.body;
    let (token, id) = (
        crate::helpers::csrf_token(&form),
        crate::helpers::form_id(&form).expect("a form id"),
    );
    db.admin()
        .await
        .batch_execute(&format!("DROP ROLE {doomed}"))
        .await
        .unwrap();

    let name = crate::helpers::unique_name("never");
    let page = browser
        .post(
            &browser.users(""),
            &[
                ("csrf_token", token.as_str()),
                ("form_id", id.as_str()),
                ("username", name.as_str()),
                ("password", ""),
                ("password_confirmation", ""),
            ],
        )
        .await;

    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.body.contains(&name), "what was typed is kept");
    let log = running.log();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert_eq!(errors.len(), 1, "logged once: {errors:#?}");
    assert!(
        errors[0].contains("request failed")
            && errors[0].contains(&format!("The protected user \"{doomed}\" does not exist")),
        "{}",
        errors[0]
    );
    tokio::task::spawn_blocking(move || terminate(running))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_taken_address_stops_serve_at_once_saying_how_to_choose_another() {
    let db = test_db().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();

    let output = crate::helpers::pgusers_binary()
        .env("DATABASE_URL", conninfo(&db.roles_config()))
        .env("PGUSERS_DATA_DIR", dir.path().join("data"))
        .args(["serve", "--listen", &address])
        .stdin(Stdio::null())
        .output()
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Error: listening on {address}: Address already in use"
        )) && stderr.contains(
            ". Another program listens there (another pgusers?): choose another address \
                 with --listen ADDRESS:PORT or PGUSERS_LISTEN"
        ),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("Address already in use").count(),
        1,
        "said once: {stderr}"
    );
    drop(taken);
}

/// Asks `path` every 100 ms until `done` holds of the answer, for at most
/// `within`; that answer.
async fn answer_until(
    browser: &Browser,
    path: &str,
    within: Duration,
    done: impl Fn(&crate::helpers::Page) -> bool,
) -> crate::helpers::Page {
    let deadline = Instant::now() + within;
    loop {
        let page = browser.get(path).await;
        if done(&page) {
            return page;
        }
        assert!(
            Instant::now() < deadline,
            "{path} did not answer as expected within {within:?}; it answers {}: {}",
            page.status,
            page.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The PID and port of the server running on `data` (a PGDATA), from its
/// `postmaster.pid`.
fn postmaster(data: &Path) -> (i32, u16) {
    let pid_file = std::fs::read_to_string(data.join("postmaster.pid")).expect("it runs");
    let lines: Vec<&str> = pid_file.lines().collect();
    (lines[0].parse().unwrap(), lines[3].trim().parse().unwrap())
}

/// `pg_ctl` on `data` (a PGDATA), as the user that owns it: the `postgres`
/// system user when the tests run as root.
fn pg_ctl(data: &Path, args: &[&str]) -> std::process::Output {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    let owner = std::fs::metadata(data).unwrap();
    let mut command = std::process::Command::new(
        pgusers::embedded::Binaries::find()
            .unwrap()
            .program("pg_ctl"),
    );
    command.args(args).arg("-D").arg(data).current_dir(data);
    if owner.uid() != nix::unistd::geteuid().as_raw() {
        command.uid(owner.uid()).gid(owner.gid());
    }
    command.output().expect("pg_ctl runs")
}

/// A temporary directory the `postgres` system user can cross, holding the
/// data directory (`data`) and `serve`'s log.
fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("pgusers-bin-")
        .permissions(std::fs::Permissions::from_mode(0o755))
        .tempdir()
        .unwrap();
    let data_dir = dir.path().join("data");
    (dir, data_dir)
}

const OPERATOR_PASSWORD: &str = "an-operator-password";

/// `serve` on its embedded PostgreSQL in a data directory of its own,
/// answering: the directory (removed when dropped), its path, the process
/// and a browser on it.
async fn serving_embedded() -> (tempfile::TempDir, PathBuf, Running, Browser) {
    let (dir, data_dir) = data_dir();
    let running = tokio::task::spawn_blocking({
        let data_dir = data_dir.clone();
        move || {
            start(
                &data_dir,
                &[("PGUSERS_ADMIN_PASSWORD", OPERATOR_PASSWORD.into())],
            )
        }
    })
    .await
    .unwrap();
    let browser = Browser::on(running.address.clone(), "postgres");
    assert_eq!(browser.get("/healthz").await.status, 200);
    (dir, data_dir, running, browser)
}

#[tokio::test]
async fn a_killed_embedded_postgresql_is_restarted_and_meanwhile_the_pages_say_so() {
    let (_dir, data_dir, running, browser) = serving_embedded().await;
    let pg_data = data_dir.join("postgres/data");
    let (pid, port) = postmaster(&pg_data);
    // A script's token, made while the server runs.
    let made = crate::helpers::pgusers_binary()
        .env("PGUSERS_DATA_DIR", &data_dir)
        .args(["tokens", "create", "--operator", "admin"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let token = String::from_utf8(made.stdout).unwrap().trim().to_owned();

    // SAFETY: kill(2) with a PID and a signal number; no memory involved.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    // Another program takes PostgreSQL's port as soon as the killed server
    // lets go of it, so that the first restart fails and the pages can be
    // read while pgusers tries again.
    let deadline = Instant::now() + Duration::from_secs(10);
    let taken = loop {
        if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            break listener;
        }
        assert!(Instant::now() < deadline, "the port stays held");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let restarting = "The embedded PostgreSQL stopped unexpectedly, and pgusers is restarting it \
                      (attempt 2 of at most 5).";
    let health = answer_until(&browser, "/healthz", Duration::from_secs(20), |page| {
        page.body.contains(restarting)
    })
    .await;
    // The state database is the embedded one: readiness says why too
    // (once its last answer, which stands for 2 s, is past).
    let ready = answer_until(&browser, "/readyz", Duration::from_secs(5), |page| {
        page.body.contains(restarting)
    })
    .await;
    let login = browser.log_in_with(OPERATOR_PASSWORD).await;
    let api = reqwest::Client::new()
        .get(format!("{}/api/databases", running.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let api_status = api.status().as_u16();
    let api_body: serde_json::Value = api.json().await.unwrap();
    drop(taken);
    let back = answer_until(&browser, "/healthz", Duration::from_secs(30), |page| {
        page.status == 200
    })
    .await;

    assert_eq!(health.status, 503, "{}", health.body);
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert!(ready.body.contains(restarting), "{}", ready.body);
    assert_eq!(login.status, 503, "{}", login.body);
    assert!(login.body.contains(restarting), "{}", login.body);
    // A script is told the same, in the API's JSON.
    assert_eq!(api_status, 503, "{api_body}");
    assert!(
        api_body["error"]
            .as_str()
            .unwrap_or_default()
            .contains(restarting),
        "{api_body}"
    );
    assert_eq!(back.body, "ok\n");
    assert_eq!(
        browser.log_in_with(OPERATOR_PASSWORD).await.status,
        303,
        "logins work again"
    );
    let log = running
        .log_once_it_says(
            "the embedded PostgreSQL was restarted (restart 2)",
            Duration::from_secs(5),
        )
        .await;
    assert!(
        log.contains(&format!(
            "the embedded PostgreSQL stopped unexpectedly: its server process (PID {pid}) is \
             gone and left postmaster.pid behind: it was killed"
        )),
        "the log says why it stopped: {log}"
    );
    assert!(
        log.contains("restart 1 of the embedded PostgreSQL failed")
            && log.contains("Address already in use"),
        "and why a restart failed: {log}"
    );
    tokio::task::spawn_blocking(move || terminate(running))
        .await
        .unwrap();
    assert!(
        !pg_data.join("postmaster.pid").exists(),
        "the restarted server is stopped with pgusers"
    );
}

#[tokio::test]
async fn an_embedded_postgresql_stopped_on_purpose_stays_stopped_until_a_command_starts_it() {
    let (_dir, data_dir, running, browser) = serving_embedded().await;
    let pg_data = data_dir.join("postgres/data");

    let stopped = pg_ctl(&pg_data, &["stop", "-w", "-m", "fast"]);
    assert!(stopped.status.success(), "{stopped:?}");
    let on_purpose = "The embedded PostgreSQL was stopped on purpose (a fast shutdown was \
                      requested, as `pg_ctl stop` does), so pgusers does not restart it. To \
                      start it again, restart pgusers, or run any pgusers command";
    let health = answer_until(&browser, "/healthz", Duration::from_secs(20), |page| {
        page.body.contains(on_purpose)
    })
    .await;
    let login = browser.log_in_with(OPERATOR_PASSWORD).await;
    // Longer than a crash's first restart takes: nothing starts it.
    let watched = Instant::now();
    while watched.elapsed() < Duration::from_secs(4) {
        assert!(
            !pg_data.join("postmaster.pid").exists(),
            "PostgreSQL was started again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let still = browser.get("/healthz").await;

    assert_eq!(health.status, 503, "{}", health.body);
    assert_eq!(login.status, 503, "{}", login.body);
    assert!(login.body.contains(on_purpose), "{}", login.body);
    assert!(still.body.contains(on_purpose), "{}", still.body);
    let log = running.log();
    assert!(
        log.contains("the embedded PostgreSQL was stopped on purpose (fast shutdown requested)")
            && log.contains("received fast shutdown request"),
        "the log says why it stopped, with PostgreSQL's words: {log}"
    );
    assert!(
        !log.contains("stopped unexpectedly") && !log.contains("was restarted"),
        "no restart: {log}"
    );

    // A command starts it and leaves it running: the dashboard still uses it.
    let command = crate::helpers::pgusers_binary()
        .env("PGUSERS_DATA_DIR", &data_dir)
        .arg("databases")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(command.status.success(), "{command:?}");
    assert!(
        pg_data.join("postmaster.pid").exists(),
        "the command left PostgreSQL running for the dashboard"
    );
    answer_until(&browser, "/healthz", Duration::from_secs(20), |page| {
        page.status == 200
    })
    .await;
    assert_eq!(browser.log_in_with(OPERATOR_PASSWORD).await.status, 303);
    running
        .log_once_it_says(
            "the embedded PostgreSQL runs again (another process started it)",
            Duration::from_secs(5),
        )
        .await;
    tokio::task::spawn_blocking(move || terminate(running))
        .await
        .unwrap();
    assert!(
        !pg_data.join("postmaster.pid").exists(),
        "the dashboard, last to leave, stopped it"
    );
}
