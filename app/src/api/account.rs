//! The account lifecycle on the wire: the account as its owner sees it,
//! self-service changes, email verification and password reset.

use serde::{Deserialize, Serialize};

use super::{RequestBody, User};

/// The languages of the app, the API and the mails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Locale {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "zh-TW")]
    ZhTw,
}

impl Locale {
    pub const ALL: &'static [Locale] = &[Locale::En, Locale::ZhCn, Locale::ZhTw];

    /// The BCP 47 tag, as the wire, the database and `<html lang>` write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhCn => "zh-CN",
            Locale::ZhTw => "zh-TW",
        }
    }

    pub fn parse(tag: &str) -> Option<Locale> {
        Self::ALL.iter().copied().find(|l| l.as_str() == tag)
    }

    /// The language's name in itself, as a language menu shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::ZhCn => "简体中文",
            Locale::ZhTw => "繁體中文",
        }
    }
}

/// `GET /api/account`: the caller's account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"user": {"id": 4, "username": "testuser", "email": "test@example.com", "fullName": "Test User", "role": "User", "isActive": true}, "emailVerified": false, "createdAt": "2026-12-04T10:00:00Z", "locale": "zh-TW"})))]
pub struct Account {
    pub user: User,
    pub email_verified: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub locale: Locale,
}

/// `PATCH /api/account`: what to change; a missing field stays as it is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"fullName": "Test User", "locale": "zh-TW"})))]
pub struct AccountUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 100))]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
}

impl RequestBody for AccountUpdate {
    const FIELDS: &'static [&'static str] = &[];
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"email": "test@example.com"})))]
pub struct ForgotPasswordRequest {
    #[cfg_attr(feature = "ssr", schema(format = Email, max_length = 254))]
    pub email: String,
}

impl RequestBody for ForgotPasswordRequest {
    const FIELDS: &'static [&'static str] = &["email"];
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"token": "Jf3kQ9x2b7LmN0pR5sT8vW1yZ4cE6gH9jK2nP5rU8wA", "newPassword": "staple in the drawer", "confirmPassword": "staple in the drawer"})))]
pub struct ResetPasswordRequest {
    /// The `token` of the link in the mail.
    pub token: String,
    #[cfg_attr(feature = "ssr", schema(min_length = 6, max_length = 100))]
    pub new_password: String,
    #[cfg_attr(feature = "ssr", schema(min_length = 6, max_length = 100))]
    pub confirm_password: String,
}

impl RequestBody for ResetPasswordRequest {
    const FIELDS: &'static [&'static str] = &["token", "newPassword", "confirmPassword"];
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"token": "Jf3kQ9x2b7LmN0pR5sT8vW1yZ4cE6gH9jK2nP5rU8wA"})))]
pub struct VerifyEmailRequest {
    /// The `token` of the link in the mail.
    pub token: String,
}

impl RequestBody for VerifyEmailRequest {
    const FIELDS: &'static [&'static str] = &["token"];
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"newEmail": "new@example.com", "currentPassword": "correct horse battery"})))]
pub struct EmailChangeRequest {
    #[cfg_attr(feature = "ssr", schema(format = Email, max_length = 254))]
    pub new_email: String,
    pub current_password: String,
}

impl RequestBody for EmailChangeRequest {
    const FIELDS: &'static [&'static str] = &["newEmail", "currentPassword"];
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ssr", schema(example = json!({"currentPassword": "correct horse battery"})))]
pub struct AccountDeletion {
    pub current_password: String,
}

impl RequestBody for AccountDeletion {
    const FIELDS: &'static [&'static str] = &["currentPassword"];
}

/// The machine-readable error of a login refused until the address is
/// verified (`EMAIL_VERIFICATION=required`).
pub const EMAIL_NOT_VERIFIED: &str = "email_not_verified";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_are_named_by_their_tags() {
        for locale in Locale::ALL {
            assert_eq!(Locale::parse(locale.as_str()), Some(*locale));
            assert_eq!(serde_json::to_value(locale).unwrap(), locale.as_str());
        }
        assert_eq!(Locale::parse("zh"), None);
    }
}
