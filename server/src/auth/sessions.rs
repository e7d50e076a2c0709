//! Logging out, a user's own sessions, and changing the password.

use app::api::{AuditKind, PasswordChangeRequest, SessionInfo};

use super::{
    audit::AuditEvent, client::ClientInfo, clock::rfc3339, mail_tokens, recovery::new_password,
    refresh::revoke_user_families_in, users, AuthError, AuthService, Authenticated,
};

impl AuthService {
    /// Logout: the access token is revoked until its expiry, and its session
    /// ends, as does the family of `refresh_token` when it is the caller's.
    #[tracing::instrument(skip_all)]
    pub async fn revoke(
        &self,
        caller: &Authenticated,
        refresh_token: Option<&str>,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let me = &self.0;
        let now = me.clock.now();
        me.revocations
            .revoke(&caller.claims.jti, caller.claims.exp, now)
            .await?;
        me.refresh
            .revoke_family(&caller.claims.sid, "logout", now)
            .await?;
        if let Some(token) = refresh_token {
            if let Some((family_id, owner)) = me.refresh.owner_of(token).await? {
                if owner == caller.user.id {
                    me.refresh.revoke_family(&family_id, "logout", now).await?;
                }
            }
        }
        let event = AuditEvent::new(AuditKind::Revoke)
            .user(caller.user.id)
            .named(&caller.user.username);
        me.audit.record(event, client, now).await;
        Ok(())
    }

    /// The caller's active sessions, newest first.
    pub async fn sessions(&self, caller: &Authenticated) -> Result<Vec<SessionInfo>, AuthError> {
        let now = self.0.clock.now();
        let families = self.0.refresh.active_families(caller.user.id, now).await?;
        Ok(families
            .into_iter()
            .map(|f| SessionInfo {
                current: f.id == caller.claims.sid,
                id: f.id,
                created_at: rfc3339(f.created_at),
                last_used_at: rfc3339(f.last_used_at),
                ip: f.ip,
                user_agent: f.user_agent,
            })
            .collect())
    }

    /// Ends one of the caller's sessions (its access tokens stop at once).
    #[tracing::instrument(skip_all)]
    pub async fn end_session(
        &self,
        caller: &Authenticated,
        id: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        // Session ids are UUIDs; anything else names no session (and never
        // reaches a query).
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(AuthError::NotFound);
        }
        let now = self.0.clock.now();
        let own = self
            .0
            .refresh
            .active_families(caller.user.id, now)
            .await?
            .into_iter()
            .any(|f| f.id == id);
        if !own
            || !self
                .0
                .refresh
                .revoke_family(id, "ended by the user", now)
                .await?
        {
            return Err(AuthError::NotFound);
        }
        let event = AuditEvent::new(AuditKind::SessionEnded)
            .user(caller.user.id)
            .detail(id);
        self.0.audit.record(event, client, now).await;
        Ok(())
    }

    /// Ends every session of the caller, this one included.
    #[tracing::instrument(skip_all)]
    pub async fn logout_all(
        &self,
        caller: &Authenticated,
        client: &ClientInfo,
    ) -> Result<u64, AuthError> {
        let now = self.0.clock.now();
        self.0
            .revocations
            .revoke(&caller.claims.jti, caller.claims.exp, now)
            .await?;
        let ended = self
            .0
            .refresh
            .revoke_user_families(caller.user.id, "logout everywhere", None, now)
            .await?;
        let detail = format!("{ended} sessions");
        let event = AuditEvent::new(AuditKind::LogoutAll)
            .user(caller.user.id)
            .detail(&detail);
        self.0.audit.record(event, client, now).await;
        Ok(ended)
    }

    /// Changes the password (the current one is required, the new one follows
    /// the registration rules) and ends every session but `keep_session`,
    /// and every mailed link of the account.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        &self,
        user_id: i64,
        keep_session: &str,
        req: &PasswordChangeRequest,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let new = new_password(&req.new_password, &req.confirm_password)?;
        let row = users::find_by_id(&self.0.db, user_id)
            .await?
            .ok_or(AuthError::NotFound)?;
        self.confirm_current_password(&row, &req.current_password, client)
            .await?;
        let hash = self.0.passwords.hash(&new).await?;
        let now = self.0.clock.now();
        // The new hash and the end of the other sessions commit together.
        let mut tx = self.0.db.begin_write().await?;
        users::set_password_hash(&mut *tx, user_id, &hash, now).await?;
        mail_tokens::end_all_in(&mut tx, user_id).await?;
        revoke_user_families_in(
            &mut tx,
            user_id,
            "password changed",
            Some(keep_session),
            now,
        )
        .await?;
        tx.commit().await?;
        self.0.validation.invalidate().await;
        let event = AuditEvent::new(AuditKind::PasswordChanged)
            .user(user_id)
            .detail("other sessions ended");
        self.0.audit.record(event, client, now).await;
        Ok(())
    }
}
