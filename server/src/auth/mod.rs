//! The auth domain: passwords, access tokens, refresh-token families,
//! revocation, lockout and the audit log. It knows nothing of HTTP; its
//! state lives in the database and in the stores chosen at start-up.
//!
//! `AuthService` is the one entry point, its operations a file each by what
//! they are for: `sign_in` (register, login, refresh), `authenticate` (a
//! Bearer token), `sessions` (logout and the user's sessions), `account`
//! (self-service), `recovery` (email verification and password reset, by
//! mailed links), `admin`; `mailing` writes the mails they send.

pub mod access_token;
mod account;
pub mod admin;
pub mod audit;
mod authenticate;
pub mod client;
pub mod clock;
pub mod common_passwords;
mod error;
mod group_commit;
pub mod lockout;
pub mod mail_tokens;
mod mailing;
pub mod passwords;
pub mod recovery;
pub mod refresh;
pub mod revocation;
pub mod sessions;
pub mod sign_in;
pub mod users;
pub mod validation_cache;

use std::sync::Arc;

use app::api::{AuthResponse, Locale, User};

use self::{
    access_token::AccessTokens, audit::AuditLog, lockout::Lockout, passwords::PasswordHasher,
    refresh::RefreshTokens, revocation::RevocationList, validation_cache::ValidationCache,
};
pub use self::{access_token::Claims, client::ClientInfo, clock::Clock, error::AuthError};
use crate::{
    config::{Config, MailSettings},
    db::Db,
    mail::Outbox,
    metrics::Metrics,
    store::{RedisStore, Stores},
};

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
    pub claims: Arc<Claims>,
    /// The language the account chose, for the API's messages when the
    /// request names none.
    pub locale: Locale,
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
    /// The mails of the account lifecycle, sent after the response.
    outbox: Outbox,
    mail: MailSettings,
    /// Audit events older than this are deleted; `None` keeps them.
    audit_retention_secs: Option<i64>,
    validation: ValidationCache,
}

impl AuthService {
    /// Builds the domain from its settings, each part taking its own.
    pub fn new(
        config: &Config,
        db: Db,
        stores: &Stores,
        redis: Option<&RedisStore>,
        clock: Clock,
        metrics: Metrics,
    ) -> Result<Self, AuthError> {
        let validation = ValidationCache::new(&db, redis, clock.clone());
        Ok(AuthService(Arc::new(Inner {
            passwords: PasswordHasher::new(&config.passwords, metrics.bcrypt_queue_depth())?,
            access: AccessTokens::new(&config.tokens),
            refresh: RefreshTokens::new(
                db.clone(),
                clock.clone(),
                validation.clone(),
                &config.tokens,
            ),
            revocations: RevocationList::new(stores.revocations.clone(), validation.clone()),
            lockout: Lockout::new(stores.lockout.clone(), &config.lockout),
            audit: AuditLog::new(db.clone(), metrics),
            outbox: Outbox::new(db.clone()),
            mail: config.mail.clone(),
            audit_retention_secs: config.audit_retention.map(|d| d.as_secs() as i64),
            validation,
            clock,
            db,
        })))
    }

    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    pub fn refresh_tokens(&self) -> &RefreshTokens {
        &self.0.refresh
    }

    pub fn outbox(&self) -> &Outbox {
        &self.0.outbox
    }

    /// A user, and the language of their account.
    pub async fn user_and_locale(&self, id: i64) -> Result<Option<(User, Locale)>, AuthError> {
        Ok(users::find_by_id(&self.0.db, id)
            .await?
            .map(|row| (row.to_api(), row.locale)))
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>, AuthError> {
        Ok(users::find_by_id(&self.0.db, id)
            .await?
            .map(|row| row.to_api()))
    }

    /// Deletes expired refresh families, revocations, lockout counters,
    /// link tokens and mail throttles, and the audit events older than the
    /// retention.
    pub async fn cleanup(&self) -> Result<u64, AuthError> {
        let now = self.0.clock.now();
        let families = self.0.refresh.delete_expired(now).await?;
        let revocations = self.0.revocations.delete_expired(now).await?;
        let counters = self.0.lockout.delete_expired(now).await?;
        let links = mail_tokens::delete_expired(&self.0.db, now).await?;
        let throttles = self.0.outbox.delete_expired(now).await?;
        let events = match self.0.audit_retention_secs {
            Some(keep) => self.0.audit.delete_older_than(now - keep).await?,
            None => 0,
        };
        Ok(families + revocations + counters + links + throttles + events)
    }
}
