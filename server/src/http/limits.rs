//! Limits that keep one client from taking the server: a deadline for every
//! request, and a per-IP rate on the endpoints that cost a bcrypt hash or
//! rotate a token.

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{
    clock::{Clock, DefaultClock},
    DefaultKeyedRateLimiter, Quota,
};

use super::{error::ApiError, extract::client_ip_of};
use crate::{
    auth::client::network_of, config::RateLimit, redis_store::RedisStore, state::AppState,
};

/// Answers 408 in the envelope when a request (reading its body included)
/// is not done within `REQUEST_TIMEOUT`.
pub async fn deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// A token bucket per client IP. In scale-out mode (`REDIS_URL`) the buckets
/// live in Redis, so that every server process counts the same requests; the
/// buckets of this process stand in while Redis cannot be reached.
#[derive(Clone)]
pub struct AuthRateLimiter {
    local: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    shared: Option<SharedBuckets>,
}

impl AuthRateLimiter {
    pub fn new(limit: RateLimit, redis: Option<RedisStore>) -> Self {
        let per_second = NonZeroU32::new(limit.per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_second).allow_burst(burst);
        AuthRateLimiter {
            local: Arc::new(DefaultKeyedRateLimiter::keyed(quota)),
            shared: redis.map(|redis| SharedBuckets::new(redis, per_second, burst)),
        }
    }

    /// `Err(seconds to wait)` when `ip` has used up its burst.
    async fn check(&self, ip: IpAddr) -> Result<(), u64> {
        if let Some(shared) = &self.shared {
            // Logged when the outage starts and when it ends, not on every
            // request in between.
            match shared.check(ip).await {
                Ok(answer) => {
                    // A plain load first: no write to the shared flag on
                    // every request while Redis is fine.
                    if shared.unreachable.load(Ordering::Relaxed)
                        && shared.unreachable.swap(false, Ordering::Relaxed)
                    {
                        tracing::info!(
                            "Redis reachable again: the auth rate limit is shared again"
                        );
                    }
                    return answer;
                }
                Err(e) => {
                    if !shared.unreachable.swap(true, Ordering::Relaxed) {
                        tracing::warn!(error = %e, "Redis unreachable: the auth rate limit counts in this process");
                    }
                }
            }
        }
        self.check_here(ip)
    }

    fn check_here(&self, ip: IpAddr) -> Result<(), u64> {
        self.local.check_key(&ip).map_err(|not_until| {
            let wait: Duration = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs_f64().ceil() as u64
        })
    }

    /// Forgets clients whose bucket is full again, so the map stays small.
    /// (Redis forgets them by itself: each bucket expires once full.)
    pub fn forget_idle_clients(&self) {
        self.local.retain_recent();
        self.local.shrink_to_fit();
    }
}

/// The same bucket as governor's (GCRA: one "theoretical arrival time" per
/// client), kept in Redis and updated by one script, so that two processes
/// never both take the last token. Redis's clock is the only one read.
#[derive(Clone)]
struct SharedBuckets {
    redis: RedisStore,
    script: Arc<redis::Script>,
    /// Milliseconds between two requests at the sustained rate.
    interval_ms: u64,
    /// How far ahead of now the arrival time may run: the burst.
    tolerance_ms: u64,
    /// Set while Redis cannot be reached.
    unreachable: Arc<AtomicBool>,
}

/// Returns 0 when the request may pass, else the milliseconds to wait.
const GCRA: &str = r"
redis.replicate_commands()
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - now > tolerance then return tat - now - tolerance end
redis.call('SET', KEYS[1], tat + interval, 'PX', tat + interval - now)
return 0
";

impl SharedBuckets {
    fn new(redis: RedisStore, per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        let interval_ms = (1000 / u64::from(per_second.get())).max(1);
        SharedBuckets {
            redis,
            script: Arc::new(redis::Script::new(GCRA)),
            interval_ms,
            tolerance_ms: interval_ms * (u64::from(burst.get()) - 1),
            unreachable: Arc::new(AtomicBool::new(false)),
        }
    }

    async fn check(&self, ip: IpAddr) -> redis::RedisResult<Result<(), u64>> {
        let mut conn = self.redis.conn.clone();
        let wait_ms: u64 = self
            .script
            .key(self.redis.key(&format!("rate:{ip}")))
            .arg(self.interval_ms)
            .arg(self.tolerance_ms)
            .invoke_async(&mut conn)
            .await?;
        Ok(match wait_ms {
            0 => Ok(()),
            ms => Err(ms.div_ceil(1000)),
        })
    }
}

pub async fn auth_rate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (Some(limiter), Some(ip)) = (
        &state.auth_rate_limiter,
        client_ip_of(&req, &state.client_addresses),
    ) else {
        return next.run(req).await;
    };
    // An IPv6 client counts by its /64: each of its addresses is no fresh budget.
    let ip = network_of(ip);
    match limiter.check(ip).await {
        Ok(()) => next.run(req).await,
        Err(retry_after_secs) => {
            tracing::info!(%ip, "auth rate limit reached");
            ApiError::RateLimited {
                retry_after_secs: retry_after_secs.max(1),
            }
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One request a second, a burst of three.
    fn limiter(redis: Option<RedisStore>) -> AuthRateLimiter {
        AuthRateLimiter::new(
            RateLimit {
                per_second: 1,
                burst: 3,
            },
            redis,
        )
    }

    /// `ip` gets its burst of three, then must wait a second.
    async fn burst_then_wait(limiter: &AuthRateLimiter, ip: IpAddr) {
        for _ in 0..3 {
            assert_eq!(limiter.check(ip).await, Ok(()));
        }
        assert_eq!(limiter.check(ip).await, Err(1));
    }

    #[tokio::test]
    async fn a_client_gets_its_burst_then_waits_and_others_are_not_affected() {
        let limiter = limiter(None);
        burst_then_wait(&limiter, "192.0.2.1".parse().unwrap()).await;
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(limiter.check(other).await, Ok(()));
    }

    /// The log lines written while `f` runs on this thread.
    async fn logs_of<F: std::future::Future<Output = ()>>(f: F) -> String {
        #[derive(Clone, Default)]
        struct Buffer(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        f.await;
        drop(guard);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_logged_once_and_the_limit_still_holds() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let redis = RedisStore::connect(&format!("redis://127.0.0.1:{port}"), "test:").unwrap();
        let limiter = limiter(Some(redis));
        let logs = logs_of(burst_then_wait(&limiter, "192.0.2.1".parse().unwrap())).await;
        assert_eq!(logs.matches("Redis unreachable").count(), 1, "{logs}");
    }

    #[tokio::test]
    async fn the_end_of_a_redis_outage_is_logged_once() {
        let url = std::env::var("TEST_REDIS_URL").expect(
            "TEST_REDIS_URL is not set: run ./scripts/test, which starts a throwaway Redis",
        );
        let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
        let limiter = limiter(Some(RedisStore::connect(&url, &prefix).unwrap()));
        // As after a failed call: the outage has been logged.
        let shared = limiter.shared.as_ref().unwrap();
        shared.unreachable.store(true, Ordering::Relaxed);
        let logs = logs_of(burst_then_wait(&limiter, "192.0.2.1".parse().unwrap())).await;
        assert_eq!(logs.matches("Redis reachable again").count(), 1, "{logs}");
        assert!(!logs.contains("Redis unreachable"), "{logs}");
    }
}
