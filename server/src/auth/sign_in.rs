//! Signing in: registration, login, every password check (with the
//! lockout), and rotating a refresh token to stay signed in.

use app::{
    api::{AuditKind, AuthResponse, Locale, LoginRequest, RegisterRequest, Role, User},
    i18n::Msg,
    rules::validate_registration,
};

use super::{
    audit::AuditEvent,
    client::ClientInfo,
    common_passwords,
    lockout::Subject,
    passwords::Verified,
    refresh::{Origin, Rotation},
    users::{self, login_key, NewRow, UserRow},
    AuthError, AuthService, SignedIn,
};
use crate::{
    config::EmailVerification,
    mail::{MailKind, NewMail},
};

/// A password presented for an account: at login, or to confirm a change.
pub(super) struct PasswordAttempt<'a> {
    /// The name the caller gave (or the account's), as the audit log shows it.
    pub name: &'a str,
    pub password: &'a str,
    /// The audit detail of a wrong password.
    pub failure: &'static str,
}

/// A new account, and its first session unless its address must be
/// verified before it may sign in.
pub struct Registered {
    pub user: User,
    pub signed_in: Option<SignedIn>,
}

/// How an account is created.
pub(super) struct Creation<'a> {
    pub role: Role,
    /// The address counts as verified (an operator made the account);
    /// otherwise a verification mail goes to it.
    pub verified: bool,
    /// The audit detail.
    pub detail: Option<&'a str>,
    /// The language of the account (and of its verification mail): the one
    /// the person registered in.
    pub locale: Locale,
}

