//! The wire types of the JSON auth API (`shared/api-contract.md`). Field names
//! are camelCase on the wire; every response body is an [`Envelope`].

mod account;
mod audit;
pub mod paths;

use serde::{Deserialize, Serialize};

pub use account::{
    Account, AccountDeletion, AccountUpdate, EmailChangeRequest, ForgotPasswordRequest, Locale,
    ResetPasswordRequest, VerifyEmailRequest, EMAIL_NOT_VERIFIED,
};
pub use audit::{AuditEntry, AuditKind};

/// The body of every JSON response, success or failure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Envelope<T> {
    pub is_success: bool,
    pub message: String,
    pub data: Option<T>,
    #[serde(default)]
    pub errors: Vec<String>,
}

impl<T> Envelope<T> {
    pub fn success(message: impl Into<String>, data: T) -> Self {
        Self {
            is_success: true,
            message: message.into(),
            data: Some(data),
            errors: Vec::new(),
        }
    }
}

impl Envelope<()> {
    /// A failure: `data` is `null`, `errors` lists every failed rule.
    pub fn failure(message: impl Into<String>, errors: Vec<String>) -> Self {
        Self {
            is_success: false,
            message: message.into(),
            data: None,
            errors,
        }
    }
}

/// A user's role. Serialized as `"User"` / `"Admin"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Role {
    #[default]
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "User",
            Role::Admin => "Admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "User" => Some(Role::User),
            "Admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A user as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"id": 4, "username": "testuser", "email": "test@example.com", "fullName": "Test User", "role": "User", "isActive": true})))]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub is_active: bool,
}

/// The `data` of register, login and refresh.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"accessToken": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0In0.c2lnbmF0dXJl", "refreshToken": "q8Vb2m0lKXr4Yh1nE3cZ9tWf6uJpD5sA7oIgL0kQyRw=", "tokenType": "Bearer", "expiresIn": 1755243075, "user": {"id": 4, "username": "testuser", "email": "test@example.com", "fullName": "Test User", "role": "User", "isActive": true}})))]
pub struct AuthResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    /// The access token's expiry as a Unix timestamp in seconds (the JWT's `exp`).
    pub expires_in: i64,
    pub user: User,
}

/// A JSON request body. The server's body extractor uses [`RequestBody::FIELDS`]
/// to list every missing or mistyped field at once instead of serde's first one.
pub trait RequestBody {
    /// The required fields, all JSON strings.
    const FIELDS: &'static [&'static str];
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"username": "testuser", "email": "test@example.com", "password": "correct horse battery", "confirmPassword": "correct horse battery", "fullName": "Test User"})))]
pub struct RegisterRequest {
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 3, max_length = 50, pattern = r"^[A-Za-z0-9_.-]+$")
    )]
    pub username: String,
    #[cfg_attr(feature = "ssr", schema(format = Email, max_length = 254))]
    pub email: String,
    #[cfg_attr(feature = "ssr", schema(min_length = 6, max_length = 100))]
    pub password: String,
    #[cfg_attr(feature = "ssr", schema(min_length = 6, max_length = 100))]
    pub confirm_password: String,
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 100))]
    pub full_name: String,
}

impl RequestBody for RegisterRequest {
    const FIELDS: &'static [&'static str] = &[
        "username",
        "email",
        "password",
        "confirmPassword",
        "fullName",
    ];
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"username": "testuser", "password": "correct horse battery"})))]
pub struct LoginRequest {
    /// A username or an email address.
    pub username: String,
    pub password: String,
}

impl RequestBody for LoginRequest {
    const FIELDS: &'static [&'static str] = &["username", "password"];
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"refreshToken": "q8Vb2m0lKXr4Yh1nE3cZ9tWf6uJpD5sA7oIgL0kQyRw="})))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

impl RequestBody for RefreshRequest {
    const FIELDS: &'static [&'static str] = &["refreshToken"];
}

/// The body of revoke: the refresh token is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"refreshToken": "q8Vb2m0lKXr4Yh1nE3cZ9tWf6uJpD5sA7oIgL0kQyRw="})))]
pub struct RevokeRequest {
    #[serde(default)]
    pub refresh_token: Option<String>,
}

impl RequestBody for RevokeRequest {
    const FIELDS: &'static [&'static str] = &[];
}

/// The `data` of `GET /api/auth/validate`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"valid": true, "userId": "4", "username": "testuser", "message": "Token is valid."})))]
pub struct ValidateResponse {
    pub valid: bool,
    /// The user id as a string, as existing clients expect.
    pub user_id: String,
    pub username: String,
    pub message: String,
}

/// The `data` of `GET /api/auth/protected`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"message": "Hello, Test User! You have reached a protected resource.", "username": "testuser", "role": "User", "serverTime": "2026-11-23T10:00:00Z"})))]
pub struct ProtectedResponse {
    pub message: String,
    pub username: String,
    pub role: Role,
    /// RFC 3339, UTC.
    pub server_time: String,
}

/// The `data` of `GET /api/health`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"status": "ok", "version": "0.1.0"})))]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// The `data` of `GET /api/ready`: one entry per dependency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"database": "ok", "redis": "not configured"})))]
pub struct Readiness {
    pub database: String,
    pub redis: String,
}

/// One page of a list, with the total across all pages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub page_size: u32,
    pub total: i64,
}

/// The largest page a list endpoint returns.
pub const MAX_PAGE_SIZE: u32 = 100;

/// A user as an admin sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminUser {
    #[serde(flatten)]
    pub user: User,
    /// RFC 3339, UTC.
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"role": "Admin"})))]
pub struct RoleChange {
    pub role: Role,
}

impl RequestBody for RoleChange {
    const FIELDS: &'static [&'static str] = &["role"];
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"isActive": false})))]
pub struct ActiveChange {
    pub is_active: bool,
}

impl RequestBody for ActiveChange {
    const FIELDS: &'static [&'static str] = &[];
}

/// The `data` of revoking a user's sessions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"revoked": 2})))]
pub struct SessionsRevoked {
    pub revoked: u64,
}

/// One login session (a refresh-token family) of the caller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"id": "3f1c9a4e-1d2b-4c5d-8e7f-0a1b2c3d4e5f", "createdAt": "2026-11-23T09:00:00Z", "lastUsedAt": "2026-11-23T09:30:00Z", "ip": "203.0.113.7", "userAgent": "Mozilla/5.0", "current": true})))]
pub struct SessionInfo {
    pub id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session of the access token that asked.
    pub current: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"currentPassword": "correct horse battery", "newPassword": "staple in the drawer", "confirmPassword": "staple in the drawer"})))]
pub struct PasswordChangeRequest {
    pub current_password: String,
    #[cfg_attr(feature = "ssr", schema(min_length = 6, max_length = 100))]
    pub new_password: String,
    #[cfg_attr(feature = "ssr", schema(min_length = 6, max_length = 100))]
    pub confirm_password: String,
}

impl RequestBody for PasswordChangeRequest {
    const FIELDS: &'static [&'static str] = &["currentPassword", "newPassword", "confirmPassword"];
}
