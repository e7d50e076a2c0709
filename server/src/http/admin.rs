//! `/api/admin`: user management and the audit log, for the Admin role.

use app::api::{
    ActiveChange, AdminUser, AuditEntry, AuditKind, Envelope, Page, RoleChange, SessionsRevoked,
    MAX_PAGE_SIZE,
};
use app::i18n::{Msg, Text};
use axum::{extract::State, http::StatusCode, response::Response};
use serde::Deserialize;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use utoipa::IntoParams;

use super::{
    error::{ok, ApiError},
    extract::{AdminCaller, ApiPath, ApiQuery, Client},
    json::ApiJson,
    responses::{
        AdminFailures, BearerFailures, BodyFailures, EmptyEnvelope, ErrorEnvelope, QueryFailures,
    },
};
use crate::{
    auth::{admin::Paging, audit::AuditFilter},
    state::AppState,
};

/// The highest page number a list accepts (a hundred million rows at the largest page size).
const MAX_PAGE: u32 = 1_000_000;

/// `page` (from 1) and `pageSize` (1 to 100, default 20) of a list query.
/// (Each query struct names them itself: serde's `flatten` cannot read
/// numbers from a query string.)
fn paging(page: Option<u32>, page_size: Option<u32>) -> Result<Paging, ApiError> {
    let page = page.unwrap_or(1);
    let page_size = page_size.unwrap_or(20);
    let mut errors = Vec::new();
    if !(1..=MAX_PAGE).contains(&page) {
        errors.push(Text::new(Msg::ApiPageRange).with("max", MAX_PAGE));
    }
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        errors.push(Text::new(Msg::ApiPageSizeRange).with("max", MAX_PAGE_SIZE));
    }
    if errors.is_empty() {
        Ok(Paging { page, page_size })
    } else {
        Err(ApiError::Validation(errors))
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// From 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
    /// Part of a username, email or full name, any case.
    search: Option<String>,
}

#[utoipa::path(get, path = "/api/admin/users", tag = "admin", security(("bearer" = [])),
    params(UserQuery),
    responses(
        (status = 200, description = "A page of users", body = Envelope<Page<AdminUser>>),
        QueryFailures, BearerFailures, AdminFailures
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    _: AdminCaller,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> Result<Response, ApiError> {
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let page = state
        .auth
        .list_users(search, paging(q.page, q.page_size)?)
        .await?;
    Ok(ok(StatusCode::OK, Msg::ApiOkUsers, page))
}

#[utoipa::path(patch, path = "/api/admin/users/{id}/role", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    request_body = RoleChange,
    responses(
        (status = 200, description = "The user with the new role", body = Envelope<AdminUser>),
        (status = 409, description = "The last active admin cannot be demoted", body = ErrorEnvelope),
        (status = 404, description = "No such user or session", body = ErrorEnvelope),
        BodyFailures, BearerFailures, AdminFailures
    ))]
pub async fn set_role(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    ApiPath(id): ApiPath<i64>,
    ApiJson(change): ApiJson<RoleChange>,
) -> Result<Response, ApiError> {
    let user = state
        .auth
        .set_role(&admin, id, change.role, &client)
        .await?;
    Ok(ok(StatusCode::OK, Msg::ApiOkRoleChanged, user))
}

#[utoipa::path(patch, path = "/api/admin/users/{id}/active", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    request_body = ActiveChange,
    responses(
        (status = 200, description = "The user, activated or deactivated (deactivation ends its sessions)", body = Envelope<AdminUser>),
        (status = 409, description = "The last active admin cannot be deactivated", body = ErrorEnvelope),
        (status = 404, description = "No such user or session", body = ErrorEnvelope),
        BodyFailures, BearerFailures, AdminFailures
    ))]
pub async fn set_active(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    ApiPath(id): ApiPath<i64>,
    ApiJson(change): ApiJson<ActiveChange>,
) -> Result<Response, ApiError> {
    let user = state
        .auth
        .set_user_active(&admin, id, change.is_active, &client)
        .await?;
    let message = if change.is_active {
        Msg::ApiOkUserReactivated
    } else {
        Msg::ApiOkUserDeactivated
    };
    Ok(ok(StatusCode::OK, message, user))
}

#[utoipa::path(post, path = "/api/admin/users/{id}/revoke-sessions", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "Every session of the user ended", body = Envelope<SessionsRevoked>),
        (status = 404, description = "No such user or session", body = ErrorEnvelope),
        BearerFailures, AdminFailures
    ))]
pub async fn revoke_sessions(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let revoked = state.auth.revoke_user_sessions(&admin, id, &client).await?;
    Ok(ok(
        StatusCode::OK,
        Msg::ApiOkSessionsRevoked,
        SessionsRevoked { revoked },
    ))
}

#[utoipa::path(post, path = "/api/admin/users/{id}/password-reset", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 202, description = "A reset link is mailed to the user (at most one a minute)", body = EmptyEnvelope),
        (status = 404, description = "No such user", body = ErrorEnvelope),
        (status = 409, description = "The account is deactivated", body = ErrorEnvelope),
        BearerFailures, AdminFailures
    ))]
pub async fn password_reset(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    Client(client): Client,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    state.auth.admin_password_reset(&admin, id, &client).await?;
    Ok(ok(StatusCode::ACCEPTED, Msg::ApiOkResetLinkSent, ()))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// From 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
    user_id: Option<i64>,
    /// An event kind such as `login_failed`.
    kind: Option<AuditKind>,
    ip: Option<String>,
    /// RFC 3339, inclusive.
    from: Option<String>,
    /// RFC 3339, exclusive.
    to: Option<String>,
}

fn instant(name: &'static str, value: Option<&str>) -> Result<Option<i64>, Text> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            OffsetDateTime::parse(v, &Rfc3339)
                .map(|t| t.unix_timestamp())
                .map_err(|_| Text::new(Msg::ApiInstantInvalid).with("name", name))
        })
        .transpose()
}

#[utoipa::path(get, path = "/api/admin/audit", tag = "admin", security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of audit events, newest first", body = Envelope<Page<AuditEntry>>),
        QueryFailures, BearerFailures, AdminFailures
    ))]
pub async fn audit_log(
    State(state): State<AppState>,
    _: AdminCaller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    let paging = paging(q.page, q.page_size)?;
    let (from, to) = (
        instant("from", q.from.as_deref()),
        instant("to", q.to.as_deref()),
    );
    let (from, to) = match (from, to) {
        (Ok(from), Ok(to)) => (from, to),
        (from, to) => {
            return Err(ApiError::Validation(
                [from.err(), to.err()].into_iter().flatten().collect(),
            ))
        }
    };
    let non_empty = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        user_id: q.user_id,
        kind: q.kind,
        ip: non_empty(q.ip),
        from,
        to,
    };
    let page = state.auth.audit_log(&filter, paging).await?;
    Ok(ok(StatusCode::OK, Msg::ApiOkAuditLog, page))
}
