//! The auth server's public keys, fetched from its JWK Set and kept by `kid`.
//!
//! A `kid` the set does not name, or a set older than its `max-age`, makes
//! the next lookup fetch again, but never sooner than `min_refetch` after
//! the last fetch: tokens with made-up `kid`s cannot turn this service into
//! a flood of requests to the auth server.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, PoisonError, RwLock,
    },
    time::Duration,
};

use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse},
    Algorithm, DecodingKey, Validation,
};
use reqwest::header::{HeaderMap, CACHE_CONTROL};
use tokio::{sync::Mutex, time::Instant};

/// How long a set without `Cache-Control: max-age` is used.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 5;

/// A public key, and the validation that accepts its one algorithm only.
pub struct VerifyingKey {
    pub key: DecodingKey,
    pub validation: Validation,
}

/// Whom the tokens must come from and be meant for.
#[derive(Clone, Debug)]
pub struct Audience {
    pub issuer: String,
    pub audience: String,
}

pub struct JwksCache {
    url: String,
    http: reqwest::Client,
    audience: Audience,
    min_refetch: Duration,
    keys: RwLock<KeySet>,
    /// When the last fetch started; held during a fetch, so that lookups
    /// arriving meanwhile wait for its result instead of fetching again.
    last_fetch: Mutex<Option<Instant>>,
    fetches: AtomicU64,
}

struct KeySet {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    stale_at: Instant,
}

impl JwksCache {
    /// An empty cache of `{auth_url}/.well-known/jwks.json`; [`Self::refetch`] fills it.
    pub fn new(
        http: reqwest::Client,
        auth_url: &str,
        audience: Audience,
        min_refetch: Duration,
    ) -> Self {
        JwksCache {
            url: format!("{auth_url}/.well-known/jwks.json"),
            http,
            audience,
            min_refetch,
            keys: RwLock::new(KeySet {
                by_kid: HashMap::new(),
                stale_at: Instant::now(),
            }),
            last_fetch: Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many times the set was fetched (or a fetch was tried).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The key named `kid`: from a fresh set, else after a refetch when one
    /// is allowed, else from the set at hand. A stale set that names `kid`
    /// serves it at once while another request fetches: a slow auth server
    /// holds up one request, not every one.
    pub async fn key(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        if let Some(key) = self.cached(kid, true) {
            return Some(key);
        }
        match self.cached(kid, false) {
            Some(stale) => match self.last_fetch.try_lock() {
                Ok(mut last) => self.refetch_holding(&mut last).await,
                Err(_) => return Some(stale),
            },
            None => self.refetch().await,
        }
        self.cached(kid, false)
    }

    fn cached(&self, kid: &str, fresh_only: bool) -> Option<Arc<VerifyingKey>> {
        let set = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        if fresh_only && set.stale_at <= Instant::now() {
            return None;
        }
        set.by_kid.get(kid).cloned()
    }

    /// Fetches the set, unless the last fetch started less than
    /// `min_refetch` ago; waits for a fetch under way and shares it. A
    /// failed fetch keeps the keys at hand.
    pub async fn refetch(&self) {
        let mut last = self.last_fetch.lock().await;
        self.refetch_holding(&mut last).await;
    }

    async fn refetch_holding(&self, last: &mut Option<Instant>) {
        if last.is_some_and(|at| at.elapsed() < self.min_refetch) {
            return;
        }
        *last = Some(Instant::now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match self.download().await {
            Ok(set) => {
                tracing::info!(url = %self.url, keys = set.by_kid.len(), "fetched the JWK Set");
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = set;
            }
            Err(e) => {
                tracing::warn!(url = %self.url, error = %e, "cannot fetch the JWK Set; keeping the keys at hand");
            }
        }
    }

    async fn download(&self) -> Result<KeySet, reqwest::Error> {
        let response = self.http.get(&self.url).send().await?.error_for_status()?;
        let max_age = max_age(response.headers()).unwrap_or(DEFAULT_MAX_AGE);
        // Key by key: one key of a kind this crate cannot read must not
        // cost the others.
        #[derive(serde::Deserialize)]
        struct RawSet {
            keys: Vec<serde_json::Value>,
        }
        let raw: RawSet = response.json().await?;
        let mut by_kid = HashMap::new();
        for jwk in raw.keys {
            match verifying_key(jwk, &self.audience) {
                Some((kid, key)) => {
                    by_kid.entry(kid).or_insert_with(|| Arc::new(key));
                }
                None => tracing::debug!(
                    "skipped a JWK that is not a signing key of EdDSA, ES256 or RS256"
                ),
            }
        }
        Ok(KeySet {
            by_kid,
            stale_at: Instant::now() + max_age,
        })
    }
}

/// A JWK with a `kid`, for signatures, whose `alg` is EdDSA, ES256 or
/// RS256 and matches its key type. HMAC keys are never taken, whatever the
/// set says: a public set holding a secret is a mistake, not a key.
fn verifying_key(jwk: serde_json::Value, audience: &Audience) -> Option<(String, VerifyingKey)> {
    let jwk: Jwk = serde_json::from_value(jwk).ok()?;
    if !matches!(
        jwk.common.public_key_use,
        None | Some(PublicKeyUse::Signature)
    ) {
        return None;
    }
    let algorithm = match (jwk.common.key_algorithm?, &jwk.algorithm) {
        (KeyAlgorithm::EdDSA, AlgorithmParameters::OctetKeyPair(p))
            if p.curve == EllipticCurve::Ed25519 =>
        {
            Algorithm::EdDSA
        }
        (KeyAlgorithm::ES256, AlgorithmParameters::EllipticCurve(p))
            if p.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        (KeyAlgorithm::RS256, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
        _ => return None,
    };
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[&audience.issuer]);
    validation.set_audience(&[&audience.audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECONDS;
    Some((jwk.common.key_id?, VerifyingKey { key, validation }))
}

fn max_age(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(CACHE_CONTROL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|directive| directive.trim().strip_prefix("max-age=")?.parse().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        let mut headers = HeaderMap::new();
        assert_eq!(max_age(&headers), None);
        headers.insert(CACHE_CONTROL, "public, max-age=300".parse().unwrap());
        assert_eq!(max_age(&headers), Some(Duration::from_secs(300)));
        headers.insert(CACHE_CONTROL, "no-cache".parse().unwrap());
        assert_eq!(max_age(&headers), None);
    }

    #[test]
    fn only_signing_keys_of_the_asymmetric_algorithms_are_kept() {
        let audience = Audience {
            issuer: "i".into(),
            audience: "a".into(),
        };
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let okp = |alg: &str, key_use: &str| serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k", "alg": alg, "use": key_use});
        assert!(verifying_key(okp("EdDSA", "sig"), &audience).is_some());
        assert!(verifying_key(okp("EdDSA", "enc"), &audience).is_none());
        // The alg must be the one the key's type makes.
        assert!(verifying_key(okp("RS256", "sig"), &audience).is_none());
        let secret = serde_json::json!({"kty": "oct", "k": x, "kid": "k", "alg": "HS256"});
        assert!(verifying_key(secret, &audience).is_none());
        let no_alg = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k"});
        assert!(verifying_key(no_alg, &audience).is_none());
    }
}
