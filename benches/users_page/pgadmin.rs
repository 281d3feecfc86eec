//! pgAdmin 4 as the outside reference (issue 30): its role list over the
//! same cluster, measured in the same run as pgusers' pages.
//!
//! `PGUSERS_BENCH_PGADMIN=<python>` names a Python whose environment has
//! pgAdmin 4 (`python3 -m venv <dir> && <dir>/bin/pip install pgadmin4`).
//! pgAdmin runs in desktop mode (one user, no login, its own SQLite store in
//! a temporary directory), knows one server, the bench cluster over its Unix
//! socket as the bootstrap superuser, and is connected to it once; what is
//! measured is `GET /browser/role/nodes/1/1/`, the request pgAdmin's tree
//! sends when a person opens "Login/Group Roles".

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use reqwest::cookie::{CookieStore, Jar};

/// The route of pgAdmin's role list: server group 1, server 1.
pub const ROLE_LIST: &str = "/browser/role/nodes/1/1/";

/// A pgAdmin 4 process, connected to the bench cluster; stopped when
/// dropped.
pub struct PgAdmin {
    child: Child,
    pub address: String,
    /// What every request of pgAdmin's pages carries: the session cookie
    /// and the CSRF token (pgAdmin asks it of reads too).
    pub headers: Vec<String>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// The Python named by `PGUSERS_BENCH_PGADMIN`, when set.
pub fn python() -> Option<PathBuf> {
    std::env::var_os("PGUSERS_BENCH_PGADMIN").map(PathBuf::from)
}

impl PgAdmin {
    /// Sets pgAdmin up in a directory of its own, starts it, opens its
    /// desktop session and connects it to the cluster listening on
    /// `socket_dir` and `port`, as `user`.
    pub async fn start(python: &Path, socket_dir: &Path, port: u16, user: &str) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("pgusers-bench-pgadmin-")
            .tempdir()?;
        let home = package_dir(python)?;
        let config = dir.path().join("config_bench.py");
        std::fs::write(
            &config,
            format!(
                "DATA_DIR = {data:?}\nSERVER_MODE = False\nMASTER_PASSWORD_REQUIRED = False\n\
                 USE_OS_SECRET_STORAGE = False\nUPGRADE_CHECK_ENABLED = False\n\
                 CONSOLE_LOG_LEVEL = 40\nFILE_LOG_LEVEL = 40\n\
                 ENHANCED_COOKIE_PROTECTION = False\n",
                data = dir.path().join("data").display().to_string(),
            ),
        )?;
        let servers = dir.path().join("servers.json");
        std::fs::write(
            &servers,
            serde_json::json!({"Servers": {"1": {
                "Name": "bench",
                "Group": "Servers",
                "Host": socket_dir.display().to_string(),
                "Port": port,
                "MaintenanceDB": "postgres",
                "Username": user,
                "SSLMode": "prefer",
            }}})
            .to_string(),
        )?;
        let log = dir.path().join("pgadmin.out");
        let setup = |args: &[&str]| -> Result<()> {
            let output = Command::new(python)
                .arg(home.join("setup.py"))
                .args(args)
                .env("CONFIG_DISTRO_FILE_PATH", &config)
                .current_dir(&home)
                .output()
                .with_context(|| format!("running pgAdmin's setup.py {}", args.join(" ")))?;
            ensure!(
                output.status.success(),
                "pgAdmin's setup.py {} failed: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            Ok(())
        };
        setup(&["setup-db"])?;
        setup(&["load-servers", &servers.display().to_string()])?;
        let web_port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let key = "bench";
        let child = Command::new(python)
            .arg(home.join("pgAdmin4.py"))
            .env("CONFIG_DISTRO_FILE_PATH", &config)
            .env("PGADMIN_SERVER_MODE", "OFF")
            .env("PGADMIN_INT_PORT", web_port.to_string())
            .env("PGADMIN_INT_KEY", key)
            .current_dir(&home)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(dir.path().join("pgadmin.err"))?)
            .spawn()
            .context("starting pgAdmin")?;
        let mut pgadmin = Self {
            child,
            address: format!("http://127.0.0.1:{web_port}"),
            headers: Vec::new(),
            log,
            _dir: dir,
        };
        pgadmin.headers = pgadmin.connect(key).await?;
        Ok(pgadmin)
    }

