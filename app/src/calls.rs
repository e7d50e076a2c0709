//! The API calls the pages make. They run in the browser, through the
//! request wrapper; the server never calls them while rendering.

use crate::api::{
    Account, AccountDeletion, AccountUpdate, AdminUser, AuditEntry, AuthResponse,
    EmailChangeRequest, LoginRequest, Page, PasswordChangeRequest, ProtectedResponse,
    RegisterRequest, ResetPasswordRequest, Role, SessionInfo, SessionsRevoked,
};
pub use crate::failure::ApiFailure;

/// The filters of the audit log page; empty strings are left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditQuery {
    pub page: u32,
    pub user_id: String,
    pub kind: String,
    pub ip: String,
    /// RFC 3339.
    pub from: String,
    pub to: String,
}

// Queries are built in the browser only.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
impl AuditQuery {
    /// The query string, percent-encoded.
    pub fn to_query(&self) -> String {
        let mut parts = vec![
            format!("page={}", self.page.max(1)),
            "pageSize=20".to_string(),
        ];
        for (name, value) in [
            ("userId", &self.user_id),
            ("kind", &self.kind),
            ("ip", &self.ip),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.trim().is_empty() {
                parts.push(format!("{name}={}", encode(value.trim())));
            }
        }
        parts.join("&")
    }
}

/// Percent-encodes a query value (unreserved characters stay).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(feature = "hydrate")]
mod browser {
    use gloo_net::http::Method;

    use super::*;
    use crate::{
        api::{paths, RevokeRequest},
        client::{
            http::{call, call_public},
            tab_sync,
            token_store::{self, StoredTokens},
        },
    };

    async fn signed_in(
        result: Result<AuthResponse, ApiFailure>,
    ) -> Result<AuthResponse, ApiFailure> {
        let auth = result?;
        tab_sync::store(Some(StoredTokens::from_response(auth.clone())));
        Ok(auth)
    }

    pub async fn login(req: LoginRequest) -> Result<AuthResponse, ApiFailure> {
        signed_in(call_public(Method::POST, paths::LOGIN, Some(&req)).await).await
    }

    /// `None` when the address must be verified before the account signs in.
    pub async fn register(req: RegisterRequest) -> Result<Option<AuthResponse>, ApiFailure> {
        match call_public(Method::POST, paths::REGISTER, Some(&req)).await? {
            Some(auth) => signed_in(Ok(auth)).await.map(Some),
            None => Ok(None),
        }
    }

    pub async fn forgot_password(email: String) -> Result<(), ApiFailure> {
        let body = crate::api::ForgotPasswordRequest { email };
        call_public(Method::POST, paths::PASSWORD_FORGOT, Some(&body)).await
    }

    pub async fn reset_password(req: ResetPasswordRequest) -> Result<(), ApiFailure> {
        call_public(Method::POST, paths::PASSWORD_RESET, Some(&req)).await
    }

    pub async fn verify_email(token: String) -> Result<Account, ApiFailure> {
        let body = crate::api::VerifyEmailRequest { token };
        call_public(Method::POST, paths::EMAIL_VERIFY, Some(&body)).await
    }

    pub async fn resend_verification() -> Result<(), ApiFailure> {
        call(Method::POST, paths::EMAIL_RESEND, None::<&()>).await
    }

    pub async fn account() -> Result<Account, ApiFailure> {
        call(Method::GET, paths::ACCOUNT, None::<&()>).await
    }

    pub async fn update_account(update: AccountUpdate) -> Result<Account, ApiFailure> {
        call(Method::PATCH, paths::ACCOUNT, Some(&update)).await
    }

    pub async fn change_email(req: EmailChangeRequest) -> Result<(), ApiFailure> {
        call(Method::POST, paths::ACCOUNT_EMAIL, Some(&req)).await
    }

    pub async fn change_password(req: PasswordChangeRequest) -> Result<(), ApiFailure> {
        call(Method::POST, paths::PASSWORD, Some(&req)).await
    }

    /// Deletes the account, then forgets the tokens here.
    pub async fn delete_account(req: AccountDeletion) -> Result<(), ApiFailure> {
        call::<()>(Method::DELETE, paths::ACCOUNT, Some(&req)).await?;
        tab_sync::store(None);
        Ok(())
    }

    pub async fn admin_password_reset(id: i64) -> Result<(), ApiFailure> {
        call(
            Method::POST,
            &paths::with_id(paths::ADMIN_USER_PASSWORD_RESET, id),
            None::<&()>,
        )
        .await
    }

    pub async fn protected() -> Result<ProtectedResponse, ApiFailure> {
        call(Method::GET, paths::PROTECTED, None::<&()>).await
    }

    pub async fn sessions() -> Result<Vec<SessionInfo>, ApiFailure> {
        call(Method::GET, paths::SESSIONS, None::<&()>).await
    }

    pub async fn end_session(id: String) -> Result<(), ApiFailure> {
        call(
            Method::DELETE,
            &paths::with_id(paths::SESSION, encode(&id)),
            None::<&()>,
        )
        .await
    }

