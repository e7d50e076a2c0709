//! `GET /.well-known/jwks.json`: the public keys access tokens are signed
//! with, for services that verify them without calling this server.

#![allow(dead_code)] // The schema types describe the answer; only the OpenAPI document reads them.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// How long a verifier may keep the set: a new key is announced at least
/// this long before tokens signed with it should be relied on elsewhere.
const MAX_AGE: &str = "public, max-age=300";

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "keys",
    responses((status = 200, description = "The public keys of the signing key and of the earlier keys still accepted; \
        empty when tokens are signed with a secret (HMAC). Not in the envelope: a JWK Set (RFC 7517).",
        body = JwkSetSchema,
        headers(("Cache-Control" = String, description = "`public, max-age=300`")))))]
/// `GET /.well-known/jwks.json`: a JWK Set, never secret material.
pub async fn jwks(State(state): State<AppState>) -> Response {
    (
        [
            (header::CACHE_CONTROL, MAX_AGE),
            // Public by nature: a verifier in a browser may read it too.
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        Json(state.config.tokens.keys.jwks()),
    )
        .into_response()
}

/// A JWK Set (RFC 7517 §5).
#[derive(Serialize, ToSchema)]
#[schema(as = JwkSet)]
pub struct JwkSetSchema {
    keys: Vec<JwkSchema>,
}

/// A public key (RFC 7517 §4): `OKP` (Ed25519, `crv`, `x`), `EC` (P-256,
/// `crv`, `x`, `y`) or `RSA` (`n`, `e`).
#[derive(Serialize, ToSchema)]
#[schema(as = Jwk, example = json!({
    "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "alg": "EdDSA", "use": "sig"
}))]
pub struct JwkSchema {
    kty: String,
    /// The RFC 7638 thumbprint of the key: the `kid` of the tokens it signs.
    kid: String,
    /// `EdDSA`, `ES256` or `RS256`.
    alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    key_use: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<String>,
}
