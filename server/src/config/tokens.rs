//! The access tokens and the refresh-token families.

use std::{path::Path, time::Duration};

use jsonwebtoken::Algorithm;

use super::vars::{bad, ConfigError, Vars};
use crate::{
    secret::{self, Secret},
    signing_keys::{self, KeyRing, VerifyingKey},
};

#[derive(Clone, Debug)]
pub struct TokenSettings {
    /// The key new tokens are signed with, and every key they are accepted from.
    pub keys: KeyRing,
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
    /// `production` needs an explicit secret or key; development generates
    /// one into `data_dir` once.
    pub fn from_vars(vars: &Vars, production: bool, data_dir: &Path) -> Result<Self, ConfigError> {
        let algorithm = match vars.get("JWT_ALGORITHM") {
            None => Algorithm::HS256,
            Some(name) => signing_keys::parse_algorithm(name).ok_or_else(|| {
                bad(
                    "JWT_ALGORITHM",
                    format!("must be HS256, HS384, HS512, EdDSA, ES256 or RS256, not `{name}`"),
                )
            })?,
        };
        let signing = if signing_keys::is_hmac(algorithm) {
            if vars.get("JWT_PRIVATE_KEY").is_some() {
                return Err(bad(
                    "JWT_PRIVATE_KEY",
                    format!("is for EdDSA, ES256 and RS256, and JWT_ALGORITHM is {algorithm:?}"),
                ));
            }
            signing_keys::hmac(&signing_secret(vars, production, data_dir)?, algorithm)
        } else {
            signing_key(vars, algorithm, production, data_dir)?
        };
        // Earlier secrets are for the HMAC algorithm in use, or for the
        // default one when tokens are now signed with a key.
        let secret_algorithm = if signing_keys::is_hmac(algorithm) {
            algorithm
        } else {
            Algorithm::HS256
        };
        let mut previous: Vec<VerifyingKey> = vars.list("JWT_PREVIOUS_SECRETS", |s| {
            let secret = long_secret(s).ok_or_else(|| {
                format!(
                    "each secret must be at least {} bytes long",
                    secret::MIN_LEN
                )
            })?;
            Ok(signing_keys::hmac(&secret, secret_algorithm).1)
        })?;
        previous.extend(vars.list("JWT_PREVIOUS_KEYS", |path| {
            let pem =
                std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
            signing_keys::from_pem(&pem).map_err(|e| format!("{path}: {e}"))
        })?);
        Ok(TokenSettings {
            keys: KeyRing::new(signing, previous),
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

fn long_secret(text: &str) -> Option<Secret> {
    (text.len() >= secret::MIN_LEN).then(|| Secret::from(text.as_bytes().to_vec()))
}

/// `JWT_SECRET`, or in development the secret kept in `data_dir`.
fn signing_secret(vars: &Vars, production: bool, data_dir: &Path) -> Result<Secret, ConfigError> {
    match vars.get("JWT_SECRET") {
        Some(s) => long_secret(s).ok_or_else(|| {
            bad(
                "JWT_SECRET",
                format!("must be at least {} bytes long", secret::MIN_LEN),
            )
        }),
        None if production => Err(bad("JWT_SECRET", "must be set when APP_ENV=production")),
        None => secret::load_or_generate(&data_dir.join("jwt-secret")).map_err(|e| {
            bad(
                "JWT_SECRET",
                format!(
                    "unset, and the development secret in {} is unusable: {e}",
                    data_dir.display()
                ),
            )
        }),
    }
}

/// The private key of `JWT_PRIVATE_KEY`, or in development the one kept in
/// `data_dir` for `algorithm`.
fn signing_key(
    vars: &Vars,
    algorithm: Algorithm,
    production: bool,
    data_dir: &Path,
) -> Result<(signing_keys::SigningKey, VerifyingKey), ConfigError> {
    let key = match vars.get("JWT_PRIVATE_KEY") {
        Some(path) => {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| bad("JWT_PRIVATE_KEY", format!("cannot read {path}: {e}")))?;
            signing_keys::from_private_pem(&pem)
                .map_err(|e| bad("JWT_PRIVATE_KEY", format!("{path}: {e}")))?
        }
        None if production => {
            return Err(bad(
                "JWT_PRIVATE_KEY",
                format!("must be set when APP_ENV=production and JWT_ALGORITHM is {algorithm:?} (`server keys generate --alg {algorithm:?}` makes one)"),
            ))
        }
        None => {
            let path = data_dir.join(format!("jwt-{}.pem", format!("{algorithm:?}").to_lowercase()));
            signing_keys::load_or_generate(&path, algorithm).map_err(|e| {
                bad(
                    "JWT_PRIVATE_KEY",
                    format!("unset, and the development key {} is unusable: {e}", path.display()),
                )
            })?
        }
    };
    if key.0.algorithm != algorithm {
        return Err(bad(
            "JWT_PRIVATE_KEY",
            format!(
                "holds a {:?} key, and JWT_ALGORITHM is {algorithm:?}",
                key.0.algorithm
            ),
        ));
    }
    Ok(key)
}
