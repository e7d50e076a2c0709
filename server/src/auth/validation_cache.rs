//! What validation remembers between requests: for each access token seen
//! recently, the database's answer (the user as stored, and until when the
//! token's session runs), so that a token presented again costs no query.
//!
//! Every write that can make a token invalid or change what validation
//! returns (a session ended, a family revoked, a token put on the revocation
//! list, a role or active flag changed) moves the *generation* after it
//! commits, and an answer remembered under another generation is not used.
//! Validation reads the generation before it queries, so an answer is never
//! remembered under a generation newer than the data it read.
//!
//! The generation lives where every writer can move it: in memory with SQLite
//! (the embedded mode is one server process), in Redis in scale-out mode. With
//! PostgreSQL and no Redis, processes share no such place, so nothing is
//! remembered. Answers also expire after [`MAX_AGE`]: that bounds how late a
//! change made by another program (the admin command line) is seen.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use app::api::User;
use quick_cache::sync::Cache;

use super::store::StoreError;
use crate::{
    db::{Backend, Db},
    redis_store::RedisStore,
};

/// The longest an answer is used without asking the database again.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// How many tokens are remembered; the least used are forgotten first.
const CAPACITY: usize = 50_000;

/// The database's answer for one token, as of `generation`.
pub struct Remembered {
    pub user: User,
    /// When the token's refresh family (its session) expires.
    pub session_expires_at: i64,
    generation: u64,
    loaded: Instant,
}

#[derive(Clone)]
pub struct ValidationCache(Option<Arc<Inner>>);

struct Inner {
    /// Keyed by the token's `jti`, which its signature binds to the rest.
    answers: Cache<String, Arc<Remembered>>,
    generation: Generation,
}

enum Generation {
    Local(AtomicU64),
    /// The connection and the key that holds the counter.
    Redis(RedisStore, String),
}

impl ValidationCache {
    pub fn new(db: &Db, redis: Option<&RedisStore>) -> Self {
        let generation = match (redis, db.backend) {
            (Some(redis), _) => {
                Generation::Redis(redis.clone(), redis.key("validation-generation"))
            }
            (None, Backend::Sqlite) => Generation::Local(AtomicU64::new(0)),
            (None, Backend::Postgres) => return ValidationCache(None),
        };
        ValidationCache(Some(Arc::new(Inner {
            answers: Cache::new(CAPACITY),
            generation,
        })))
    }

    /// The generation now; `None` when answers must not be used or kept.
    /// With Redis, also whether `listed` (a key of the revocation list)
    /// exists, asked in the same command since validation needs both. Only
    /// Redis holds such keys: in the other modes `listed` is `None`.
    pub async fn generation_and_listed(
        &self,
        listed: Option<&str>,
    ) -> Result<(Option<u64>, bool), StoreError> {
        let Some(inner) = &self.0 else {
            return Ok((None, false));
        };
        match &inner.generation {
            Generation::Local(counter) => Ok((Some(counter.load(Ordering::Acquire)), false)),
            Generation::Redis(redis, key) => {
                let mut conn = redis.conn.clone();
                let values: Vec<Option<String>> = redis::cmd("MGET")
                    .arg(key)
                    .arg(listed)
                    .query_async(&mut conn)
                    .await?;
                let current = values.first().and_then(|v| v.as_deref()?.parse().ok());
                let is_listed = values.get(1).is_some_and(Option::is_some);
                if current.is_none() {
                    // Redis lost the key (a restart without persistence). Start
                    // from a random value, so no counter reached before the
                    // loss can come round again; answer nothing this time.
                    let start = u64::from_le_bytes(rand_bytes()) >> 2;
                    redis::cmd("SET")
                        .arg(key)
                        .arg(start)
                        .arg("NX")
                        .query_async::<()>(&mut conn)
                        .await?;
                }
                Ok((current, is_listed))
            }
        }
    }

    /// The answer remembered for `jti` under `generation`, if still fresh.
    pub fn get(&self, jti: &str, generation: Option<u64>) -> Option<Arc<Remembered>> {
        let (inner, generation) = (self.0.as_ref()?, generation?);
        let answer = inner.answers.get(jti)?;
        (answer.generation == generation && answer.loaded.elapsed() < MAX_AGE).then_some(answer)
    }

    /// Remembers the database's answer, read after `generation` was.
    pub fn remember(
        &self,
        jti: &str,
        generation: Option<u64>,
        user: &User,
        session_expires_at: i64,
    ) {
        if let (Some(inner), Some(generation)) = (&self.0, generation) {
            let answer = Remembered {
                user: user.clone(),
                session_expires_at,
                generation,
                loaded: Instant::now(),
            };
            inner.answers.insert(jti.to_string(), Arc::new(answer));
        }
    }

    /// Called after a write that may change a validation's answer commits.
    pub async fn invalidate(&self) -> Result<(), StoreError> {
        let Some(inner) = &self.0 else {
            return Ok(());
        };
        match &inner.generation {
            Generation::Local(counter) => {
                counter.fetch_add(1, Ordering::AcqRel);
            }
            Generation::Redis(redis, key) => {
                let mut conn = redis.conn.clone();
                redis::cmd("INCR")
                    .arg(key)
                    .query_async::<()>(&mut conn)
                    .await?;
            }
        }
        Ok(())
    }
}

fn rand_bytes() -> [u8; 8] {
    let mut bytes = [0; 8];
    // The OS generator failing leaves zeros: still a fresh start after a loss,
    // just not an unpredictable one.
    let _ = getrandom::fill(&mut bytes);
    bytes
}
