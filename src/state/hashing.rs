//! Argon2id for operator passwords, computed on a fixed set of threads,
//! each check in memory of its own that goes back to the system after.
//!
//! Why not `spawn_blocking` with `Argon2::default()`: every computation
//! then allocates 19 MiB afresh on whichever blocking thread runs it, and
//! glibc keeps what those threads free in per-thread arenas. After 400
//! concurrent failed logins the dashboard stayed 1.2 GB larger than before.
//! Here [`WORKERS`] threads compute, so argon2 never holds more than
//! `WORKERS × 19 MiB`, whatever arrives (a flood of logins waits in the
//! queue instead, see `BENCHMARKS.md`); and each check's buffer is
//! reserved larger than glibc's largest dynamic mmap threshold, so glibc
//! maps it on its own and unmaps it when the check ends: an idle dashboard
//! holds none (before, it kept a spare one, 19 MiB of a 36 MiB process at
//! rest; issue 30's memory target).
//!
//! Hashes stay standard PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`):
//! those written by `Argon2::default().hash_password` verify here, and
//! those written here verify with the argon2 crate's own verifier.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{LazyLock, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::password_hash::try_generate_salt;
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::StateError;

/// At most this many argon2 computations at once, each in its own
/// 19 MiB; OWASP's parameters make one take tens of milliseconds.
pub const WORKERS: usize = 4;

/// What a worker is asked to do with its memory.
type Job = Box<dyn FnOnce(&mut [Block]) + Send>;

struct Pool {
    jobs: mpsc::Sender<Job>,
}

/// Started at the first password check or hash, then kept: the threads
/// live as long as the process.
static POOL: LazyLock<Result<Pool, String>> = LazyLock::new(Pool::start);

impl Pool {
    fn start() -> Result<Self, String> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(Mutex::new(queue));
        let mut started = 0;
        let mut last_error = String::new();
        for n in 0..WORKERS {
            let queue = queue.clone();
            match std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&queue))
            {
                Ok(_) => started += 1,
                Err(error) => last_error = error.to_string(),
            }
        }
        if started == 0 {
            return Err(format!("starting the hashing threads failed: {last_error}"));
        }
        Ok(Self { jobs })
    }
}

/// How much address space a check's buffer reserves: more than glibc's
/// largest dynamic mmap threshold (`DEFAULT_MMAP_THRESHOLD_MAX`, 32 MiB on
/// 64-bit), so that whatever the threshold has become, glibc maps the
/// buffer on its own and unmaps it when it is dropped, instead of keeping
/// it in an arena. Only the 19 MiB argon2 uses are ever touched.
const BUFFER_RESERVED_BYTES: usize = 33 << 20;

/// A zeroed buffer of [`Params::DEFAULT`]'s size, reserved as
/// [`BUFFER_RESERVED_BYTES`] says.
fn buffer() -> Vec<Block> {
    let blocks = Params::DEFAULT.block_count();
    let reserved = (BUFFER_RESERVED_BYTES / std::mem::size_of::<Block>()).max(blocks);
    let mut memory = Vec::with_capacity(reserved);
    memory.resize(blocks, Block::new());
    memory
}

/// A worker's life: jobs until the process ends, each in a buffer of its
/// own, given back to the system when the job ends.
fn work(queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        // The lock is only held while waiting for the next job, never while
        // computing; a poisoned lock still guards a usable receiver.
        let next = match queue.lock() {
            Ok(receiver) => receiver.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = next else {
            return;
        };
        let mut memory = buffer();
        // A job that panics drops its reply (its caller gets an error);
        // the pool keeps its thread.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
    }
}

/// Runs `task` on a worker with its memory, waiting for a free one.
async fn on_worker<T: Send + 'static>(
    task: impl FnOnce(&mut [Block]) -> T + Send + 'static,
) -> Result<T, StateError> {
    let pool = POOL.as_ref().map_err(|e| StateError::Hashing(e.clone()))?;
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |memory| {
        // Whoever asked has gone (the client closed the connection): the
        // answer is wanted by nobody, so spare the work.
        if reply.is_closed() {
            return;
        }
        let _ = reply.send(task(memory));
    });
    pool.jobs
        .send(job)
        .map_err(|_| StateError::Hashing("the hashing threads have stopped".into()))?;
    answer
        .await
        .map_err(|_| StateError::Hashing("a hashing thread failed".into()))
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane), which are
/// OWASP's recommended minimum; a new random salt each time.
pub async fn hash_operator_password(password: &str) -> Result<String, StateError> {
    let password = password.to_owned();
    on_worker(move |memory| new_hash(password.as_bytes(), memory)).await?
}

