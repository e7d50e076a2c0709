//! The audit log on the wire: its entries, and the one list of event kinds
//! that the server stores, counts in its metrics and the console filters by.

use serde::{Deserialize, Serialize};

/// Declares [`AuditKind`] with its wire name, once.
macro_rules! audit_kinds {
    ($($(#[$doc:meta])* $kind:ident => $name:tt,)*) => {
        /// What happened. On the wire, in the database and in the metrics it
        /// is named in snake case (`login_failed`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        pub enum AuditKind {
            $($(#[$doc])* #[serde(rename = $name)] $kind,)*
        }

        impl AuditKind {
            /// Every kind, in the order the console lists them.
            pub const ALL: &'static [AuditKind] = &[$(AuditKind::$kind,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditKind::$kind => $name,)*
                }
            }
        }
    };
}

audit_kinds! {
    Register => "register",
    LoginSucceeded => "login_succeeded",
    LoginFailed => "login_failed",
    Lockout => "lockout",
    Refresh => "refresh",
    RefreshReuseDetected => "refresh_reuse_detected",
    Revoke => "revoke",
    RoleChanged => "role_changed",
    UserDeactivated => "user_deactivated",
    UserReactivated => "user_reactivated",
    SessionsRevoked => "sessions_revoked",
    SessionEnded => "session_ended",
    LogoutAll => "logout_all",
    PasswordChanged => "password_changed",
    EmailVerified => "email_verified",
    PasswordResetRequested => "password_reset_requested",
    PasswordReset => "password_reset",
    EmailChangeRequested => "email_change_requested",
    EmailChanged => "email_changed",
    AccountDeleted => "account_deleted",
}

impl AuditKind {
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.as_str() == name)
    }
}

/// An entry of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"id": 17, "occurredAt": "2026-11-23T09:30:00Z", "kind": "login_failed", "userId": 4, "username": "testuser", "ip": "203.0.113.7", "userAgent": "curl/8.5.0", "detail": "wrong password"})))]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: String,
    pub kind: AuditKind,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_named_once_and_read_back() {
        let mut names: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditKind::ALL.len());
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(*kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str());
        }
        assert_eq!(AuditKind::parse("nonsense"), None);
    }
}
