//! Access tokens: JWTs with the claims of the contract, signed with the
//! signing key and its `kid`, and verified with the key their `kid` names,
//! for that key's one algorithm. Time checks use the injected clock, not
//! jsonwebtoken's system time.

use std::collections::HashMap;

use app::api::User;
use jsonwebtoken::{DecodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::{config::TokenSettings, signing_keys::SigningKey};

/// The longest token accepted; anything longer is rejected before parsing.
pub const MAX_TOKEN_LEN: usize = 4096;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub sub: String,
    pub nameid: String,
    pub name: String,
    pub email: String,
    pub role: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    pub username: String,
    #[serde(rename = "fullName")]
    pub full_name: String,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// The refresh-token family (the login session) this token belongs to.
    pub sid: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("malformed or badly signed token: {0}")]
    Invalid(String),
    #[error("token expired")]
    Expired,
    #[error("token not valid yet")]
    NotYetValid,
}

#[derive(Clone)]
pub struct AccessTokens {
    signing: SigningKey,
    /// By `kid`: the key, and the validation that allows its algorithm only.
    verifying: HashMap<String, (DecodingKey, Validation)>,
    issuer: String,
    audience: String,
    ttl: i64,
    leeway: i64,
}

impl AccessTokens {
    pub fn new(settings: &TokenSettings) -> Self {
        let verifying = settings
            .keys
            .verifying
            .iter()
            .map(|key| {
                // Exactly one algorithm: `none`, and any other `alg` (an HMAC
                // token keyed with a public key), fail the header check.
                let mut validation = Validation::new(key.algorithm);
                validation.set_issuer(&[&settings.issuer]);
                validation.set_audience(&[&settings.audience]);
                validation
                    .set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub", "jti"]);
                validation.validate_exp = false;
                validation.validate_nbf = false;
                (key.kid.clone(), (key.key.clone(), validation))
            })
            .collect();
        AccessTokens {
            signing: settings.keys.signing.clone(),
            verifying,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl: settings.access_ttl.as_secs() as i64,
            leeway: settings.leeway.as_secs() as i64,
        }
    }

    /// Signs a new token for `user` in session `sid`; returns it with its `exp`.
    pub fn issue(
        &self,
        user: &User,
        sid: &str,
        now: i64,
    ) -> Result<(String, i64), jsonwebtoken::errors::Error> {
        let id = user.id.to_string();
        let exp = now + self.ttl;
        let claims = Claims {
            sub: id.clone(),
            nameid: id.clone(),
            name: user.username.clone(),
            email: user.email.clone(),
            role: user.role.as_str().to_string(),
            user_id: id,
            username: user.username.clone(),
            full_name: user.full_name.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now,
            nbf: now,
            exp,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sid: sid.to_string(),
        };
        let mut header = Header::new(self.signing.algorithm);
        header.kid = Some(self.signing.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.signing.key)?;
        Ok((token, exp))
    }

    /// Picks the key by `kid`, checks `alg` against it, the signature,
    /// `iss`, `aud`, then `exp` and `nbf` against `now`.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid("token too long".into()));
        }
        let invalid = |e: jsonwebtoken::errors::Error| TokenError::Invalid(e.to_string());
        let kid = jsonwebtoken::decode_header(token)
            .map_err(invalid)?
            .kid
            .ok_or_else(|| TokenError::Invalid("no kid".into()))?;
        let (key, validation) = self
            .verifying
            .get(&kid)
            .ok_or_else(|| TokenError::Invalid("unknown kid".into()))?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, validation)
            .map_err(invalid)?
            .claims;
        self.check_times(&claims, now)?;
        Ok(claims)
    }

    /// Checks `exp` and `nbf` against `now`, with the leeway.
    pub fn check_times(&self, claims: &Claims, now: i64) -> Result<(), TokenError> {
        if now >= claims.exp + self.leeway {
            return Err(TokenError::Expired);
        }
        if claims.nbf > now + self.leeway {
            return Err(TokenError::NotYetValid);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use app::api::Role;
    use proptest::prelude::*;

    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn tokens() -> AccessTokens {
        let dir = tempfile::tempdir().unwrap();
        let vars = HashMap::from([
            ("DATA_DIR".to_string(), dir.path().display().to_string()),
            ("JWT_SECRET".to_string(), "k".repeat(32)),
        ]);
        AccessTokens::new(&crate::config::Config::from_vars(&vars).unwrap().tokens)
    }

    fn user(name: String) -> User {
        User {
            id: 7,
            username: name.clone(),
            email: format!("{name}@example.com"),
            full_name: name,
            role: Role::User,
            is_active: true,
        }
    }

    proptest! {
        /// Whatever a client sends as a token, verification answers, and
        /// only with a rejection.
        #[test]
        fn arbitrary_text_never_verifies(token in any::<String>()) {
            prop_assert!(tokens().verify(&token, NOW).is_err());
        }

        /// Three dot-separated parts of base64url, the shape of a JWT.
        #[test]
        fn arbitrary_jwt_shapes_never_verify(
            token in "[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,90}"
        ) {
            prop_assert!(tokens().verify(&token, NOW).is_err());
        }

        /// The signature covers every character: changing any one of a
        /// valid token's characters makes it invalid.
        #[test]
        fn changing_any_character_of_a_token_invalidates_it(
            name in "\\PC{1,40}",
            position in any::<prop::sample::Index>(),
            replacement in "[A-Za-z0-9_.-]",
        ) {
            let tokens = tokens();
            let (token, _) = tokens.issue(&user(name.clone()), "sid", NOW).unwrap();
            let claims = tokens.verify(&token, NOW).unwrap();
            prop_assert_eq!(&claims.username, &name);
            let at = position.index(token.len());
            let mut tampered = token.clone().into_bytes();
            prop_assume!(tampered[at] != replacement.as_bytes()[0]);
            tampered[at] = replacement.as_bytes()[0];
            let tampered = String::from_utf8(tampered).unwrap();
            prop_assert!(tokens.verify(&tampered, NOW).is_err(), "{} accepted", tampered);
        }
    }
}
