//! Where the shared, short-lived security state lives: lockout counters,
//! the revocation list, the browser sessions and the per-client rate
//! buckets. Each has a trait here with a SQL and a Redis implementation,
//! chosen once at start-up ([`Stores::open`]): the database in the
//! embedded mode, Redis in scale-out mode, so that every server process
//! sees the same state. Either way it survives a restart.

mod lockout;
mod rate_buckets;
pub mod redis;
mod revocations;
mod sessions;

use std::sync::Arc;

pub use self::{
    lockout::{LockoutCounters, Place, Taken},
    rate_buckets::{RateBuckets, RateLimiter},
    redis::RedisStore,
    revocations::RevocationStore,
    sessions::SessionRecords,
};
use crate::{auth::Clock, config::Config, db::Db};

/// The store could not answer. Callers fail closed: 503, never an unchecked token.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
}

/// The stores of this server, each on the backend the configuration chose.
#[derive(Clone)]
pub struct Stores {
    pub lockout: Arc<dyn LockoutCounters>,
    pub revocations: Arc<dyn RevocationStore>,
    pub sessions: SessionRecords,
    /// `None` when the rate limit is off.
    pub rate_limiter: Option<RateLimiter>,
}

impl Stores {
    /// Redis when it is configured, the database otherwise.
    pub fn open(db: &Db, redis: Option<&RedisStore>, config: &Config, clock: &Clock) -> Stores {
        let rate_limiter = config
            .http
            .auth_rate_limit
            .map(|limit| RateLimiter::new(limit, redis.cloned(), clock.clone()));
        let window = config.lockout.window.as_secs() as i64;
        match redis {
            Some(redis) => Stores {
                lockout: Arc::new(lockout::InRedis::new(redis.clone(), window)),
                revocations: Arc::new(revocations::InRedis(redis.clone())),
                sessions: SessionRecords::new(sessions::InRedis(redis.clone())),
                rate_limiter,
            },
            None => Stores {
                lockout: Arc::new(lockout::InDatabase {
                    db: db.clone(),
                    window,
                }),
                revocations: Arc::new(revocations::InDatabase(db.clone())),
                sessions: SessionRecords::new(sessions::InDatabase(db.clone())),
                rate_limiter,
            },
        }
    }
}
