//! `serve` keeps the embedded PostgreSQL it runs alive: a task watches the
//! server, tells a crash from a deliberate stop, restarts it after a crash
//! with back-off and a cap, and says which it is, in the log and (through a
//! [`ClusterState`]) on the pages that answer 503 meanwhile.
//!
//! How it tells them apart: a server that was asked to stop (`pg_ctl stop`,
//! SIGTERM, SIGINT or SIGQUIT, smart, fast or immediate) logs "received …
//! shutdown request" and removes its `postmaster.pid` as it exits; that is
//! someone's decision, and pgusers leaves it stopped. A server that was
//! killed (kill -9, the out-of-memory killer) leaves `postmaster.pid`
//! behind; one that ended on an error of its own logs no request. Both are
//! crashes, restarted.
//!
//! It coordinates with CLI processes through `in-use.lock` as every pgusers
//! process does: `serve` keeps its shared lock the whole time, so no other
//! process stops the server under it, and a CLI command run while the
//! server is down starts it and leaves it running (it is not the last
//! user), which the supervisor then sees. A restart racing such a command
//! joins the server the command started ([`Cluster::restart`]).

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Cluster, EmbeddedError};

/// How often the server is looked at, how soon it is restarted, and when
/// restarting stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How often `postmaster.pid` is read and its process looked for.
    pub poll: Duration,
    /// The wait before the first restart; each further restart within
    /// `window` waits twice as long as the one before…
    pub first_delay: Duration,
    /// …but never longer than this.
    pub max_delay: Duration,
    /// At most this many restarts within `window`; then pgusers gives up.
    pub restarts: u32,
    pub window: Duration,
}

impl Default for Policy {
    /// Every second; restarts after 1 s, 2 s, 4 s, 8 s, 16 s; at most 5 in
    /// 10 minutes.
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            restarts: 5,
            window: Duration::from_secs(600),
        }
    }
}

impl Policy {
    /// The wait before the next restart, given when the earlier restarts
    /// were made; `None`: there were `restarts` within `window` already,
    /// give up.
    pub fn delay(&self, earlier: &[Instant], now: Instant) -> Option<Duration> {
        let recent = self.recent(earlier, now);
        if recent >= self.restarts {
            return None;
        }
        let factor = 2u32.saturating_pow(recent);
        Some(self.first_delay.saturating_mul(factor).min(self.max_delay))
    }

    /// How many of `earlier` fall within `window` before `now`.
    fn recent(&self, earlier: &[Instant], now: Instant) -> u32 {
        let recent = earlier
            .iter()
            .filter(|&&at| now.saturating_duration_since(at) < self.window)
            .count();
        u32::try_from(recent).unwrap_or(u32::MAX)
    }
}

/// How a deliberate stop was asked for, as PostgreSQL's log says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownMode {
    /// `pg_ctl stop -m smart`, SIGTERM: waits for every session to end.
    Smart,
    /// `pg_ctl stop` (its default), SIGINT: ends sessions, clean checkpoint.
    Fast,
    /// `pg_ctl stop -m immediate`, SIGQUIT: no checkpoint; recovery at the
    /// next start.
    Immediate,
}

impl fmt::Display for ShutdownMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Smart => "smart",
            Self::Fast => "fast",
            Self::Immediate => "immediate",
        })
    }
}

/// What the supervisor knows of the embedded PostgreSQL: what the pages
/// that answer 503 say, and what the log has said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterState {
    /// Running on the port pgusers connects to (or being looked at).
    Running,
    /// It crashed, and this is the `attempt`th restart within the policy's
    /// window, of at most `of`.
    Restarting { attempt: u32, of: u32 },
    /// Someone stopped it on purpose: pgusers leaves it stopped.
    Stopped { mode: ShutdownMode },
    /// It crashed `restarts` times within `window`: pgusers stopped trying.
    GaveUp { restarts: u32, window: Duration },
    /// Another process started it again, on another port than the one
    /// pgusers' connections use (that one was taken).
    OtherPort { running: u16, expected: u16 },
}

