//! Writes at the same scale (issue 30, item 4): the API's create against
//! PostgreSQL's own floor for it, `CREATE ROLE … PASSWORD '<SCRAM
//! verifier>'` then `DROP ROLE` on a kept connection, both at one client
//! and at [`super::CONNECTIONS`], in the same rounds. Every create must
//! answer 201. The users made are then deleted through the API at
//! [`super::CONNECTIONS`] clients (every answer 200; its rate is printed,
//! no target), so a kept cluster stays as it was made.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use postgres_protocol::escape::escape_identifier;

use super::{Row, percentile};

/// One kind of write measured: p50 at one client, rate at many, and the
/// answers that were not the expected status.
pub struct Writes {
    pub floor: Row,
    pub creates: Row,
    /// Creates that answered anything but 201, in all rounds.
    pub refused: usize,
    /// What the first refused create answered.
    pub first_refusal: Option<String>,
    /// The deletes of every user made: rate at many clients, and the
    /// answers that were not 2xx.
    pub deletes_per_second: f64,
    pub deleted: usize,
    pub deletes_refused: usize,
}

/// How a round of writes runs: for how long, at how many clients.
pub struct Run {
    pub duration: Duration,
    pub rounds: usize,
    pub clients: usize,
}

/// Where the API is and how to call it.
pub struct Api {
    pub address: String,
    pub database: String,
    pub token: String,
}

/// Measures the floor and the API's creates, `run.rounds` times each
/// (interleaved), then deletes every user the creates made.
pub async fn measure(server: &tokio_postgres::Config, api: &Api, run: &Run) -> Result<Writes> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(run.clients)
        .build()?;
    let verifier = postgres_protocol::password::scram_sha_256(b"a-floor-password-of-24-characters");
    let made = Arc::new(std::sync::Mutex::new(Vec::new()));
    let refused = Arc::new(AtomicUsize::new(0));
    let first_refusal = Arc::new(std::sync::Mutex::new(None));
    let (mut floors, mut creates) = (Vec::new(), Vec::new());
    for round in 0..run.rounds {
        let floor_one = floor(server, &verifier, 1, run.duration, round).await?;
        let floor_many = floor(server, &verifier, run.clients, run.duration, round).await?;
        let create = |clients| {
            api_creates(
                &client,
                api,
                clients,
                run.duration,
                round,
                made.clone(),
                refused.clone(),
                first_refusal.clone(),
            )
        };
        let creates_one = create(1).await?;
        let creates_many = create(run.clients).await?;
        println!(
            "writes round {} of {}: floor p50 {:.1} ms, {:.0}/s @{}; API creates p50 {:.1} ms, \
             {:.0}/s @{}",
            round + 1,
            run.rounds,
            ms(floor_one.p50),
            floor_many.rate,
            run.clients,
            ms(creates_one.p50),
            creates_many.rate,
            run.clients
        );
        floors.push(row(floor_one, floor_many));
        creates.push(row(creates_one, creates_many));
    }
    let names = std::mem::take(&mut *made.lock().expect("not poisoned"));
    let (deletes_per_second, deletes_refused) =
        api_deletes(&client, api, &names, run.clients).await?;
    Ok(Writes {
        floor: Row::median(&floors),
        creates: Row::median(&creates),
        refused: refused.load(Ordering::Relaxed),
        first_refusal: first_refusal.lock().expect("not poisoned").take(),
        deletes_per_second,
        deleted: names.len(),
        deletes_refused,
    })
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A row of the report from the runs at one client and at many.
fn row(one: Measured, many: Measured) -> Row {
    Row {
        p50: Some(one.p50),
        p99: Some(one.p99),
        rps_1: one.rate,
        rps_many: many.rate,
        done: (one.done, many.done),
        failed: (0, 0),
    }
}

/// One run's figures: p50 and p99, per second, how many.
struct Measured {
    p50: Duration,
    p99: Duration,
    rate: f64,
    done: u64,
}

impl Measured {
    fn of(mut times: Vec<Duration>, elapsed: Duration) -> Result<Self> {
        ensure!(!times.is_empty(), "nothing finished within the run");
        times.sort();
        Ok(Self {
            p50: percentile(&times, 50.0),
            p99: percentile(&times, 99.0),
            rate: times.len() as f64 / elapsed.as_secs_f64(),
            done: times.len() as u64,
        })
    }
}

