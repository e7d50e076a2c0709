//! Lockout counters: per subject (an account, a name, a client network), the
//! places taken in the current window. A window is `window` seconds long
//! (`LOCKOUT_WINDOW`); in the database it starts at its first place, in
//! Redis windows are fixed slices of the (injectable) clock.

use std::sync::Arc;

use async_trait::async_trait;

use super::{RedisStore, StoreError};
use crate::db::Db;

/// A place taken in a budget: the count it made, and when its window started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub subject: String,
    pub count: i64,
    pub window_start: i64,
}

/// What taking places came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// One place in each budget, in the order asked.
    Places(Vec<Place>),
    /// A budget is full until then; no place was taken.
    Full { window_ends: i64 },
}

#[async_trait]
pub trait LockoutCounters: Send + Sync {
    /// Takes one place in each budget (`subject`, `threshold`) of the window
    /// of `now`, all or none: none when any budget is full. Atomic however
    /// many callers take places at once.
    async fn take(&self, budgets: &[(&str, i64)], now: i64) -> Result<Taken, StoreError>;

    /// Starts `subject`'s count again.
    async fn clear(&self, subject: &str, now: i64) -> Result<(), StoreError>;

    /// Gives a place back to the window it was taken from (if that window
    /// is still the current one).
    async fn give_back(&self, place: &Place, now: i64) -> Result<(), StoreError>;

    /// Drops the counters whose window has ended; returns how many.
    async fn delete_expired(&self, now: i64) -> Result<u64, StoreError>;
}

/// The counters in the `login_failures` table.
pub struct InDatabase {
    pub db: Db,
    /// The window's length in seconds.
    pub window: i64,
}

#[async_trait]
impl LockoutCounters for InDatabase {
    async fn take(&self, budgets: &[(&str, i64)], now: i64) -> Result<Taken, StoreError> {
        let window = self.window;
        // One transaction: a full budget rolls back the places taken before.
        let mut tx = self.db.begin_write().await?;
        let mut places = Vec::with_capacity(budgets.len());
        for (subject, threshold) in budgets {
            // An upsert whose update only happens while the budget has room
            // (or its window ended): no row back means full.
            let taken: Option<(i64, i64)> = sqlx::query_as(
                "INSERT INTO login_failures (subject, failures, window_start) VALUES ($1, 1, $2) \
                 ON CONFLICT (subject) DO UPDATE SET \
                   failures = CASE WHEN login_failures.window_start <= $3 THEN 1 ELSE login_failures.failures + 1 END, \
                   window_start = CASE WHEN login_failures.window_start <= $3 THEN $2 ELSE login_failures.window_start END \
                 WHERE login_failures.window_start <= $3 OR login_failures.failures < $4 \
                 RETURNING failures, window_start",
            )
            .bind(subject)
            .bind(now)
            .bind(now - window)
            .bind(threshold)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((count, window_start)) = taken else {
                let window_start: i64 = sqlx::query_scalar(
                    "SELECT window_start FROM login_failures WHERE subject = $1",
                )
                .bind(subject)
                .fetch_one(&mut *tx)
                .await?;
                return Ok(Taken::Full {
                    window_ends: window_start + window,
                });
            };
            places.push(Place {
                subject: subject.to_string(),
                count,
                window_start,
            });
        }
        tx.commit().await?;
        Ok(Taken::Places(places))
    }

    async fn clear(&self, subject: &str, _now: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE subject = $1")
            .bind(subject)
            .execute(&self.db.writer)
            .await?;
        Ok(())
    }

    async fn give_back(&self, place: &Place, _now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE login_failures SET failures = failures - 1 \
             WHERE subject = $1 AND window_start = $2 AND failures > 0",
        )
        .bind(&place.subject)
        .bind(place.window_start)
        .execute(&self.db.writer)
        .await?;
        Ok(())
    }

    async fn delete_expired(&self, now: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM login_failures WHERE window_start <= $1")
                .bind(now - self.window)
                .execute(&self.db.writer)
                .await?
                .rows_affected(),
        )
    }
}

/// Takes a place in each counter (`KEYS`, thresholds in `ARGV`, then the
/// seconds to keep a counter), or in none when any is full. Returns the new
/// counts, or an empty list when refused.
const TAKE: &str = r"
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i]) then return {} end
end
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[#KEYS + 1], 'NX')
end
return counts
";

/// Gives a place back to a counter that still exists.
const GIVE_BACK: &str = r"
if redis.call('GET', KEYS[1]) then redis.call('DECR', KEYS[1]) end
return 0
";

/// The counters in Redis, one key per subject and window:
/// `lockout:<subject>:<window number>`, expiring with the window.
pub struct InRedis {
    redis: RedisStore,
    window: i64,
    scripts: Arc<(redis::Script, redis::Script)>,
}

impl InRedis {
    pub fn new(redis: RedisStore, window: i64) -> Self {
        InRedis {
            redis,
            window,
            scripts: Arc::new((redis::Script::new(TAKE), redis::Script::new(GIVE_BACK))),
        }
    }

    /// The key of `subject`'s counter in the window of `now`, and the
    /// window's start.
    fn key(&self, subject: &str, now: i64) -> (String, i64) {
        let slice = now.div_euclid(self.window);
        (
            self.redis.key(&format!("lockout:{subject}:{slice}")),
            slice * self.window,
        )
    }
}

#[async_trait]
impl LockoutCounters for InRedis {
    async fn take(&self, budgets: &[(&str, i64)], now: i64) -> Result<Taken, StoreError> {
        let mut invocation = self.scripts.0.prepare_invoke();
        let mut window_start = now;
        for (subject, _) in budgets {
            let (key, start) = self.key(subject, now);
            window_start = start;
            invocation.key(key);
        }
        for (_, threshold) in budgets {
            invocation.arg(threshold);
        }
        invocation.arg(self.window);
        let mut conn = self.redis.conn.clone();
        let counts: Vec<i64> = invocation.invoke_async(&mut conn).await?;
        if counts.is_empty() {
            return Ok(Taken::Full {
                window_ends: window_start + self.window,
            });
        }
        Ok(Taken::Places(
            budgets
                .iter()
                .zip(counts)
                .map(|((subject, _), count)| Place {
                    subject: subject.to_string(),
                    count,
                    window_start,
                })
                .collect(),
        ))
    }

    async fn clear(&self, subject: &str, now: i64) -> Result<(), StoreError> {
        let mut conn = self.redis.conn.clone();
        redis::cmd("DEL")
            .arg(self.key(subject, now).0)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn give_back(&self, place: &Place, now: i64) -> Result<(), StoreError> {
        let (key, start) = self.key(&place.subject, now);
        if start != place.window_start {
            return Ok(());
        }
        let mut conn = self.redis.conn.clone();
        self.scripts
            .1
            .key(key)
            .invoke_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Redis expires its counters itself.
    async fn delete_expired(&self, _now: i64) -> Result<u64, StoreError> {
        Ok(0)
    }
}
