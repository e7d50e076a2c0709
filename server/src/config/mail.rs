//! Mail: where links point, how mails leave, and the account-lifecycle rules
//! that depend on them.

use std::{net::SocketAddr, time::Duration};

use super::vars::{bad, ConfigError, Vars};
use crate::secret::Secret;

#[derive(Clone, Debug)]
pub struct MailSettings {
    /// The base of every link in a mail, without a trailing slash (`PUBLIC_URL`).
    pub public_url: String,
    /// The relay (`SMTP_URL`); `None` writes each mail as a file into
    /// `DATA_DIR/outbox/`.
    pub smtp: Option<SmtpRelay>,
    /// The `From` address (`MAIL_FROM`).
    pub from: String,
    pub verification: EmailVerification,
    pub verify_ttl: Duration,
    pub reset_ttl: Duration,
}

/// Whether an unverified account may sign in (`EMAIL_VERIFICATION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailVerification {
    Optional,
    Required,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// STARTTLS when the relay offers it (`smtp://`).
    Opportunistic,
    /// STARTTLS or no mail (`smtp://…?tls=required`).
    StartTlsRequired,
    /// TLS from the first byte (`smtps://`).
    Tls,
    /// Plain text, for a relay on the same host (`smtp://…?tls=none`).
    None,
}

#[derive(Clone, Debug)]
pub struct SmtpRelay {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<SmtpCredentials>,
}

#[derive(Clone, Debug)]
pub struct SmtpCredentials {
    pub user: String,
    pub password: Secret,
}

impl MailSettings {
    pub fn from_vars(vars: &Vars, site_addr: SocketAddr, tls: bool) -> Result<Self, ConfigError> {
        let scheme = if tls { "https" } else { "http" };
        let public_url = match vars.get("PUBLIC_URL") {
            Some(url) => public_url(url).map_err(|problem| bad("PUBLIC_URL", problem))?,
            None => format!("{scheme}://{site_addr}"),
        };
        let smtp = match vars.get("SMTP_URL") {
            // The problem never quotes the URL: it may hold a password.
            Some(url) => Some(smtp_relay(url).map_err(|problem| bad("SMTP_URL", problem))?),
            None => None,
        };
        let from = vars.get("MAIL_FROM").unwrap_or("no-reply@localhost");
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(bad(
                "MAIL_FROM",
                format!("`{from}` is not an address (like `Auth <no-reply@example.com>`)"),
            ));
        }
        let verification = match vars.get("EMAIL_VERIFICATION").unwrap_or("optional") {
            "optional" => EmailVerification::Optional,
            "required" => EmailVerification::Required,
            other => {
                return Err(bad(
                    "EMAIL_VERIFICATION",
                    format!("must be `optional` or `required`, not `{other}`"),
                ))
            }
        };
        Ok(MailSettings {
            public_url,
            smtp,
            from: from.to_string(),
            verification,
            verify_ttl: vars.seconds("VERIFY_TOKEN_TTL", "86400", 60)?,
            reset_ttl: vars.seconds("RESET_TOKEN_TTL", "3600", 60)?,
        })
    }
}

/// `http(s)://host[:port]`, with no path, query or fragment.
fn public_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| format!("`{raw}` must start with https:// or http://"))?;
    if rest.is_empty()
        || rest.contains(['/', '?', '#', '@'])
        || rest.chars().any(char::is_whitespace)
    {
        return Err(format!(
            "`{raw}` must be a scheme and a host (and port), like https://auth.example.com"
        ));
    }
    Ok(trimmed.to_string())
}