/// PostgreSQL's own floor: `clients` kept connections as the superuser,
/// each making and dropping roles for `duration`: one make-and-drop each.
async fn floor(
    server: &tokio_postgres::Config,
    verifier: &str,
    clients: usize,
    duration: Duration,
    round: usize,
) -> Result<Measured> {
    let mut connections = Vec::new();
    for _ in 0..clients {
        connections.push(
            pgusers::db::connect(server)
                .await
                .context("connecting for the floor")?,
        );
    }
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let workers = connections.into_iter().enumerate().map(|(worker, db)| {
        let verifier = verifier.to_owned();
        tokio::spawn(async move {
            let mut times = Vec::new();
            let mut k = 0;
            while Instant::now() < deadline {
                let name = escape_identifier(&format!("bench_floor_{round}_{worker}_{k}"));
                k += 1;
                let one = Instant::now();
                db.batch_execute(&format!("CREATE ROLE {name} LOGIN PASSWORD '{verifier}'"))
                    .await?;
                db.batch_execute(&format!("DROP ROLE {name}")).await?;
                times.push(one.elapsed());
            }
            Ok::<_, tokio_postgres::Error>(times)
        })
    });
    let mut times = Vec::new();
    for worker in futures_util::future::join_all(workers).await {
        times.extend(worker?.context("the floor's CREATE ROLE")?);
    }
    Measured::of(times, started.elapsed()).context("the floor")
}

/// The API's create at `clients` clients for `duration`, half read-only;
/// every name made is added to `made`.
#[allow(clippy::too_many_arguments)]
async fn api_creates(
    client: &reqwest::Client,
    api: &Api,
    clients: usize,
    duration: Duration,
    round: usize,
    made: Arc<std::sync::Mutex<Vec<String>>>,
    refused: Arc<AtomicUsize>,
    first_refusal: Arc<std::sync::Mutex<Option<String>>>,
) -> Result<Measured> {
    let url = format!("{}/api/databases/{}/users", api.address, api.database);
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let workers = (0..clients).map(|worker| {
        let (client, url, token) = (client.clone(), url.clone(), api.token.clone());
        let (made, refused, first_refusal) = (made.clone(), refused.clone(), first_refusal.clone());
        tokio::spawn(async move {
            let mut times = Vec::new();
            let mut k = 0;
            while Instant::now() < deadline {
                let name = format!("bc_{round}_{clients}_{worker}_{k}");
                let body = serde_json::json!({
                    "database_user": {"name": name, "read_only": k % 2 == 1}
                });
                k += 1;
                let one = Instant::now();
                let answer = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                let status = answer.status();
                let text = answer.text().await?;
                times.push(one.elapsed());
                if status == 201 {
                    made.lock().expect("not poisoned").push(name);
                } else {
                    refused.fetch_add(1, Ordering::Relaxed);
                    first_refusal
                        .lock()
                        .expect("not poisoned")
                        .get_or_insert_with(|| format!("{name}: {status} {text}"));
                }
            }
            Ok::<_, reqwest::Error>(times)
        })
    });
    let mut times = Vec::new();
    for worker in futures_util::future::join_all(workers).await {
        times.extend(worker?.context("an API create")?);
    }
    Measured::of(times, started.elapsed()).context("the API's creates")
}

/// Deletes `names` through the API at `clients` clients. Returns (deletes
/// per second, answers that were not 2xx). The users those answers left
/// are then deleted one at a time (a few tries each), so that a kept
/// setup stays as the next run expects it; any still left stops the bench.
async fn api_deletes(
    client: &reqwest::Client,
    api: &Api,
    names: &[String],
    clients: usize,
) -> Result<(f64, usize)> {
    let queue = Arc::new(std::sync::Mutex::new(names.to_vec()));
    let refused = Arc::new(AtomicUsize::new(0));
    let left = Arc::new(std::sync::Mutex::new(Vec::new()));
    let started = Instant::now();
    let workers = (0..clients).map(|_| {
        let (client, queue, refused) = (client.clone(), queue.clone(), refused.clone());
        let left = left.clone();
        let base = format!("{}/api/databases/{}/users", api.address, api.database);
        let token = api.token.clone();
        tokio::spawn(async move {
            loop {
                let Some(name) = queue.lock().expect("not poisoned").pop() else {
                    return Ok::<_, reqwest::Error>(());
                };
                let answer = client
                    .delete(format!("{base}/{name}"))
                    .bearer_auth(&token)
                    .send()
                    .await?;
                let status = answer.status();
                if !status.is_success() {
                    left.lock().expect("not poisoned").push(name.clone());
                    if refused.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("!! delete of {name}: {status} {}", answer.text().await?);
                    }
                }
            }
        })
    });
    for worker in futures_util::future::join_all(workers).await {
        worker?.context("an API delete")?;
    }
    let rate = names.len() as f64 / started.elapsed().as_secs_f64();
    let left = std::mem::take(&mut *left.lock().expect("not poisoned"));
    for name in &left {
        let url = format!(
            "{}/api/databases/{}/users/{name}",
            api.address, api.database
        );
        let mut tries = 0;
        loop {
            let status = client
                .delete(&url)
                .bearer_auth(&api.token)
                .send()
                .await?
                .status();
            tries += 1;
            if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
                break;
            }
            ensure!(
                tries < 5,
                "{name} is left: its delete answered {status} five times; delete it by hand"
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    Ok((rate, refused.load(Ordering::Relaxed)))
}
