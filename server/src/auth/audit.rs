//! The audit log: every auth event, with time, user, client IP and user agent.
//!
//! Events are stored by group commit (one INSERT for all the events waiting
//! at that moment), and each request waits until its own event is stored.

use std::{borrow::Cow, fmt::Write as _};

use app::api::{AuditEntry, AuditKind};
use tokio::sync::oneshot;

use super::{client::ClientInfo, clock::rfc3339, group_commit::GroupCommit};
use crate::{db::Db, metrics::Metrics};

/// The most events one INSERT stores (7 bound values each).
const MAX_BATCH: usize = 64;

/// Which events to read; every part is optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub user_id: Option<i64>,
    pub kind: Option<AuditKind>,
    pub ip: Option<String>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    occurred_at: i64,
    kind: String,
    user_id: Option<i64>,
    username: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: Option<String>,
}

/// One static WHERE for every combination of filters: unset parts are NULL.
macro_rules! audit_where {
    () => {
        " WHERE ($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR ip = $3) \
          AND ($4 IS NULL OR occurred_at >= $4) AND ($5 IS NULL OR occurred_at < $5)"
    };
}

/// Text as the audit log and the lockout counters store it: a control
/// character becomes a `\u{..}` escape. Requests are checked before they get
/// here, but whatever a client typed must never make a write fail (PostgreSQL
/// refuses U+0000) or hide in an operator's terminal.
pub fn storable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// An event to record: what happened, to whom, and a detail.
pub struct AuditEvent<'a> {
    pub kind: AuditKind,
    pub user_id: Option<i64>,
    pub username: Option<&'a str>,
    pub detail: Option<&'a str>,
}

impl<'a> AuditEvent<'a> {
    pub fn new(kind: AuditKind) -> Self {
        AuditEvent {
            kind,
            user_id: None,
            username: None,
            detail: None,
        }
    }

    /// The account concerned, when there is one.
    pub fn user(mut self, id: impl Into<Option<i64>>) -> Self {
        self.user_id = id.into();
        self
    }

    /// The name given (a login's) or the account's.
    pub fn named(mut self, username: &'a str) -> Self {
        self.username = Some(username);
        self
    }

    pub fn detail(mut self, detail: &'a str) -> Self {
        self.detail = Some(detail);
        self
    }
}

#[derive(Clone)]
pub struct AuditLog {
    db: Db,
    metrics: Metrics,
    writer: GroupCommit<Queued>,
}

/// An event waiting for the writer, and whom to tell once it is stored.
struct Queued {
    occurred_at: i64,
    kind: &'static str,
    user_id: Option<i64>,
    username: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: Option<String>,
    stored: oneshot::Sender<()>,
}

impl AuditLog {
    /// Starts the writer task: call within the Tokio runtime.
    pub fn new(db: Db, metrics: Metrics) -> Self {
        let writer_db = db.clone();
        let writer = GroupCommit::start(MAX_BATCH, move |batch| store(writer_db.clone(), batch));
        AuditLog {
            db,
            metrics,
            writer,
        }
    }

    /// Takes the names of a deleted account out of the log, within the
    /// transaction that deletes it: its own events (by id) and the failed
    /// logins that typed its username or address (`keys`, lower-cased).
    pub async fn forget_names_in(
        &self,
        tx: &mut crate::auth::users::WriteTx,
        user_id: i64,
        keys: &[String; 2],
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE audit_events SET username = NULL \
             WHERE user_id = $1 OR (user_id IS NULL AND LOWER(username) IN ($2, $3))",
        )
        .bind(user_id)
        .bind(&keys[0])
        .bind(&keys[1])
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    /// Counts and logs an event that the statement which caused it has
    /// already stored (a refresh-token claim stores its own: migration 0004).
    pub fn announce(&self, event: &AuditEvent<'_>, client: &ClientInfo) {
        self.metrics.auth_event(event.kind);
        tracing::info!(
            event = event.kind.as_str(),
            user_id = event.user_id,
            ip = client.ip.as_deref(),
            detail = event.detail,
            "audit"
        );
    }

    /// Stores and counts an event. A failure to store is logged, and does
    /// not fail the request it describes.
    pub async fn record(&self, event: AuditEvent<'_>, client: &ClientInfo, now: i64) {
        self.announce(&event, client);
        let (stored, is_stored) = oneshot::channel();
        let queued = Queued {
            occurred_at: now,
            kind: event.kind.as_str(),
            user_id: event.user_id,
            username: event.username.map(|u| storable(u).into_owned()),
            ip: client.ip.clone(),
            user_agent: client
                .user_agent
                .as_deref()
                .map(|ua| storable(ua).into_owned()),
            detail: event.detail.map(|d| storable(d).into_owned()),
            stored,
        };
        if self.writer.submit(queued).is_err() {
            // Only while the runtime shuts down, when the writer task is gone.
            tracing::error!(
                event = event.kind.as_str(),
                "cannot store an audit event: the writer has stopped"
            );
            return;
        }
        let _ = is_stored.await;
    }

