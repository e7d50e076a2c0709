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
    time::Duration,
};

use app::api::{Locale, User};
use quick_cache::sync::Cache;
use tokio::sync::oneshot;

use super::{group_commit::GroupCommit, Claims, Clock};
use crate::{
    db::{Backend, Db},
    store::{RedisStore, StoreError},
};

/// The longest an answer is used without asking the database again.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// How many tokens are remembered; the least used are forgotten first.
const CAPACITY: usize = 10_000;

/// The most validations one Redis command answers.
const MAX_READS: usize = 64;

/// The database's answer for one token, as of `generation`, and the
/// token's claims, verified when it was read.
pub struct Remembered {
    pub user: User,
    pub locale: Locale,
    pub claims: Arc<Claims>,
    /// When the token's refresh family (its session) expires.
    pub session_expires_at: i64,
    generation: u64,
    /// When it was read, in milliseconds on the server's clock.
    loaded_ms: i64,
}

impl Remembered {
    /// Whether the answer still stands at `generation` (the one read now).
    pub fn is_of(&self, generation: Option<u64>) -> bool {
        generation == Some(self.generation)
    }
}

#[derive(Clone)]
pub struct ValidationCache(Option<Arc<Inner>>);

struct Inner {
    /// Keyed by the whole token: a hit is the very token verified before.
    answers: Cache<String, Arc<Remembered>>,
    generation: Generation,
    clock: Clock,
}

enum Generation {
    Local(AtomicU64),
    /// The connection, the key that holds the counter, and the reads of it
    /// waiting for their command.
    Redis(RedisStore, String, GroupCommit<Read>),
}

/// A validation's read of the generation and of one revocation-list key.
struct Read {
    listed: Option<String>,
    answer: oneshot::Sender<redis::RedisResult<(Option<u64>, bool)>>,
}

impl ValidationCache {
    pub fn new(db: &Db, redis: Option<&RedisStore>, clock: Clock) -> Self {
        let generation = match (redis, db.backend) {
            (Some(redis), _) => {
                let key = redis.key("validation-generation");
                let (store, counter) = (redis.clone(), key.clone());
                let reads = GroupCommit::start(MAX_READS, move |batch| {
                    read_batch(store.clone(), counter.clone(), batch)
                });
                Generation::Redis(redis.clone(), key, reads)
            }
            (None, Backend::Sqlite) => Generation::Local(AtomicU64::new(0)),
            (None, Backend::Postgres) => return ValidationCache(None),
        };
        ValidationCache(Some(Arc::new(Inner {
            answers: Cache::new(CAPACITY),
            generation,
            clock,
        })))
    }

    /// The generation now; `None` when answers must not be used or kept.
    /// With Redis, also whether `listed` (a key of the revocation list)
    /// exists, asked in the same command since validation needs both. Only
    /// Redis holds such keys: in the other modes `listed` is `None`. The
    /// validations waiting at one moment share that command (one MGET); each
    /// is sent after its validation asked, so none sees a state older than
    /// its request.
    pub async fn generation_and_listed(
        &self,
        listed: Option<String>,
    ) -> Result<(Option<u64>, bool), StoreError> {
        let Some(inner) = &self.0 else {
            return Ok((None, false));
        };
        match &inner.generation {
            Generation::Local(counter) => Ok((Some(counter.load(Ordering::Acquire)), false)),
            Generation::Redis(_, _, reads) => {
                let (answer, answered) = oneshot::channel();
                // Neither fails but while the runtime shuts down.
                let stopped = || {
                    redis::RedisError::from((redis::ErrorKind::Io, "the validation reader stopped"))
                };
                reads
                    .submit(Read { listed, answer })
                    .map_err(|_| stopped())?;
                Ok(answered.await.unwrap_or_else(|_| Err(stopped()))?)
            }
        }
    }

    /// The answer remembered for `token`, if read less than [`MAX_AGE`]
    /// ago; it stands only under its own generation ([`Remembered::is_of`]).
    pub fn get(&self, token: &str) -> Option<Arc<Remembered>> {
        let inner = self.0.as_ref()?;
        let answer = inner.answers.get(token)?;
        let age_ms = inner.clock.now_ms() - answer.loaded_ms;
        (0..MAX_AGE.as_millis() as i64)
            .contains(&age_ms)
            .then_some(answer)
    }

    /// Remembers the database's answer for `token`, read after
    /// `generation` was.
    pub fn remember(
        &self,
        token: &str,
        generation: Option<u64>,
        user: &User,
        locale: Locale,
        claims: Arc<Claims>,
        session_expires_at: i64,
    ) {
        if let (Some(inner), Some(generation)) = (&self.0, generation) {
            let answer = Remembered {
                user: user.clone(),
                locale,
                claims,
                session_expires_at,
                generation,
                loaded_ms: inner.clock.now_ms(),
            };
            inner.answers.insert(token.to_string(), Arc::new(answer));
        }
    }