impl ClusterState {
    /// Why the database is unavailable, for a page or `/healthz` (both
    /// public: no host, user or database name), when it is not running.
    pub fn explain(&self) -> Option<String> {
        match self {
            Self::Running => None,
            Self::Restarting { attempt, of } => Some(format!(
                "The embedded PostgreSQL stopped unexpectedly, and pgusers is restarting it \
                 (attempt {attempt} of at most {of}). Try again in a moment; the server log \
                 says why it stopped."
            )),
            Self::Stopped { mode } => Some(format!(
                "The embedded PostgreSQL was stopped on purpose (a {mode} shutdown was \
                 requested, as `pg_ctl stop` does), so pgusers does not restart it. To start \
                 it again, restart pgusers, or run any pgusers command (such as `pgusers \
                 databases`): it starts PostgreSQL and leaves it running for the dashboard."
            )),
            Self::GaveUp { restarts, window } => Some(format!(
                "The embedded PostgreSQL stopped unexpectedly, and pgusers gave up after \
                 {restarts} restarts in {window}: the server log says why. Once the cause is \
                 fixed, restart pgusers, or run any pgusers command (such as `pgusers \
                 databases`) to start it again.",
                window = words(*window)
            )),
            // The ports go to the log only: this is said on public pages.
            Self::OtherPort { .. } => Some(
                "The embedded PostgreSQL was started again on another port than the one \
                 pgusers connects to (another program held that one): restart pgusers to \
                 reach it."
                    .to_owned(),
            ),
        }
    }
}

/// Watches the embedded cluster `serve` started, from [`Supervisor::start`]
/// until it is dropped; dropping it stops the cluster (unless another
/// pgusers process still uses it), after any restart under way.
pub struct Supervisor {
    /// Shared with the task: a restart and the final stop take turns.
    cluster: Arc<Mutex<Cluster>>,
    state: watch::Receiver<ClusterState>,
    task: JoinHandle<()>,
}

impl Supervisor {
    /// Watches `cluster`, which this process has started; within a Tokio
    /// runtime.
    pub fn start(cluster: Cluster, policy: Policy) -> Self {
        if std::process::id() == 1 {
            tracing::warn!(
                "pgusers runs as process 1: a killed PostgreSQL stays a zombie nobody reaps, \
                 and PostgreSQL will not start again while it exists. Run pgusers under an \
                 init (docker run --init, tini)"
            );
        }
        let (sender, state) = watch::channel(ClusterState::Running);
        let log = cluster.log_file();
        let watcher = Watcher {
            data_dir: cluster.data_dir(),
            log_from: log_len(&log),
            log,
            port: cluster.port(),
            policy,
            restarts: Vec::new(),
            state: sender,
            cluster: Arc::new(Mutex::new(cluster)),
        };
        let cluster = watcher.cluster.clone();
        let task = tokio::spawn(watcher.run());
        Self {
            cluster,
            state,
            task,
        }
    }

    /// The cluster's state, as it changes.
    pub fn state(&self) -> watch::Receiver<ClusterState> {
        self.state.clone()
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.task.abort();
        // Waits for a restart under way, so it cannot start the server
        // again after this stopped it: `restart` refuses once `stop` ran.
        let mut cluster = self.cluster.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(error) = cluster.stop() {
            tracing::error!(
                error = %crate::failure::chain(&error),
                "stopping the embedded PostgreSQL failed"
            );
        }
    }
}

/// The supervising task's own state.
struct Watcher {
    cluster: Arc<Mutex<Cluster>>,
    data_dir: PathBuf,
    log: PathBuf,
    /// Where PostgreSQL's log was when the server was last seen starting:
    /// what it wrote since tells why it stopped.
    log_from: u64,
    /// The port pgusers' connections use.
    port: u16,
    policy: Policy,
    /// When the restarts were made (those within the window).
    restarts: Vec<Instant>,
    state: watch::Sender<ClusterState>,
}

