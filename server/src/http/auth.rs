//! The endpoints under `/api/auth`. Each one translates: request in,
//! domain call, envelope out.

use app::api::{
    AuthResponse, Envelope, LoginRequest, PasswordChangeRequest, ProtectedResponse, RefreshRequest,
    RegisterRequest, RevokeRequest, SessionInfo, User, ValidateResponse,
};
use app::i18n::{Msg, Text};
use axum::{
    extract::{FromRequestParts, State},
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
};
use time::format_description::well_known::Rfc3339;
use tower_sessions::Session;

use super::{
    error::{ok, ApiError},
    extract::{ApiPath, Client, CurrentUser},
    json::{ApiJson, OptionalJson},
    language,
    responses::{
        BearerFailures, BodyFailures, EmptyEnvelope, ErrorEnvelope, StoreFailures, TooManyRequests,
    },
    session,
};
use crate::{
    auth::{AuthError, ClientInfo, SignedIn},
    state::AppState,
};

/// What a sign-in needs besides its body: the service, who the client is,
/// and the browser session it may start.
pub struct SignIn {
    state: AppState,
    client: ClientInfo,
    wants_browser_session: bool,
    browser: Session,
}

impl FromRequestParts<AppState> for SignIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Client(client) = Client::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let browser = Session::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(SignIn {
            state: state.clone(),
            client,
            wants_browser_session: session::wants_browser_session(&parts.headers),
            browser,
        })
    }
}

impl SignIn {
    /// Answers a sign-in, starting the app's browser session when it asks
    /// for one. When the session cannot be stored, the sign-in is undone
    /// (its family revoked) and answered with 503: the app would otherwise
    /// hold tokens that the server's pages know nothing of, and no one would
    /// hold the family.
    async fn answer(
        self,
        signed_in: Result<SignedIn, AuthError>,
        status: StatusCode,
        message: Msg,
    ) -> Result<Response, ApiError> {
        let signed_in = signed_in?;
        if self.wants_browser_session {
            if let Err(e) = session::start(&self.browser, &signed_in).await {
                tracing::warn!(error = %e, "cannot store the browser session; the sign-in is undone");
                self.state.auth.abandon_sign_in(&signed_in).await?;
                return Err(ApiError::Unavailable("session store unavailable".into()));
            }
        }
        Ok(ok(status, message, signed_in.response))
    }
}

#[utoipa::path(post, path = "/api/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in, and a verification link mailed. With EMAIL_VERIFICATION=required, `data` is null: the account signs in once its address is verified", body = Envelope<AuthResponse>),
        (status = 409, description = "The username or email is already registered", body = ErrorEnvelope),
        BodyFailures, TooManyRequests, StoreFailures
    ))]
pub async fn register(
    sign_in: SignIn,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<Response, ApiError> {
    let registered = sign_in
        .state
        .auth
        .register(&req, language::current(), &sign_in.client)
        .await?;
    match registered.signed_in {
        Some(signed_in) => {
            sign_in
                .answer(Ok(signed_in), StatusCode::CREATED, Msg::ApiOkRegistered)
                .await
        }
        None => Ok(ok(
            StatusCode::CREATED,
            REGISTERED_UNVERIFIED,
            None::<AuthResponse>,
        )),
    }
}

/// The answer of a registration that signs in only once the address is verified.
pub const REGISTERED_UNVERIFIED: Msg = Msg::ApiOkRegisteredVerify;

#[utoipa::path(post, path = "/api/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = Envelope<AuthResponse>),
        (status = 401, description = "Unknown user, wrong password or inactive account (one message for all)", body = ErrorEnvelope),
        (status = 403, description = "EMAIL_VERIFICATION=required and the address is not verified: `errors` is `[\"email_not_verified\"]`, and a fresh link is mailed (at most one a minute)", body = ErrorEnvelope),
        BodyFailures, TooManyRequests, StoreFailures
    ))]
pub async fn login(
    sign_in: SignIn,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let signed_in = sign_in.state.auth.login(&req, &sign_in.client).await;
    sign_in
        .answer(signed_in, StatusCode::OK, Msg::ApiOkLoggedIn)
        .await
}

#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Envelope<User>),
        BearerFailures
    ))]
pub async fn me(CurrentUser(caller): CurrentUser) -> Response {
    ok(StatusCode::OK, Msg::ApiOkCurrentUser, caller.user)
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
        message: language::render(&Msg::ApiOkTokenValid.into()),
    };
    ok(StatusCode::OK, Msg::ApiOkTokenValid, data)
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
    Ok(ok(StatusCode::OK, Msg::ApiOkRefreshed, signed_in.response))
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
    Ok(ok(StatusCode::OK, Msg::ApiOkLoggedOut, ()))
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
        message: language::render(
            &Text::new(Msg::ApiOkProtectedHello).with("name", &caller.user.full_name),
        ),
        username: caller.user.username,
        role: caller.user.role,
        server_time,
    };
    Ok(ok(StatusCode::OK, Msg::ApiOkAccessGranted, data))
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
    Ok(ok(StatusCode::OK, Msg::ApiOkSessions, sessions))
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
    Ok(ok(StatusCode::OK, Msg::ApiOkSessionEnded, ()))
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
    Ok(ok(StatusCode::OK, Msg::ApiOkLoggedOutEverywhere, ()))
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
    state
        .auth
        .change_password(caller.user.id, &caller.claims.sid, &req, &client)
        .await?;
    Ok(ok(StatusCode::OK, Msg::ApiOkPasswordChanged, ()))
}