    /// Ends every session, this one included, and forgets the tokens here.
    pub async fn logout_all() -> Result<(), ApiFailure> {
        let result = call::<()>(Method::POST, paths::LOGOUT_ALL, None::<&()>).await;
        tab_sync::store(None);
        result
    }

    pub async fn admin_users(page: u32, search: String) -> Result<Page<AdminUser>, ApiFailure> {
        let path = format!(
            "{}?page={}&pageSize=20&search={}",
            paths::ADMIN_USERS,
            page.max(1),
            encode(&search)
        );
        call(Method::GET, &path, None::<&()>).await
    }

    pub async fn set_role(id: i64, role: Role) -> Result<AdminUser, ApiFailure> {
        let body = crate::api::RoleChange { role };
        call(
            Method::PATCH,
            &paths::with_id(paths::ADMIN_USER_ROLE, id),
            Some(&body),
        )
        .await
    }

    pub async fn set_active(id: i64, is_active: bool) -> Result<AdminUser, ApiFailure> {
        let body = crate::api::ActiveChange { is_active };
        call(
            Method::PATCH,
            &paths::with_id(paths::ADMIN_USER_ACTIVE, id),
            Some(&body),
        )
        .await
    }

    pub async fn revoke_sessions(id: i64) -> Result<SessionsRevoked, ApiFailure> {
        call(
            Method::POST,
            &paths::with_id(paths::ADMIN_USER_REVOKE_SESSIONS, id),
            None::<&()>,
        )
        .await
    }

    pub async fn audit(query: AuditQuery) -> Result<Page<AuditEntry>, ApiFailure> {
        call(
            Method::GET,
            &format!("{}?{}", paths::ADMIN_AUDIT, query.to_query()),
            None::<&()>,
        )
        .await
    }

    /// Revokes the tokens on the server, then forgets them here, whatever the
    /// server said (a sign-out must always work locally).
    pub async fn logout() -> Result<(), ApiFailure> {
        let body = RevokeRequest {
            refresh_token: token_store::load().map(|t| t.refresh_token),
        };
        let result = call::<()>(Method::POST, paths::REVOKE, Some(&body)).await;
        tab_sync::store(None);
        match result {
            Err(ApiFailure::SignedOut) => Ok(()),
            other => other,
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::*;

    fn browser_only<T>() -> Result<T, ApiFailure> {
        Err(ApiFailure::Network("API calls run in the browser".into()))
    }

    pub async fn login(_: LoginRequest) -> Result<AuthResponse, ApiFailure> {
        browser_only()
    }
    pub async fn register(_: RegisterRequest) -> Result<Option<AuthResponse>, ApiFailure> {
        browser_only()
    }
    pub async fn forgot_password(_: String) -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn reset_password(_: ResetPasswordRequest) -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn verify_email(_: String) -> Result<Account, ApiFailure> {
        browser_only()
    }
    pub async fn resend_verification() -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn account() -> Result<Account, ApiFailure> {
        browser_only()
    }
    pub async fn update_account(_: AccountUpdate) -> Result<Account, ApiFailure> {
        browser_only()
    }
    pub async fn change_email(_: EmailChangeRequest) -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn change_password(_: PasswordChangeRequest) -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn delete_account(_: AccountDeletion) -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn admin_password_reset(_: i64) -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn protected() -> Result<ProtectedResponse, ApiFailure> {
        browser_only()
    }
    pub async fn logout() -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn sessions() -> Result<Vec<SessionInfo>, ApiFailure> {
        browser_only()
    }
    pub async fn end_session(_: String) -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn logout_all() -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn admin_users(_: u32, _: String) -> Result<Page<AdminUser>, ApiFailure> {
        browser_only()
    }
    pub async fn set_role(_: i64, _: Role) -> Result<AdminUser, ApiFailure> {
        browser_only()
    }
    pub async fn set_active(_: i64, _: bool) -> Result<AdminUser, ApiFailure> {
        browser_only()
    }
    pub async fn revoke_sessions(_: i64) -> Result<SessionsRevoked, ApiFailure> {
        browser_only()
    }
    pub async fn audit(_: AuditQuery) -> Result<Page<AuditEntry>, ApiFailure> {
        browser_only()
    }
}

pub use browser::{
    account, admin_password_reset, admin_users, audit, change_email, change_password,
    delete_account, end_session, forgot_password, login, logout, logout_all, protected, register,
    resend_verification, reset_password, revoke_sessions, sessions, set_active, set_role,
    update_account, verify_email,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded_and_empty_filters_left_out() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        let q = AuditQuery {
            page: 2,
            kind: "login_failed".into(),
            from: "2026-01-01T00:00:00+01:00".into(),
            ..Default::default()
        };
        assert_eq!(
            q.to_query(),
            "page=2&pageSize=20&kind=login_failed&from=2026-01-01T00%3A00%3A00%2B01%3A00"
        );
    }
}
