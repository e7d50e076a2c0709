//! Lockout of repeated failed logins: windows of `LOCKOUT_WINDOW` seconds,
//! counted per username (existing or not, so a lockout reveals nothing) and
//! per client IP. In the database a window starts at its first failure.

use super::{
    audit::storable,
    store::{SharedStore, StoreError},
};
use crate::redis_store::RedisStore;

#[derive(Clone)]
pub struct Lockout {
    store: SharedStore,
    user_threshold: i64,
    ip_threshold: i64,
    window: i64,
}

/// A counter's state: failures so far and when its window ends.
struct Count {
    failures: i64,
    window_ends: i64,
}

impl Lockout {
    pub fn new(store: SharedStore, user_threshold: u32, ip_threshold: u32, window: i64) -> Self {
        Lockout {
            store,
            user_threshold: user_threshold.into(),
            ip_threshold: ip_threshold.into(),
            window,
        }
    }

    fn subjects(user_key: &str, ip: Option<&str>) -> (String, Option<String>) {
        (
            format!("user:{}", storable(user_key)),
            ip.map(|ip| format!("ip:{ip}")),
        )
    }

    /// Seconds until the caller may try again, when locked out.
    pub async fn retry_after(
        &self,
        user_key: &str,
        ip: Option<&str>,
        now: i64,
    ) -> Result<Option<u64>, StoreError> {
        let (user, ip) = Self::subjects(user_key, ip);
        let mut wait = None;
        for (subject, threshold) in [(Some(user), self.user_threshold), (ip, self.ip_threshold)] {
            let Some(subject) = subject else { continue };
            if let Some(count) = self.read(&subject, now).await? {
                if count.failures >= threshold {
                    let secs = (count.window_ends - now).max(1) as u64;
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        Ok(wait)
    }

    /// Counts a failure; true when it just reached a threshold (a new lockout).
    pub async fn record_failure(
        &self,
        user_key: &str,
        ip: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (user, ip) = Self::subjects(user_key, ip);
        let mut locked = self.increment(&user, now).await? == self.user_threshold;
        if let Some(ip) = ip {
            locked |= self.increment(&ip, now).await? == self.ip_threshold;
        }
        Ok(locked)
    }

    /// A successful login clears the username's count (not the IP's).
    pub async fn reset(&self, user_key: &str, now: i64) -> Result<(), StoreError> {
        let (user, _) = Self::subjects(user_key, None);
        match &self.store {
            SharedStore::Database(db) => {
                sqlx::query("DELETE FROM login_failures WHERE subject = $1")
                    .bind(&user)
                    .execute(&db.writer)
                    .await?;
            }
            SharedStore::Redis(redis) => {
                let mut conn = redis.conn.clone();
                let (key, _) = self.redis_window(redis, &user, now);
                redis::cmd("DEL")
                    .arg(key)
                    .query_async::<()>(&mut conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// In Redis, windows are fixed slices of the (injectable) clock, one key
    /// each: `lockout:<subject>:<window number>`. Returns the key and the end
    /// of the window.
    fn redis_window(&self, redis: &RedisStore, subject: &str, now: i64) -> (String, i64) {
        let slice = now.div_euclid(self.window);
        (
            redis.key(&format!("lockout:{subject}:{slice}")),
            (slice + 1) * self.window,
        )
    }

    async fn read(&self, subject: &str, now: i64) -> Result<Option<Count>, StoreError> {
        match &self.store {
            SharedStore::Database(db) => {
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT failures, window_start FROM login_failures WHERE subject = $1",
                )
                .bind(subject)
                .fetch_optional(&db.pool)
                .await?;
                Ok(row
                    .map(|(failures, start)| Count {
                        failures,
                        window_ends: start + self.window,
                    })
                    .filter(|c| c.window_ends > now))
            }
            SharedStore::Redis(redis) => {
                let mut conn = redis.conn.clone();
                let (key, window_ends) = self.redis_window(redis, subject, now);
                let failures: Option<i64> =
                    redis::cmd("GET").arg(&key).query_async(&mut conn).await?;
                Ok(failures.map(|failures| Count {
                    failures,
                    window_ends,
                }))
            }
        }
    }

    /// Adds one failure in the current window (starting a new window when the
    /// last one ended) and returns the count, in one atomic step.
    async fn increment(&self, subject: &str, now: i64) -> Result<i64, StoreError> {
        match &self.store {
            SharedStore::Database(db) => Ok(sqlx::query_scalar(
                "INSERT INTO login_failures (subject, failures, window_start) VALUES ($1, 1, $2) \
                 ON CONFLICT (subject) DO UPDATE SET \
                   failures = CASE WHEN login_failures.window_start <= $3 THEN 1 ELSE login_failures.failures + 1 END, \
                   window_start = CASE WHEN login_failures.window_start <= $3 THEN $2 ELSE login_failures.window_start END \
                 RETURNING failures",
            )
            .bind(subject)
            .bind(now)
            .bind(now - self.window)
            .fetch_one(&db.writer)
            .await?),
            SharedStore::Redis(redis) => {
                let mut conn = redis.conn.clone();
                let (key, _) = self.redis_window(redis, subject, now);
                // EXPIRE NX sets the lifetime only on the first failure of a window.
                let (count,): (i64,) = redis::pipe()
                    .atomic()
                    .cmd("INCR")
                    .arg(&key)
                    .cmd("EXPIRE")
                    .arg(&key)
                    .arg(self.window)
                    .arg("NX")
                    .ignore()
                    .query_async(&mut conn)
                    .await?;
                Ok(count)
            }
        }
    }

    /// Drops counters whose window has ended (Redis expires its own).
    pub async fn delete_expired(&self, now: i64) -> Result<u64, StoreError> {
        match &self.store {
            SharedStore::Database(db) => Ok(sqlx::query(
                "DELETE FROM login_failures WHERE window_start <= $1",
            )
            .bind(now - self.window)
            .execute(&db.writer)
            .await?
            .rows_affected()),
            SharedStore::Redis(_) => Ok(0),
        }
    }
}
