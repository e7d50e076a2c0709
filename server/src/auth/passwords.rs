//! Password hashing: bcrypt on a few threads of its own, one per core,
//! whose lower priority keeps a burst of logins from delaying token
//! validation without letting other work starve the logins.
//!
//! bcrypt reads only the first 72 bytes of its input. A password of up to 100
//! characters may be 400 bytes, so every password is first reduced with
//! SHA-256 (base64, 44 bytes) and bcrypt hashes that: every character counts.

use std::sync::{mpsc, Arc, Mutex};

use app::rules::Password;
use base64::{engine::general_purpose::STANDARD, Engine};
use prometheus::IntGauge;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tracing::Span;

use crate::config::PasswordSettings;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("bcrypt: {0}")]
    Bcrypt(#[from] bcrypt::BcryptError),
    #[error("the hashing threads have stopped")]
    Closed,
}

/// The nice value of the hashing threads. A hash at nice 0 takes a whole
/// core from validations that cost microseconds; in the idle class (as
/// before) it got nothing at all while pages kept the cores busy, and logins
/// could time out. At nice 10 a hash weighs about a tenth of a request thread
/// (110 against 1024): it gives way to a waking request, and still gets its
/// share of each core under any load (docs/performance.md compares nice 5).
const HASHING_NICE: i32 = 10;

#[derive(Clone)]
pub struct PasswordHasher {
    cost: u32,
    jobs: mpsc::Sender<Job>,
    /// Hashes waiting for a free thread (the `bcrypt_queue_depth` metric).
    waiting: IntGauge,
    /// Verified for unknown users, so they cost the same time as a wrong password.
    dummy_hash: Arc<str>,
}

/// A hash to compute, and the span of the request that asked for it.
type Job = (Box<dyn FnOnce() + Send>, Span);

/// What a successful verification learned about the stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, but the hash has a lower cost than configured: re-hash it.
    YesButRehash,
}

/// Lowers the calling thread's priority to [`HASHING_NICE`] (Linux: a
/// thread's nice value is its own). A refusal leaves it as it was.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority act on the calling thread only.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, HASHING_NICE);
    }
}

/// Starts `threads` hashing threads that take jobs from one queue.
fn start_threads(threads: usize, waiting: IntGauge) -> mpsc::Sender<Job> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for i in 0..threads {
        let (queue, waiting) = (queue.clone(), waiting.clone());
        std::thread::Builder::new()
            .name(format!("bcrypt-{i}"))
            .spawn(move || {
                lower_priority();
                loop {
                    // The lock is held only while taking a job.
                    let next = queue.lock().map(|q| q.recv());
                    let Ok(Ok((job, span))) = next else { return };
                    waiting.dec();
                    span.in_scope(job);
                }
            })
            .expect("the OS starts a hashing thread");
    }
    jobs
}

fn prehash(password: &str) -> String {
    STANDARD.encode(Sha256::digest(password.as_bytes()))
}

