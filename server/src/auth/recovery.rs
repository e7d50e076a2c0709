//! Mailed links: verifying an address, and resetting a forgotten password
//! (asked for by the user, by an admin, or set by the operator).

use app::{
    api::{Account, AuditKind, ResetPasswordRequest},
    i18n::Msg,
    rules::{Email, Password},
};

use super::{
    admin::by,
    audit::AuditEvent,
    client::ClientInfo,
    common_passwords,
    mail_tokens::{self, Purpose},
    refresh::revoke_user_families_in,
    users::{self, login_key, UserRow},
    AuthError, AuthService, Authenticated,
};
use crate::mail::{MailKind, NewMail};

/// Whether a mail was written, or held back by the one-a-minute throttle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mailed {
    Yes,
    Throttled,
}

impl AuthService {
    /// Writes a mail into the outbox (at most one of its kind a minute to
    /// an address) and wakes the worker.
    async fn mail_throttled(&self, mail: NewMail<'_>, now: i64) -> Result<Mailed, AuthError> {
        let me = &self.0;
        let mut tx = me.db.begin_write().await?;
        let written = me.outbox.enqueue_throttled_in(&mut tx, mail, now).await?;
        tx.commit().await?;
        if !written {
            return Ok(Mailed::Throttled);
        }
        me.outbox.wake();
        Ok(Mailed::Yes)
    }

    /// Mails a fresh link to `/verify-email` for the account's address.
    pub(super) async fn mail_verification_link(
        &self,
        user_id: i64,
        email: &str,
        now: i64,
    ) -> Result<Mailed, AuthError> {
        let mail = NewMail {
            kind: MailKind::VerifyEmail,
            user_id,
            address: email,
            detail: None,
        };
        self.mail_throttled(mail, now).await
    }

    /// `POST /api/auth/email/resend`: a fresh link, unless the address is
    /// verified already (then there is nothing to send).
    #[tracing::instrument(skip_all)]
    pub async fn resend_verification(&self, user_id: i64) -> Result<(), AuthError> {
        let row = users::find_by_id(&self.0.db, user_id)
            .await?
            .ok_or(AuthError::NotFound)?;
        if !row.email_verified {
            self.mail_verification_link(row.id, &row.email, self.0.clock.now())
                .await?;
        }
        Ok(())
    }

    /// `POST /api/auth/password/forgot`, after the answer: mails a reset link
    /// when `email` is the address of an active account. The caller has
    /// answered already, the same way whatever happens here, so nothing of
    /// this (not even its time) tells whether the address has an account.
    #[tracing::instrument(skip_all)]
    pub async fn forgot_password(&self, email: &str, client: &ClientInfo) -> Result<(), AuthError> {
        let me = &self.0;
        let now = me.clock.now();
        let row = users::find_by_login(&me.db, &login_key(email))
            .await?
            // By address only: a username is not where the link would go.
            .filter(|row| login_key(&row.email) == login_key(email));
        let Some(row) = row else {
            let event = AuditEvent::new(AuditKind::PasswordResetRequested)
                .detail("no account has this address");
            me.audit.record(event, client, now).await;
            return Ok(());
        };
        let detail = if !row.is_active {
            "inactive account: no mail"
        } else {
            match self.mail_reset_link(&row, now).await? {
                Mailed::Yes => "link mailed",
                Mailed::Throttled => "a link was mailed less than a minute ago",
            }
        };
        let event = AuditEvent::new(AuditKind::PasswordResetRequested)
            .user(row.id)
            .named(&row.username)
            .detail(detail);
        me.audit.record(event, client, now).await;
        Ok(())
    }

    async fn mail_reset_link(&self, row: &UserRow, now: i64) -> Result<Mailed, AuthError> {
        let mail = NewMail {
            kind: MailKind::PasswordReset,
            user_id: row.id,
            address: &row.email,
            detail: None,
        };
        self.mail_throttled(mail, now).await
    }

    /// `POST /api/admin/users/{id}/password-reset`: mails the user a reset link.
    #[tracing::instrument(skip_all)]
    pub async fn admin_password_reset(
        &self,
        actor: &Authenticated,
        id: i64,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let me = &self.0;
        let row = users::find_by_id(&me.db, id)
            .await?
            .ok_or(AuthError::NotFound)?;
        if !row.is_active {
            return Err(AuthError::Conflict(Msg::ApiDeactivatedReset.into()));
        }
        let now = me.clock.now();
        let mailed = self.mail_reset_link(&row, now).await?;
        let detail = match mailed {
            Mailed::Yes => format!("link mailed {}", by(actor)),
            Mailed::Throttled => format!("a link was mailed less than a minute ago; {}", by(actor)),
        };
        let event = AuditEvent::new(AuditKind::PasswordResetRequested)
            .user(id)
            .detail(&detail);
        me.audit.record(event, client, now).await;
        Ok(())
    }

