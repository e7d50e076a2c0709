//! Self-service: the account as its owner sees it, its name and language,
//! a change of address (confirmed from the new one), and deletion.

use app::{
    api::{Account, AccountUpdate, AuditKind, Locale},
    i18n::Msg,
    rules::{Email, FullName},
};

use super::{
    audit::AuditEvent,
    client::ClientInfo,
    clock::rfc3339,
    recovery::Mailed,
    users::{self, login_key, Guarded},
    AuthError, AuthService,
};
use crate::mail::{letters::mask_address, MailKind, NewMail};

impl AuthService {
    /// The account of `id`, as `GET /api/account` shows it.
    pub async fn account(&self, id: i64) -> Result<Account, AuthError> {
        let db = &self.0.db;
        let row = users::find_by_id(db, id)
            .await?
            .ok_or(AuthError::NotFound)?;
        let created_at = users::created_at(db, id)
            .await?
            .ok_or(AuthError::NotFound)?;
        Ok(Account {
            email_verified: row.email_verified,
            locale: row.locale,
            created_at: rfc3339(created_at),
            user: row.to_api(),
        })
    }

    /// `PATCH /api/account`: the name (by the registration rule) and the
    /// language, each when given.
    #[tracing::instrument(skip_all)]
    pub async fn update_account(
        &self,
        user_id: i64,
        update: &AccountUpdate,
    ) -> Result<Account, AuthError> {
        let full_name = match &update.full_name {
            Some(name) => Some(FullName::parse(name).map_err(|e| AuthError::Validation(vec![e]))?),
            None => None,
        };
        let now = self.0.clock.now();
        let changed = users::update_profile(
            &self.0.db,
            user_id,
            full_name.as_ref().map(FullName::as_str),
            update.locale,
            now,
        )
        .await?;
        if !changed {
            return Err(AuthError::NotFound);
        }
        if full_name.is_some() {
            // The name is in every validated caller and in new tokens.
            self.0.validation.invalidate().await;
        }
        self.account(user_id).await
    }

    /// The account's language, for the mails and pages of a signed-in user.
    pub async fn locale_of(&self, user_id: i64) -> Result<Option<Locale>, AuthError> {
        Ok(users::find_by_id(&self.0.db, user_id)
            .await?
            .map(|row| row.locale))
    }

    /// `POST /api/account/email`: after the current password, mails a link
    /// to the new address (which becomes the account's when it is used)
    /// and a notice to the old one.
    #[tracing::instrument(skip_all)]
    pub async fn request_email_change(
        &self,
        user_id: i64,
        new_email: &str,
        current_password: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let me = &self.0;
        let new = Email::parse(new_email.trim()).map_err(|e| AuthError::Validation(vec![e]))?;
        let row = users::find_by_id(&me.db, user_id)
            .await?
            .ok_or(AuthError::NotFound)?;
        // The password first: whether an address is taken is told only to
        // the account's owner.
        self.confirm_current_password(&row, current_password, client)
            .await?;
        if login_key(new.as_str()) == login_key(&row.email) {
            return Err(AuthError::Validation(vec![Msg::ApiSameAddress.into()]));
        }
        if users::email_taken(&me.db, new.as_str(), user_id).await? {
            return Err(AuthError::Conflict(Msg::ApiEmailTaken.into()));
        }
        let now = me.clock.now();
        let masked = mask_address(new.as_str());
        let mut tx = me.db.begin_write().await?;
        let link = NewMail {
            kind: MailKind::VerifyEmail,
            user_id,
            address: new.as_str(),
            detail: None,
        };
        let mailed = if me.outbox.enqueue_throttled_in(&mut tx, link, now).await? {
            let notice = NewMail {
                kind: MailKind::EmailChangeRequested,
                user_id,
                address: &row.email,
                detail: Some(&masked),
            };
            me.outbox.enqueue_in(&mut tx, notice, now).await?;
            Mailed::Yes
        } else {
            Mailed::Throttled
        };
        tx.commit().await?;
        me.outbox.wake();
        let detail = match mailed {
            Mailed::Yes => "link mailed to the new address, notice to the old one",
            Mailed::Throttled => "a link went to that address less than a minute ago",
        };
        let event = AuditEvent::new(AuditKind::EmailChangeRequested)
            .user(user_id)
            .named(&row.username)
            .detail(detail);
        me.audit.record(event, client, now).await;
        Ok(())
    }

    /// `DELETE /api/account`: after the current password, the account and
    /// everything that names it go (sessions, links, mails waiting, lockout
    /// count); the audit log keeps its events without the name. The last
    /// active admin stays (409).
    #[tracing::instrument(skip_all)]
    pub async fn delete_account(
        &self,
        user_id: i64,
        current_password: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let me = &self.0;
        let row = users::find_by_id(&me.db, user_id)
            .await?
            .ok_or(AuthError::NotFound)?;
        self.confirm_current_password(&row, current_password, client)
            .await?;
        let now = me.clock.now();
        let db = &me.db;
        let mut tx = db.begin_write().await?;
        let deleted = users::delete_guarded(&mut tx, db.backend, row.id).await?;
        if deleted == Guarded::Done {
            let keys = [login_key(&row.username), login_key(&row.email)];
            me.audit.forget_names_in(&mut tx, row.id, &keys).await?;
        }
        tx.commit().await?;
        match deleted {
            Guarded::Done => {}
            Guarded::NoSuchUser => return Err(AuthError::NotFound),
            Guarded::LastAdmin => return Err(AuthError::Conflict(Msg::ApiLastAdminDelete.into())),
        }
        // Its access tokens fail from now on: their user is gone.
        me.validation.invalidate().await;
        me.lockout.clear_account(row.id, now).await?;
        let event = AuditEvent::new(AuditKind::AccountDeleted).user(row.id);
        me.audit.record(event, client, now).await;
        Ok(())
    }
}
