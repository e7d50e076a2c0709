//! Password hashing: bcrypt on the blocking pool, with a bound on how many
//! hashes run at once so a burst of logins cannot starve token validation.
//!
//! bcrypt reads only the first 72 bytes of its input. A password of up to 100
//! characters may be 400 bytes, so every password is first reduced with
//! SHA-256 (base64, 44 bytes) and bcrypt hashes that: every character counts.

use std::sync::Arc;

use app::rules::Password;
use base64::{engine::general_purpose::STANDARD, Engine};
use prometheus::IntGauge;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tracing::Span;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("bcrypt: {0}")]
    Bcrypt(#[from] bcrypt::BcryptError),
    #[error("the hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("the hashing pool is closed")]
    Closed,
}

#[derive(Clone)]
pub struct PasswordHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    /// Jobs waiting for a permit (the `bcrypt_queue_depth` metric).
    waiting: IntGauge,
    /// Verified for unknown users, so they cost the same time as a wrong password.
    dummy_hash: Arc<str>,
}

/// What a successful verification learned about the stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, but the hash has a lower cost than configured: re-hash it.
    YesButRehash,
}

/// Runs `job` in the idle scheduling class, so a storm of logins takes the
/// cores only when requests that cost microseconds (token validation) leave
/// them idle; logins alone still get every core. Unlike a nice value of 19,
/// the idle class gives the core to a waking request at once instead of
/// after the hash's time slice. The blocking pool's threads also read files
/// for other requests, so the thread's class is restored afterwards.
fn in_idle_class<T>(job: impl FnOnce() -> T) -> T {
    #[cfg(target_os = "linux")]
    let _restore = scheduling::enter_idle_class();
    job()
}

#[cfg(target_os = "linux")]
mod scheduling {
    /// Puts the thread back in the class it was in when dropped.
    pub struct Restore(libc::c_int);

    impl Drop for Restore {
        fn drop(&mut self) {
            set_policy(self.0);
        }
    }

    /// `None` when the thread is already in the idle class or the call is refused.
    pub fn enter_idle_class() -> Option<Restore> {
        // SAFETY: reads the policy of the calling thread (pid 0).
        let before = unsafe { libc::sched_getscheduler(0) };
        (before >= 0 && before != libc::SCHED_IDLE && set_policy(libc::SCHED_IDLE))
            .then_some(Restore(before))
    }

    /// Sets the scheduling policy of the calling thread, keeping its nice
    /// value; false if refused.
    pub fn set_policy(policy: libc::c_int) -> bool {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread; a refusal changes nothing.
        unsafe { libc::sched_setscheduler(0, policy, &param) == 0 }
    }
}

fn prehash(password: &str) -> String {
    STANDARD.encode(Sha256::digest(password.as_bytes()))
}

impl PasswordHasher {
    pub fn new(cost: u32, waiting: IntGauge) -> Result<Self, HashError> {
        let parallel = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let dummy_hash = bcrypt::hash(prehash("dummy password for unknown users"), cost)?;
        Ok(PasswordHasher {
            cost,
            permits: Arc::new(Semaphore::new(parallel)),
            waiting,
            dummy_hash: dummy_hash.into(),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        self.waiting.inc();
        let permit = self.permits.acquire().await;
        self.waiting.dec();
        let _permit = permit.map_err(|_| HashError::Closed)?;
        let span = Span::current();
        Ok(tokio::task::spawn_blocking(move || in_idle_class(|| span.in_scope(job))).await?)
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
        PasswordHasher::new(cost, IntGauge::new("queue", "test").unwrap()).unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn hashes_run_in_the_idle_scheduling_class_and_leave_the_thread_as_it_was() {
        // SAFETY: reads the scheduling policy of the calling thread.
        let policy = || unsafe { libc::sched_getscheduler(0) };
        assert_eq!(in_idle_class(policy), libc::SCHED_IDLE);
        assert_eq!(policy(), libc::SCHED_OTHER);
        // A thread someone put in the batch class goes back to it.
        assert!(scheduling::set_policy(libc::SCHED_BATCH));
        assert_eq!(in_idle_class(policy), libc::SCHED_IDLE);
        assert_eq!(policy(), libc::SCHED_BATCH);
        assert!(scheduling::set_policy(libc::SCHED_OTHER));
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
