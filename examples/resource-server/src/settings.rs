//! The settings, read once from the environment (and `.env`).

use std::{net::SocketAddr, str::FromStr, time::Duration};

#[derive(Clone, Debug)]
pub struct Settings {
    /// The auth server, without a trailing slash: `http://127.0.0.1:3000`.
    pub auth_url: String,
    pub issuer: String,
    pub audience: String,
    pub listen: SocketAddr,
    /// The least time between two fetches of the JWK Set.
    pub jwks_min_refetch: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: `{value}` is not {expected}")]
pub struct SettingsError {
    variable: &'static str,
    value: String,
    expected: &'static str,
}

impl Settings {
    pub fn from_env() -> Result<Self, SettingsError> {
        let _ = dotenvy::dotenv();
        Ok(Settings {
            auth_url: var("AUTH_URL", "http://127.0.0.1:3000")
                .trim_end_matches('/')
                .to_string(),
            issuer: var("JWT_ISSUER", "PersonalManagerAPI"),
            audience: var("JWT_AUDIENCE", "PersonalManagerClient"),
            listen: parse("LISTEN", "127.0.0.1:4000", "an address and port")?,
            jwks_min_refetch: Duration::from_secs(parse(
                "JWKS_MIN_REFETCH",
                "60",
                "a whole number of seconds",
            )?),
        })
    }
}

/// The trimmed value of `name`, or `default` when unset or empty.
fn var(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn parse<T: FromStr>(
    variable: &'static str,
    default: &str,
    expected: &'static str,
) -> Result<T, SettingsError> {
    let value = var(variable, default);
    value.parse().map_err(|_| SettingsError {
        variable,
        value,
        expected,
    })
}