    /// Called after a write that may change a validation's answer commits.
    /// The write stands whatever happens here, so this cannot fail: should
    /// Redis refuse the new generation, this process forgets every answer it
    /// has (failing closed), and the other processes' answers are used for
    /// at most [`MAX_AGE`] more, and only while they can read the generation.
    pub async fn invalidate(&self) {
        let Some(inner) = &self.0 else {
            return;
        };
        match &inner.generation {
            Generation::Local(counter) => {
                counter.fetch_add(1, Ordering::AcqRel);
            }
            Generation::Redis(redis, key, _) => {
                let mut conn = redis.conn.clone();
                let moved = redis::cmd("INCR")
                    .arg(key)
                    .query_async::<()>(&mut conn)
                    .await;
                if let Err(e) = moved {
                    inner.answers.clear();
                    tracing::warn!(error = %e, "cannot move the validation generation in Redis; this process forgot its remembered answers");
                }
            }
        }
    }
}

/// One MGET for the batch: the generation, then each read's key. A failure
/// is every read's answer: retrying each alone would keep the last of them
/// waiting for as many timeouts as there are reads while Redis is down.
async fn read_batch(redis: RedisStore, key: String, batch: Vec<Read>) {
    let mut mget = redis::cmd("MGET");
    mget.arg(&key);
    for read in &batch {
        mget.arg(read.listed.as_deref());
    }
    let mut conn = redis.conn.clone();
    let values = mget.query_async::<Vec<Option<String>>>(&mut conn).await;
    let current = match &values {
        Ok(values) => generation_from(&mut conn, &key, values.first()).await,
        Err(e) => Err(e.clone()),
    };
    let values = values.unwrap_or_default();
    // A read without a key added no argument, and no value.
    let mut position = 0;
    for read in batch {
        let listed = read.listed.is_some() && {
            position += 1;
            values.get(position).is_some_and(Option::is_some)
        };
        let _ = read
            .answer
            .send(current.clone().map(|current| (current, listed)));
    }
}

/// The generation read, or `None` when Redis has none: it lost the key (a
/// restart without persistence). The counter then starts again from a random
/// value, so that no counter reached before the loss can come round again;
/// nothing is answered this time.
async fn generation_from(
    conn: &mut redis::aio::ConnectionManager,
    key: &str,
    read: Option<&Option<String>>,
) -> redis::RedisResult<Option<u64>> {
    let current = read.and_then(|v| v.as_deref()?.parse().ok());
    if current.is_none() {
        let start = u64::from_le_bytes(rand_bytes()) >> 2;
        redis::cmd("SET")
            .arg(key)
            .arg(start)
            .arg("NX")
            .query_async::<()>(conn)
            .await?;
    }
    Ok(current)
}

fn rand_bytes() -> [u8; 8] {
    let mut bytes = [0; 8];
    // The OS generator failing leaves zeros: still a fresh start after a loss,
    // just not an unpredictable one.
    let _ = getrandom::fill(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_mget_answers_each_read_of_a_batch() {
        let url = std::env::var("TEST_REDIS_URL").expect(
            "TEST_REDIS_URL is not set: run ./scripts/test, which starts a throwaway Redis",
        );
        let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
        let redis = RedisStore::connect(&url, &prefix).unwrap();
        let key = redis.key("validation-generation");
        let mut conn = redis.conn.clone();
        redis::cmd("MSET")
            .arg(&key)
            .arg(7)
            .arg(redis.key("revoked:a"))
            .arg(1)
            .arg(redis.key("revoked:c"))
            .arg(1)
            .query_async::<()>(&mut conn)
            .await
            .unwrap();

        // Listed, without a key (adds no argument), not listed, listed.
        let mut answers = Vec::new();
        let mut batch = Vec::new();
        for listed in [
            Some("revoked:a"),
            None,
            Some("revoked:b"),
            Some("revoked:c"),
        ] {
            let (answer, answered) = oneshot::channel();
            batch.push(Read {
                listed: listed.map(|k| redis.key(k)),
                answer,
            });
            answers.push(answered);
        }
        read_batch(redis.clone(), key, batch).await;

        let mut got = Vec::new();
        for answered in answers {
            got.push(answered.await.unwrap().unwrap());
        }
        assert_eq!(
            got,
            [
                (Some(7), true),
                (Some(7), false),
                (Some(7), false),
                (Some(7), true)
            ]
        );
    }
}
