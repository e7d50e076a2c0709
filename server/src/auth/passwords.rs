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

/// Lowers the priority of the blocking thread a hash runs on (once per
/// thread), so a storm of logins takes the cores only when requests that
/// cost microseconds (token validation) leave them idle. Logins alone still
/// get every core.
fn yield_to_requests() {
    thread_local! {
        static LOWERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    #[cfg(target_os = "linux")]
    LOWERED.with(|lowered| {
        if !lowered.get() {
            // SAFETY: plain system calls on the current thread; a failure
            // only leaves the priority as it was.
            unsafe {
                let tid = libc::gettid();
                libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19);
            }
            lowered.set(true);
        }
    });
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
        Ok(tokio::task::spawn_blocking(move || {
            yield_to_requests();
            span.in_scope(job)
        })
        .await?)
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
