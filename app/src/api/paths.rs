//! The paths of the API, written once: the server routes them and the
//! browser calls them. A test holds every path here against the router.

pub const HEALTH: &str = "/api/health";
pub const REGISTER: &str = "/api/auth/register";
pub const LOGIN: &str = "/api/auth/login";
pub const ME: &str = "/api/auth/me";
pub const VALIDATE: &str = "/api/auth/validate";
pub const REFRESH: &str = "/api/auth/refresh";
pub const REVOKE: &str = "/api/auth/revoke";
pub const PROTECTED: &str = "/api/auth/protected";
pub const SESSIONS: &str = "/api/auth/sessions";
pub const SESSION: &str = "/api/auth/sessions/{id}";
pub const LOGOUT_ALL: &str = "/api/auth/logout-all";
pub const PASSWORD: &str = "/api/auth/password";
pub const PASSWORD_FORGOT: &str = "/api/auth/password/forgot";
pub const PASSWORD_RESET: &str = "/api/auth/password/reset";
pub const EMAIL_VERIFY: &str = "/api/auth/email/verify";
pub const EMAIL_RESEND: &str = "/api/auth/email/resend";
pub const ACCOUNT: &str = "/api/account";
pub const ACCOUNT_EMAIL: &str = "/api/account/email";
pub const ADMIN_USERS: &str = "/api/admin/users";
pub const ADMIN_USER_ROLE: &str = "/api/admin/users/{id}/role";
pub const ADMIN_USER_ACTIVE: &str = "/api/admin/users/{id}/active";
pub const ADMIN_USER_REVOKE_SESSIONS: &str = "/api/admin/users/{id}/revoke-sessions";
pub const ADMIN_USER_PASSWORD_RESET: &str = "/api/admin/users/{id}/password-reset";
pub const ADMIN_AUDIT: &str = "/api/admin/audit";

/// Each path the browser app calls, with its method.
pub const CALLED_BY_THE_APP: &[(&str, &str)] = &[
    ("GET", HEALTH),
    ("POST", REGISTER),
    ("POST", LOGIN),
    ("POST", REFRESH),
    ("POST", REVOKE),
    ("GET", PROTECTED),
    ("GET", SESSIONS),
    ("DELETE", SESSION),
    ("POST", LOGOUT_ALL),
    ("POST", PASSWORD),
    ("POST", PASSWORD_FORGOT),
    ("POST", PASSWORD_RESET),
    ("POST", EMAIL_VERIFY),
    ("POST", EMAIL_RESEND),
    ("GET", ACCOUNT),
    ("PATCH", ACCOUNT),
    ("DELETE", ACCOUNT),
    ("POST", ACCOUNT_EMAIL),
    ("GET", ADMIN_USERS),
    ("PATCH", ADMIN_USER_ROLE),
    ("PATCH", ADMIN_USER_ACTIVE),
    ("POST", ADMIN_USER_REVOKE_SESSIONS),
    ("POST", ADMIN_USER_PASSWORD_RESET),
    ("GET", ADMIN_AUDIT),
];

/// `path` with its `{id}` filled in (already percent-encoded).
pub fn with_id(path: &str, id: impl std::fmt::Display) -> String {
    path.replacen("{id}", &id.to_string(), 1)
}
