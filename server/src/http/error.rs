//! The one place where a failure becomes an HTTP response: status, envelope
//! and `WWW-Authenticate` (RFC 6750).

use super::language;
use crate::{auth::AuthError, store::StoreError, telemetry::error_chain};
use app::{
    api::{Envelope, Locale},
    i18n::{Msg, Text},
};
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

/// Every failure a handler can report. Messages are for people, in the
/// caller's language; clients must not parse them.
#[derive(Debug)]
pub enum ApiError {
    Validation(Vec<Text>),
    BadBody(Vec<Text>),
    UnsupportedMediaType,
    PayloadTooLarge,
    MissingToken,
    InvalidToken,
    InvalidCredentials,
    InvalidRefreshToken,
    InsufficientScope,
    EmailNotVerified,
    NotFound,
    MethodNotAllowed,
    Conflict(Text),
    TooManyAttempts {
        retry_after_secs: u64,
    },
    RateLimited {
        retry_after_secs: u64,
    },
    Timeout,
    MetricsTokenRequired,
    /// Names what does not answer (machine-readable, never translated).
    Unavailable(String),
    /// A bug or a failed dependency. The cause is logged, never sent.
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

/// English, for logs.
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.message().fmt(f)
    }
}

impl std::error::Error for ApiError {}

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

    /// The envelope's `message`.
    pub fn message(&self) -> Text {
        Text::new(match self {
            ApiError::Validation(_) => Msg::ApiInvalid,
            ApiError::BadBody(_) => Msg::ApiUnreadableBody,
            ApiError::UnsupportedMediaType => Msg::ApiJsonOnly,
            ApiError::PayloadTooLarge => Msg::ApiTooLarge,
            ApiError::MissingToken => Msg::ApiMissingToken,
            ApiError::InvalidToken => Msg::ApiInvalidToken,
            ApiError::InvalidCredentials => Msg::ApiInvalidCredentials,
            ApiError::InvalidRefreshToken => Msg::ApiInvalidRefreshToken,
            ApiError::InsufficientScope => Msg::ApiInsufficientScope,
            ApiError::EmailNotVerified => Msg::ApiEmailNotVerified,
            ApiError::NotFound => Msg::ApiNotFound,
            ApiError::MethodNotAllowed => Msg::ApiMethodNotAllowed,
            ApiError::Conflict(text) => return text.clone(),
            ApiError::TooManyAttempts { .. } => Msg::ApiTooManyAttempts,
            ApiError::RateLimited { .. } => Msg::ApiRateLimited,
            ApiError::Timeout => Msg::ApiTimeout,
            ApiError::MetricsTokenRequired => Msg::ApiMetricsToken,
            ApiError::Unavailable(_) => Msg::ApiUnavailable,
            ApiError::Internal(_) => Msg::ApiInternal,
        })
    }

    /// The envelope's `errors`, in `locale`.
    pub fn errors(&self, locale: Locale) -> Vec<String> {
        match self {
            ApiError::Validation(errors) | ApiError::BadBody(errors) => {
                errors.iter().map(|e| e.render(locale)).collect()
            }
            ApiError::Unavailable(what) => vec![what.clone()],
            // Machine-readable: clients branch on it (the contract's section 1).
            ApiError::EmailNotVerified => vec![app::api::EMAIL_NOT_VERIFIED.to_string()],
            ApiError::Internal(_) => Vec::new(),
            other => vec![other.message().render(locale)],
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(cause = %error_chain(cause.as_ref()), "request failed");
        }
        let locale = language::current();
        let body = Envelope::failure(self.message().render(locale), self.errors(locale));
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
            AuthError::InvalidLink => ApiError::Validation(vec![Msg::ApiInvalidLink.into()]),
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

/// A successful response in the envelope, its message in the caller's language.
pub fn ok<T: serde::Serialize>(status: StatusCode, message: impl Into<Text>, data: T) -> Response {
    let message = language::render(&message.into());
    (status, Json(Envelope::success(message, data))).into_response()
}
