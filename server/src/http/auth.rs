//! The endpoints under `/api/auth`. Each one translates: request in,
//! domain call, envelope out.

use app::api::{
    LoginRequest, PasswordChangeRequest, ProtectedResponse, RefreshRequest, RegisterRequest,
    RevokeRequest, ValidateResponse,
};
use axum::{extract::State, http::StatusCode, response::Response};
use time::format_description::well_known::Rfc3339;
use tower_sessions::Session;

use super::{
    error::{ok, ApiError},
    extract::{ApiPath, Client, CurrentUser},
    json::{ApiJson, OptionalJson},
    session,
};
use crate::state::AppState;

pub async fn register(
    State(state): State<AppState>,
    Client(client): Client,
    browser: Session,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<Response, ApiError> {
    let signed_in = state.auth.register(&req, &client).await?;
    session::remember(&browser, &signed_in, true).await;
    Ok(ok(
        StatusCode::CREATED,
        "Registration successful.",
        signed_in.response,
    ))
}

pub async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    browser: Session,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let signed_in = state.auth.login(&req, &client).await?;
    session::remember(&browser, &signed_in, true).await;
    Ok(ok(StatusCode::OK, "Login successful.", signed_in.response))
}

pub async fn me(CurrentUser(caller): CurrentUser) -> Response {
    ok(StatusCode::OK, "Current user.", caller.user)
}

pub async fn validate(CurrentUser(caller): CurrentUser) -> Response {
    let data = ValidateResponse {
        valid: true,
        user_id: caller.user.id.to_string(),
        username: caller.user.username,
        message: "Token is valid.".into(),
    };
    ok(StatusCode::OK, "Token is valid.", data)
}

pub async fn refresh(
    State(state): State<AppState>,
    Client(client): Client,
    browser: Session,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    let signed_in = state.auth.refresh(&req.refresh_token, &client).await?;
    session::remember(&browser, &signed_in, false).await;
    Ok(ok(StatusCode::OK, "Token refreshed.", signed_in.response))
}

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

pub async fn protected(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
) -> Result<Response, ApiError> {
    let server_time = state
        .auth
        .clock()
        .now_utc()
        .format(&Rfc3339)
        .map_err(|e| ApiError::Internal(format!("time: {e}")))?;
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

pub async fn sessions(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
) -> Result<Response, ApiError> {
    let sessions = state.auth.sessions(&caller).await?;
    Ok(ok(StatusCode::OK, "Your sessions.", sessions))
}

pub async fn end_session(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    Client(client): Client,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state.auth.end_session(&caller, &id, &client).await?;
    Ok(ok(StatusCode::OK, "Session ended.", ()))
}

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
