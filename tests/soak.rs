//! Soak with faults (issue 12): many clients create, change and delete
//! users over overlapping names through the dashboard and the API of the
//! real `pgusers serve`, while PostgreSQL is stopped and started twice and a
//! client's connection is cut mid-request; afterwards PostgreSQL itself is
//! checked: every user has exactly the grants of its kind, no role is half
//! made, no table is lost, the protected user is untouched, and the audit
//! log has one entry per attempted change.
//!
//! Its own test binary, so it can stop and start its own cluster without
//! disturbing the `it` suite's shared one. `cargo test` runs it at a reduced
//! size; `PGUSERS_SOAK_CLIENTS=32 PGUSERS_SOAK_OPS=10000 cargo test --release
//! --test soak -- --nocapture` runs the issue's full size.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pgusers::domain::{NewPassword, Password, Username};
use pgusers::embedded::{Cluster, ClusterOptions};
use pgusers::roles::{Access, RoleManager, provision_database};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::io::AsyncWriteExt;
use tokio_postgres::{Client, Config, NoTls};

/// The longest any answer may take while PostgreSQL is down: pgusers gives
/// up on PostgreSQL after `db::TIMEOUT` (5 s), plus one second for a loaded
/// debug build to render the page. A request that waited for two pools in a
/// row, or hung, breaks it.
const OUTAGE_BOUND: Duration = Duration::from_secs(pgusers::db::TIMEOUT.as_secs() + 1);
/// After PostgreSQL accepts connections again, the users page answers 200
/// within this, without restarting pgusers (the issue's requirement).
const RECOVERY_BOUND: Duration = Duration::from_secs(5);
/// A request that takes this long is a hang.
const HANG: Duration = Duration::from_secs(30);
/// How long each outage lasts.
const OUTAGE: Duration = Duration::from_secs(3);
const OPERATOR_PASSWORD: &str = "soak-operator-password";

/// Size of the run, from the environment, and the seed of its choices.
struct Size {
    clients: usize,
    ops: usize,
    /// Each client's choices (operation, user, password chosen or
    /// generated, table or not) come from a generator seeded with this and
    /// the client's number: `PGUSERS_SOAK_SEED`, else drawn and printed.
    /// Which client takes which operation number, and where the outages
    /// fall among them, still depend on timing.
    seed: u64,
}

impl Size {
    fn from_env() -> Self {
        let read = |key: &str, default: usize| {
            std::env::var(key)
                .ok()
                .map(|v| v.parse().unwrap_or_else(|_| panic!("{key} is a number")))
                .unwrap_or(default)
        };
        Self {
            clients: read("PGUSERS_SOAK_CLIENTS", 8).max(2),
            ops: read("PGUSERS_SOAK_OPS", 600).max(100),
            seed: std::env::var("PGUSERS_SOAK_SEED").map_or_else(
                |_| rand::rng().random(),
                |v| v.parse().expect("PGUSERS_SOAK_SEED is a number"),
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Via {
    Dashboard,
    Api,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    CreateReadWrite,
    CreateReadOnly,
    SetPassword,
    Reset,
    Delete,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Self::CreateReadWrite => "create read-write",
            Self::CreateReadOnly => "create read-only",
            Self::SetPassword => "set password",
            Self::Reset => "reset password",
            Self::Delete => "delete",
        }
    }

    /// The audit log's name of the action.
    fn action(self) -> &'static str {
        match self {
            Self::CreateReadWrite | Self::CreateReadOnly => "create user",
            Self::SetPassword => "set password",
            Self::Reset => "reset password",
            Self::Delete => "delete user",
        }
    }
}

/// What the client can tell from the answer it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// The change was made.
    Done,
    /// pgusers' role module refused it (exists, unknown user): nothing changed.
    Refused,
    /// It never reached the role module (a 503 before it, a confirmation
    /// page that said no): not an attempt.
    NotTried,
    /// It reached the role module, but how it ended is unknown (the role
    /// module's 503, or an answer that re-read a user deleted meanwhile).
    Tried,
    /// It reached the role module, which found PostgreSQL away (503).
    /// Nothing was made, but it was attempted: its audit entry (`failed`)
    /// is written once the state database, on the same server, is back.
    Failed,
    /// It may or may not have reached the role module, or been made (a 503
    /// that does not say which part was away, no answer).
    Unknown,
}

/// One operation of one client.
#[derive(Debug, Clone)]
struct Op {
    via: Via,
    kind: Kind,
    name: String,
    start: Instant,
    end: Instant,
    /// The status of the request that acted (0: no answer).
    status: u16,
    known: Known,
    /// The password the user has after this operation, when known.
    password: Option<String>,
}

/// One HTTP request, for the outage checks.
#[derive(Debug, Clone)]
struct Request {
    what: String,
    start: Instant,
    end: Instant,
    /// 0 when no answer came.
    status: u16,
}

#[derive(Debug, Clone, Default)]
struct OutageRecord {
    stop_begin: Option<Instant>,
    stopped: Option<Instant>,
    start_begin: Option<Instant>,
    started: Option<Instant>,
    first_200: Option<Instant>,
}

/// What every task shares.
struct Shared {
    base: String,
    database: String,
    token: String,
    names: Vec<String>,
    pg_port: u16,
    next_op: AtomicUsize,
    done_ops: AtomicUsize,
    ops: Mutex<Vec<Op>>,
    requests: Mutex<Vec<Request>>,
    /// Tables made during the run: (table, its creator).
    tables: Mutex<Vec<(String, String)>>,
    table_counter: AtomicUsize,
    stop: AtomicBool,
    total_ops: usize,
}

impl Shared {
    fn users_path(&self) -> String {
        format!("/databases/{}/settings/database-users", self.database)
    }

    fn api_users(&self) -> String {
        format!("{}/api/databases/{}/users", self.base, self.database)
    }

    /// Sends a request, records its timing and status; `None` when no
    /// answer came (or none within [`HANG`]).
    async fn send(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Option<(u16, String, Option<String>)> {
        let start = Instant::now();
        let answer = async {
            let response = request.send().await.ok()?;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned);
            let body = response.text().await.ok()?;
            Some((status, body, location))
        }
        .await;
        self.requests.lock().unwrap().push(Request {
            what: what.to_owned(),
            start,
            end: Instant::now(),
            status: answer.as_ref().map_or(0, |a| a.0),
        });
        answer
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HANG)
        .build()
        .expect("http client")
}