impl AuthService {
    /// Creates a User-role account, mails its verification link, and signs
    /// it in (unless `EMAIL_VERIFICATION=required`: then the link first).
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        req: &RegisterRequest,
        locale: Locale,
        client: &ClientInfo,
    ) -> Result<Registered, AuthError> {
        let creation = Creation {
            role: Role::User,
            verified: false,
            detail: None,
            locale,
        };
        let user = self.create_account(req, creation, client).await?;
        let signed_in = match self.0.mail.verification {
            EmailVerification::Required => None,
            EmailVerification::Optional => Some(
                self.sign_in(user.clone(), client, self.0.clock.now())
                    .await?,
            ),
        };
        Ok(Registered { user, signed_in })
    }

    /// Creates an account: every registration rule and the common-password
    /// list, and a conflict for a name or address already taken (also when
    /// another registration wins the race to it).
    pub(super) async fn create_account(
        &self,
        req: &RegisterRequest,
        creation: Creation<'_>,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        let account = common_passwords::check(&req.password, validate_registration(req))
            .map_err(AuthError::Validation)?;
        let me = &self.0;
        let conflict = |(username, email): (bool, bool)| match (username, email) {
            (true, true) => Some(Msg::ApiUsernameAndEmailTaken),
            (true, false) => Some(Msg::ApiUsernameTaken),
            (false, true) => Some(Msg::ApiEmailTaken),
            (false, false) => None,
        };
        if let Some(message) = conflict(users::taken(&me.db, &account).await?) {
            return Err(AuthError::Conflict(message.into()));
        }
        let hash = me.passwords.hash(&account.password).await?;
        let now = me.clock.now();
        let row = NewRow {
            account: &account,
            password_hash: &hash,
            role: creation.role,
            locale: creation.locale,
            verified_at: creation.verified.then_some(now),
        };
        // The account and its verification mail commit together.
        let mut tx = me.db.begin_write().await?;
        let id = match users::insert_in(&mut tx, row, now).await {
            Ok(id) => id,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                drop(tx);
                let message = conflict(users::taken(&me.db, &account).await?)
                    .unwrap_or(Msg::ApiUsernameTaken);
                return Err(AuthError::Conflict(message.into()));
            }
            Err(e) => return Err(e.into()),
        };
        if !creation.verified {
            let mail = NewMail {
                kind: MailKind::VerifyEmail,
                user_id: id,
                address: account.email.as_str(),
                detail: None,
            };
            me.outbox.enqueue_throttled_in(&mut tx, mail, now).await?;
        }
        tx.commit().await?;
        me.outbox.wake();
        let user = self
            .user(id)
            .await?
            .ok_or(AuthError::Broken("the new user vanished"))?;
        let mut event = AuditEvent::new(AuditKind::Register)
            .user(id)
            .named(&user.username);
        if let Some(detail) = creation.detail {
            event = event.detail(detail);
        }
        me.audit.record(event, client, now).await;
        Ok(user)
    }

    /// Checks the password (or, for an unknown user, a dummy hash, so both
    /// take the same time) within the lockout budgets.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        req: &LoginRequest,
        client: &ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let me = &self.0;
        if app::rules::has_control_characters(&req.username) {
            return Err(AuthError::Validation(vec![Msg::RulesLoginControl.into()]));
        }
        // No account has a longer name or email; a longer one is only counted
        // and logged by its first characters, so it cannot bloat the tables.
        let full_key = login_key(&req.username);
        let could_exist = full_key.chars().count() <= app::rules::EMAIL_MAX;
        let key: String = full_key.chars().take(app::rules::EMAIL_MAX).collect();
        let row = match could_exist {
            true => users::find_by_login(&me.db, &key).await?,
            false => None,
        };
        let attempt = PasswordAttempt {
            name: &key,
            password: &req.password,
            failure: "wrong password",
        };
        let verified = self.check_password(row.as_ref(), attempt, client).await?;
        let Some(row) = row else {
            return Err(AuthError::Broken("a check without an account passed"));
        };
        let now = me.clock.now();
        if verified == Verified::YesButRehash {
            self.upgrade_hash(row.id, &req.password, now).await;
        }
        if me.mail.verification == EmailVerification::Required && !row.email_verified {
            // A fresh link (at most one a minute), so that the answer is
            // something the user can act on.
            self.mail_verification_link(row.id, &row.email, now).await?;
            let event = AuditEvent::new(AuditKind::LoginFailed)
                .user(row.id)
                .named(&row.username)
                .detail("email not verified");
            me.audit.record(event, client, now).await;
            return Err(AuthError::EmailNotVerified);
        }
        let user = row.to_api();
        let event = AuditEvent::new(AuditKind::LoginSucceeded)
            .user(user.id)
            .named(&user.username);
        me.audit.record(event, client, now).await;
        self.sign_in(user, client, now).await
    }

    /// Checks a password against an account (or, for a name that is none,
    /// a dummy hash): the one path of every password check, so that each
    /// spends a place in the lockout budgets of the account (or the name)
    /// and of the client's network before the hash runs. A wrong password,
    /// an unknown name and an inactive account are one answer,
    /// `InvalidCredentials`, each logged with its own detail.
    async fn check_password(
        &self,
        row: Option<&UserRow>,
        attempt: PasswordAttempt<'_>,
        client: &ClientInfo,
    ) -> Result<Verified, AuthError> {
        let me = &self.0;
        let subject = match row {
            Some(row) => Subject::Account(row.id),
            None => Subject::Name(attempt.name),
        };
        let user_id = row.map(|r| r.id);
        let network = client.network();
        let reservation = match me
            .lockout
            .reserve(subject, network.as_deref(), me.clock.now())
            .await?
        {
            Ok(reservation) => reservation,
            Err(refused) => {
                let event = AuditEvent::new(AuditKind::LoginFailed)
                    .user(user_id)
                    .named(attempt.name)
                    .detail("locked out");
                me.audit.record(event, client, me.clock.now()).await;
                return Err(AuthError::LockedOut {
                    retry_after_secs: refused.retry_after_secs,
                });
            }
        };
        let verified = me
            .passwords
            .verify(attempt.password, row.map(|r| r.password_hash.as_str()))
            .await?;
        let now = me.clock.now();
        let detail = match row {
            None => "unknown user",
            Some(r) if !r.is_active => "inactive user",
            Some(_) if verified == Verified::No => attempt.failure,
            Some(_) => {
                me.lockout.succeeded(reservation, now).await?;
                return Ok(verified);
            }
        };
        let event = AuditEvent::new(AuditKind::LoginFailed)
            .user(user_id)
            .named(attempt.name)
            .detail(detail);
        me.audit.record(event, client, now).await;
        if me.lockout.failed(reservation) {
            let event = AuditEvent::new(AuditKind::Lockout)
                .user(user_id)
                .named(attempt.name);
            me.audit.record(event, client, now).await;
        }
        Err(AuthError::InvalidCredentials)
    }

    /// Checks the current password of a signed-in user before a change: a
    /// wrong one is a failed login of the account (the lockout applies) and
    /// a 400; a spent budget is a 429.
    pub(crate) async fn confirm_current_password(
        &self,
        row: &UserRow,
        password: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let attempt = PasswordAttempt {
            name: &row.username,
            password,
            failure: "wrong current password",
        };
        match self.check_password(Some(row), attempt, client).await {
            Ok(_) => Ok(()),
            Err(AuthError::InvalidCredentials) => Err(AuthError::Validation(vec![
                Msg::ApiCurrentPasswordWrong.into(),
            ])),
            Err(other) => Err(other),
        }
    }

    async fn upgrade_hash(&self, user_id: i64, password: &str, now: i64) {
        let Ok(password) = app::rules::Password::parse(password) else {
            return;
        };
        match self.0.passwords.hash(&password).await {
            Ok(hash) => {
                if let Err(e) =
                    users::set_password_hash(&self.0.db.writer, user_id, &hash, now).await
                {
                    tracing::warn!(error = %e, user_id, "cannot store the upgraded password hash");
                }
            }
            Err(e) => tracing::warn!(error = %e, user_id, "cannot upgrade the password hash"),
        }
    }

    /// Starts a refresh-token family and issues the first pair of tokens.
    async fn sign_in(
        &self,
        user: User,
        client: &ClientInfo,
        now: i64,
    ) -> Result<SignedIn, AuthError> {
        let origin = Origin {
            ip: client.ip.as_deref(),
            user_agent: client.user_agent.as_deref(),
        };
        let (family_id, refresh_token) = self.0.refresh.start_family(user.id, &origin, now).await?;
        self.respond(user, family_id, refresh_token, now)
    }

    fn respond(
        &self,
        user: User,
        family_id: String,
        refresh_token: String,
        now: i64,
    ) -> Result<SignedIn, AuthError> {
        let (access_token, expires_in) = self
            .0
            .access
            .issue(&user, &family_id, now)
            .map_err(AuthError::Signing)?;
        let response = AuthResponse {
            access_token,
            refresh_token,
            token_type: "Bearer".into(),
            expires_in,
            user,
        };
        Ok(SignedIn {
            response,
            family_id,
        })
    }

    /// Undoes a sign-in whose answer cannot be given: its family ends, so
    /// that no session is left that nobody holds.
    pub async fn abandon_sign_in(&self, signed_in: &SignedIn) -> Result<(), AuthError> {
        let now = self.0.clock.now();
        self.0
            .refresh
            .revoke_family(&signed_in.family_id, "sign-in abandoned", now)
            .await?;
        Ok(())
    }

    /// Rotates a refresh token (see [`RefreshTokens::rotate`]).
    #[tracing::instrument(skip_all)]
    pub async fn refresh(
        &self,
        presented: &str,
        client: &ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let me = &self.0;
        let now = me.clock.now();
        match me.refresh.rotate(presented, client, now).await? {
            Rotation::Rotated {
                user,
                family_id,
                token,
                audited,
            } => {
                let user = user.to_api();
                let event = AuditEvent::new(AuditKind::Refresh)
                    .user(user.id)
                    .named(&user.username);
                if audited {
                    me.audit.announce(&event, client);
                } else {
                    me.audit.record(event, client, now).await;
                }
                self.respond(user, family_id, token, now)
            }
            Rotation::ReuseDetected { user_id, family_id } => {
                let detail = format!("family {family_id} revoked");
                let event = AuditEvent::new(AuditKind::RefreshReuseDetected)
                    .user(user_id)
                    .detail(&detail);
                me.audit.record(event, client, now).await;
                Err(AuthError::InvalidRefreshToken)
            }
            Rotation::Invalid => Err(AuthError::InvalidRefreshToken),
        }
    }
}
