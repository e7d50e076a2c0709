//! Why an auth operation failed. The HTTP layer maps each to a status; the
//! causes stay attached, so the log shows the whole chain.

use app::i18n::Text;

use super::passwords::HashError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("validation failed")]
    Validation(Vec<Text>),
    #[error("{0}")]
    Conflict(Text),
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
    /// The account's address must be verified first (`EMAIL_VERIFICATION=required`).
    #[error("email not verified")]
    EmailNotVerified,
    /// A mailed link's token that is malformed, unknown, used or expired.
    #[error("invalid link token")]
    InvalidLink,
    /// The database or Redis cannot answer now: a 503, not a bug.
    #[error("store unavailable")]
    Unavailable(#[source] StoreError),
    #[error("database")]
    Database(#[source] sqlx::Error),
    #[error("password hashing")]
    Hashing(#[from] HashError),
    #[error("signing an access token")]
    Signing(#[source] jsonwebtoken::errors::Error),
    /// Something the code relies on did not hold.
    #[error("{0}")]
    Broken(&'static str),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                AuthError::Unavailable(StoreError::Database(e))
            }
            other => AuthError::Database(other),
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