/// `smtp://[user:pass@]host[:port][?tls=none|required]` or `smtps://…`.
/// Parsed here rather than by lettre, whose URL form reads `smtp://` as
/// plain text and knows no `tls=none`.
fn smtp_relay(raw: &str) -> Result<SmtpRelay, String> {
    let (implicit_tls, rest) = if let Some(rest) = raw.strip_prefix("smtps://") {
        (true, rest)
    } else if let Some(rest) = raw.strip_prefix("smtp://") {
        (false, rest)
    } else {
        return Err("must start with smtp:// or smtps://".into());
    };
    let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = authority.trim_end_matches('/');
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, authority),
    };
    let credentials = match userinfo {
        None => None,
        Some(userinfo) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let decode = |s: &str| {
                percent_decode(s)
                    .ok_or_else(|| "the user or password is not percent-encoded UTF-8".to_string())
            };
            Some(SmtpCredentials {
                user: decode(user)?,
                password: Secret::from(decode(password)?.into_bytes()),
            })
        }
    };
    let (host, port) = match hostport.rsplit_once(':') {
        // An IPv6 literal is bracketed: `[::1]:25`.
        Some((host, port)) if !port.contains(']') => (
            host,
            Some(
                port.parse::<u16>()
                    .map_err(|_| format!("`{port}` is not a port"))?,
            ),
        ),
        _ => (hostport, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err("names no host".into());
    }
    let mut security = if implicit_tls {
        SmtpSecurity::Tls
    } else {
        SmtpSecurity::Opportunistic
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        security = match (pair, implicit_tls) {
            ("tls=none", false) => SmtpSecurity::None,
            ("tls=required", false) => SmtpSecurity::StartTlsRequired,
            (_, true) => return Err("smtps:// takes no options: it is always TLS".into()),
            (other, false) => {
                return Err(format!(
                    "unknown option `{other}` (`tls=none` or `tls=required`)"
                ))
            }
        };
    }
    Ok(SmtpRelay {
        host: host.to_string(),
        port: port.unwrap_or(if implicit_tls { 465 } else { 587 }),
        security,
        credentials,
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_name_host_port_security_and_credentials() {
        let relay = smtp_relay("smtp://mail.example.com").unwrap();
        assert_eq!(
            (relay.host.as_str(), relay.port, relay.security),
            ("mail.example.com", 587, SmtpSecurity::Opportunistic)
        );
        assert!(relay.credentials.is_none());

        let relay = smtp_relay("smtps://me%40example.com:p%3Ass@mail.example.com").unwrap();
        assert_eq!((relay.port, relay.security), (465, SmtpSecurity::Tls));
        let credentials = relay.credentials.unwrap();
        assert_eq!(credentials.user, "me@example.com");
        assert_eq!(credentials.password.expose(), b"p:ss");

        let relay = smtp_relay("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!(
            (relay.host.as_str(), relay.port, relay.security),
            ("127.0.0.1", 2525, SmtpSecurity::None)
        );
        let relay = smtp_relay("smtp://[::1]:25/?tls=required").unwrap();
        assert_eq!(
            (relay.host.as_str(), relay.port, relay.security),
            ("::1", 25, SmtpSecurity::StartTlsRequired)
        );
    }

    #[test]
    fn bad_smtp_urls_are_refused_without_repeating_the_password() {
        for url in [
            "http://mail.example.com",
            "smtp://",
            "smtp://user:hunter2@mail.example.com:http",
            "smtp://user:hunter2@mail.example.com?tls=maybe",
            "smtps://user:hunter2@mail.example.com?tls=none",
            "smtp://user:%ZZ@mail.example.com",
        ] {
            let problem = smtp_relay(url).unwrap_err();
            assert!(!problem.contains("hunter2"), "{url}: {problem}");
        }
    }

    #[test]
    fn public_urls_are_an_origin() {
        assert_eq!(
            public_url("https://auth.example.com/").unwrap(),
            "https://auth.example.com"
        );
        assert_eq!(
            public_url("http://127.0.0.1:3000").unwrap(),
            "http://127.0.0.1:3000"
        );
        for bad in [
            "auth.example.com",
            "https://",
            "https://auth.example.com/app",
            "https://auth.example.com?x=1",
            "javascript:alert(1)",
        ] {
            assert!(public_url(bad).is_err(), "{bad}");
        }
    }
}
