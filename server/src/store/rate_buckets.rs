//! The per-client token buckets of the auth endpoints' rate limit. In
//! scale-out mode they live in Redis, so that every server process counts
//! the same requests; the buckets of this process stand in while Redis
//! cannot be reached. Both count time on the server's one clock.

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use async_trait::async_trait;
use governor::{
    clock::Clock as GovernorClock, middleware::NoOpMiddleware,
    state::keyed::DefaultKeyedStateStore, Quota, RateLimiter as Governor,
};

use super::{RedisStore, StoreError};
use crate::{auth::Clock, config::RateLimit};

#[async_trait]
pub trait RateBuckets: Send + Sync {
    /// Takes one request from `client`'s bucket: `Ok(())`, or `Err` with the
    /// seconds to wait.
    async fn take(&self, client: IpAddr) -> Result<Result<(), u64>, StoreError>;
}

/// The server's clock as governor reads it: milliseconds since the epoch.
#[derive(Clone)]
struct ServerClock(Clock);

impl GovernorClock for ServerClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Duration::from_millis(self.0.now_ms().max(0) as u64)
    }
}

type LocalGovernor =
    Governor<IpAddr, DefaultKeyedStateStore<IpAddr>, ServerClock, NoOpMiddleware<Duration>>;

/// The buckets of this process (governor's GCRA).
pub struct InProcess {
    buckets: LocalGovernor,
    clock: ServerClock,
}

impl InProcess {
    fn new(quota: Quota, clock: Clock) -> Self {
        let clock = ServerClock(clock);
        InProcess {
            buckets: Governor::new(quota, DefaultKeyedStateStore::default(), clock.clone()),
            clock,
        }
    }

    fn take_here(&self, client: IpAddr) -> Result<(), u64> {
        self.buckets.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs_f64().ceil() as u64
        })
    }

    /// Forgets clients whose bucket is full again, so the map stays small.
    fn forget_idle(&self) {
        self.buckets.retain_recent();
        self.buckets.shrink_to_fit();
    }
}

#[async_trait]
impl RateBuckets for InProcess {
    async fn take(&self, client: IpAddr) -> Result<Result<(), u64>, StoreError> {
        Ok(self.take_here(client))
    }
}

/// Returns 0 when the request may pass, else the milliseconds to wait. The
/// same bucket as governor's (one "theoretical arrival time" per client),
/// updated by one script, so that two processes never both take the last
/// token. `ARGV[3]` is now, in milliseconds, on the server's clock.
const GCRA: &str = r"
local now = tonumber(ARGV[3])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - now > tolerance then return tat - now - tolerance end
redis.call('SET', KEYS[1], tat + interval, 'PX', tat + interval - now)
return 0
";

/// The buckets in Redis: `rate:<client>`, each expiring once full again.
pub struct InRedis {
    redis: RedisStore,
    script: redis::Script,
    clock: Clock,
    /// Milliseconds between two requests at the sustained rate.
    interval_ms: u64,
    /// How far ahead of now the arrival time may run: the burst.
    tolerance_ms: u64,
}

#[async_trait]
impl RateBuckets for InRedis {
    async fn take(&self, client: IpAddr) -> Result<Result<(), u64>, StoreError> {
        let mut conn = self.redis.conn.clone();
        let wait_ms: u64 = self
            .script
            .key(self.redis.key(&format!("rate:{client}")))
            .arg(self.interval_ms)
            .arg(self.tolerance_ms)
            .arg(self.clock.now_ms())
            .invoke_async(&mut conn)
            .await?;
        Ok(match wait_ms {
            0 => Ok(()),
            ms => Err(ms.div_ceil(1000)),
        })
    }
}

/// The limiter: the shared buckets when there are, this process's while
/// they cannot be reached (an outage is logged when it starts and ends).
#[derive(Clone)]
pub struct RateLimiter(Arc<Inner>);

struct Inner {
    local: InProcess,
    shared: Option<InRedis>,
    /// Set while Redis cannot be reached.
    unreachable: AtomicBool,
}

