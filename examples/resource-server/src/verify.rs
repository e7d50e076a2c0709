//! Offline verification of an access token: the key its `kid` names, for
//! that key's algorithm only; never every key in turn.

use serde::{Deserialize, Serialize};

use crate::jwks::JwksCache;

/// The longest token looked at; anything longer is refused unparsed.
const MAX_TOKEN_LEN: usize = 4096;

/// The claims this service uses (the token carries more).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub user_id: String,
    pub username: String,
    pub role: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token too long")]
    TooLong,
    #[error("no kid in the header")]
    NoKid,
    #[error("no key named {0}")]
    UnknownKid(String),
    #[error(transparent)]
    Jwt(#[from] jsonwebtoken::errors::Error),
}

/// Checks `token`'s signature, `alg`, `iss`, `aud`, `exp` and `nbf`.
pub async fn verify(jwks: &JwksCache, token: &str) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong);
    }
    let kid = jsonwebtoken::decode_header(token)?
        .kid
        .ok_or(TokenError::NoKid)?;
    let key = jwks.key(&kid).await.ok_or(TokenError::UnknownKid(kid))?;
    Ok(jsonwebtoken::decode::<Claims>(token, &key.key, &key.validation)?.claims)
}
