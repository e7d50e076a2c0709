//! The auth domain: passwords, access tokens, refresh-token families,
//! revocation, lockout and the audit log. It knows nothing of HTTP.

pub mod access_token;
pub mod admin;
pub mod audit;
pub mod client;
pub mod clock;
pub mod common_passwords;
mod group_commit;
pub mod lockout;
pub mod passwords;
pub mod refresh;
pub mod revocation;
pub mod sessions;
pub mod store;
pub mod users;
pub mod validation_cache;

use std::sync::Arc;

use app::{
    api::{AuthResponse, LoginRequest, RegisterRequest, User},
    rules::validate_registration,
};

pub use self::{access_token::Claims, audit::AuditKind, client::ClientInfo, clock::Clock};
use self::{
    access_token::{AccessTokens, TokenError},
    audit::{AuditEvent, AuditLog},
    lockout::Lockout,
    passwords::{HashError, PasswordHasher, Verified},
    refresh::{Origin, RefreshTokens, Rotation},
    revocation::RevocationList,
    store::{SharedStore, StoreError},
    users::{login_key, UserRow},
    validation_cache::ValidationCache,
};
use crate::{config::Config, db::Db, metrics::Metrics, redis_store::RedisStore};

/// Why an auth operation failed. The HTTP layer maps each to a status.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("validation failed")]
    Validation(Vec<String>),
    #[error("{0}")]
    Conflict(String),
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("locked out for {retry_after_secs} s")]
    LockedOut { retry_after_secs: u64 },
    #[error("invalid access token: {0}")]
    InvalidToken(String),
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("not found")]
    NotFound,
    #[error("store unavailable: {0}")]
    Unavailable(StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            // The database is down or overloaded: a 503, not a bug.
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                AuthError::Unavailable(StoreError::Database(e))
            }
            other => AuthError::Internal(format!("database: {other}")),
        }
    }
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        match e {
            // A database error is only "unavailable" when it says so.
            StoreError::Database(e) => e.into(),
            redis => AuthError::Unavailable(redis),
        }
    }
}

impl From<HashError> for AuthError {
    fn from(e: HashError) -> Self {
        AuthError::Internal(e.to_string())
    }
}

/// A password presented for an account: at login, or to confirm a change.
struct PasswordAttempt<'a> {
    /// The name the caller gave (or the account's), as the audit log shows it.
    name: &'a str,
    password: &'a str,
    /// The audit detail of a wrong password.
    failure: &'static str,
}

/// A successful sign-in or refresh: the answer, and the refresh family it belongs to.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub response: AuthResponse,
    pub family_id: String,
}

/// A caller whose access token passed every check.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// As stored now (role and active flag from the database, not the token).
    pub user: User,
    pub claims: Claims,
}

#[derive(Clone)]
pub struct AuthService(Arc<Inner>);

struct Inner {
    db: Db,
    clock: Clock,
    passwords: PasswordHasher,
    access: AccessTokens,
    refresh: RefreshTokens,
    revocations: RevocationList,
    lockout: Lockout,
    audit: AuditLog,
    /// Audit events older than this are deleted; `None` keeps them.
    audit_retention_secs: Option<i64>,
    validation: ValidationCache,
}

impl AuthService {
    pub fn new(
        config: &Config,
        db: Db,
        redis: Option<RedisStore>,
        clock: Clock,
        metrics: Metrics,
    ) -> Result<Self, AuthError> {
        let validation = ValidationCache::new(&db, redis.as_ref());
        let store = match redis {
            Some(redis) => SharedStore::Redis(redis),
            None => SharedStore::Database(db.clone()),
        };
        Ok(AuthService(Arc::new(Inner {
            clock: clock.clone(),
            passwords: PasswordHasher::new(config.bcrypt_cost, metrics.bcrypt_queue_depth())?,
            access: AccessTokens::new(config),
            refresh: RefreshTokens::new(
                db.clone(),
                clock,
                validation.clone(),
                config.refresh_token_ttl.as_secs() as i64,
                config.refresh_reuse_grace.as_secs() as i64,
            ),
            revocations: RevocationList::new(store.clone(), validation.clone()),
            lockout: Lockout::new(
                store,
                config.lockout_threshold,
                config.lockout_ip_threshold,
                config.lockout_window.as_secs() as i64,
            ),
            audit: AuditLog::new(db.clone(), metrics),
            audit_retention_secs: config.audit_retention.map(|d| d.as_secs() as i64),
            validation,
            db,
        })))
    }

    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    pub fn refresh_tokens(&self) -> &RefreshTokens {
        &self.0.refresh
    }

