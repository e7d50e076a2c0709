//! The access tokens and the refresh-token families.

use std::{path::Path, time::Duration};

use super::vars::{bad, ConfigError, Vars};
use crate::secret::{self, Secret};

/// HMAC algorithms the server signs and accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwtAlgorithm {
    HS256,
    HS384,
    HS512,
}

#[derive(Clone, Debug)]
pub struct TokenSettings {
    pub secret: Secret,
    pub algorithm: JwtAlgorithm,
    pub issuer: String,
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    pub access_ttl: Duration,
    /// The absolute lifetime of a refresh family (a login).
    pub refresh_ttl: Duration,
    /// How long a rotated refresh token may be presented again for the same successor.
    pub reuse_grace: Duration,
}

impl TokenSettings {
    /// `production` needs an explicit secret; development generates one
    /// into `data_dir` once.
    pub fn from_vars(vars: &Vars, production: bool, data_dir: &Path) -> Result<Self, ConfigError> {
        let secret = match vars.get("JWT_SECRET") {
            Some(s) if s.len() >= secret::MIN_LEN => Secret::from(s.as_bytes().to_vec()),
            Some(_) => {
                return Err(bad(
                    "JWT_SECRET",
                    format!("must be at least {} bytes long", secret::MIN_LEN),
                ))
            }
            None if production => {
                return Err(bad("JWT_SECRET", "must be set when APP_ENV=production"));
            }
            None => secret::load_or_generate(&data_dir.join("jwt-secret")).map_err(|e| {
                bad(
                    "JWT_SECRET",
                    format!(
                        "unset, and the development secret in {} is unusable: {e}",
                        data_dir.display()
                    ),
                )
            })?,
        };
        let algorithm = match vars.get("JWT_ALGORITHM").unwrap_or("HS256") {
            "HS256" => JwtAlgorithm::HS256,
            "HS384" => JwtAlgorithm::HS384,
            "HS512" => JwtAlgorithm::HS512,
            other => {
                return Err(bad(
                    "JWT_ALGORITHM",
                    format!("must be HS256, HS384 or HS512, not `{other}`"),
                ))
            }
        };
        Ok(TokenSettings {
            secret,
            algorithm,
            issuer: vars
                .get("JWT_ISSUER")
                .unwrap_or("PersonalManagerAPI")
                .to_string(),
            audience: vars
                .get("JWT_AUDIENCE")
                .unwrap_or("PersonalManagerClient")
                .to_string(),
            leeway: vars.seconds("JWT_LEEWAY", "5", 0)?,
            access_ttl: vars.seconds("ACCESS_TOKEN_TTL", "3600", 1)?,
            refresh_ttl: vars.seconds("REFRESH_TOKEN_TTL", "604800", 1)?,
            reuse_grace: vars.seconds("REFRESH_REUSE_GRACE", "5", 0)?,
        })
    }
}
