//! What admins do: list and search users, change roles, deactivate and
//! reactivate, end a user's sessions, read the audit log.

use app::{
    api::{AdminUser, AuditEntry, AuditKind, Locale, Page, RegisterRequest, Role, User},
    i18n::Msg,
};

use super::{
    audit::{AuditEvent, AuditFilter},
    client::ClientInfo,
    clock::rfc3339,
    refresh::revoke_user_families_in,
    sign_in::Creation,
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

/// Who did it, for an audit detail: by id, so that deleting the actor's
/// account takes their name out of the log (the event's user is the one
/// acted on).
pub(super) fn by(actor: &Authenticated) -> String {
    format!("by user #{}", actor.user.id)
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
    #[tracing::instrument(skip_all)]
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
        self.settle(guarded, Msg::ApiLastAdminDemote).await?;
        let detail = format!("user {id} is now {} ({})", role.as_str(), by(actor));
        let event = AuditEvent::new(AuditKind::RoleChanged)
            .user(id)
            .detail(&detail);
        self.0.audit.record(event, client, now).await;
        self.admin_view(id).await
    }

    /// Deactivates (their tokens and sessions stop at once) or reactivates a user.
    #[tracing::instrument(skip_all)]
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
        self.settle(guarded, Msg::ApiLastAdminDeactivate).await?;
        let kind = if active {
            AuditKind::UserReactivated
        } else {
            AuditKind::UserDeactivated
        };
        let detail = by(actor);
        let event = AuditEvent::new(kind).user(id).detail(&detail);
        self.0.audit.record(event, client, now).await;
        self.admin_view(id).await
    }

    /// After a guarded change committed: moves the validation generation
    /// when it changed something, or says why it did not.
    async fn settle(&self, guarded: Guarded, last_admin: Msg) -> Result<(), AuthError> {
        match guarded {
            Guarded::Done => {
                self.0.validation.invalidate().await;
                Ok(())
            }
            Guarded::NoSuchUser => Err(AuthError::NotFound),
            Guarded::LastAdmin => Err(AuthError::Conflict(last_admin.into())),
        }
    }

    /// Ends every session of a user.
    #[tracing::instrument(skip_all)]
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
        let detail = format!("{revoked} {}", by(actor));
        let event = AuditEvent::new(AuditKind::SessionsRevoked)
            .user(id)
            .detail(&detail);
        self.0.audit.record(event, client, now).await;
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

    /// Creates an account with the Admin role (the operator's command line):
    /// the registration rules apply as to anyone.
    #[tracing::instrument(skip_all)]
    pub async fn create_admin(&self, req: &RegisterRequest) -> Result<User, AuthError> {
        let creation = Creation {
            role: Role::Admin,
            verified: true,
            detail: Some("admin created on the command line"),
            locale: Locale::default(),
        };
        self.create_account(req, creation, &ClientInfo::default())
            .await
    }

    /// Gives the user named `name` (username or email) the Admin role.
    #[tracing::instrument(skip_all)]
    pub async fn promote(&self, name: &str) -> Result<User, AuthError> {
        let row = users::find_by_login(&self.0.db, &users::login_key(name))
            .await?
            .ok_or(AuthError::NotFound)?;
        let now = self.0.clock.now();
        let db = &self.0.db;
        let mut tx = db.begin_write().await?;
        users::set_role_guarded(&mut tx, db.backend, row.id, Role::Admin.as_str(), now).await?;
        tx.commit().await?;
        self.0.validation.invalidate().await;
        let detail = format!("user {} is now Admin (on the command line)", row.id);
        let event = AuditEvent::new(AuditKind::RoleChanged)
            .user(row.id)
            .detail(&detail);
        self.0
            .audit
            .record(event, &ClientInfo::default(), now)
            .await;
        Ok(users::find_by_id(db, row.id)
            .await?
            .ok_or(AuthError::NotFound)?
            .to_api())
    }
}