impl RateLimiter {
    pub fn new(limit: RateLimit, redis: Option<RedisStore>, clock: Clock) -> Self {
        let per_second = NonZeroU32::new(limit.per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_second).allow_burst(burst);
        let interval_ms = (1000 / u64::from(per_second.get())).max(1);
        let shared = redis.map(|redis| InRedis {
            redis,
            script: redis::Script::new(GCRA),
            clock: clock.clone(),
            interval_ms,
            tolerance_ms: interval_ms * (u64::from(burst.get()) - 1),
        });
        RateLimiter(Arc::new(Inner {
            local: InProcess::new(quota, clock),
            shared,
            unreachable: AtomicBool::new(false),
        }))
    }

    /// `Err(seconds to wait)` when `client` has used up its burst.
    pub async fn check(&self, client: IpAddr) -> Result<(), u64> {
        let me = &self.0;
        if let Some(shared) = &me.shared {
            match shared.take(client).await {
                Ok(answer) => {
                    // A plain load first: no write to the shared flag on
                    // every request while Redis is fine.
                    if me.unreachable.load(Ordering::Relaxed)
                        && me.unreachable.swap(false, Ordering::Relaxed)
                    {
                        tracing::info!(
                            "Redis reachable again: the auth rate limit is shared again"
                        );
                    }
                    return answer;
                }
                Err(e) => {
                    if !me.unreachable.swap(true, Ordering::Relaxed) {
                        tracing::warn!(error = %e, "Redis unreachable: the auth rate limit counts in this process");
                    }
                }
            }
        }
        me.local.take_here(client)
    }

    /// Forgets idle clients of this process (Redis forgets its own: each
    /// bucket expires once full).
    pub fn forget_idle_clients(&self) {
        self.0.local.forget_idle();
    }

    #[cfg(test)]
    fn mark_unreachable(&self) {
        self.0.unreachable.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_redis_url() -> String {
        std::env::var("TEST_REDIS_URL")
            .expect("TEST_REDIS_URL is not set: run ./scripts/test, which starts a throwaway Redis")
    }

    /// One request a second, a burst of three, on `clock`.
    fn limiter(redis: Option<RedisStore>, clock: &Clock) -> RateLimiter {
        RateLimiter::new(
            RateLimit {
                per_second: 1,
                burst: 3,
            },
            redis,
            clock.clone(),
        )
    }

    /// `ip` gets its burst of three, then must wait a second.
    async fn burst_then_wait(limiter: &RateLimiter, ip: IpAddr) {
        for _ in 0..3 {
            assert_eq!(limiter.check(ip).await, Ok(()));
        }
        assert_eq!(limiter.check(ip).await, Err(1));
    }

    /// A client's burst, then the wait; others are not affected; the
    /// bucket refills as the clock moves (no sleeping).
    async fn buckets_refill_with_the_clock(redis: Option<RedisStore>) {
        let clock = Clock::system();
        let limiter = limiter(redis, &clock);
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        burst_then_wait(&limiter, client).await;
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(limiter.check(other).await, Ok(()));
        clock.advance(1);
        assert_eq!(
            limiter.check(client).await,
            Ok(()),
            "one more a second later"
        );
        assert_eq!(limiter.check(client).await, Err(1));
        clock.advance(3);
        burst_then_wait(&limiter, client).await;
    }

    #[tokio::test]
    async fn a_client_gets_its_burst_then_waits_in_this_process() {
        buckets_refill_with_the_clock(None).await;
    }

    #[tokio::test]
    async fn a_client_gets_its_burst_then_waits_in_redis() {
        let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
        buckets_refill_with_the_clock(Some(
            RedisStore::connect(&test_redis_url(), &prefix).unwrap(),
        ))
        .await;
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
        let limiter = limiter(Some(redis), &Clock::system());
        let logs = logs_of(burst_then_wait(&limiter, "192.0.2.1".parse().unwrap())).await;
        assert_eq!(logs.matches("Redis unreachable").count(), 1, "{logs}");
    }

    #[tokio::test]
    async fn the_end_of_a_redis_outage_is_logged_once() {
        let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
        let redis = RedisStore::connect(&test_redis_url(), &prefix).unwrap();
        let limiter = limiter(Some(redis), &Clock::system());
        // As after a failed call: the outage has been logged.
        limiter.mark_unreachable();
        let logs = logs_of(burst_then_wait(&limiter, "192.0.2.1".parse().unwrap())).await;
        assert_eq!(logs.matches("Redis reachable again").count(), 1, "{logs}");
        assert!(!logs.contains("Redis unreachable"), "{logs}");
    }
}
