//! What admins do: list and search users, change roles, deactivate and
//! reactivate, end a user's sessions, read the audit log.

use app::api::{AdminUser, AuditEntry, Page, Role};

use super::{
    audit::{AuditEvent, AuditFilter, AuditKind},
    client::ClientInfo,
    refresh::revoke_user_families_in,
    users::{self, Guarded},
    AuthError, AuthService, Authenticated,
};

/// Which page of a list: 1-based, at most `MAX_PAGE_SIZE` long.
#[derive(Clone, Copy, Debug)]
pub struct Paging {
    pub page: u32,
    pub page_size: u32,
}

impl Paging {
    fn limit_offset(self) -> (i64, i64) {
        (
            i64::from(self.page_size),
            i64::from(self.page - 1) * i64::from(self.page_size),
        )
    }
}

pub(crate) fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

impl AuthService {
    pub async fn list_users(
        &self,
        search: Option<&str>,
        paging: Paging,
    ) -> Result<Page<AdminUser>, AuthError> {
        let (limit, offset) = paging.limit_offset();
        let (rows, total) = users::list(&self.0.db, search, limit, offset).await?;
        let items = rows
            .into_iter()
            .map(|r| AdminUser {
                user: r.user.to_api(),
                created_at: rfc3339(r.created_at),
            })
            .collect();
        Ok(Page {
            items,
            page: paging.page,
            page_size: paging.page_size,
            total,
        })
    }

    async fn admin_view(&self, id: i64) -> Result<AdminUser, AuthError> {
        let row = users::find_by_id(&self.0.db, id)
            .await?
            .ok_or(AuthError::NotFound)?;
        let created_at: i64 = sqlx::query_scalar("SELECT created_at FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&self.0.db.pool)
            .await?;
        Ok(AdminUser {
            user: row.to_api(),
            created_at: rfc3339(created_at),
        })
    }

    /// Changes a role; refused for the last active admin.
    pub async fn set_role(
        &self,
        actor: &Authenticated,
        id: i64,
        role: Role,
        client: &ClientInfo,
    ) -> Result<AdminUser, AuthError> {
        let now = self.0.clock.now();
        let db = &self.0.db;
        let mut tx = db.begin_write().await?;
        let guarded = users::set_role_guarded(&mut tx, db.backend, id, role.as_str(), now).await?;
        tx.commit().await?;
        match guarded {
            Guarded::Done => self.0.validation.invalidate().await,
            Guarded::NoSuchUser => return Err(AuthError::NotFound),
            Guarded::LastAdmin => {
                return Err(AuthError::Conflict(
                    "The last active admin cannot be demoted.".into(),
                ))
            }
        }
        let detail = format!(
            "user {id} is now {} (by {})",
            role.as_str(),
            actor.user.username
        );
        self.audit(AuditKind::RoleChanged, Some(id), &detail, client, now)
            .await;
        self.admin_view(id).await
    }

    /// Deactivates (their tokens and sessions stop at once) or reactivates a user.
    pub async fn set_user_active(
        &self,
        actor: &Authenticated,
        id: i64,
        active: bool,
        client: &ClientInfo,
    ) -> Result<AdminUser, AuthError> {
        let now = self.0.clock.now();
        let db = &self.0.db;
        // The flag and the end of the user's sessions commit together: a
        // failure in between must not leave sessions that a later
        // reactivation would revive.
        let mut tx = db.begin_write().await?;
        let guarded = users::set_active_guarded(&mut tx, db.backend, id, active, now).await?;
        if guarded == Guarded::Done && !active {
            revoke_user_families_in(&mut tx, id, "user deactivated", None, now).await?;
        }
        tx.commit().await?;
        match guarded {
            Guarded::Done => self.0.validation.invalidate().await,
            Guarded::NoSuchUser => return Err(AuthError::NotFound),
            Guarded::LastAdmin => {
                return Err(AuthError::Conflict(
                    "The last active admin cannot be deactivated.".into(),
                ))
            }
        }
        let kind = if active {
            AuditKind::UserReactivated
        } else {
            AuditKind::UserDeactivated
        };
        self.audit(
            kind,
            Some(id),
            &format!("by {}", actor.user.username),
            client,
            now,
        )
        .await;
        self.admin_view(id).await
    }

    /// Ends every session of a user.
    pub async fn revoke_user_sessions(
        &self,
        actor: &Authenticated,
        id: i64,
        client: &ClientInfo,
    ) -> Result<u64, AuthError> {
        let now = self.0.clock.now();
        if users::find_by_id(&self.0.db, id).await?.is_none() {
            return Err(AuthError::NotFound);
        }
        let revoked = self
            .0
            .refresh
            .revoke_user_families(id, "revoked by an admin", None, now)
            .await?;
        self.audit(
            AuditKind::SessionsRevoked,
            Some(id),
            &format!("{revoked} by {}", actor.user.username),
            client,
            now,
        )
        .await;
        Ok(revoked)
    }

    pub async fn audit_log(
        &self,
        filter: &AuditFilter,
        paging: Paging,
    ) -> Result<Page<AuditEntry>, AuthError> {
        let (limit, offset) = paging.limit_offset();
        let (items, total) = self.0.audit.query(filter, limit, offset).await?;
        Ok(Page {
            items,
            page: paging.page,
            page_size: paging.page_size,
            total,
        })
    }

    pub(crate) async fn audit(
        &self,
        kind: AuditKind,
        user_id: Option<i64>,
        detail: &str,
        client: &ClientInfo,
        now: i64,
    ) {
        let event = AuditEvent {
            kind,
            user_id,
            username: None,
            detail: Some(detail),
        };
        self.0.audit.record(event, client, now).await;
    }
}