impl PasswordHasher {
    pub fn new(settings: &PasswordSettings, waiting: IntGauge) -> Result<Self, HashError> {
        let cost = settings.bcrypt_cost;
        let parallel = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let dummy_hash = bcrypt::hash(prehash("dummy password for unknown users"), cost)?;
        Ok(PasswordHasher {
            cost,
            jobs: start_threads(parallel, waiting.clone()),
            waiting,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Runs `job` on a hashing thread. A job whose caller has gone by the
    /// time a thread is free (the request timed out, the client left) is
    /// skipped: an abandoned login costs no hash.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (done, result) = oneshot::channel();
        let job = Box::new(move || {
            if !done.is_closed() {
                let _ = done.send(job());
            }
        });
        self.waiting.inc();
        if self.jobs.send((job, Span::current())).is_err() {
            self.waiting.dec();
            return Err(HashError::Closed);
        }
        result.await.map_err(|_| HashError::Closed)
    }

    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let input = prehash(password.expose());
        let cost = self.cost;
        self.run(move || bcrypt::hash(input, cost))
            .await?
            .map_err(HashError::from)
    }

    /// Checks `password` against `stored`, or against the dummy hash when
    /// there is no user, taking the same time either way.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
    ) -> Result<Verified, HashError> {
        let input = prehash(password);
        let exists = stored.is_some();
        let hash: Arc<str> = stored
            .map(Arc::from)
            .unwrap_or_else(|| self.dummy_hash.clone());
        let cost = self.cost;
        self.run(move || {
            // A malformed stored hash is a mismatch, not a crash.
            let matches = bcrypt::verify(input, &hash).unwrap_or(false);
            let old_cost = hash
                .parse::<bcrypt::HashParts>()
                .map(|p| p.get_cost() < cost)
                .unwrap_or(false);
            match (exists && matches, old_cost) {
                (false, _) => Verified::No,
                (true, false) => Verified::Yes,
                (true, true) => Verified::YesButRehash,
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(cost: u32) -> PasswordHasher {
        PasswordHasher::new(
            &PasswordSettings { bcrypt_cost: cost },
            IntGauge::new("queue", "test").unwrap(),
        )
        .unwrap()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashes_run_on_threads_of_lower_priority() {
        let hasher = hasher(4);
        // SAFETY: reads the nice value of the calling thread.
        let nice = || unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::getpriority(libc::PRIO_PROCESS, tid)
        };
        assert_eq!(hasher.run(nice).await.unwrap(), HASHING_NICE);
        assert_eq!(nice(), 0, "the caller's thread keeps its priority");
    }

    #[tokio::test]
    async fn the_queue_depth_counts_the_hashes_waiting_for_a_thread() {
        let gauge = IntGauge::new("queue", "test").unwrap();
        let hasher =
            PasswordHasher::new(&PasswordSettings { bcrypt_cost: 4 }, gauge.clone()).unwrap();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(Mutex::new(hold));
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut running = Vec::new();
        for _ in 0..threads + 3 {
            let hold = hold.clone();
            let hasher = hasher.clone();
            running.push(tokio::spawn(async move {
                hasher
                    .run(move || {
                        let _ = hold.lock().unwrap().recv();
                    })
                    .await
            }));
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while gauge.get() != 3 {
            assert!(
                std::time::Instant::now() < deadline,
                "depth {}",
                gauge.get()
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        drop(release);
        for job in running {
            job.await.unwrap().unwrap();
        }
        assert_eq!(gauge.get(), 0);
    }

    #[tokio::test]
    async fn passwords_that_differ_after_byte_72_are_different() {
        let hasher = hasher(4);
        let base = "é".repeat(40); // 80 bytes
        let a = Password::parse(&format!("{base}a")).unwrap();
        let stored = hasher.hash(&a).await.unwrap();
        assert_eq!(
            hasher.verify(a.expose(), Some(&stored)).await.unwrap(),
            Verified::Yes
        );
        assert_eq!(
            hasher
                .verify(&format!("{base}b"), Some(&stored))
                .await
                .unwrap(),
            Verified::No
        );
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let hasher = hasher(4);
        assert_eq!(
            hasher
                .verify("dummy password for unknown users", None)
                .await
                .unwrap(),
            Verified::No
        );
    }

    #[tokio::test]
    async fn a_hash_of_a_lower_cost_asks_to_be_rehashed() {
        let old = hasher(4);
        let new = hasher(5);
        let pw = Password::parse("secret-pw").unwrap();
        let stored = old.hash(&pw).await.unwrap();
        assert_eq!(
            new.verify(pw.expose(), Some(&stored)).await.unwrap(),
            Verified::YesButRehash
        );
        assert_eq!(
            new.verify("wrong-pw", Some(&stored)).await.unwrap(),
            Verified::No
        );
        assert_eq!(
            new.verify(pw.expose(), Some("not a bcrypt hash"))
                .await
                .unwrap(),
            Verified::No
        );
    }
}
