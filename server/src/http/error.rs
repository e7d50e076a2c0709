//! The one place where a failure becomes an HTTP response: status, envelope
//! and `WWW-Authenticate` (RFC 6750).

use crate::{auth::AuthError, store::StoreError, telemetry::error_chain};
use app::api::Envelope;
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

/// Every failure a handler can report. Messages are for people; clients
/// must not parse them.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("The request is invalid.")]
    Validation(Vec<String>),
    #[error("The request body could not be read.")]
    BadBody(Vec<String>),
    #[error("Content-Type must be application/json.")]
    UnsupportedMediaType,
    #[error("The request body is larger than 64 KiB.")]
    PayloadTooLarge,
    #[error("Authentication required.")]
    MissingToken,
    #[error("The access token is invalid or has expired.")]
    InvalidToken,
    #[error("Invalid username or password.")]
    InvalidCredentials,
    #[error("The refresh token is invalid, expired or revoked.")]
    InvalidRefreshToken,
    #[error("You do not have permission to do this.")]
    InsufficientScope,
    #[error("Verify your email address first: we have sent you a new link.")]
    EmailNotVerified,
    #[error("Not found.")]
    NotFound,
    #[error("Method not allowed.")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    #[error("Too many failed attempts. Try again later.")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("Too many requests. Slow down and try again later.")]
    RateLimited { retry_after_secs: u64 },
    #[error("The request took too long.")]
    Timeout,
    #[error("Metrics need the metrics token.")]
    MetricsTokenRequired,
    #[error("The service is temporarily unavailable.")]
    Unavailable(String),
    /// A bug or a failed dependency. The cause is logged, never sent.
    #[error("Internal server error.")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadBody(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::MissingToken
            | ApiError::InvalidToken
            | ApiError::InvalidCredentials
            | ApiError::InvalidRefreshToken => StatusCode::UNAUTHORIZED,
            ApiError::InsufficientScope | ApiError::EmailNotVerified => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyAttempts { .. } | ApiError::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::MetricsTokenRequired => StatusCode::UNAUTHORIZED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn errors(&self) -> Vec<String> {
        match self {
            ApiError::Validation(errors) | ApiError::BadBody(errors) => errors.clone(),
            ApiError::Unavailable(what) => vec![what.clone()],
            // Machine-readable: clients branch on it (the contract's section 1).
            ApiError::EmailNotVerified => vec![app::api::EMAIL_NOT_VERIFIED.to_string()],
            ApiError::Internal(_) => Vec::new(),
            other => vec![other.to_string()],
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(cause = %error_chain(cause.as_ref()), "request failed");
        }
        let body = Envelope::failure(self.to_string(), self.errors());
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::MissingToken | ApiError::MetricsTokenRequired => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::InvalidToken => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer error="invalid_token""#),
                );
            }
            ApiError::InsufficientScope => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer error="insufficient_scope""#),
                );
            }
            ApiError::TooManyAttempts { retry_after_secs }
            | ApiError::RateLimited { retry_after_secs } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from((*retry_after_secs).max(1)),
                );
            }
            _ => {}
        }
        response
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Validation(errors) => ApiError::Validation(errors),
            AuthError::Conflict(message) => ApiError::Conflict(message),
            AuthError::InvalidCredentials => ApiError::InvalidCredentials,
            AuthError::LockedOut { retry_after_secs } => {
                ApiError::TooManyAttempts { retry_after_secs }
            }
            AuthError::InvalidToken(_) => ApiError::InvalidToken,
            AuthError::InvalidRefreshToken => ApiError::InvalidRefreshToken,
            AuthError::NotFound => ApiError::NotFound,
            AuthError::EmailNotVerified => ApiError::EmailNotVerified,
            AuthError::InvalidLink => ApiError::Validation(vec![INVALID_LINK.to_string()]),
            AuthError::Unavailable(cause) => {
                // The cause may name hosts: it goes to the log, not to the client.
                tracing::warn!(cause = %error_chain(&cause), "a store is unavailable");
                ApiError::Unavailable(match cause {
                    StoreError::Database(_) => "database unavailable".into(),
                    StoreError::Redis(_) => "revocation store unavailable".into(),
                })
            }
            internal @ (AuthError::Database(_)
            | AuthError::Hashing(_)
            | AuthError::Signing(_)
            | AuthError::Broken(_)) => ApiError::Internal(Box::new(internal)),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(Box::new(e))
    }
}

/// The one answer to a mailed link's token that cannot be used, whatever the reason.
pub const INVALID_LINK: &str =
    "This link is invalid, has been used or has expired. Ask for a new one.";

/// A successful response in the envelope.
pub fn ok<T: serde::Serialize>(status: StatusCode, message: &str, data: T) -> Response {
    (status, Json(Envelope::success(message, data))).into_response()
}
