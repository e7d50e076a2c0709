//! `/api/account`: the caller's own account, and the mailed-link endpoints
//! under `/api/auth` (forgot and reset a password, verify an address).

use app::api::{
    Account, AccountDeletion, AccountUpdate, EmailChangeRequest, Envelope, ForgotPasswordRequest,
    ResetPasswordRequest, VerifyEmailRequest,
};
use app::i18n::Msg;
use axum::{extract::State, http::StatusCode, response::Response};
use tower_sessions::Session;

use super::{
    error::{ok, ApiError},
    extract::{Client, CurrentUser},
    json::ApiJson,
    responses::{
        BearerFailures, BodyFailures, EmptyEnvelope, ErrorEnvelope, StoreFailures, TooManyRequests,
    },
    session,
};
use crate::{auth::recovery::forgot_address, state::AppState};

/// The answer of `forgot`, the same whether or not the address has an account.
pub const FORGOT_ANSWER: Msg = Msg::ApiOkResetMailed;

#[utoipa::path(post, path = "/api/auth/password/forgot", tag = "account",
    request_body = ForgotPasswordRequest,
    responses(
        (status = 202, description = "Answered at once and the same way whether or not the address has an account; a reset link is mailed when it has one (at most one a minute)", body = EmptyEnvelope),
        BodyFailures, TooManyRequests
    ))]
pub async fn forgot_password(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(req): ApiJson<ForgotPasswordRequest>,
) -> Result<Response, ApiError> {
    let email = forgot_address(&req.email)?;
    start_forgot_password(&state, email.as_str(), client);
    Ok(ok(StatusCode::ACCEPTED, FORGOT_ANSWER, ()))
}

/// Looks the address up after the answer has gone, so that neither the
/// answer nor its time depends on whether the address has an account.
pub fn start_forgot_password(state: &AppState, email: &str, client: crate::auth::ClientInfo) {
    let auth = state.auth.clone();
    let email = email.to_string();
    tokio::spawn(async move {
        if let Err(e) = auth.forgot_password(&email, &client).await {
            tracing::warn!(error = %crate::telemetry::error_chain(&e), "cannot handle a forgotten password");
        }
    });
}

#[utoipa::path(post, path = "/api/auth/password/reset", tag = "account",
    request_body = ResetPasswordRequest,
    responses(
        (status = 200, description = "The new password works; every session of the account ended, its lockout count was cleared and a notice mailed. A bad, used or expired token is a 400 with one generic error", body = EmptyEnvelope),
        BodyFailures, TooManyRequests, StoreFailures
    ))]
pub async fn reset_password(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(req): ApiJson<ResetPasswordRequest>,
) -> Result<Response, ApiError> {
    state.auth.reset_password(&req, &client).await?;
    Ok(ok(StatusCode::OK, Msg::ApiOkPasswordReset, ()))
}

#[utoipa::path(post, path = "/api/auth/email/verify", tag = "account",
    request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "The address of the link is verified (for an email change, it is now the account's)", body = Envelope<Account>),
        (status = 409, description = "Another account took the new address meanwhile", body = ErrorEnvelope),
        BodyFailures, TooManyRequests, StoreFailures
    ))]
pub async fn verify_email(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(req): ApiJson<VerifyEmailRequest>,
) -> Result<Response, ApiError> {
    let account = state.auth.verify_email(&req.token, &client).await?;
    Ok(ok(StatusCode::OK, Msg::ApiOkEmailVerified, account))
}

#[utoipa::path(post, path = "/api/auth/email/resend", tag = "account", security(("bearer" = [])),
    responses(
        (status = 202, description = "A fresh verification link is mailed (at most one a minute; none once the address is verified)", body = EmptyEnvelope),
        BearerFailures, TooManyRequests
    ))]
pub async fn resend_verification(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
) -> Result<Response, ApiError> {
    state.auth.resend_verification(caller.user.id).await?;
    Ok(ok(StatusCode::ACCEPTED, Msg::ApiOkVerificationResent, ()))
}

#[utoipa::path(get, path = "/api/account", tag = "account", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = Envelope<Account>),
        BearerFailures
    ))]
pub async fn account(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
) -> Result<Response, ApiError> {
    let account = state.auth.account(caller.user.id).await?;
    Ok(ok(StatusCode::OK, Msg::ApiOkAccount, account))
}

#[utoipa::path(patch, path = "/api/account", tag = "account", security(("bearer" = [])),
    request_body = AccountUpdate,
    responses(
        (status = 200, description = "Changed; a field left out stays as it is", body = Envelope<Account>),
        BodyFailures, BearerFailures
    ))]
pub async fn update_account(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    ApiJson(update): ApiJson<AccountUpdate>,
) -> Result<Response, ApiError> {
    let account = state.auth.update_account(caller.user.id, &update).await?;
    Ok(ok(StatusCode::OK, Msg::ApiOkAccountSaved, account))
}

#[utoipa::path(post, path = "/api/account/email", tag = "account", security(("bearer" = [])),
    request_body = EmailChangeRequest,
    responses(
        (status = 202, description = "A link is mailed to the new address, which becomes the account's once the link is used, and a notice to the old one. A wrong current password is a 400 and counts as a failed login", body = EmptyEnvelope),
        (status = 409, description = "Another account has this address", body = ErrorEnvelope),
        BodyFailures, BearerFailures, TooManyRequests
    ))]
pub async fn change_email(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    Client(client): Client,
    ApiJson(req): ApiJson<EmailChangeRequest>,
) -> Result<Response, ApiError> {
    state
        .auth
        .request_email_change(
            caller.user.id,
            &req.new_email,
            &req.current_password,
            &client,
        )
        .await?;
    Ok(ok(StatusCode::ACCEPTED, Msg::ApiOkEmailChangeMailed, ()))
}

#[utoipa::path(delete, path = "/api/account", tag = "account", security(("bearer" = [])),
    request_body = AccountDeletion,
    responses(
        (status = 200, description = "The account and everything that names it are gone (its sessions ended at once); the audit log keeps its events without the name", body = EmptyEnvelope),
        (status = 409, description = "The last active admin cannot delete their account", body = ErrorEnvelope),
        BodyFailures, BearerFailures, TooManyRequests
    ))]
pub async fn delete_account(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    Client(client): Client,
    browser: Session,
    ApiJson(req): ApiJson<AccountDeletion>,
) -> Result<Response, ApiError> {
    state
        .auth
        .delete_account(caller.user.id, &req.current_password, &client)
        .await?;
    session::forget(&browser).await;
    Ok(ok(StatusCode::OK, Msg::ApiOkAccountDeleted, ()))
}
