//! The audit log: every auth event, with time, user, client IP and user agent.

use crate::db::Db;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditKind {
    Register,
    LoginSucceeded,
    LoginFailed,
    Lockout,
    Refresh,
    RefreshReuseDetected,
    Revoke,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Register => "register",
            AuditKind::LoginSucceeded => "login_succeeded",
            AuditKind::LoginFailed => "login_failed",
            AuditKind::Lockout => "lockout",
            AuditKind::Refresh => "refresh",
            AuditKind::RefreshReuseDetected => "refresh_reuse_detected",
            AuditKind::Revoke => "revoke",
        }
    }
}

/// Who is on the other end of a request.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub struct AuditEvent<'a> {
    pub kind: AuditKind,
    pub user_id: Option<i64>,
    pub username: Option<&'a str>,
    pub detail: Option<&'a str>,
}

#[derive(Clone)]
pub struct AuditLog {
    db: Db,
}

impl AuditLog {
    pub fn new(db: Db) -> Self {
        AuditLog { db }
    }

    /// Stores an event. A failure to store is logged, and does not fail the
    /// request it describes.
    pub async fn record(&self, event: AuditEvent<'_>, client: &ClientInfo, now: i64) {
        tracing::info!(
            event = event.kind.as_str(),
            user_id = event.user_id,
            ip = client.ip.as_deref(),
            detail = event.detail,
            "audit"
        );
        let stored = sqlx::query(
            "INSERT INTO audit_events (occurred_at, kind, user_id, username, ip, user_agent, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(now)
        .bind(event.kind.as_str())
        .bind(event.user_id)
        .bind(event.username)
        .bind(client.ip.as_deref())
        .bind(client.user_agent.as_deref())
        .bind(event.detail)
        .execute(&self.db.pool)
        .await;
        if let Err(e) = stored {
            tracing::error!(error = %e, event = event.kind.as_str(), "cannot store an audit event");
        }
    }
}
