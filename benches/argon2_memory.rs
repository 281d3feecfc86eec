//! How much memory 400 concurrent operator password checks leave behind:
//! the old way (`spawn_blocking` + a fresh `Argon2::default()` per check,
//! at most four at once) against pgusers' pool of argon2 threads that
//! reuse their memory (`pgusers::state::verify_password`).
//!
//! `cargo bench --bench argon2_memory` (results in BENCHMARKS.md). Each way
//! runs in a child process of its own, so one cannot pollute the other's
//! figures; this process only starts them and compares.

use std::process::Command;
use std::time::Instant;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Concurrent checks per run.
const CHECKS: usize = 400;
/// Every tenth check has the right password, the others a wrong one.
const RIGHT_EVERY: usize = 10;
const PASSWORD: &str = "the-operators-password";
/// Which way a child process measures.
const CHILD: &str = "PGUSERS_ARGON2_BENCH_CHILD";
/// `PASSWORD` hashed by this process with `Argon2::default()` (argon2id,
/// 19 MiB, 2 passes, 1 lane) and handed to the children, so that neither
/// way allocates anything of argon2's before it is measured.
const HASH: &str = "PGUSERS_ARGON2_BENCH_HASH";

fn main() {
    match std::env::var(CHILD).as_deref() {
        Ok("baseline") => measure("baseline", baseline_verify),
        Ok("pool") => measure("pool", pool_verify),
        _ => compare(),
    }
}

/// A figure from `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

static PERMITS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// What pgusers did before: four permits, a blocking thread from tokio's
/// pool, and the argon2 crate's verifier allocating its 19 MiB each time.
async fn baseline_verify(password: String, hash: String) -> bool {
    let Ok(_permit) = PERMITS.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

async fn pool_verify(password: String, hash: String) -> bool {
    pgusers::state::verify_password(password, Some(hash))
        .await
        .unwrap_or(false)
}

/// One way, in this (child) process: prints `key=value` lines.
fn measure<F, Fut>(way: &str, verify: F)
where
    F: Fn(String, String) -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let hash = std::env::var(HASH).expect("the hash from the parent");
    let before = status_kib("VmRSS");
    let started = Instant::now();
    let matched = runtime.block_on(async {
        let checks: Vec<_> = (0..CHECKS)
            .map(|n| {
                let typed = if n % RIGHT_EVERY == 0 {
                    PASSWORD.to_owned()
                } else {
                    format!("wrong-guess-{n}")
                };
                tokio::spawn(verify(typed, hash.clone()))
            })
            .collect();
        let mut matched = 0;
        for check in checks {
            if check.await.unwrap_or(false) {
                matched += 1;
            }
        }
        matched
    });
    let elapsed = started.elapsed();
    assert_eq!(
        matched,
        CHECKS / RIGHT_EVERY,
        "{way}: exactly the right passwords match"
    );
    println!("before_kib={before}");
    println!("peak_kib={}", status_kib("VmHWM"));
    println!("after_kib={}", status_kib("VmRSS"));
    println!("seconds={:.2}", elapsed.as_secs_f64());
    println!("threads={}", status_kib("Threads"));
}

struct Figures {
    before: u64,
    peak: u64,
    after: u64,
    seconds: f64,
    threads: u64,
}

fn run_child(way: &str, hash: &str) -> Figures {
    let exe = std::env::current_exe().expect("the bench binary's path");
    let output = Command::new(exe)
        .env(CHILD, way)
        .env(HASH, hash)
        .output()
        .expect("the bench runs itself");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{way} failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value = |key: &str| -> f64 {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
            .and_then(|value| value.parse().ok())
            .unwrap_or(0.0)
    };
    Figures {
        before: value("before_kib") as u64,
        peak: value("peak_kib") as u64,
        after: value("after_kib") as u64,
        seconds: value("seconds"),
        threads: value("threads") as u64,
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn compare() {
    println!("{CHECKS} concurrent argon2id checks (19 MiB, t=2, p=1), at most 4 at once\n");
    println!(
        "{:<10} {:>12} {:>14} {:>16} {:>9} {:>8}",
        "way", "RSS before", "peak growth", "retained growth", "time", "threads"
    );
    let hash = Argon2::default()
        .hash_password(PASSWORD.as_bytes())
        .expect("hashing the test password")
        .to_string();
    let baseline = run_child("baseline", &hash);
    let pool = run_child("pool", &hash);
    for (way, f) in [("baseline", &baseline), ("pool", &pool)] {
        println!(
            "{:<10} {:>8.1} MiB {:>10.1} MiB {:>12.1} MiB {:>7.2} s {:>8}",
            way,
            mib(f.before),
            mib(f.peak.saturating_sub(f.before)),
            mib(f.after.saturating_sub(f.before)),
            f.seconds,
            f.threads
        );
    }
    let ratio = |old: u64, new: u64| old as f64 / (new.max(1)) as f64;
    println!(
        "\nbaseline / pool: peak growth {:.1}x, retained growth {:.1}x",
        ratio(
            baseline.peak.saturating_sub(baseline.before),
            pool.peak.saturating_sub(pool.before)
        ),
        ratio(
            baseline.after.saturating_sub(baseline.before),
            pool.after.saturating_sub(pool.before)
        ),
    );
}
