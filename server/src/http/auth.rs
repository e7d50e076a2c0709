//! The endpoints under `/api/auth`. Each one translates: request in,
//! domain call, envelope out.

use app::api::{
    AuthResponse, Envelope, LoginRequest, PasswordChangeRequest, ProtectedResponse, RefreshRequest,
    RegisterRequest, RevokeRequest, SessionInfo, User, ValidateResponse,
};
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use time::format_description::well_known::Rfc3339;
use tower_sessions::Session;

use super::{
    error::{ok, ApiError},
    extract::{ApiPath, Client, CurrentUser},
    json::{ApiJson, OptionalJson},
    responses::{
        BearerFailures, BodyFailures, EmptyEnvelope, ErrorEnvelope, StoreFailures, TooManyRequests,
    },
    session,
};
use crate::{auth::SignedIn, state::AppState};

/// Starts the app's browser session for a sign-in that asks for one. When
/// the session cannot be stored, the sign-in is undone (its family revoked)
/// and answered with 503: the app would otherwise hold tokens that the
/// server's pages know nothing of, and no one would hold the family.
async fn with_browser_session(
    state: &AppState,
    headers: &HeaderMap,
    browser: &Session,
    signed_in: SignedIn,
) -> Result<SignedIn, ApiError> {
    if !session::wants_browser_session(headers) {
        return Ok(signed_in);
    }
    if let Err(e) = session::start(browser, &signed_in).await {
        tracing::warn!(error = %e, "cannot store the browser session; the sign-in is undone");
        state.auth.abandon_sign_in(&signed_in).await?;
        return Err(ApiError::Unavailable("session store unavailable".into()));
    }
    Ok(signed_in)
}

#[utoipa::path(post, path = "/api/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in", body = Envelope<AuthResponse>),
        (status = 409, description = "The username or email is already registered", body = ErrorEnvelope),
        BodyFailures, TooManyRequests, StoreFailures
    ))]
pub async fn register(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    browser: Session,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<Response, ApiError> {
    let signed_in = state.auth.register(&req, &client).await?;
    let signed_in = with_browser_session(&state, &headers, &browser, signed_in).await?;
    Ok(ok(
        StatusCode::CREATED,
        "Registration successful.",
        signed_in.response,
    ))
}

#[utoipa::path(post, path = "/api/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = Envelope<AuthResponse>),
        (status = 401, description = "Unknown user, wrong password or inactive account (one message for all)", body = ErrorEnvelope),
        BodyFailures, TooManyRequests, StoreFailures
    ))]
pub async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    browser: Session,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let signed_in = state.auth.login(&req, &client).await?;
    let signed_in = with_browser_session(&state, &headers, &browser, signed_in).await?;
    Ok(ok(StatusCode::OK, "Login successful.", signed_in.response))
}

#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Envelope<User>),
        BearerFailures
    ))]
pub async fn me(CurrentUser(caller): CurrentUser) -> Response {
    ok(StatusCode::OK, "Current user.", caller.user)
}

#[utoipa::path(get, path = "/api/auth/validate", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The token is valid", body = Envelope<ValidateResponse>),
        BearerFailures
    ))]
pub async fn validate(CurrentUser(caller): CurrentUser) -> Response {
    let data = ValidateResponse {
        valid: true,
        user_id: caller.user.id.to_string(),
        username: caller.user.username,
        message: "Token is valid.".into(),
    };
    ok(StatusCode::OK, "Token is valid.", data)
}

#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new access token and a NEW refresh token (rotation)", body = Envelope<AuthResponse>),
        (status = 401, description = "The refresh token is unknown, expired, revoked or reused (reuse revokes its family)", body = ErrorEnvelope),
        BodyFailures, TooManyRequests, StoreFailures
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    // The browser session, if any, is left as it is: it ends with its
    // family, which a refresh does not extend.
    let signed_in = state.auth.refresh(&req.refresh_token, &client).await?;
    Ok(ok(StatusCode::OK, "Token refreshed.", signed_in.response))
}

#[utoipa::path(post, path = "/api/auth/revoke", tag = "auth", security(("bearer" = [])),
    request_body(content = Option<RevokeRequest>, description = "Optional: the refresh token whose family ends too"),
    responses(
        (status = 200, description = "Logged out: the access token is rejected from now on", body = EmptyEnvelope),
        BodyFailures, BearerFailures
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    Client(client): Client,
    browser: Session,
    OptionalJson(req): OptionalJson<RevokeRequest>,
) -> Result<Response, ApiError> {
    state
        .auth
        .revoke(&caller, req.refresh_token.as_deref(), &client)
        .await?;
    session::forget(&browser).await;
    Ok(ok(StatusCode::OK, "Logged out.", ()))
}

#[utoipa::path(get, path = "/api/auth/protected", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "Access granted", body = Envelope<ProtectedResponse>),
        BearerFailures
    ))]
pub async fn protected(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
) -> Result<Response, ApiError> {
    let server_time = state
        .auth
        .clock()
        .now_utc()
        .format(&Rfc3339)
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    let data = ProtectedResponse {
        message: format!(
            "Hello, {}! You have reached a protected resource.",
            caller.user.full_name
        ),
        username: caller.user.username,
        role: caller.user.role,
        server_time,
    };
    Ok(ok(StatusCode::OK, "Access granted.", data))
}

#[utoipa::path(get, path = "/api/auth/sessions", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's active sessions", body = Envelope<Vec<SessionInfo>>),
        BearerFailures
    ))]
pub async fn sessions(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
) -> Result<Response, ApiError> {
    let sessions = state.auth.sessions(&caller).await?;
    Ok(ok(StatusCode::OK, "Your sessions.", sessions))
}

#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "The session id from the list")),
    responses(
        (status = 200, description = "The session ended", body = EmptyEnvelope),
        (status = 404, description = "No such user or session", body = ErrorEnvelope),
        BearerFailures
    ))]
pub async fn end_session(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state.auth.end_session(&caller, &id, &client).await?;
    Ok(ok(StatusCode::OK, "Session ended.", ()))
}

#[utoipa::path(post, path = "/api/auth/logout-all", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every session of the caller ended", body = EmptyEnvelope),
        BearerFailures
    ))]
pub async fn logout_all(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    Client(client): Client,
    browser: Session,
) -> Result<Response, ApiError> {
    state.auth.logout_all(&caller, &client).await?;
    session::forget(&browser).await;
    Ok(ok(StatusCode::OK, "Logged out everywhere.", ()))
}

#[utoipa::path(post, path = "/api/auth/password", tag = "sessions", security(("bearer" = [])),
    request_body = PasswordChangeRequest,
    responses(
        (status = 200, description = "Changed; the caller's other sessions ended", body = EmptyEnvelope),
        BodyFailures, BearerFailures, TooManyRequests
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    Client(client): Client,
    ApiJson(req): ApiJson<PasswordChangeRequest>,
) -> Result<Response, ApiError> {
    state.auth.change_password(&caller, &req, &client).await?;
    Ok(ok(
        StatusCode::OK,
        "Password changed. Your other sessions have ended.",
        (),
    ))
}
