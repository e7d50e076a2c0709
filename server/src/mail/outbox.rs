//! The `outbox` table: mails written in the transaction of the change that
//! causes them, taken up one at a time by a worker under a lease, retried
//! with backoff, deleted once sent.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::{
    auth::users::{login_key, WriteTx},
    db::{Backend, Db},
};

/// What a mail is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailKind {
    /// A link to `/verify-email`, to the address it verifies.
    VerifyEmail,
    /// A link to `/reset-password`.
    PasswordReset,
    /// The notice that the password was reset.
    PasswordChanged,
    /// The notice to the old address that a change to another was asked for.
    EmailChangeRequested,
}

impl MailKind {
    /// Every kind; `take_due` lists their names in its SQL too.
    const ALL: [MailKind; 4] = [
        MailKind::VerifyEmail,
        MailKind::PasswordReset,
        MailKind::PasswordChanged,
        MailKind::EmailChangeRequested,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::VerifyEmail => "verify_email",
            MailKind::PasswordReset => "password_reset",
            MailKind::PasswordChanged => "password_changed",
            MailKind::EmailChangeRequested => "email_change_requested",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A mail to write into the outbox.
#[derive(Clone, Copy, Debug)]
pub struct NewMail<'a> {
    pub kind: MailKind,
    pub user_id: i64,
    pub address: &'a str,
    /// What the mail mentions besides the account (an email change's new address).
    pub detail: Option<&'a str>,
}

/// A mail taken up by a worker, leased to it until it is sent or put back.
#[derive(Clone, Debug)]
pub struct Pending {
    pub id: i64,
    pub kind: MailKind,
    pub user_id: i64,
    pub address: String,
    pub detail: Option<String>,
    pub created_at: i64,
    /// Counting this one.
    pub attempts: i64,
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    id: i64,
    kind: String,
    user_id: i64,
    address: String,
    detail: Option<String>,
    created_at: i64,
    attempts: i64,
}

/// At most one mail of a kind to an address in this many seconds.
pub const THROTTLE_SECS: i64 = 60;

#[derive(Clone)]
pub struct Outbox {
    db: Db,
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn new(db: Db) -> Self {
        Outbox {
            db,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Writes `mail` within `tx`: it is sent once `tx` commits (call
    /// [`Outbox::wake`] then).
    pub async fn enqueue_in(
        &self,
        tx: &mut WriteTx,
        mail: NewMail<'_>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO outbox (kind, user_id, address, detail, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(mail.kind.as_str())
        .bind(mail.user_id)
        .bind(mail.address)
        .bind(mail.detail)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    /// Like [`Outbox::enqueue_in`], unless a mail of this kind went to this
    /// address less than [`THROTTLE_SECS`] ago; false when it did. Atomic
    /// however many requests ask at once: the throttle's row is claimed by
    /// one upsert, which only succeeds when the last mail is old enough.
    pub async fn enqueue_throttled_in(
        &self,
        tx: &mut WriteTx,
        mail: NewMail<'_>,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let key = format!(
            "{:x}",
            Sha256::new()
                .chain_update(mail.kind.as_str())
                .chain_update(b":")
                .chain_update(login_key(mail.address))
                .finalize()
        );
        let claimed: Option<i64> = sqlx::query_scalar(
            "INSERT INTO mail_throttle (address_hash, sent_at) VALUES ($1, $2) \
             ON CONFLICT (address_hash) DO UPDATE SET sent_at = $2 \
             WHERE mail_throttle.sent_at <= $3 RETURNING sent_at",
        )
        .bind(&key)
        .bind(now)
        .bind(now - THROTTLE_SECS)
        .fetch_optional(&mut **tx)
        .await?;
        if claimed.is_none() {
            return Ok(false);
        }
        self.enqueue_in(tx, mail, now).await?;
        Ok(true)
    }

    /// Tells the worker of this process that mail is waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(super) async fn woken(&self) {
        self.wake.notified().await
    }

    /// Takes up the oldest mail that is due and not leased (or whose lease
    /// ran out: its worker died), leasing it until `lease_until`.
    pub(super) async fn take_due(
        &self,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<Pending>, sqlx::Error> {
        // Only the kinds this version knows how to write (a newer version's
        // are left to it). PostgreSQL: a row another process is taking up
        // is skipped, not waited for and then taken twice; SQLite has one
        // writer.
        macro_rules! take_due {
            ($lock:literal) => {
                concat!(
                    "UPDATE outbox SET leased_until = $2, attempts = attempts + 1 WHERE id = ( \
                       SELECT id FROM outbox WHERE next_attempt_at <= $1 \
                       AND (leased_until IS NULL OR leased_until < $1) \
                       AND kind IN ('verify_email', 'password_reset', 'password_changed', 'email_change_requested') \
                       ORDER BY next_attempt_at, id LIMIT 1",
                    $lock,
                    ") RETURNING id, kind, user_id, address, detail, created_at, attempts"
                )
            };
        }
        let sql = match self.db.backend {
            Backend::Postgres => take_due!(" FOR UPDATE SKIP LOCKED"),
            Backend::Sqlite => take_due!(""),
        };
        let row: Option<PendingRow> = sqlx::query_as(sql)
            .bind(now)
            .bind(lease_until)
            .fetch_optional(&self.db.writer)
            .await?;
        Ok(row.and_then(|row| {
            Some(Pending {
                kind: MailKind::parse(&row.kind)?,
                id: row.id,
                user_id: row.user_id,
                address: row.address,
                detail: row.detail,
                created_at: row.created_at,
                attempts: row.attempts,
            })
        }))
    }

    /// The mail is sent (or has nothing left to say): it leaves the outbox.
    pub(super) async fn done(&self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM outbox WHERE id = $1")
            .bind(id)
            .execute(&self.db.writer)
            .await
            .map(|_| ())
    }

    /// The send failed: the mail is tried again at `retry_at`.
    pub(super) async fn retry_at(
        &self,
        id: i64,
        retry_at: i64,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE outbox SET next_attempt_at = $2, leased_until = NULL, last_error = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(retry_at)
        .bind(error)
        .execute(&self.db.writer)
        .await
        .map(|_| ())
    }

    /// How many mails wait (or are being sent).
    pub async fn waiting(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(&self.db.pool)
            .await
    }

    /// Forgets throttle entries older than the throttle's window.
    pub async fn delete_expired(&self, now: i64) -> Result<u64, sqlx::Error> {
        sqlx::query("DELETE FROM mail_throttle WHERE sent_at <= $1")
            .bind(now - THROTTLE_SECS)
            .execute(&self.db.writer)
            .await
            .map(|r| r.rows_affected())
    }
}