    /// Deletes the events that happened before `cutoff`; returns how many.
    pub async fn delete_older_than(&self, cutoff: i64) -> Result<u64, sqlx::Error> {
        sqlx::query("DELETE FROM audit_events WHERE occurred_at < $1")
            .bind(cutoff)
            .execute(&self.db.writer)
            .await
            .map(|r| r.rows_affected())
    }

    /// A page of events matching `filter`, newest first, and how many match in all.
    pub async fn query(
        &self,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEntry>, i64), sqlx::Error> {
        let rows: Vec<AuditRow> = sqlx::query_as(concat!(
            "SELECT id, occurred_at, kind, user_id, username, ip, user_agent, detail FROM audit_events",
            audit_where!(),
            " ORDER BY id DESC LIMIT $6 OFFSET $7"
        ))
        .bind(filter.user_id)
        .bind(filter.kind.map(AuditKind::as_str))
        .bind(filter.ip.as_deref())
        .bind(filter.from)
        .bind(filter.to)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.db.pool)
        .await?;
        let total =
            sqlx::query_scalar(concat!("SELECT COUNT(*) FROM audit_events", audit_where!()))
                .bind(filter.user_id)
                .bind(filter.kind.map(AuditKind::as_str))
                .bind(filter.ip.as_deref())
                .bind(filter.from)
                .bind(filter.to)
                .fetch_one(&self.db.pool)
                .await?;
        let items = rows
            .into_iter()
            // Every kind stored is one of ours; an unknown one (written by a
            // newer version) is left out rather than mislabelled.
            .filter_map(|r| {
                Some(AuditEntry {
                    id: r.id,
                    occurred_at: rfc3339(r.occurred_at),
                    kind: AuditKind::parse(&r.kind)?,
                    user_id: r.user_id,
                    username: r.username,
                    ip: r.ip,
                    user_agent: r.user_agent,
                    detail: r.detail,
                })
            })
            .collect();
        Ok((items, total))
    }
}

/// Stores a batch and tells each request; a failure is logged.
async fn store(db: Db, batch: Vec<Queued>) {
    if let Err(e) = insert(&db, &batch).await {
        tracing::error!(error = %e, events = batch.len(), "cannot store audit events");
    }
    for queued in batch {
        let _ = queued.stored.send(());
    }
}

async fn insert(db: &Db, batch: &[Queued]) -> Result<(), sqlx::Error> {
    let mut sql = String::from(
        "INSERT INTO audit_events (occurred_at, kind, user_id, username, ip, user_agent, detail) VALUES ",
    );
    for i in 0..batch.len() {
        let n = i * 7;
        let separator = if i == 0 { "" } else { ", " };
        let _ = write!(
            sql,
            "{separator}(${}, ${}, ${}, ${}, ${}, ${}, ${})",
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5,
            n + 6,
            n + 7
        );
    }
    // Built from placeholders only: every value is bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for event in batch {
        query = query
            .bind(event.occurred_at)
            .bind(event.kind)
            .bind(event.user_id)
            .bind(event.username.as_deref())
            .bind(event.ip.as_deref())
            .bind(event.user_agent.as_deref())
            .bind(event.detail.as_deref());
    }
    query.execute(&db.writer).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rotation trigger stores its audit event itself, naming the kind
    /// in SQL: the name must be the one of [`AuditKind`].
    #[test]
    fn the_rotation_triggers_name_the_refresh_kind_as_the_code_does() {
        let kind = format!("'{}'", AuditKind::Refresh.as_str());
        for trigger in [
            include_str!("../../../migrations/sqlite/0004_refresh_audited_by_rotation.sql"),
            include_str!("../../../migrations/postgres/0004_refresh_audited_by_rotation.sql"),
        ] {
            assert!(trigger.contains(&kind), "{trigger}");
        }
    }

    #[test]
    fn control_characters_are_stored_as_escapes() {
        assert_eq!(storable("plain 名前"), "plain 名前");
        assert_eq!(storable("nul\0user\u{7f}"), "nul\\u{0}user\\u{7f}");
        assert!(matches!(storable("plain"), Cow::Borrowed(_)));
    }
}
