//! The registration rules of the contract, written once: the server enforces
//! them and the browser form shows them as the user types. Parse, don't
//! validate: a value of one of these types can only hold a valid value.
//! Lengths count Unicode characters, not bytes.

use crate::{
    api::RegisterRequest,
    i18n::{Msg, Text},
};

/// 3-50 ASCII letters, digits, `_`, `.` or `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

/// A valid email address (the WHATWG form rule, plus a dot in the domain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

/// 6-100 characters, every one significant.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// 1-100 characters after trimming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FullName(String);

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 50;
pub const PASSWORD_MIN: usize = 6;
pub const PASSWORD_MAX: usize = 100;
pub const FULL_NAME_MAX: usize = 100;
pub const EMAIL_MAX: usize = 254;

/// Control characters (U+0000 to U+001F, DEL, U+0080 to U+009F) have no
/// place in a name, an address or a password: they are invisible, and
/// PostgreSQL cannot store U+0000 at all. Every text rule refuses them, so
/// both backends answer the same 400.
pub fn has_control_characters(raw: &str) -> bool {
    raw.chars().any(char::is_control)
}

impl Username {
    pub fn parse(raw: &str) -> Result<Self, Text> {
        let n = raw.chars().count();
        if !(USERNAME_MIN..=USERNAME_MAX).contains(&n) {
            return Err(Text::new(Msg::RulesUsernameLength)
                .with("min", USERNAME_MIN)
                .with("max", USERNAME_MAX));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(Msg::RulesUsernameCharacters.into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Text> {
        let invalid = || Text::new(Msg::RulesEmailInvalid);
        if raw.chars().count() > EMAIL_MAX {
            return Err(Text::new(Msg::RulesEmailLength).with("max", EMAIL_MAX));
        }
        let (local, domain) = raw.split_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Password {
    pub fn parse(raw: &str) -> Result<Self, Text> {
        if has_control_characters(raw) {
            return Err(Msg::RulesPasswordControl.into());
        }
        let n = raw.chars().count();
        if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
            return Err(Text::new(Msg::RulesPasswordLength)
                .with("min", PASSWORD_MIN)
                .with("max", PASSWORD_MAX));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl FullName {
    pub fn parse(raw: &str) -> Result<Self, Text> {
        if has_control_characters(raw) {
            return Err(Msg::RulesFullNameControl.into());
        }
        let trimmed = raw.trim();
        let n = trimmed.chars().count();
        if !(1..=FULL_NAME_MAX).contains(&n) {
            return Err(Text::new(Msg::RulesFullNameLength).with("max", FULL_NAME_MAX));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A registration that passed every rule.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: Username,
    pub email: Email,
    pub password: Password,
    pub full_name: FullName,
}

/// Checks every rule and lists every failure, in form order.
pub fn validate_registration(req: &RegisterRequest) -> Result<NewAccount, Vec<Text>> {
    let username = Username::parse(&req.username);
    let email = Email::parse(&req.email);
    let password = Password::parse(&req.password);
    let full_name = FullName::parse(&req.full_name);
    let confirm = if req.password == req.confirm_password {
        Ok(())
    } else {
        Err(Text::new(Msg::RulesPasswordsDiffer))
    };
    match (username, email, password, confirm, full_name) {
        (Ok(username), Ok(email), Ok(password), Ok(()), Ok(full_name)) => Ok(NewAccount {
            username,
            email,
            password,
            full_name,
        }),
        (u, e, p, c, f) => Err([u.err(), e.err(), p.err(), c.err(), f.err()]
            .into_iter()
            .flatten()
            .collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> RegisterRequest {
        RegisterRequest {
            username: "test.user-1".into(),
            email: "test@example.com".into(),
            password: "secret1".into(),
            confirm_password: "secret1".into(),
            full_name: "  Test User ".into(),
        }
    }

    #[test]
    fn a_valid_registration_passes_and_trims_the_full_name() {
        let account = validate_registration(&request()).unwrap();
        assert_eq!(account.full_name.as_str(), "Test User");
        assert_eq!(account.username.as_str(), "test.user-1");
    }

    #[test]
    fn every_failed_rule_is_listed_at_once() {
        let req = RegisterRequest {
            username: "x".into(),
            email: "nope".into(),
            password: "123".into(),
            confirm_password: "1234".into(),
            full_name: "   ".into(),
        };
        let errors = validate_registration(&req).unwrap_err();
        assert_eq!(errors.len(), 5, "{errors:?}");
    }

    #[test]
    fn username_length_counts_characters_and_allows_only_ascii() {
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(50)).is_ok());
        assert!(Username::parse(&"a".repeat(51)).is_err());
        assert!(Username::parse("héllo").is_err());
        assert!(Username::parse("has space").is_err());
    }

    #[test]
    fn password_length_counts_characters_not_bytes() {
        // 100 three-byte characters: 300 bytes, still a valid password.
        assert!(Password::parse(&"€".repeat(100)).is_ok());
        assert!(Password::parse(&"€".repeat(101)).is_err());
        assert!(Password::parse("€€€€€").is_err());
        assert!(Password::parse("€€€€€€").is_ok());
    }

    #[test]
    fn password_debug_never_shows_the_secret() {
        let p = Password::parse("hunter22").unwrap();
        assert!(!format!("{p:?}").contains("hunter22"));
    }

    #[test]
    fn email_rules() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "x_y@a-b.io"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@-b.com",
            "a b@c.com",
            "a@b..com",
            "a@@b.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn control_characters_are_refused_in_every_text_field() {
        for c in (0u32..0x20).chain([0x7f, 0x85, 0x9f]) {
            let c = char::from_u32(c).unwrap();
            let text = format!("ab{c}cdefg");
            assert!(Username::parse(&text).is_err(), "{c:?}");
            assert!(
                Email::parse(&format!("a{c}b@example.com")).is_err(),
                "{c:?}"
            );
            assert!(Password::parse(&text).is_err(), "{c:?}");
            assert!(FullName::parse(&text).is_err(), "{c:?}");
        }
        // Not control characters: a format character and a non-breaking space.
        assert!(FullName::parse("Ada\u{202e} Lovelace\u{a0}").is_ok());
    }

    #[test]
    fn full_name_is_trimmed_and_bounded() {
        assert!(FullName::parse(" ").is_err());
        assert_eq!(FullName::parse(" Ada ").unwrap().as_str(), "Ada");
        assert!(FullName::parse(&"é".repeat(100)).is_ok());
        assert!(FullName::parse(&"é".repeat(101)).is_err());
    }
}