    /// Opens the desktop session (`/?key=`), connects server 1 with the
    /// CSRF token pgAdmin's scripts carry. Returns the headers its pages'
    /// requests carry.
    async fn connect(&mut self, key: &str) -> Result<Vec<String>> {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .build()?;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("pgAdmin exited ({status}): {}", self.log_text());
            }
            match client
                .get(format!("{}/?key={key}", self.address))
                .send()
                .await
            {
                Ok(answer) if answer.status().is_success() => break,
                _ if Instant::now() > deadline => {
                    bail!("pgAdmin did not answer in 120 s: {}", self.log_text())
                }
                _ => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
        let script = client
            .get(format!("{}/browser/js/utils.js", self.address))
            .send()
            .await?
            .text()
            .await?;
        let token = script
            .split("csrf_token'] = '")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .context("pgAdmin's utils.js carries no CSRF token")?
            .to_owned();
        // The socket trusts the bootstrap superuser: the password is unused.
        let connected = client
            .post(format!("{}/browser/server/connect/1/1", self.address))
            .header("X-pgA-CSRFToken", &token)
            .json(&serde_json::json!({"password": "unused"}))
            .send()
            .await?;
        let status = connected.status();
        let body = connected.text().await.unwrap_or_default();
        // pgAdmin answers 200 with `"success": 0` when the connection failed.
        ensure!(
            status.is_success() && body.contains("\"success\":1"),
            "pgAdmin did not connect to the cluster: {status} {body}"
        );
        let cookie = jar
            .cookies(&self.address.parse()?)
            .context("pgAdmin set no cookie")?
            .to_str()?
            .to_owned();
        Ok(vec![
            format!("Cookie: {cookie}"),
            format!("X-pgA-CSRFToken: {token}"),
        ])
    }

    /// How many roles pgAdmin's role list shows now.
    pub async fn roles_listed(&self) -> Result<usize> {
        let mut request = reqwest::Client::new().get(format!("{}{ROLE_LIST}", self.address));
        for header in &self.headers {
            let (name, value) = header.split_once(": ").context("a header")?;
            request = request.header(name, value);
        }
        let answer = request.send().await?;
        ensure!(
            answer.status().is_success(),
            "pgAdmin's role list answered {}: {}",
            answer.status(),
            answer.text().await.unwrap_or_default()
        );
        let body: serde_json::Value = answer.json().await?;
        body["data"]
            .as_array()
            .map(Vec::len)
            .context("pgAdmin's role list has no data array")
    }

    /// Waits until pgAdmin has finished the requests a run cut off (its
    /// CPU time stands still for half a second), so that they do not
    /// share the cores with the next run, at most a minute.
    pub async fn settle(&self) -> Result<()> {
        let stat = format!("/proc/{}/stat", self.child.id());
        let cpu = || -> Result<u64> {
            let text = std::fs::read_to_string(&stat)?;
            // utime and stime: fields 14 and 15, after the command's ")".
            let fields: Vec<&str> = text
                .rsplit_once(')')
                .context("no ) in /proc/<pid>/stat")?
                .1
                .split_whitespace()
                .collect();
            Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = cpu()?;
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = cpu()?;
            if now == last {
                return Ok(());
            }
            if Instant::now() > deadline {
                println!("(pgAdmin was still busy a minute after a run: measuring on)");
                return Ok(());
            }
            last = now;
        }
    }

    /// What pgAdmin wrote to its output.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for PgAdmin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where pip put pgAdmin 4 (`setup.py`, `pgAdmin4.py`) for `python`.
fn package_dir(python: &Path) -> Result<PathBuf> {
    let output = Command::new(python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ])
        .output()
        .with_context(|| format!("running {}", python.display()))?;
    ensure!(
        output.status.success(),
        "{} -c …: {}",
        python.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let home = PathBuf::from(String::from_utf8(output.stdout)?.trim()).join("pgadmin4");
    ensure!(
        home.join("pgAdmin4.py").exists(),
        "PGUSERS_BENCH_PGADMIN={}: no pgAdmin 4 in {} (pip install pgadmin4)",
        python.display(),
        home.display()
    );
    Ok(home)
}
