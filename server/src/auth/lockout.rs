//! Lockout of repeated failed logins: windows of `LOCKOUT_WINDOW` seconds,
//! counted per account (or, for a name that is no account, per name typed,
//! so a lockout reveals nothing) and per client network.
//!
//! Each password check first *reserves* its place in both budgets, in one
//! atomic step, and only then runs the hash: however many guesses arrive at
//! once, at most the threshold of them are ever checked. A failed guess
//! keeps its place (it is the failure counted); a right one gives it back.
//! In the database a window starts at its first attempt; in Redis windows
//! are fixed slices of the (injectable) clock.

use std::sync::Arc;

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
    scripts: Arc<Scripts>,
}

struct Scripts {
    reserve: redis::Script,
    release: redis::Script,
}

/// Whose budget a password check spends: the account's once the login
/// names one (its username and its email share one budget), else the name
/// typed.
#[derive(Clone, Copy, Debug)]
pub enum Subject<'a> {
    Account(i64),
    Name(&'a str),
}

/// A place reserved in the budgets, held while the password is checked.
#[must_use = "a reservation is settled with `failed` or `succeeded`"]
pub struct Reservation {
    user: String,
    ip: Option<String>,
    /// When the IP's window started (the database's windows), so that a
    /// success gives the place back to the window it was taken from.
    ip_window_start: Option<i64>,
    /// Whether this attempt filled a budget: should it fail, that is a lockout.
    fills_a_budget: bool,
}

/// A budget that is spent: how long until the window ends.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub retry_after_secs: u64,
}

/// Takes a place in each counter (`KEYS`, thresholds in `ARGV`, then the
/// seconds to keep a counter), or in none when any is full. Returns the
/// new counts, or an empty list when refused.
const RESERVE: &str = r"
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
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) then redis.call('DECR', KEYS[1]) end
return 0
";

impl Lockout {
    pub fn new(store: SharedStore, user_threshold: u32, ip_threshold: u32, window: i64) -> Self {
        Lockout {
            store,
            user_threshold: user_threshold.into(),
            ip_threshold: ip_threshold.into(),
            window,
            scripts: Arc::new(Scripts {
                reserve: redis::Script::new(RESERVE),
                release: redis::Script::new(RELEASE),
            }),
        }
    }

    fn subjects(subject: Subject<'_>, ip: Option<&str>) -> (String, Option<String>) {
        let user = match subject {
            Subject::Account(id) => format!("account:{id}"),
            Subject::Name(name) => format!("name:{}", storable(name)),
        };
        (user, ip.map(|ip| format!("ip:{ip}")))
    }

    /// Reserves one checked guess in the budget of `subject` and of `ip`
    /// (a client network key), or refuses when either is spent.
    pub async fn reserve(
        &self,
        subject: Subject<'_>,
        ip: Option<&str>,
        now: i64,
    ) -> Result<Result<Reservation, Refused>, StoreError> {
        let (user, ip) = Self::subjects(subject, ip);
        match &self.store {
            SharedStore::Database(db) => {
                let mut tx = db.begin_write().await?;
                let mut fills_a_budget = false;
                let mut ip_window_start = None;
                let pairs = [
                    (Some(&user), self.user_threshold),
                    (ip.as_ref(), self.ip_threshold),
                ];
                for (subject, threshold) in pairs {
                    let Some(subject) = subject else { continue };
                    match self.take_place(&mut tx, subject, threshold, now).await? {
                        Ok((count, window_start)) => {
                            fills_a_budget |= count == threshold;
                            if Some(subject) == ip.as_ref() {
                                ip_window_start = Some(window_start);
                            }
                        }
                        Err(window_start) => {
                            // Dropping the transaction rolls back the places taken.
                            return Ok(Err(self.refused(window_start + self.window, now)));
                        }
                    }
                }
                tx.commit().await?;
                Ok(Ok(Reservation {
                    user,
                    ip,
                    ip_window_start,
                    fills_a_budget,
                }))
            }
            SharedStore::Redis(redis) => {
                let (user_key, window_ends) = self.redis_window(redis, &user, now);
                let mut invocation = self.scripts.reserve.prepare_invoke();
                invocation.key(&user_key);
                if let Some(ip) = &ip {
                    invocation.key(self.redis_window(redis, ip, now).0);
                }
                invocation.arg(self.user_threshold);
                if ip.is_some() {
                    invocation.arg(self.ip_threshold);
                }
                invocation.arg(self.window);
                let mut conn = redis.conn.clone();
                let counts: Vec<i64> = invocation.invoke_async(&mut conn).await?;
                if counts.is_empty() {
                    return Ok(Err(self.refused(window_ends, now)));
                }
                let fills_a_budget = counts.first() == Some(&self.user_threshold)
                    || counts.get(1) == Some(&self.ip_threshold);
                Ok(Ok(Reservation {
                    user,
                    ip,
                    ip_window_start: None,
                    fills_a_budget,
                }))
            }
        }
    }

    fn refused(&self, window_ends: i64, now: i64) -> Refused {
        Refused {
            retry_after_secs: (window_ends - now).max(1) as u64,
        }
    }

    /// One upsert: a place in `subject`'s window (a new window when the last
    /// one ended), unless `threshold` places are taken. The count and the
    /// window's start, or the start of the full window.
    async fn take_place(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        subject: &str,
        threshold: i64,
        now: i64,
    ) -> Result<Result<(i64, i64), i64>, sqlx::Error> {
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
        .bind(now - self.window)
        .bind(threshold)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(taken) = taken {
            return Ok(Ok(taken));
        }
        let window_start: i64 =
            sqlx::query_scalar("SELECT window_start FROM login_failures WHERE subject = $1")
                .bind(subject)
                .fetch_one(&mut **tx)
                .await?;
        Ok(Err(window_start))
    }

    /// The guess was wrong: its place stays taken. True when it filled a
    /// budget (a new lockout).
    pub fn failed(&self, reservation: Reservation) -> bool {
        reservation.fills_a_budget
    }

    /// The guess was right: the account's count starts again, and the
    /// network gets its place back (a success is no failure).
    pub async fn succeeded(&self, reservation: Reservation, now: i64) -> Result<(), StoreError> {
        let Reservation {
            user,
            ip,
            ip_window_start,
            ..
        } = reservation;
        match &self.store {
            SharedStore::Database(db) => {
                sqlx::query("DELETE FROM login_failures WHERE subject = $1")
                    .bind(&user)
                    .execute(&db.writer)
                    .await?;
                if let (Some(ip), Some(start)) = (ip, ip_window_start) {
                    sqlx::query(
                        "UPDATE login_failures SET failures = failures - 1 \
                         WHERE subject = $1 AND window_start = $2 AND failures > 0",
                    )
                    .bind(ip)
                    .bind(start)
                    .execute(&db.writer)
                    .await?;
                }
            }
            SharedStore::Redis(redis) => {
                let mut conn = redis.conn.clone();
                let (key, _) = self.redis_window(redis, &user, now);
                redis::cmd("DEL")
                    .arg(key)
                    .query_async::<()>(&mut conn)
                    .await?;
                if let Some(ip) = ip {
                    self.scripts
                        .release
                        .key(self.redis_window(redis, &ip, now).0)
                        .invoke_async::<()>(&mut conn)
                        .await?;
                }
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