    /// Creates a User-role account and signs it in.
    pub async fn register(
        &self,
        req: &RegisterRequest,
        client: &ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let account = common_passwords::check(&req.password, validate_registration(req))
            .map_err(AuthError::Validation)?;
        let me = &self.0;
        let conflict = |(username, email): (bool, bool)| match (username, email) {
            (true, true) => Some("The username and the email are already registered."),
            (true, false) => Some("The username is already taken."),
            (false, true) => Some("The email is already registered."),
            (false, false) => None,
        };
        if let Some(message) = conflict(users::taken(&me.db, &account).await?) {
            return Err(AuthError::Conflict(message.into()));
        }
        let hash = me.passwords.hash(&account.password).await?;
        let now = me.clock.now();
        let id = match users::insert(&me.db, &account, &hash, now).await {
            Ok(id) => id,
            // A concurrent registration of the same name won the race.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                let message = conflict(users::taken(&me.db, &account).await?)
                    .unwrap_or("The username is already taken.");
                return Err(AuthError::Conflict(message.into()));
            }
            Err(e) => return Err(e.into()),
        };
        let user = self
            .user(id)
            .await?
            .ok_or_else(|| AuthError::Internal("the new user vanished".into()))?;
        let event = AuditEvent {
            kind: AuditKind::Register,
            user_id: Some(id),
            username: Some(&user.username),
            detail: None,
        };
        me.audit.record(event, client, now).await;
        self.sign_in(user, client, now).await
    }

    /// Checks the password (or, for an unknown user, a dummy hash, so both
    /// take the same time) within the lockout budgets.
    pub async fn login(
        &self,
        req: &LoginRequest,
        client: &ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let me = &self.0;
        if app::rules::has_control_characters(&req.username) {
            return Err(AuthError::Validation(vec![
                "Username or email must not contain control characters.".into(),
            ]));
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
            return Err(AuthError::Internal(
                "a check without an account passed".into(),
            ));
        };
        let now = me.clock.now();
        if verified == Verified::YesButRehash {
            self.upgrade_hash(row.id, &req.password, now).await;
        }
        let user = row.to_api();
        let event = AuditEvent {
            kind: AuditKind::LoginSucceeded,
            user_id: Some(user.id),
            username: Some(&user.username),
            detail: None,
        };
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
            Some(row) => lockout::Subject::Account(row.id),
            None => lockout::Subject::Name(attempt.name),
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
                let event = AuditEvent {
                    kind: AuditKind::LoginFailed,
                    user_id,
                    username: Some(attempt.name),
                    detail: Some("locked out"),
                };
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
            Some(r) if r.is_active == 0 => "inactive user",
            Some(_) if verified == Verified::No => attempt.failure,
            Some(_) => {
                me.lockout.succeeded(reservation, now).await?;
                return Ok(verified);
            }
        };
        let event = AuditEvent {
            kind: AuditKind::LoginFailed,
            user_id,
            username: Some(attempt.name),
            detail: Some(detail),
        };
        me.audit.record(event, client, now).await;
        if me.lockout.failed(reservation) {
            let event = AuditEvent {
                kind: AuditKind::Lockout,
                user_id,
                username: Some(attempt.name),
                detail: None,
            };
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
                "The current password is wrong.".into(),
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
            .map_err(|e| AuthError::Internal(format!("jwt: {e}")))?;
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
                let event = AuditEvent {
                    kind: AuditKind::Refresh,
                    user_id: Some(user.id),
                    username: Some(&user.username),
                    detail: None,
                };
                if audited {
                    me.audit.announce(&event, client);
                } else {
                    me.audit.record(event, client, now).await;
                }
                self.respond(user, family_id, token, now)
            }
            Rotation::ReuseDetected { user_id, family_id } => {
                let detail = format!("family {family_id} revoked");
                let event = AuditEvent {
                    kind: AuditKind::RefreshReuseDetected,
                    user_id: Some(user_id),
                    username: None,
                    detail: Some(&detail),
                };
                me.audit.record(event, client, now).await;
                Err(AuthError::InvalidRefreshToken)
            }
            Rotation::Invalid => Err(AuthError::InvalidRefreshToken),
        }
    }

    /// Logout: the access token is revoked until its expiry, and its session
    /// ends, as does the family of `refresh_token` when it is the caller's.
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
        let event = AuditEvent {
            kind: AuditKind::Revoke,
            user_id: Some(caller.user.id),
            username: Some(&caller.user.username),
            detail: None,
        };
        me.audit.record(event, client, now).await;
        Ok(())
    }

    /// Checks a bearer token: signature and claims, then the revocation
    /// list, that its session is on, and that the user exists and is active.
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated, AuthError> {
        let me = &self.0;
        let now = me.clock.now();
        let claims = me.access.verify(token, now).map_err(|e| match e {
            TokenError::Invalid(why) => AuthError::InvalidToken(why),
            other => AuthError::InvalidToken(other.to_string()),
        })?;
        let id: i64 = claims
            .sub
            .parse()
            .map_err(|_| AuthError::InvalidToken("bad subject".into()))?;
        // With Redis, the revocation list is asked with the generation, in
        // one command; in the database, it is part of the query below.
        let listed = me.revocations.redis_key(&claims.jti);
        let list_in_db = listed.is_none();
        let (generation, revoked_elsewhere) = me.validation.generation_and_listed(listed).await?;
        if revoked_elsewhere {
            return Err(AuthError::InvalidToken("revoked".into()));
        }
        if let Some(answer) = me.validation.get(&claims.jti, generation) {
            if answer.session_expires_at <= now {
                return Err(AuthError::InvalidToken("session ended".into()));
            }
            return Ok(Authenticated {
                user: answer.user.clone(),
                claims,
            });
        }
        // One query reads the user (active flag and role as stored now), the
        // token's session and, when the list lives in the database, whether
        // the jti is revoked. (Each SQLite query is a hand-off to a connection
        // thread: the profile showed those context switches as the cost of
        // validation, hence the one query, and the cache in front of it.)
        let listed_jti = list_in_db.then_some(claims.jti.as_str());
        let row = users::find_for_token(&me.db, id, &claims.sid, listed_jti).await?;
        let Some(row) = row else {
            return Err(AuthError::InvalidToken("user deleted".into()));
        };
        if row.revoked != 0 {
            return Err(AuthError::InvalidToken("revoked".into()));
        }
        if row.user.is_active == 0 {
            return Err(AuthError::InvalidToken("user deactivated".into()));
        }
        let session_expires_at = match row.session_expires_at {
            Some(expires_at) if expires_at > now => expires_at,
            _ => return Err(AuthError::InvalidToken("session ended".into())),
        };
        let user = row.user.to_api();
        me.validation
            .remember(&claims.jti, generation, &user, session_expires_at);
        Ok(Authenticated { user, claims })
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>, AuthError> {
        Ok(users::find_by_id(&self.0.db, id)
            .await?
            .map(|row| row.to_api()))
    }

    /// Deletes expired refresh families, revocations and lockout counters,
    /// and the audit events older than the retention.
    pub async fn cleanup(&self) -> Result<u64, AuthError> {
        let now = self.0.clock.now();
        let families = self.0.refresh.delete_expired(now).await?;
        let revocations = self.0.revocations.delete_expired(now).await?;
        let counters = self.0.lockout.delete_expired(now).await?;
        let events = match self.0.audit_retention_secs {
            Some(keep) => self.0.audit.delete_older_than(now - keep).await?,
            None => 0,
        };
        Ok(families + revocations + counters + events)
    }
}