/// Whether `password` matches the PHC string `hash`. Without a hash (an
/// unknown operator, a name no operator can have) a hash is still computed,
/// so that the answer takes as long, and it is `false`.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, StateError> {
    on_worker(move |memory| match hash {
        Some(hash) => matches(password.as_bytes(), &hash, memory),
        None => {
            spend_a_check(password.as_bytes(), memory);
            false
        }
    })
    .await
}

fn hashing_error(error: impl std::fmt::Display) -> StateError {
    StateError::Hashing(error.to_string())
}

fn new_hash(password: &[u8], memory: &mut [Block]) -> Result<String, StateError> {
    let salt = try_generate_salt().map_err(hashing_error)?;
    let argon2 = Argon2::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password, &salt, &mut out, memory)
        .map_err(hashing_error)?;
    let phc = PasswordHash {
        algorithm: Algorithm::default().ident(),
        version: Some(Version::default().into()),
        params: ParamsString::try_from(argon2.params()).map_err(hashing_error)?,
        salt: Some(Salt::new(&salt).map_err(hashing_error)?),
        hash: Some(Output::new(&out).map_err(hashing_error)?),
    };
    Ok(phc.to_string())
}

/// Recomputes the hash with the stored salt and parameters, in the worker's
/// memory, and compares in constant time (`Output`'s equality is).
fn matches(password: &[u8], phc: &str, memory: &mut [Block]) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::new(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = [0u8; Output::MAX_LENGTH];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    let computed = match memory.get_mut(..argon2.params().block_count()) {
        Some(memory) => argon2.hash_password_into_with_memory(password, salt, out, memory),
        // Made with more memory than pgusers uses (not by pgusers): correct
        // answers first, so this rare hash gets memory of its own.
        None => argon2.hash_password_into(password, salt, out),
    };
    computed.is_ok() && Output::new(out).is_ok_and(|computed| computed == *expected)
}

/// The same work as checking a password against a default hash.
fn spend_a_check(password: &[u8], memory: &mut [Block]) {
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let _ = Argon2::default().hash_password_into_with_memory(
        password,
        b"pgusers-fallback-salt",
        &mut out,
        memory,
    );
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[tokio::test]
    async fn hashes_from_the_argon2_crate_verify_through_the_pool_and_back() {
        let from_crate = Argon2::default()
            .hash_password(b"an-old-password")
            .unwrap()
            .to_string();

        let from_pool = hash_operator_password("a-new-password").await.unwrap();

        assert!(from_pool.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            verify_password("an-old-password".into(), Some(from_crate.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("not-it".into(), Some(from_crate))
                .await
                .unwrap()
        );
        let parsed = PasswordHash::new(&from_pool).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"a-new-password", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"not-it", &parsed)
                .is_err()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_concurrent_checks_through_the_pool_each_get_their_own_answer() {
        let alice = hash_operator_password("alices-password").await.unwrap();
        let bobby = hash_operator_password("bobbys-password").await.unwrap();

        let checks: Vec<_> = (0..48)
            .map(|n| {
                let (hash, right) = if n % 2 == 0 {
                    (alice.clone(), "alices-password")
                } else {
                    (bobby.clone(), "bobbys-password")
                };
                // A third of them are wrong: the other one's password.
                let (typed, expected) = match n % 3 {
                    0 => (
                        if n % 2 == 0 {
                            "bobbys-password"
                        } else {
                            "alices-password"
                        },
                        false,
                    ),
                    _ => (right, true),
                };
                tokio::spawn(async move {
                    let answer = verify_password(typed.to_owned(), Some(hash)).await.unwrap();
                    (n, answer, expected)
                })
            })
            .collect();

        for check in checks {
            let (n, answer, expected) = check.await.unwrap();
            assert_eq!(answer, expected, "check {n}");
        }
    }

    #[test]
    fn a_buffer_holds_what_argon2_needs_and_reserves_more_than_glibc_would_keep() {
        let memory = buffer();
        assert_eq!(memory.len(), Params::DEFAULT.block_count());
        assert!(memory.capacity() * std::mem::size_of::<Block>() > 32 << 20);
    }

    #[tokio::test]
    async fn without_a_hash_nothing_matches() {
        assert!(
            !verify_password("anything-at-all".into(), None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_malformed_hash_matches_nothing() {
        for hash in ["", "not a hash", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA"] {
            assert!(
                !verify_password("x".into(), Some(hash.into()))
                    .await
                    .unwrap()
            );
        }
    }
}