    /// `POST /api/auth/password/reset`: the link's token sets a new
    /// password. Every session of the account ends, the account's lockout
    /// count starts again, and a notice is mailed. Receiving the link proves
    /// the address, so it counts as verified from then.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(
        &self,
        req: &ResetPasswordRequest,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let me = &self.0;
        let new = new_password(&req.new_password, &req.confirm_password)?;
        // The token is checked before the (slow) hash and used up after it,
        // in the transaction of the change: a refused password leaves it
        // usable, and of concurrent uses only one gets it.
        let found = mail_tokens::peek(&me.db, &req.token, Purpose::Reset, me.clock.now())
            .await?
            .ok_or(AuthError::InvalidLink)?;
        let row = self.link_account(found.user_id, &found.email).await?;
        let hash = me.passwords.hash(&new).await?;
        let now = me.clock.now();
        let mut tx = me.db.begin_write().await?;
        if mail_tokens::redeem_in(&mut tx, &req.token, Purpose::Reset, now)
            .await?
            .is_none()
        {
            return Err(AuthError::InvalidLink);
        }
        users::set_password_hash(&mut *tx, row.id, &hash, now).await?;
        users::mark_verified_in(&mut tx, row.id, now).await?;
        mail_tokens::end_all_in(&mut tx, row.id).await?;
        revoke_user_families_in(&mut tx, row.id, "password reset", None, now).await?;
        let notice = NewMail {
            kind: MailKind::PasswordChanged,
            user_id: row.id,
            address: &row.email,
            detail: None,
        };
        me.outbox.enqueue_in(&mut tx, notice, now).await?;
        tx.commit().await?;
        me.outbox.wake();
        me.validation.invalidate().await;
        me.lockout.clear_account(row.id, now).await?;
        let event = AuditEvent::new(AuditKind::PasswordReset)
            .user(row.id)
            .named(&row.username)
            .detail("by a mailed link; every session ended");
        me.audit.record(event, client, now).await;
        Ok(())
    }

    /// The account a link was mailed for, while the link still means it:
    /// the account is active and its address is still the one mailed.
    async fn link_account(&self, user_id: i64, mailed_to: &str) -> Result<UserRow, AuthError> {
        users::find_by_id(&self.0.db, user_id)
            .await?
            .filter(|row| row.is_active && login_key(&row.email) == login_key(mailed_to))
            .ok_or(AuthError::InvalidLink)
    }

    /// `POST /api/auth/email/verify`: verifies the address the link was
    /// mailed to; for an email change, that address becomes the account's
    /// (409 when another account took it meanwhile; the link stays usable).
    #[tracing::instrument(skip_all)]
    pub async fn verify_email(
        &self,
        token: &str,
        client: &ClientInfo,
    ) -> Result<Account, AuthError> {
        let me = &self.0;
        let now = me.clock.now();
        let mut tx = me.db.begin_write().await?;
        let redeemed = mail_tokens::redeem_in(&mut tx, token, Purpose::Verify, now)
            .await?
            .ok_or(AuthError::InvalidLink)?;
        let row = users::find_by_id(&me.db, redeemed.user_id)
            .await?
            .filter(|row| row.is_active)
            .ok_or(AuthError::InvalidLink)?;
        let changed = login_key(&row.email) != login_key(&redeemed.email);
        if changed {
            match users::change_email_in(&mut tx, row.id, &redeemed.email, now).await {
                Ok(()) => {}
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(AuthError::Conflict(Msg::ApiEmailTaken.into()));
                }
                Err(e) => return Err(e.into()),
            }
            // Links mailed to the old address mean it no longer.
            mail_tokens::end_all_in(&mut tx, row.id).await?;
        } else {
            users::mark_verified_in(&mut tx, row.id, now).await?;
        }
        tx.commit().await?;
        let kind = if changed {
            // The address is in every token and cached answer of the user.
            me.validation.invalidate().await;
            AuditKind::EmailChanged
        } else {
            AuditKind::EmailVerified
        };
        let event = AuditEvent::new(kind).user(row.id).named(&row.username);
        me.audit.record(event, client, now).await;
        self.account(row.id).await
    }

    /// `server admin set-password`: the operator sets a password; every
    /// session of the account ends and its lockout count starts again.
    #[tracing::instrument(skip_all)]
    pub async fn set_password(&self, name: &str, password: &str) -> Result<u64, AuthError> {
        let me = &self.0;
        let row = users::find_by_login(&me.db, &login_key(name))
            .await?
            .ok_or(AuthError::NotFound)?;
        let new = new_password(password, password)?;
        let hash = me.passwords.hash(&new).await?;
        let now = me.clock.now();
        let mut tx = me.db.begin_write().await?;
        users::set_password_hash(&mut *tx, row.id, &hash, now).await?;
        mail_tokens::end_all_in(&mut tx, row.id).await?;
        let ended =
            revoke_user_families_in(&mut tx, row.id, "password set by the operator", None, now)
                .await?;
        tx.commit().await?;
        me.validation.invalidate().await;
        me.lockout.clear_account(row.id, now).await?;
        let detail = format!("on the command line; {ended} sessions ended");
        let event = AuditEvent::new(AuditKind::PasswordReset)
            .user(row.id)
            .named(&row.username)
            .detail(&detail);
        me.audit.record(event, &ClientInfo::default(), now).await;
        Ok(ended)
    }
}

/// A new password by the registration rules, typed twice, not a common one.
pub(super) fn new_password(password: &str, confirmation: &str) -> Result<Password, AuthError> {
    let mut problems = Vec::new();
    let new = Password::parse(password).map_err(|e| problems.push(e)).ok();
    if password != confirmation {
        problems.push(Msg::RulesPasswordsDiffer.into());
    }
    if common_passwords::is_common(password) {
        problems.push(common_passwords::too_common());
    }
    match new {
        Some(new) if problems.is_empty() => Ok(new),
        _ => Err(AuthError::Validation(problems)),
    }
}

/// The address of a forgot-password request, by the registration rule.
pub fn forgot_address(raw: &str) -> Result<Email, AuthError> {
    Email::parse(raw.trim()).map_err(|e| AuthError::Validation(vec![e]))
}