/// A hidden field's value.
fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = start + html[start..].find('"')?;
    Some(html[start..end].to_owned())
}

/// The generated password a password page shows.
fn shown_password(html: &str) -> Option<String> {
    let at = html.find("id=\"new-password\"")?;
    let rest = &html[at..];
    let start = rest.find("value=\"")? + "value=\"".len();
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].to_owned())
}

/// A password a person chose: 40 letters, digits and underscores.
fn chosen_password(rng: &mut StdRng) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
    (0..40)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

/// Stops pgusers and the cluster, and removes the directory, whatever happens.
struct Teardown {
    child: Option<Child>,
    cluster: Arc<Mutex<Option<Cluster>>>,
    root: PathBuf,
}

impl Drop for Teardown {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: signalling a child process we own.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(mut cluster) = self.cluster.lock().unwrap().take() {
            let _ = cluster.stop();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// `key=value` connection string for a Unix-socket config, as DATABASE_URL takes it.
fn conninfo(config: &Config) -> String {
    let host = config
        .get_hosts()
        .iter()
        .find_map(|host| match host {
            tokio_postgres::config::Host::Unix(path) => Some(path.display().to_string()),
            _ => None,
        })
        .expect("a Unix-socket host");
    format!(
        "host={host} port={} user={} dbname={}",
        config.get_ports()[0],
        config.get_user().expect("a user"),
        config.get_dbname().expect("a database")
    )
}

async fn connect(config: &Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// A login over TCP as an application would.
async fn login_as(
    port: u16,
    database: &str,
    user: &str,
    password: &str,
) -> Result<Client, tokio_postgres::Error> {
    let mut config = Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user(user)
        .password(password)
        .dbname(database)
        .connect_timeout(Duration::from_secs(5));
    connect(&config).await
}

fn pgusers_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pgusers"));
    for (key, _) in std::env::vars() {
        if (key.starts_with("PGUSERS_") && key != "PGUSERS_PG_BINDIR") || key == "DATABASE_URL" {
            command.env_remove(key);
        }
    }
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_clients_over_two_outages_and_a_cut_connection_leave_every_user_whole_and_audited() {
    let size = Size::from_env();
    let started_at = Instant::now();
    println!(
        "soak: seed {seed} (PGUSERS_SOAK_SEED={seed} repeats each client's choices)",
        seed = size.seed
    );

    // A cluster of the soak's own, a managed database on it.
    let root = tempfile::Builder::new()
        .prefix("pgusers-soak-")
        .permissions(std::fs::Permissions::from_mode(0o755))
        .tempdir()
        .expect("temporary directory")
        .keep();
    let cluster_root = root.join("pg");
    let cluster = tokio::task::spawn_blocking(move || {
        let mut cluster = Cluster::open(
            &cluster_root,
            &ClusterOptions {
                log_statements: false,
                ephemeral: true,
            },
        )
        .expect("initdb");
        cluster.start().expect("the cluster starts");
        cluster
    })
    .await
    .unwrap();
    let pg_port = cluster.port();
    let server = cluster.admin_config("postgres");
    let cluster = Arc::new(Mutex::new(Some(cluster)));
    let mut teardown = Teardown {
        child: None,
        cluster: cluster.clone(),
        root: root.clone(),
    };
    let database = "soak_app";
    let protected = Username::parse("soak_owner").unwrap();
    let protected_password = Password::generate();
    provision_database(&server, database, &protected, &protected_password)
        .await
        .expect("the database is provisioned");
    let mut in_database = server.clone();
    in_database.dbname(database);
    // The groups and the protected user's default privileges exist before
    // the run, as in a database already in use: a table made in the very
    // moment the first user's create sets them up misses them, a limit
    // docs/known-limits.md states, not what this test is about.
    let setup = RoleManager::new(in_database.clone(), 1, None);
    let first = Username::parse("soak_setup_user").unwrap();
    setup
        .create(&first, NewPassword::Generate, Access::ReadWrite)
        .await
        .expect("the first user is created");
    setup
        .delete(&pgusers::domain::RoleName::from(first))
        .await
        .expect("and deleted");
    drop(setup);
    let superuser = connect(&in_database).await.expect("superuser connects");
    let protected_before = authid_row(&superuser, protected.as_str()).await;
    let roles_before: HashSet<String> = role_names(&superuser).await;
    drop(superuser);

    // The real binary, pointed at that database; its state on the same server.
    let data_dir = root.join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = conninfo(&in_database);
    let mut child = pgusers_command()
        .env("DATABASE_URL", &url)
        .env("PGUSERS_DATA_DIR", &data_dir)
        .env("PGUSERS_LISTEN", format!("127.0.0.1:{port}"))
        .env("PGUSERS_ADMIN_PASSWORD", OPERATOR_PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(root.join("pgusers.log")).unwrap())
        .spawn()
        .expect("pgusers starts");
    let stdout = child.stdout.take().unwrap();
    teardown.child = Some(child);
    tokio::task::spawn_blocking(move || {
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(line) if line.starts_with("pgusers dashboard: ") => return,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("pgusers did not say it serves");
    })
    .await
    .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let token = {
        let output = pgusers_command()
            .args(["tokens", "create", "--operator", "admin", "--label", "soak"])
            .env("DATABASE_URL", &url)
            .env("PGUSERS_DATA_DIR", &data_dir)
            .output()
            .expect("pgusers tokens create");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let api = http_client();
    let listed: serde_json::Value = api
        .get(format!("{base}/api/databases"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let database_id = listed["databases"][0]["id"]
        .as_str()
        .expect("one database")
        .to_owned();

    let shared = Arc::new(Shared {
        base: base.clone(),
        database: database_id,
        token,
        names: (0..size.clients * 3)
            .map(|i| format!("soak_u{i:03}"))
            .collect(),
        pg_port,
        next_op: AtomicUsize::new(0),
        done_ops: AtomicUsize::new(0),
        ops: Mutex::new(Vec::new()),
        requests: Mutex::new(Vec::new()),
        tables: Mutex::new(Vec::new()),
        table_counter: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        total_ops: size.ops,
    });

    // A watcher logged in before the faults, to see the dashboard come back.
    let watcher = Dashboard::log_in(shared.clone()).await.expect("login");

    let run_start = Instant::now();
    let clients: Vec<_> = (0..size.clients)
        .map(|i| {
            let shared = shared.clone();
            let rng = StdRng::seed_from_u64(size.seed.wrapping_add(i as u64));
            tokio::spawn(async move {
                let via = if i % 2 == 0 { Via::Dashboard } else { Via::Api };
                client(shared, via, rng).await
            })
        })
        .collect();
    let owner_tables = {
        let shared = shared.clone();
        let password = protected_password.expose().to_owned();
        tokio::spawn(async move { protected_makes_tables(shared, password).await })
    };
    let faults = {
        let shared = shared.clone();
        tokio::spawn(async move { faults(shared, cluster, watcher).await })
    };
    for client in clients {
        client.await.expect("a client task");
    }
    let run_time = run_start.elapsed();
    shared.stop.store(true, Ordering::SeqCst);
    owner_tables.await.unwrap();
    let (outages, cut) = faults.await.expect("the fault task");

    // Let requests the cut connection started finish, and audit entries
    // held back by the outages be written (pgusers retries every second).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let superuser = connect(&in_database).await.expect("superuser connects");
    let mut state = server.clone();
    state.dbname("pgusers");
    let state = connect(&state).await.expect("the state database");

    let ops = shared.ops.lock().unwrap().clone();
    let requests = shared.requests.lock().unwrap().clone();
    let tables = shared.tables.lock().unwrap().clone();
    let mut failures: Vec<String> = Vec::new();

    print_figures(&size, &ops, run_time, &outages);

    check_answers(&requests, &outages, &mut failures);
    check_cut(&cut, &mut failures);
    let roles = RoleManager::new(in_database.clone(), 2, None);
    check_roles(
        &superuser,
        &roles,
        &shared,
        &ops,
        &roles_before,
        protected.as_str(),
        &mut failures,
    )
    .await;
    check_tables(&superuser, &tables, protected.as_str(), &mut failures).await;
    check_protected(
        &superuser,
        &protected_before,
        pg_port,
        database,
        protected.as_str(),
        protected_password.expose(),
        &mut failures,
    )
    .await;
    check_audit(&superuser, &state, &shared, &ops, &cut, &mut failures).await;

    println!(
        "soak: {} checks failed; whole test {:.1} s",
        failures.len(),
        started_at.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        // What pgusers logged explains most failures; the directory goes
        // with the teardown.
        let log = std::fs::read_to_string(root.join("pgusers.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(200).collect();
        println!("soak: the last lines of pgusers' log:");
        for line in tail.iter().rev() {
            println!("  {line}");
        }
    }
    drop(teardown);
    assert!(
        failures.is_empty(),
        "the soak (PGUSERS_SOAK_SEED={}) found {} problems:\n- {}",
        size.seed,
        failures.len(),
        failures.join("\n- ")
    );
}

/// A dashboard client: a login session of operator `admin`.
struct Dashboard {
    shared: Arc<Shared>,
    http: reqwest::Client,
}

impl Dashboard {
    async fn log_in(shared: Arc<Shared>) -> Option<Self> {
        let http = http_client();
        let (_, html, _) = shared
            .send("GET /login", http.get(format!("{}/login", shared.base)))
            .await?;
        let csrf = field(&html, "csrf_token")?;
        let (status, _, _) = shared
            .send(
                "POST /login",
                http.post(format!("{}/login", shared.base)).form(&[
                    ("csrf_token", csrf.as_str()),
                    ("username", "admin"),
                    ("password", OPERATOR_PASSWORD),
                ]),
            )
            .await?;
        (status == 303).then_some(Self { shared, http })
    }

    /// GETs a form page: its CSRF token and form id, or the status it
    /// answered instead (0: no answer).
    async fn form(&self, path: &str) -> Result<(String, String), u16> {
        let url = format!("{}{path}", self.shared.base);
        match self.shared.send("GET form", self.http.get(url)).await {
            Some((200, html, _)) => match (field(&html, "csrf_token"), field(&html, "form_id")) {
                (Some(csrf), Some(id)) => Ok((csrf, id)),
                _ => Err(200),
            },
            Some((status, _, _)) => Err(status),
            None => Err(0),
        }
    }

    /// Does `kind` on `name`; what the client can tell, the status, and
    /// the password the user has afterwards when known.
    async fn act(&self, kind: Kind, name: &str, password: Option<&str>) -> Acted {
        let users = self.shared.users_path();
        let page = match kind {
            Kind::CreateReadWrite | Kind::CreateReadOnly => format!("{users}/new"),
            Kind::Reset | Kind::SetPassword => format!("{users}/{name}/reset"),
            Kind::Delete => format!("{users}/{name}/delete"),
        };
        let (csrf, form_id) = match self.form(&page).await {
            Ok(form) => form,
            // 404, 409: the confirmation page said no; 503: away. Nothing tried.
            Err(status) => return (Known::NotTried, status, None),
        };
        let mut form = vec![("csrf_token", csrf), ("form_id", form_id)];
        let action = match kind {
            Kind::CreateReadWrite | Kind::CreateReadOnly => {
                form.push(("username", name.to_owned()));
                let typed = password.unwrap_or("").to_owned();
                form.push(("password", typed.clone()));
                form.push(("password_confirmation", typed));
                if kind == Kind::CreateReadOnly {
                    form.push(("read_only", "on".to_owned()));
                }
                users.clone()
            }
            _ => page,
        };
        let url = format!("{}{action}", self.shared.base);
        let answer = self
            .shared
            .send(
                &format!("POST {}", kind.label()),
                self.http.post(url).form(&form),
            )
            .await;
        let Some((status, html, location)) = answer else {
            return (Known::Unknown, 0, None);
        };
        let to_login = location.is_some_and(|l| l.starts_with("/login"));
        match (kind, status) {
            (_, 303) if to_login => (Known::NotTried, status, None),
            (Kind::CreateReadWrite | Kind::CreateReadOnly, 303) => {
                (Known::Done, status, password.map(str::to_owned))
            }
            (Kind::CreateReadWrite | Kind::CreateReadOnly | Kind::Reset, 200) => {
                (Known::Done, status, shown_password(&html))
            }
            (Kind::Delete, 303) => (Known::Done, status, None),
            // The name is taken (create), or the user went away between
            // the confirmation page and the form (reset, delete).
            (Kind::CreateReadWrite | Kind::CreateReadOnly, 422) | (_, 404) => {
                (Known::Refused, status, None)
            }
            _ => (Known::Unknown, status, None),
        }
    }
}

type Acted = (Known, u16, Option<String>);

/// An API client: a bearer token.
struct Api {
    shared: Arc<Shared>,
    http: reqwest::Client,
}

impl Api {
    async fn act(&self, kind: Kind, name: &str, password: Option<&str>) -> Acted {
        let shared = &self.shared;
        let users = shared.api_users();
        let pw = password.map(|p| serde_json::json!(p));
        let request = match kind {
            Kind::CreateReadWrite | Kind::CreateReadOnly => {
                self.http
                    .post(&users)
                    .json(&serde_json::json!({"database_user": {
                        "name": name,
                        "read_only": kind == Kind::CreateReadOnly,
                        "password": pw, "password_confirmation": pw,
                    }}))
            }
            Kind::SetPassword => self.http.patch(format!("{users}/{name}")).json(
                &serde_json::json!({"database_user": {
                    "password": pw, "password_confirmation": pw,
                }}),
            ),
            Kind::Reset => self.http.post(format!("{users}/{name}/reset_password")),
            Kind::Delete => self.http.delete(format!("{users}/{name}")),
        };
        let request = request.bearer_auth(&shared.token);
        let Some((status, body, _)) = shared.send(&format!("API {}", kind.label()), request).await
        else {
            return (Known::Unknown, 0, None);
        };
        let generated = || {
            serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["database_user"]["password"].as_str().map(str::to_owned))
        };
        // The token is checked in the state database first: its 503 says
        // so, and then the role module was never reached.
        let state_away = body.contains("own state database is unavailable");
        match (kind, status) {
            (_, 503) if state_away => (Known::NotTried, status, None),
            (_, 503) => (Known::Failed, status, None),
            (Kind::CreateReadWrite | Kind::CreateReadOnly, 201) | (Kind::SetPassword, 200) => (
                Known::Done,
                status,
                password.map(str::to_owned).or_else(generated),
            ),
            (Kind::Reset, 200) => (Known::Done, status, generated()),
            (Kind::Delete, 204) => (Known::Done, status, None),
            (Kind::CreateReadWrite | Kind::CreateReadOnly, 409) => (Known::Refused, status, None),
            // The answer re-reads the user after the change: another
            // client may have deleted it in between. A create refuses with
            // 409, so its 404 comes from that re-read: it was made. After a
            // set or reset, a 404 may be either.
            (Kind::Delete, 404) => (Known::Refused, status, None),
            (Kind::CreateReadWrite | Kind::CreateReadOnly, 404) => {
                (Known::Done, status, password.map(str::to_owned))
            }
            (Kind::SetPassword | Kind::Reset, 404) => (Known::Tried, status, None),
            // 401 with the state database away answers 503; anything
            // else is unexpected and checked with the answers.
            _ => (Known::Unknown, status, None),
        }
    }
}

/// One client's loop: takes operation numbers until all are taken.
async fn client(shared: Arc<Shared>, via: Via, mut rng: StdRng) {
    let mut dashboard: Option<Dashboard> = None;
    let api = Api {
        shared: shared.clone(),
        http: http_client(),
    };
    loop {
        let n = shared.next_op.fetch_add(1, Ordering::SeqCst);
        if n >= shared.total_ops {
            return;
        }
        let (kind, name, password) = {
            let roll = rng.random_range(0..100);
            let kind = match roll {
                0..25 => Kind::CreateReadWrite,
                25..45 => Kind::CreateReadOnly,
                45..60 if via == Via::Api => Kind::SetPassword,
                45..75 => Kind::Reset,
                _ => Kind::Delete,
            };
            let name = shared.names[rng.random_range(0..shared.names.len())].clone();
            let chosen = matches!(kind, Kind::SetPassword) || rng.random_range(0..3) > 0;
            let password = (chosen
                && matches!(
                    kind,
                    Kind::CreateReadWrite | Kind::CreateReadOnly | Kind::SetPassword
                ))
            .then(|| chosen_password(&mut rng));
            (kind, name, password)
        };
        let start = Instant::now();
        let (known, status, after) = match via {
            Via::Api => api.act(kind, &name, password.as_deref()).await,
            Via::Dashboard => {
                if dashboard.is_none() {
                    dashboard = Dashboard::log_in(shared.clone()).await;
                }
                match &dashboard {
                    Some(d) => {
                        let acted = d.act(kind, &name, password.as_deref()).await;
                        if acted.0 == Known::NotTried && acted.1 == 303 {
                            dashboard = None;
                        }
                        acted
                    }
                    None => (Known::NotTried, 503, None),
                }
            }
        };
        let end = Instant::now();
        shared.ops.lock().unwrap().push(Op {
            via,
            kind,
            name: name.clone(),
            start,
            end,
            status,
            known,
            password: after.clone(),
        });
        shared.done_ops.fetch_add(1, Ordering::SeqCst);
        if known == Known::Done
            && kind == Kind::CreateReadWrite
            && let Some(password) = after
            && rng.random_range(0..3) == 0
        {
            user_makes_table(&shared, &name, &password).await;
        }
        if status == 503 || status == 0 {
            // Do not spend the run's operations while PostgreSQL is away.
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Logs in as `user` and creates a table with a row; records it if made.
async fn user_makes_table(shared: &Shared, user: &str, password: &str) {
    let n = shared.table_counter.fetch_add(1, Ordering::SeqCst);
    let table = format!("t_{user}_{n}");
    let Ok(client) = login_as(shared.pg_port, "soak_app", user, password).await else {
        return;
    };
    let made = client
        .batch_execute(&format!(
            "CREATE TABLE public.{table} (id int); INSERT INTO public.{table} VALUES (1);"
        ))
        .await;
    if made.is_ok() {
        shared.tables.lock().unwrap().push((table, user.to_owned()));
    }
}

/// The protected user makes a table now and then, as its application would.
async fn protected_makes_tables(shared: Arc<Shared>, password: String) {
    while !shared.stop.load(Ordering::SeqCst) {
        user_makes_table(&shared, "soak_owner", &password).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

/// What the cut connections left to check.
#[derive(Debug, Default)]
struct Cut {
    /// The name a half-sent create named.
    half: String,
    /// The name a complete create whose answer was never read named.
    unread: String,
    /// Whether the dashboard served again afterwards (status of /healthz
    /// and of the API's list).
    served_after: Vec<u16>,
}

/// Waits until `fraction` of the operations are done.
async fn wait_for(shared: &Shared, fraction: f64) {
    let at = (shared.total_ops as f64 * fraction) as usize;
    while shared.done_ops.load(Ordering::SeqCst) < at && !shared.stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Stops and starts PostgreSQL twice, and cuts a connection in between.
async fn faults(
    shared: Arc<Shared>,
    cluster: Arc<Mutex<Option<Cluster>>>,
    watcher: Dashboard,
) -> (Vec<OutageRecord>, Cut) {
    let mut outages = Vec::new();
    wait_for(&shared, 0.30).await;
    outages.push(outage(&shared, &cluster, &watcher).await);
    wait_for(&shared, 0.48).await;
    let cut = cut_connections(&shared).await;
    wait_for(&shared, 0.65).await;
    outages.push(outage(&shared, &cluster, &watcher).await);
    (outages, cut)
}

async fn outage(
    shared: &Shared,
    cluster: &Arc<Mutex<Option<Cluster>>>,
    watcher: &Dashboard,
) -> OutageRecord {
    let mut record = OutageRecord {
        stop_begin: Some(Instant::now()),
        ..OutageRecord::default()
    };
    let handle = cluster.clone();
    tokio::task::spawn_blocking(move || {
        handle
            .lock()
            .unwrap()
            .as_mut()
            .expect("cluster")
            .stop()
            .expect("PostgreSQL stops")
    })
    .await
    .unwrap();
    record.stopped = Some(Instant::now());
    tokio::time::sleep(OUTAGE).await;
    record.start_begin = Some(Instant::now());
    let handle = cluster.clone();
    tokio::task::spawn_blocking(move || {
        handle
            .lock()
            .unwrap()
            .as_mut()
            .expect("cluster")
            .start()
            .expect("PostgreSQL starts")
    })
    .await
    .unwrap();
    let started = Instant::now();
    record.started = Some(started);
    // The users page, by a session made before the outage.
    let url = format!("{}{}", shared.base, shared.users_path());
    while started.elapsed() < Duration::from_secs(30) {
        let status = shared
            .send("GET users (watcher)", watcher.http.get(&url))
            .await
            .map_or(0, |a| a.0);
        if status == 200 {
            record.first_200 = Some(Instant::now());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    record
}

/// Sends a create with half its body, then closes; then a whole create,
/// closed before its answer is read.
async fn cut_connections(shared: &Shared) -> Cut {
    let cut = Cut {
        half: "soak_cut_half".to_owned(),
        unread: "soak_cut_unread".to_owned(),
        served_after: Vec::new(),
    };
    let address = shared.base.trim_start_matches("http://").to_owned();
    let path = format!("/api/databases/{}/users", shared.database);
    let request = |name: &str| {
        let body = format!(r#"{{"database_user": {{"name": "{name}", "read_only": false}}}}"#);
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            shared.token,
            body.len()
        );
        (head, body)
    };
    let (head, body) = request(&cut.half);
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&body.as_bytes()[..body.len() / 2])
        .await
        .unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(stream);

    let (head, body) = request(&cut.unread);
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(format!("{head}{body}").as_bytes())
        .await
        .unwrap();
    stream.flush().await.unwrap();
    drop(stream);

    tokio::time::sleep(Duration::from_millis(500)).await;
    let http = http_client();
    let mut served_after = Vec::new();
    for url in [
        format!("{}/healthz", shared.base),
        shared.api_users().to_string(),
    ] {
        let status = shared
            .send("after the cut", http.get(url).bearer_auth(&shared.token))
            .await
            .map_or(0, |a| a.0);
        served_after.push(status);
    }
    Cut {
        served_after,
        ..cut
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn print_figures(size: &Size, ops: &[Op], run_time: Duration, outages: &[OutageRecord]) {
    println!(
        "soak: {} clients, {} operations in {:.1} s ({:.0} operations/s, outages included)",
        size.clients,
        ops.len(),
        run_time.as_secs_f64(),
        ops.len() as f64 / run_time.as_secs_f64()
    );
    let mut by_kind: BTreeMap<(Kind, Via), Vec<&Op>> = BTreeMap::new();
    for op in ops {
        by_kind.entry((op.kind, op.via)).or_default().push(op);
    }
    println!(
        "soak: {:<18} {:<9} {:>5} {:>5} {:>7} {:>9} {:>7} {:>7} {:>10} {:>10}",
        "kind", "via", "ops", "done", "refused", "not tried", "tried", "unknown", "p50", "p99"
    );
    for ((kind, via), ops) in &by_kind {
        let count = |k: Known| ops.iter().filter(|o| o.known == k).count();
        // Latency of what reached the role module, not of fast 503s.
        let mut latencies: Vec<Duration> = ops
            .iter()
            .filter(|o| matches!(o.known, Known::Done | Known::Refused))
            .map(|o| o.end - o.start)
            .collect();
        latencies.sort();
        println!(
            "soak: {:<18} {:<9} {:>5} {:>5} {:>7} {:>9} {:>7} {:>7} {:>10} {:>10}",
            kind.label(),
            format!("{via:?}").to_lowercase(),
            ops.len(),
            count(Known::Done),
            count(Known::Refused),
            count(Known::NotTried),
            count(Known::Tried) + count(Known::Failed),
            count(Known::Unknown),
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99)),
        );
    }
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for op in ops {
        *statuses.entry(op.status).or_default() += 1;
    }
    println!("soak: statuses of the acting requests (0: no answer): {statuses:?}");
    for (i, outage) in outages.iter().enumerate() {
        if let (Some(stop), Some(stopped), Some(start_begin), Some(started)) = (
            outage.stop_begin,
            outage.stopped,
            outage.start_begin,
            outage.started,
        ) {
            println!(
                "soak: outage {}: stopping took {}, down {:.1} s, starting took {}, users page 200 {} after PostgreSQL accepted connections",
                i + 1,
                ms(stopped - stop),
                (start_begin - stopped).as_secs_f64(),
                ms(started - start_begin),
                outage
                    .first_200
                    .map_or("never".to_owned(), |t| ms(t - started)),
            );
        }
    }
}

/// Whether a request overlapped an outage: `Some(true)` when it lay wholly
/// within the time PostgreSQL was down.
fn during(request: &Request, outage: &OutageRecord) -> Option<bool> {
    let (stop_begin, stopped, start_begin, started) = (
        outage.stop_begin?,
        outage.stopped?,
        outage.start_begin?,
        outage.started?,
    );
    if request.end < stop_begin || request.start > started {
        return None;
    }
    Some(request.start >= stopped && request.end <= start_begin)
}

fn check_answers(requests: &[Request], outages: &[OutageRecord], failures: &mut Vec<String>) {
    for request in requests {
        let took = request.end - request.start;
        if request.status >= 500 && request.status != 503 {
            failures.push(format!(
                "{} answered {} (a server error, not 503)",
                request.what, request.status
            ));
        }
        if request.status == 0 && request.what != "after the cut" {
            failures.push(format!("{} got no answer after {}", request.what, ms(took)));
        }
        for (i, outage) in outages.iter().enumerate() {
            let Some(wholly) = during(request, outage) else {
                continue;
            };
            if took > OUTAGE_BOUND {
                failures.push(format!(
                    "during outage {}: {} took {} (bound {}), status {}",
                    i + 1,
                    request.what,
                    ms(took),
                    ms(OUTAGE_BOUND),
                    request.status
                ));
            }
            if wholly && request.status != 503 {
                failures.push(format!(
                    "while PostgreSQL was down (outage {}): {} answered {}, not 503",
                    i + 1,
                    request.what,
                    request.status
                ));
            }
        }
    }
    for (i, outage) in outages.iter().enumerate() {
        let overlapping: Vec<&Request> = requests
            .iter()
            .filter(|r| during(r, outage).is_some())
            .collect();
        let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
        for r in &overlapping {
            *statuses.entry(r.status).or_default() += 1;
        }
        let slowest = overlapping.iter().max_by_key(|r| r.end - r.start);
        println!(
            "soak: outage {}: {} requests overlapped it, statuses {statuses:?}, slowest {}",
            i + 1,
            overlapping.len(),
            slowest.map_or("none".to_owned(), |r| format!(
                "{} ({}, {})",
                ms(r.end - r.start),
                r.what,
                r.status
            )),
        );
        match (outage.started, outage.first_200) {
            (Some(started), Some(first)) if first - started <= RECOVERY_BOUND => {}
            (Some(started), Some(first)) => failures.push(format!(
                "after outage {} the users page first answered 200 {} after PostgreSQL was back (bound {})",
                i + 1,
                ms(first - started),
                ms(RECOVERY_BOUND)
            )),
            _ => failures.push(format!(
                "after outage {} the users page never answered 200",
                i + 1
            )),
        }
        if outage.started.is_none() {
            failures.push(format!("outage {} did not happen", i + 1));
        }
    }
}

fn check_cut(cut: &Cut, failures: &mut Vec<String>) {
    if cut.served_after != [200, 200] {
        failures.push(format!(
            "after a connection was cut mid-request, /healthz and the API's list answered {:?}",
            cut.served_after
        ));
    }
}

/// The row of `pg_authid` of `role`, as text.
async fn authid_row(client: &Client, role: &str) -> String {
    client
        .query_one(
            "SELECT row_to_json(a)::text FROM pg_authid a WHERE rolname = $1",
            &[&role],
        )
        .await
        .expect("the protected user's row")
        .get(0)
}

async fn role_names(client: &Client) -> HashSet<String> {
    client
        .query("SELECT rolname FROM pg_roles", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The last change to `name` the harness can be sure of: a definite
/// change that every other possible change of that name finished before.
fn last_known<'a>(ops: &'a [Op], name: &str) -> Option<&'a Op> {
    let changes: Vec<&Op> = ops
        .iter()
        .filter(|o| {
            o.name == name
                && matches!(
                    o.known,
                    Known::Done | Known::Tried | Known::Failed | Known::Unknown
                )
        })
        .collect();
    let last = changes
        .iter()
        .filter(|o| o.known == Known::Done)
        .max_by_key(|o| o.start)?;
    changes
        .iter()
        .all(|o| std::ptr::eq(*o, *last) || o.end < last.start)
        .then_some(*last)
}

async fn check_roles(
    superuser: &Client,
    roles: &RoleManager,
    shared: &Shared,
    ops: &[Op],
    roles_before: &HashSet<String>,
    protected: &str,
    failures: &mut Vec<String>,
) {
    let readers = "pgusers-readonly-soak_app";
    let writers = "pgusers-writers-soak_app";
    // pgusers' mark: its members are the users pgusers made.
    let mark = "pgusers-users-soak_app";
    // pgusers' lock roles: the shared one, and the name locks named after
    // it (it connects as this superuser).
    let lock: String = superuser
        .query_one(
            "SELECT 'pgusers-lock-' || oid::text FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let now = role_names(superuser).await;
    let pool: HashSet<&str> = shared
        .names
        .iter()
        .map(String::as_str)
        .chain(["soak_cut_half", "soak_cut_unread"])
        .collect();
    for role in now.difference(roles_before) {
        if !pool.contains(role.as_str())
            && role != readers
            && role != writers
            && role != mark
            && *role != lock
            && !role.starts_with(&format!("{lock}-"))
        {
            failures.push(format!("a role no client named exists: {role}"));
        }
    }
    // pgusers' own judgement of each user.
    let listed = match roles.list().await {
        Ok(listed) => listed,
        Err(error) => {
            failures.push(format!("pgusers could not list the users: {error}"));
            return;
        }
    };
    let listed: HashMap<String, _> = listed
        .into_iter()
        .map(|u| (u.username.clone(), u))
        .collect();
    let tables: Vec<(String, String)> = superuser
        .query(
            "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut logins = 0;
    let mut kinds = (0, 0);
    let mut names: Vec<&str> = pool.iter().copied().collect();
    names.sort();
    for name in names {
        let exists = now.contains(name);
        if let Some(last) = last_known(ops, name) {
            let should = last.kind != Kind::Delete;
            if exists != should {
                failures.push(format!(
                    "{name}: its last definite change was {} (answer {}), yet it {} in PostgreSQL",
                    last.kind.label(),
                    last.status,
                    if exists { "exists" } else { "does not exist" }
                ));
            }
        }
        if !exists {
            continue;
        }
        let facts = superuser
            .query_one(
                "SELECT r.rolcanlogin, r.rolsuper OR r.rolcreaterole OR r.rolcreatedb,
                        pg_has_role(r.oid, (SELECT oid FROM pg_roles WHERE rolname = $2), 'MEMBER'),
                        (SELECT count(*) FROM pg_auth_members m
                          WHERE m.member = r.oid AND m.roleid <> (SELECT oid FROM pg_roles WHERE rolname = $3))::int,
                        has_schema_privilege(r.oid, 'public', 'CREATE'),
                        has_database_privilege(r.oid, current_database(), 'CONNECT'),
                        has_database_privilege(r.oid, current_database(), 'CREATE'),
                        r.rolconnlimit,
                        EXISTS (SELECT 1 FROM pg_auth_members m
                                 WHERE m.member = r.oid
                                   AND m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $3))
                   FROM pg_roles r WHERE r.rolname = $1",
                &[&name, &readers, &mark],
            )
            .await
            .unwrap();
        let (login, powers, reader, memberships, schema_create, connect, db_create): (
            bool,
            bool,
            bool,
            i32,
            bool,
            bool,
            bool,
        ) = (
            facts.get(0),
            facts.get(1),
            facts.get(2),
            facts.get(3),
            facts.get(4),
            facts.get(5),
            facts.get(6),
        );
        let Some(user) = listed.get(name) else {
            failures.push(format!("{name} exists but pgusers does not list it"));
            continue;
        };
        if !user.manageable() {
            failures.push(format!(
                "{name} is listed as not manageable: {:?}",
                user.not_manageable
            ));
        }
        if user.read_only != reader {
            failures.push(format!(
                "{name}: pgusers lists read_only={} but its membership of the readers group is {reader}",
                user.read_only
            ));
        }
        let limit: i32 = facts.get(7);
        if !facts.get::<_, bool>(8) {
            failures.push(format!("{name} does not carry pgusers' mark"));
        }
        if !login || powers || !connect || limit != -1 {
            failures.push(format!(
                "{name} is half made: login {login}, extra powers {powers}, connect {connect}, connection limit {limit}"
            ));
        }
        if reader {
            kinds.1 += 1;
            if memberships != 1 || schema_create || db_create {
                failures.push(format!(
                    "read-only {name} has more than reading: {memberships} memberships, CREATE on public {schema_create}, CREATE on the database {db_create}"
                ));
            }
        } else {
            kinds.0 += 1;
            // A member of the read-write group (the mark aside).
            if memberships != 1 || !schema_create || !db_create {
                failures.push(format!(
                    "read-write {name} is half made: {memberships} memberships, CREATE on public {schema_create}, CREATE on the database {db_create}"
                ));
            }
        }
        // Every table, whoever made it and whenever (during this user's
        // create too), reaches every user through the groups: read-write
        // users write it, read-only users read it and may not write it.
        for (table, owner) in &tables {
            let qualified = format!("public.{table}");
            let row = superuser
                .query_one(
                    "SELECT has_table_privilege($1, $2, 'SELECT'), has_table_privilege($1, $2, 'INSERT')",
                    &[&name, &qualified],
                )
                .await
                .unwrap();
            let (select, insert): (bool, bool) = (row.get(0), row.get(1));
            if !select || insert == reader {
                failures.push(format!(
                    "{} {name} on {table} (owner {owner}): SELECT {select}, INSERT {insert}",
                    if reader { "read-only" } else { "read-write" }
                ));
            }
        }
        // Log in with the password the harness knows, when it knows it.
        let Some(last) = last_known(ops, name) else {
            continue;
        };
        let Some(password) = &last.password else {
            continue;
        };
        if logins >= 40 {
            continue;
        }
        logins += 1;
        match login_as(shared.pg_port, "soak_app", name, password).await {
            Err(error) => failures.push(format!(
                "{name} cannot log in with the password of its last change ({}): {error}",
                last.kind.label()
            )),
            Ok(client) => {
                // A table the protected user made itself.
                let own = format!("t_{protected}_");
                let Some((table, _)) = tables.iter().find(|(table, _)| table.starts_with(&own))
                else {
                    continue;
                };
                let read = client
                    .query(&format!("SELECT * FROM public.{table}"), &[])
                    .await;
                let write = client
                    .execute(&format!("INSERT INTO public.{table} VALUES (2)"), &[])
                    .await;
                let refused = write.as_ref().err().and_then(|e| e.code()).cloned()
                    == Some(tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE);
                if read.is_err() || (reader && !refused) || (!reader && write.is_err()) {
                    failures.push(format!(
                        "{name} (read-only {reader}) logged in: reading {table} {:?}, writing {:?}",
                        read.err(),
                        write
                    ));
                }
            }
        }
    }
    println!(
        "soak: at the end, {} read-write and {} read-only users; {} of them logged in with the password the harness knew",
        kinds.0, kinds.1, logins
    );
    // No group or membership left behind by a half-made role.
    let groups: Vec<String> = superuser
        .query(
            "SELECT rolname FROM pg_roles WHERE NOT rolcanlogin AND rolname NOT LIKE 'pg\\_%'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .filter(|name: &String| {
            !roles_before.contains(name)
                && name != readers
                && name != writers
                && name != mark
                && *name != lock
        })
        .collect();
    if !groups.is_empty() {
        failures.push(format!("groups left behind: {groups:?}"));
    }
}

async fn check_tables(
    superuser: &Client,
    tables: &[(String, String)],
    protected: &str,
    failures: &mut Vec<String>,
) {
    let mut moved = 0;
    for (table, creator) in tables {
        let row = superuser
            .query_opt(
                "SELECT t.tableowner, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2)
                   FROM pg_tables t WHERE schemaname = 'public' AND tablename = $1",
                &[table, creator],
            )
            .await
            .unwrap();
        let Some(row) = row else {
            failures.push(format!("table {table}, made by {creator}, is lost"));
            continue;
        };
        let (owner, creator_exists): (String, bool) = (row.get(0), row.get(1));
        if !creator_exists && owner != protected {
            failures.push(format!(
                "table {table}: its creator {creator} was deleted, yet it belongs to {owner}"
            ));
        }
        if owner != protected && owner != *creator {
            failures.push(format!(
                "table {table}, made by {creator}, belongs to {owner}"
            ));
        }
        if owner == protected && creator != protected {
            moved += 1;
        }
    }
    println!(
        "soak: {} tables made during the run, all present; {moved} moved to the protected user when their creator was deleted",
        tables.len()
    );
}

async fn check_protected(
    superuser: &Client,
    before: &str,
    port: u16,
    database: &str,
    protected: &str,
    password: &str,
    failures: &mut Vec<String>,
) {
    let after = authid_row(superuser, protected).await;
    if after != before {
        failures.push(format!(
            "the protected user changed: before {before}, after {after}"
        ));
    }
    if let Err(error) = login_as(port, database, protected, password).await {
        failures.push(format!("the protected user cannot log in: {error}"));
    }
}

/// One audit entry per attempted change. An operation that reached the
/// role module with a definite answer (done, refused) has exactly one
/// entry; one whose answer is unknown (a 503, a lost answer) has at most
/// one; one that never reached it (a 503 before, a confirmation page that
/// said no) has none. Whatever the answers, a user that exists at the end
/// has one more `create user` ok than `delete user` ok entries, and one
/// that does not has as many: a change that committed without its entry
/// breaks that.
async fn check_audit(
    superuser: &Client,
    state: &Client,
    shared: &Shared,
    ops: &[Op],
    cut: &Cut,
    failures: &mut Vec<String>,
) {
    let rows = state
        .query(
            "SELECT target, action, outcome, source FROM audit_log
              WHERE action IN ('create user', 'set password', 'reset password', 'delete user')",
            &[],
        )
        .await
        .expect("the audit log");
    let mut entries: HashMap<(String, &str), (usize, usize)> = HashMap::new();
    let actions = [
        "create user",
        "set password",
        "reset password",
        "delete user",
    ];
    for row in &rows {
        let target: String = row.get(0);
        let action: String = row.get(1);
        let outcome: String = row.get(2);
        let action = actions.iter().find(|a| **a == action).copied().unwrap();
        let entry = entries.entry((target, action)).or_default();
        entry.0 += 1;
        if outcome == "ok" {
            entry.1 += 1;
        }
    }
    // (definite attempts, possible attempts, definite successes).
    let mut expected: HashMap<(String, &str), (usize, usize, usize)> = HashMap::new();
    for op in ops {
        let e = expected
            .entry((op.name.clone(), op.kind.action()))
            .or_default();
        match op.known {
            Known::Done => {
                e.0 += 1;
                e.1 += 1;
                e.2 += 1;
            }
            Known::Refused | Known::Tried | Known::Failed => {
                e.0 += 1;
                e.1 += 1;
            }
            Known::Unknown => e.1 += 1,
            Known::NotTried => {}
        }
    }
    // The complete create whose answer was never read may have been done.
    expected
        .entry((cut.unread.clone(), "create user"))
        .or_default()
        .1 += 1;
    let now = role_names(superuser).await;
    let mut keys: HashSet<(String, &str)> = entries.keys().cloned().collect();
    keys.extend(expected.keys().cloned());
    let mut exact = 0;
    for key in &keys {
        let (count, ok) = entries.get(key).copied().unwrap_or_default();
        let (least, most, done) = expected.get(key).copied().unwrap_or_default();
        if least == most {
            exact += 1;
        }
        if count < least || count > most {
            failures.push(format!(
                "audit: {} entries of {:?} on {}, expected {least} to {most}",
                count, key.1, key.0
            ));
        }
        if ok < done {
            failures.push(format!(
                "audit: {ok} successful {:?} on {} recorded, {done} answered as done",
                key.1, key.0
            ));
        }
    }
    let mut names: Vec<&str> = shared.names.iter().map(String::as_str).collect();
    names.extend([cut.half.as_str(), cut.unread.as_str()]);
    for name in names {
        let ok = |action: &str| entries.get(&(name.to_owned(), action)).map_or(0, |e| e.1) as i64;
        let balance = ok("create user") - ok("delete user");
        let exists = now.contains(name);
        if balance != i64::from(exists) {
            failures.push(format!(
                "audit: {name} {} at the end, but the log has {} successful creates and {} deletes: a change committed without its entry",
                if exists { "exists" } else { "does not exist" },
                ok("create user"),
                ok("delete user")
            ));
        }
    }
    if now.contains(&cut.half) {
        failures.push("the create whose body was cut off made its user".to_owned());
    }
    println!(
        "soak: audit: {} change entries for {} operations; {} of {} (user, action) pairs known exactly",
        rows.len(),
        ops.len(),
        exact,
        keys.len()
    );
    let failed_ops = ops.iter().filter(|o| o.known == Known::Failed).count();
    let failed_entries = rows
        .iter()
        .filter(|r| r.get::<_, String>(2) == "failed")
        .count();
    println!(
        "soak: audit: {failed_ops} changes reached the role module while PostgreSQL was away (503, so the state database was away too); {failed_entries} `failed` entries"
    );
}