impl Watcher {
    async fn run(mut self) {
        loop {
            tokio::time::sleep(self.policy.poll).await;
            let Some(seen) = observe(&self.data_dir) else {
                continue;
            };
            let now = self.state.borrow().clone();
            match seen {
                Seen::Running { port } if port == self.port => {
                    // Started again by hand after pgusers gave up: a later
                    // crash gets its restarts again.
                    if matches!(now, ClusterState::GaveUp { .. }) {
                        self.restarts.clear();
                    }
                    if now != ClusterState::Running {
                        tracing::info!(
                            "the embedded PostgreSQL runs again (another process started it); \
                             pgusers reconnects to it"
                        );
                        self.running();
                    }
                }
                Seen::Running { port } => {
                    let other = ClusterState::OtherPort {
                        running: port,
                        expected: self.port,
                    };
                    if now != other {
                        tracing::warn!(
                            "{}",
                            EmbeddedError::OtherPort {
                                running: port,
                                expected: self.port
                            }
                        );
                        self.state.send_replace(other);
                    }
                }
                Seen::Down { left_by } => {
                    if !matches!(now, ClusterState::Running | ClusterState::OtherPort { .. }) {
                        continue;
                    }
                    let log = log_since(&self.log, self.log_from);
                    match cause(left_by, &log) {
                        Cause::OnPurpose(mode) => {
                            tracing::warn!(
                                "the embedded PostgreSQL was stopped on purpose ({mode} \
                                 shutdown requested): pgusers leaves it stopped, and answers \
                                 503 until it is started again (restart pgusers, or run any \
                                 pgusers command). PostgreSQL's log ends with: {}",
                                excerpt(&log)
                            );
                            self.state.send_replace(ClusterState::Stopped { mode });
                        }
                        crash => {
                            let why =
                                format!("{crash}. PostgreSQL's log ends with: {}", excerpt(&log));
                            if !self.restart(why).await {
                                return;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Restarts the server after a crash, waiting longer before each
    /// attempt, until it runs or the policy gives up. `false`: this process
    /// is leaving the cluster; stop watching.
    async fn restart(&mut self, why: String) -> bool {
        let mut why = Some(why);
        loop {
            let now = Instant::now();
            self.restarts
                .retain(|&at| now.saturating_duration_since(at) < self.policy.window);
            let Some(delay) = self.policy.delay(&self.restarts, now) else {
                let restarts = self.policy.restarts;
                let window = self.policy.window;
                tracing::error!(
                    "the embedded PostgreSQL is down after {restarts} restarts in {}: pgusers \
                     gives up restarting it, and answers 503 until it is started again. {}Find \
                     the cause in its log ({}), then restart pgusers or run any pgusers command \
                     to start it.",
                    words(window),
                    why.map(|why| format!("It stopped: {why}. "))
                        .unwrap_or_default(),
                    self.log.display()
                );
                self.state
                    .send_replace(ClusterState::GaveUp { restarts, window });
                return true;
            };
            let attempt = self.policy.recent(&self.restarts, now) + 1;
            let of = self.policy.restarts;
            match why.take() {
                Some(why) => tracing::warn!(
                    "the embedded PostgreSQL stopped unexpectedly: {why}. Restarting it in \
                     {delay:?} (restart {attempt} of at most {of} in {})",
                    words(self.policy.window)
                ),
                None => tracing::info!(
                    "restarting the embedded PostgreSQL in {delay:?} (restart {attempt} of at \
                     most {of})"
                ),
            }
            self.state
                .send_replace(ClusterState::Restarting { attempt, of });
            tokio::time::sleep(delay).await;
            self.restarts.push(Instant::now());
            let cluster = self.cluster.clone();
            let restarted = tokio::task::spawn_blocking(move || {
                cluster
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .restart()
            })
            .await;
            match restarted {
                Ok(Ok(true)) => {
                    tracing::info!(
                        "the embedded PostgreSQL was restarted (restart {attempt}); pgusers \
                         reconnects to it"
                    );
                    self.running();
                    return true;
                }
                Ok(Ok(false)) => {
                    tracing::info!(
                        "the embedded PostgreSQL runs again (another process started it); \
                         pgusers reconnects to it"
                    );
                    self.running();
                    return true;
                }
                Ok(Err(EmbeddedError::NotInUse)) => return false,
                // Another process started it meanwhile, on another port:
                // not a failed restart, and not one to retry.
                Ok(Err(EmbeddedError::OtherPort { running, expected })) => {
                    tracing::warn!("{}", EmbeddedError::OtherPort { running, expected });
                    self.state
                        .send_replace(ClusterState::OtherPort { running, expected });
                    return true;
                }
                Ok(Err(error)) => tracing::warn!(
                    error = %crate::failure::chain(&error),
                    "restart {attempt} of the embedded PostgreSQL failed"
                ),
                Err(error) => tracing::warn!(
                    error = %error,
                    "restart {attempt} of the embedded PostgreSQL failed"
                ),
            }
        }
    }

    fn running(&mut self) {
        self.log_from = log_len(&self.log);
        self.state.send_replace(ClusterState::Running);
    }
}

/// What `postmaster.pid` says of the server.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Running {
        port: u16,
    },
    /// No server: `left_by` is the PID in a `postmaster.pid` left behind.
    Down {
        left_by: Option<i32>,
    },
}

/// The server on `data_dir`, as PostgreSQL itself (and `pg_ctl status`)
/// decides: `postmaster.pid` names a process that exists. `None` when that
/// cannot be told yet (a server writing the file as it starts).
fn observe(data_dir: &Path) -> Option<Seen> {
    let text = match std::fs::read_to_string(data_dir.join("postmaster.pid")) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Some(Seen::Down { left_by: None });
        }
        Err(_) => return None,
    };
    let mut lines = text.lines();
    // Negative for a single-user backend.
    let pid = lines.next()?.trim().parse::<i32>().ok()?.checked_abs()?;
    if !alive(pid) {
        return Some(Seen::Down { left_by: Some(pid) });
    }
    let port = lines.nth(2)?.trim().parse().ok()?;
    Some(Seen::Running { port })
}

/// Whether a process `pid` exists (kill with no signal; another user's
/// process answers EPERM, and exists). A zombie exists too, for PostgreSQL
/// as for this: it will not start again while one holds its PID file, so
/// pgusers waits for it to be reaped (see `Supervisor::start`'s warning).
fn alive(pid: i32) -> bool {
    pid > 0 && matches!(kill(Pid::from_raw(pid), None), Ok(()) | Err(Errno::EPERM))
}

/// Why the server stopped.
#[derive(Debug, PartialEq, Eq)]
enum Cause {
    /// Someone asked it to stop.
    OnPurpose(ShutdownMode),
    /// Its process is gone and `postmaster.pid` is left behind.
    Killed { pid: i32 },
    /// It shut down without being asked.
    Failed,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OnPurpose(mode) => write!(f, "a {mode} shutdown was requested"),
            Self::Killed { pid } => write!(
                f,
                "its server process (PID {pid}) is gone and left postmaster.pid behind: it \
                 was killed (kill -9, the out-of-memory killer) or crashed"
            ),
            Self::Failed => f.write_str("it shut down without being asked to"),
        }
    }
}

/// Why the server stopped, from the `postmaster.pid` it left behind (if
/// any) and what its log says since it was last seen starting: only what
/// follows the last "ready to accept connections" counts (a restart the
/// watch missed leaves an earlier request in the window), and a stop
/// PostgreSQL ordered itself (its lock file gone) is no one's request.
fn cause(left_by: Option<i32>, log: &str) -> Cause {
    if let Some(pid) = left_by {
        return Cause::Killed { pid };
    }
    let last_run = log
        .rfind("ready to accept connections")
        .map_or(log, |at| &log[at..]);
    if last_run.contains("lock file is invalid") {
        return Cause::Failed;
    }
    let asked = last_run.lines().rev().find_map(|line| {
        let mode = line
            .split("received ")
            .nth(1)?
            .strip_suffix("shutdown request")?
            .trim();
        match mode {
            "smart" => Some(ShutdownMode::Smart),
            "fast" => Some(ShutdownMode::Fast),
            "immediate" => Some(ShutdownMode::Immediate),
            _ => None,
        }
    });
    asked.map_or(Cause::Failed, Cause::OnPurpose)
}

/// At most this much of the end of PostgreSQL's log is read when it stops:
/// a shutdown's lines come last, and a log may be large.
const LOG_TAIL: u64 = 64 * 1024;

/// How many of the log's lines about a stop pgusers' log repeats.
const EXCERPT_LINES: usize = 5;

fn log_len(log: &Path) -> u64 {
    std::fs::metadata(log).map(|meta| meta.len()).unwrap_or(0)
}

/// What the log holds after `from` (its last [`LOG_TAIL`] bytes at most);
/// all of it if it is shorter than `from` (it was emptied).
fn log_since(log: &Path, from: u64) -> String {
    let Ok(mut file) = File::open(log) else {
        return String::new();
    };
    let len = file.metadata().map(|meta| meta.len()).unwrap_or(0);
    let from = if from > len { 0 } else { from };
    let start = from.max(len.saturating_sub(LOG_TAIL));
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The last lines of `log` that tell about a stop, on one line: requests,
/// shutdowns, processes that ended, FATAL and PANIC. Never a statement's
/// text (`log_statement`, or the statement of an error), which may quote
/// what a client sent.
fn excerpt(log: &str) -> String {
    const MARKS: &[&str] = &[
        "FATAL:",
        "PANIC:",
        "shutdown request",
        "shutting down",
        "shut down",
        "terminated by signal",
        "terminating any other active server processes",
    ];
    // Lines that may quote what a client sent: a statement logged, the
    // statement or query of an error, its detail (a crashed backend's
    // "Failed process was running: …"), and a multi-line statement's next
    // lines, which begin with blank space.
    const QUOTING: &[&str] = &[
        "statement:",
        "STATEMENT:",
        "DETAIL:",
        "CONTEXT:",
        "HINT:",
        "QUERY:",
    ];
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| !line.starts_with(char::is_whitespace))
        .filter(|line| !QUOTING.iter().any(|mark| line.contains(mark)))
        // A start's own line, not a stop's.
        .filter(|line| !line.contains("was shut down at"))
        .filter(|line| MARKS.iter().any(|mark| line.contains(mark)))
        .collect();
    let last = &lines[lines.len().saturating_sub(EXCERPT_LINES)..];
    if last.is_empty() {
        return "nothing about it".to_owned();
    }
    last.iter()
        .map(|line| shortened(line.trim(), 300))
        .map(|line| format!("\"{line}\""))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn shortened(line: &str, max: usize) -> String {
    match line.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_owned(),
    }
}

/// "10 minutes", "90 seconds".
fn words(span: Duration) -> String {
    let seconds = span.as_secs();
    let (count, unit) = if seconds >= 120 && seconds.is_multiple_of(60) {
        (seconds / 60, "minute")
    } else {
        (seconds, "second")
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(start: Instant, seconds: u64) -> Instant {
        start + Duration::from_secs(seconds)
    }

    #[test]
    fn restarts_wait_twice_as_long_each_time_and_stop_after_five_in_ten_minutes() {
        let policy = Policy::default();
        let start = Instant::now();
        let mut restarts = Vec::new();
        let mut delays = Vec::new();
        let mut now = start;
        while let Some(delay) = policy.delay(&restarts, now) {
            delays.push(delay.as_secs());
            now += delay;
            restarts.push(now);
        }

        assert_eq!(delays, [1, 2, 4, 8, 16]);
        assert_eq!(
            policy.delay(&restarts, after(start, 599)),
            None,
            "five within ten minutes: given up"
        );
        assert_eq!(
            policy.delay(&restarts, after(start, 601 + 31)),
            Some(Duration::from_secs(1)),
            "ten minutes after them, restarts begin again at one second"
        );
    }

    #[test]
    fn the_wait_grows_to_its_bound_and_no_further() {
        let policy = Policy {
            restarts: 40,
            ..Policy::default()
        };
        let now = Instant::now();
        let earlier = vec![now; 39];

        assert_eq!(
            policy.delay(&earlier[..5], now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(policy.delay(&earlier, now), Some(Duration::from_secs(30)));
    }

    #[test]
    fn only_the_restarts_within_the_window_count() {
        let policy = Policy::default();
        let start = Instant::now();
        let earlier = [start, after(start, 1), after(start, 300)];

        assert_eq!(
            policy.delay(&earlier, after(start, 650)),
            Some(Duration::from_secs(2)),
            "one restart within the last ten minutes"
        );
    }

    const FAST_STOP: &str = "\
2026-12-06 16:45:06.535 UTC [5788] LOG:  received fast shutdown request
2026-12-06 16:45:06.539 UTC [5788] LOG:  aborting any active transactions
2026-12-06 16:45:06.549 UTC [5794] LOG:  shutting down
2026-12-06 16:45:06.551 UTC [5794] LOG:  checkpoint starting: shutdown immediate
2026-12-06 16:45:06.603 UTC [5788] LOG:  database system is shut down
";

    #[test]
    fn a_requested_shutdown_is_on_purpose_and_a_left_pid_file_is_a_kill() {
        assert_eq!(cause(None, FAST_STOP), Cause::OnPurpose(ShutdownMode::Fast));
        assert_eq!(
            cause(
                None,
                "2026-12-06 16:45:09.087 UTC [5819] LOG:  received smart shutdown request\n"
            ),
            Cause::OnPurpose(ShutdownMode::Smart)
        );
        assert_eq!(
            cause(
                None,
                "2026-12-06 16:45:06.809 UTC [5806] LOG:  received immediate shutdown request\n"
            ),
            Cause::OnPurpose(ShutdownMode::Immediate)
        );
        assert_eq!(
            cause(Some(7196), FAST_STOP),
            Cause::Killed { pid: 7196 },
            "a process that removed nothing did not shut down"
        );
        assert_eq!(
            cause(
                None,
                "2026-12-06 16:45:12.496 UTC [6046] PANIC:  could not write to file \"pg_wal/x\"\n"
            ),
            Cause::Failed
        );
    }

    #[test]
    fn a_request_before_the_last_start_or_one_postgresql_made_itself_is_no_ones() {
        let restarted_then_crashed = format!(
            "{FAST_STOP}2026-12-06 16:45:07.100 UTC [5900] LOG:  database system is ready to \
             accept connections\n2026-12-06 16:50:00.000 UTC [5900] LOG:  server process (PID \
             5950) was terminated by signal 9: Killed\n2026-12-06 16:50:00.010 UTC [5900] LOG:  \
             shutting down because restart_after_crash is off\n"
        );
        assert_eq!(cause(None, &restarted_then_crashed), Cause::Failed);
        let lock_file = "2026-12-06 16:45:07.100 UTC [5900] LOG:  database system is ready to \
             accept connections\n2026-12-06 17:00:00.000 UTC [5900] LOG:  performing immediate \
             shutdown because data directory lock file is invalid\n2026-12-06 17:00:00.001 UTC \
             [5900] LOG:  received immediate shutdown request\n";
        assert_eq!(cause(None, lock_file), Cause::Failed);
        let asked_after_start = format!(
            "2026-12-06 16:45:00.000 UTC [5788] LOG:  database system is ready to accept \
             connections\n{FAST_STOP}"
        );
        assert_eq!(
            cause(None, &asked_after_start),
            Cause::OnPurpose(ShutdownMode::Fast)
        );
    }

    #[test]
    fn the_excerpt_keeps_the_last_lines_about_the_stop_and_no_statement() {
        let log = format!(
            "{FAST_STOP}2026-12-06 16:45:06.700 UTC [5800] LOG:  statement: ALTER ROLE x \
             PASSWORD 'SCRAM-SHA-256$4096:abc' -- FATAL: shut down\n\
             \tAND 'continued FATAL: shut down'\n\
             2026-12-06 16:45:06.700 UTC [5800] DETAIL:  Failed process was running: SELECT \
             'detailed FATAL: shut down'\n\
             2026-12-06 16:45:06.700 UTC [5801] LOG:  database system was shut down at \
             2026-12-06 16:40:00 UTC\n\
             2026-12-06 16:45:06.701 UTC [5800] FATAL:  the database system is shutting down\n\
             2026-12-06 16:45:06.701 UTC [5800] STATEMENT:  shut down everything\n"
        );

        let excerpt = excerpt(&log);

        assert!(!excerpt.contains("SCRAM"), "{excerpt}");
        assert!(!excerpt.contains("everything"), "{excerpt}");
        assert!(!excerpt.contains("continued"), "{excerpt}");
        assert!(!excerpt.contains("detailed"), "{excerpt}");
        assert!(!excerpt.contains("was shut down at"), "{excerpt}");
        assert!(!excerpt.contains("checkpoint"), "{excerpt}");
        assert_eq!(
            excerpt,
            "\"2026-12-06 16:45:06.535 UTC [5788] LOG:  received fast shutdown request\" | \
             \"2026-12-06 16:45:06.549 UTC [5794] LOG:  shutting down\" | \
             \"2026-12-06 16:45:06.603 UTC [5788] LOG:  database system is shut down\" | \
             \"2026-12-06 16:45:06.701 UTC [5800] FATAL:  the database system is shutting down\""
        );
        let many: String = (0..8).map(|n| format!("FATAL:  number {n}\n")).collect();
        assert_eq!(
            super::excerpt(&many).matches("FATAL").count(),
            EXCERPT_LINES,
            "only the last ones"
        );
        assert!(super::excerpt(&many).ends_with("number 7\""));
        assert_eq!(super::excerpt(""), "nothing about it");
    }

    #[test]
    fn each_state_but_running_says_what_happened_and_what_to_do() {
        assert_eq!(ClusterState::Running.explain(), None);
        let restarting = ClusterState::Restarting { attempt: 2, of: 5 }
            .explain()
            .unwrap();
        assert!(
            restarting.contains("pgusers is restarting it (attempt 2 of at most 5)"),
            "{restarting}"
        );
        let stopped = ClusterState::Stopped {
            mode: ShutdownMode::Fast,
        }
        .explain()
        .unwrap();
        assert!(
            stopped.contains("stopped on purpose (a fast shutdown")
                && stopped.contains("restart pgusers, or run any pgusers command"),
            "{stopped}"
        );
        let gave_up = ClusterState::GaveUp {
            restarts: 5,
            window: Duration::from_secs(600),
        }
        .explain()
        .unwrap();
        assert!(
            gave_up.contains("gave up after 5 restarts in 10 minutes: the server log says why"),
            "{gave_up}"
        );
    }

    #[test]
    fn a_pid_file_naming_no_process_is_a_server_that_is_down() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(observe(dir.path()), Some(Seen::Down { left_by: None }));

        // PID 0 is never a server's; i32::MAX is above any pid_max.
        let pid_file = dir.path().join("postmaster.pid");
        std::fs::write(&pid_file, format!("{}\n/data\n1\n5432\n", i32::MAX)).unwrap();
        assert_eq!(
            observe(dir.path()),
            Some(Seen::Down {
                left_by: Some(i32::MAX)
            })
        );

        let me = std::process::id();
        std::fs::write(&pid_file, format!("{me}\n/data\n1\n5432\n")).unwrap();
        assert_eq!(observe(dir.path()), Some(Seen::Running { port: 5432 }));

        std::fs::write(&pid_file, "").unwrap();
        assert_eq!(observe(dir.path()), None, "being written");
    }
}
