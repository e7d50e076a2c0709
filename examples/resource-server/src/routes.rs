//! `GET /hello` (offline verification) and `GET /strict` (offline, then the
//! auth server's own answer), and the one place errors become responses.

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, State},
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::{json, Value};

use crate::{
    jwks::JwksCache,
    verify::{self, Claims},
};

#[derive(Clone)]
pub struct AppState {
    pub jwks: Arc<JwksCache>,
    pub http: reqwest::Client,
    /// `{AUTH_URL}/api/auth/validate`.
    pub validate_url: String,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/hello", get(hello))
        .route("/strict", get(strict))
        .with_state(state)
}

#[derive(Debug)]
pub enum ApiError {
    /// No `Authorization: Bearer` header.
    NoToken,
    InvalidToken,
    AuthServerUnavailable,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // RFC 6750 §3.1: no error code when no credentials were sent.
        let (status, challenge, error) = match self {
            ApiError::NoToken => (StatusCode::UNAUTHORIZED, Some("Bearer"), "invalid_token"),
            ApiError::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                Some(r#"Bearer error="invalid_token""#),
                "invalid_token",
            ),
            ApiError::AuthServerUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "auth_server_unavailable",
            ),
        };
        let body = Json(json!({ "error": error }));
        match challenge {
            Some(challenge) => {
                (status, [(header::WWW_AUTHENTICATE, challenge)], body).into_response()
            }
            None => (status, body).into_response(),
        }
    }
}

/// A caller whose Bearer token verified offline.
pub struct Caller {
    pub claims: Claims,
    pub token: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::NoToken)?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(ApiError::InvalidToken)?;
        match verify::verify(&state.jwks, token).await {
            Ok(claims) => Ok(Caller {
                claims,
                token: token.to_string(),
            }),
            Err(e) => {
                tracing::debug!(error = %e, "token refused");
                Err(ApiError::InvalidToken)
            }
        }
    }
}

#[tracing::instrument(skip_all, fields(user = %caller.claims.username))]
async fn hello(caller: Caller) -> Json<Value> {
    Json(greeting(&caller.claims))
}

/// Also refuses what offline verification cannot see: a token revoked by a
/// logout, or a user deactivated since the token was issued.
#[tracing::instrument(skip_all, fields(user = %caller.claims.username))]
async fn strict(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let answer = state
        .http
        .get(&state.validate_url)
        .bearer_auth(&caller.token)
        .send()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "cannot reach the auth server");
            ApiError::AuthServerUnavailable
        })?;
    match answer.status() {
        StatusCode::OK => Ok(Json(greeting(&caller.claims))),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(ApiError::InvalidToken),
        status => {
            tracing::warn!(%status, "the auth server did not answer the validation");
            Err(ApiError::AuthServerUnavailable)
        }
    }
}

fn greeting(claims: &Claims) -> Value {
    json!({
        "message": format!("Hello, {}", claims.username),
        "userId": claims.user_id,
        "username": claims.username,
        "role": claims.role,
    })
}
