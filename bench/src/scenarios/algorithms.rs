//! Validation under each signing algorithm (`JWT_ALGORITHM`), each on a
//! server of its own: with one token presented again and again, as the
//! HS256 `validate` row does (the validation cache answers it for a second
//! at a time, so its signature is rarely verified), and with fresh tokens,
//! which never meet the cache: every request verifies the signature and
//! queries the database. Beside them, what one verification costs, measured
//! in this process with the crate and the checks the server uses.

use std::{
    hint::black_box,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::future::join_all;
use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, Validation};
use reqwest::Client;
use serde::Deserialize;
use serde_json::Value;

use super::{loads::rotating_bearer_load, login, register, row, text, Run};
use crate::{
    load::Summary,
    server::{self, Server, Shared},
    wrk, Row,
};

/// The most distinct access tokens a fresh-token load goes round. The server
/// uses a remembered verification for at most 1 s (`MAX_AGE` of its
/// validation cache), so a token must come round less often than that: at
/// 40,000 tokens, below 40,000 validations a second. Fewer do where a
/// verification is slow (see [`fresh_tokens`]); the row's note says how
/// often a token came round, and says so when it was too often. Minting is
/// one refresh a token.
const FRESH_TOKENS: usize = 40_000;

/// How many refresh chains mint them at once (each but the first costs a
/// login, hence a bcrypt hash).
const MINTING_CHAINS: usize = 8;

/// The server's cache keeps a verification this long (`MAX_AGE`).
const CACHE_AGE_SECS: f64 = 1.0;

/// What the server deserializes a token's claims into (`Claims` of
/// server/src/auth/access_token.rs), so that the in-process figure includes
/// the same work.
#[derive(Deserialize)]
#[allow(dead_code)] // Read by nothing: only deserialized, as the server does.
struct Claims {
    sub: String,
    nameid: String,
    name: String,
    email: String,
    role: String,
    #[serde(rename = "userId")]
    user_id: String,
    username: String,
    #[serde(rename = "fullName")]
    full_name: String,
    jti: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    iss: String,
    aud: String,
    sid: String,
}

/// The algorithms measured beside the HS256 `validate` row, and the
/// scenarios (`--only` names) of each: the cached load, the fresh-token one.
const ALGORITHMS: [(Algorithm, Option<&str>, Option<&str>); 3] = [
    (Algorithm::HS256, None, Some("validate-fresh")),
    (
        Algorithm::EdDSA,
        Some("validate-eddsa"),
        Some("validate-eddsa-fresh"),
    ),
    (
        Algorithm::ES256,
        Some("validate-es256"),
        Some("validate-es256-fresh"),
    ),
];

impl Run {
    /// The rows of the algorithm scenarios that are wanted. `hs256_token`
    /// is a token of the HS256 server (for its in-process verification
    /// figure) and `hs256_rps` the `validate` row's rate, if it ran.
    pub(super) async fn algorithms(
        &self,
        backend: &str,
        shared: &Shared,
        client: &Client,
        hs256_token: &str,
        hs256_rps: Option<f64>,
    ) -> Vec<Row> {
        let mut rows = Vec::new();
        let wanted = |s: &Option<&str>| s.is_some_and(|s| self.wants(s));
        if !ALGORITHMS.iter().any(|(_, c, f)| wanted(c) || wanted(f)) {
            return rows;
        }
        let hs256_key = DecodingKey::from_secret(server::JWT_SECRET.as_bytes());
        let hs256_us = verify_micros(hs256_token, &hs256_key, Algorithm::HS256);
        for (algorithm, cached, fresh) in ALGORITHMS {
            let cached = cached.filter(|s| self.wants(s));
            let fresh = fresh.filter(|s| self.wants(s));
            if cached.is_none() && fresh.is_none() {
                continue;
            }
            let name = format!("{algorithm:?}");
            eprintln!("[{backend}] {name} server");
            let server = Server::start_signing(&self.server, shared, self.bcrypt_cost, &name);
            let username = format!("bench_{}", name.to_lowercase());
            let user = register(client, &server, &username).await;
            let token = text(&user, "accessToken");
            let verify_us = if algorithm == Algorithm::HS256 {
                hs256_us
            } else {
                verify_micros(
                    &token,
                    &public_key(client, &server, &token).await,
                    algorithm,
                )
            };
            let cost = if algorithm == Algorithm::HS256 {
                format!("verify {verify_us:.1} µs in-process")
            } else {
                format!("verify {verify_us:.1} µs in-process (HS256 {hs256_us:.1})")
            };
            let _ = server.take_peak_rss_mb();

            let mut cached_rps = None;
            if let Some(scenario) = cached {
                eprintln!("[{backend}] {scenario}");
                let url = server.url("/api/auth/validate");
                let stats = self.bearer(&server, client, &url, &token, 32).await;
                cached_rps = Some(stats.rps);
                let note = match hs256_rps {
                    Some(hs256) => format!("{:.2} of HS256 validate; {cost}", stats.rps / hs256),
                    None => cost.clone(),
                };
                let label = format!("validate {name} (32 conn)");
                rows.push(row(backend, &label, stats, server.take_peak_rss_mb(), note));
            }

            if let Some(scenario) = fresh {
                let count = fresh_tokens(verify_us);
                eprintln!("[{backend}] {scenario}: minting {count} tokens");
                let refresh = text(&user, "refreshToken");
                let tokens = mint(client, &server, &username, refresh, count).await;
                let _ = server.take_peak_rss_mb();
                eprintln!("[{backend}] {scenario}");
                let url = server.url("/api/auth/validate");
                let stats = if self.use_wrk {
                    let cap = self.wrk_cap(&server, client);
                    wrk::get_rotating(&url, &tokens, 32, self.duration, cap).await
                } else {
                    let tokens = Arc::new(tokens.clone());
                    let stats =
                        rotating_bearer_load(self.budget(), 32, client.clone(), url, tokens).await;
                    Summary::from(&stats)
                };
                // Round-robin: a token is sent again after all the others.
                let round_secs = tokens.len() as f64 / stats.rps.max(1e-9);
                let rounds = stats.requests as f64 / tokens.len() as f64;
                let cache = if rounds <= 1.0 {
                    format!("{} tokens, each sent at most once", tokens.len())
                } else if round_secs > CACHE_AGE_SECS {
                    format!(
                        "{} tokens round-robin, each again after {round_secs:.1} s > the cache's 1 s",
                        tokens.len()
                    )
                } else {
                    format!(
                        "{} tokens came round every {round_secs:.2} s < the cache's 1 s: SOME REQUESTS HIT THE CACHE",
                        tokens.len()
                    )
                };
                let versus = match (cached_rps, hs256_rps) {
                    (Some(cached), _) => format!("; {:.2} of validate {name}", stats.rps / cached),
                    (None, Some(hs256)) => format!("; {:.2} of validate", stats.rps / hs256),
                    (None, None) => String::new(),
                };
                let note = format!("{cache}{versus}; {cost}");
                let label = format!("validate {name} fresh (32 conn)");
                rows.push(row(backend, &label, stats, server.take_peak_rss_mb(), note));
            }
        }
        rows
    }
}

/// How many tokens a fresh-token load needs when a verification takes
/// `verify_us` here: every request it sends verifies one, so the server
/// answers at most `cores / verify` of them a second, and a pool a quarter
/// larger than that comes round in more than the cache's 1 s. (The figure
/// is the best of rounds on an idle machine: the server's are no faster.)
fn fresh_tokens(verify_us: f64) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let bound = 1.25 * CACHE_AGE_SECS * cores / (verify_us.max(0.01) * 1e-6);
    (bound.ceil() as usize).clamp(1_000, FRESH_TOKENS)
}

/// `count` distinct access tokens of `username`, one per refresh, from
/// [`MINTING_CHAINS`] chains at once: `refresh` (the user's) and a login's
/// for each other. A refreshed token's predecessors stay valid (rotation
/// ends no session), so all are accepted until they expire.
async fn mint(
    client: &Client,
    server: &Server,
    username: &str,
    refresh: String,
    count: usize,
) -> Vec<String> {
    let mut chains = vec![refresh];
    for _ in 1..MINTING_CHAINS {
        chains.push(text(&login(client, server, username).await, "refreshToken"));
    }
    let url = server.url("/api/auth/refresh");
    let per_chain = count.div_ceil(MINTING_CHAINS);
    let started = Instant::now();
    let minted = join_all(chains.into_iter().map(|mut refresh| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let mut tokens = Vec::with_capacity(per_chain);
            for _ in 0..per_chain {
                let body = serde_json::json!({ "refreshToken": refresh });
                let response = client.post(&url).json(&body).send().await.expect("refresh");
                assert_eq!(response.status(), 200, "a refresh failed while minting");
                let data = response.json::<Value>().await.expect("JSON")["data"].clone();
                tokens.push(text(&data, "accessToken"));
                refresh = text(&data, "refreshToken");
            }
            tokens
        }
    }))
    .await;
    let mut tokens: Vec<String> = minted.into_iter().flatten().collect();
    tokens.truncate(count);
    eprintln!(
        "  minted {} tokens in {:.1} s",
        tokens.len(),
        started.elapsed().as_secs_f64()
    );
    tokens
}

/// The public key `token` names (its `kid`), from the server's JWK Set.
async fn public_key(client: &Client, server: &Server, token: &str) -> DecodingKey {
    let kid = jsonwebtoken::decode_header(token)
        .expect("a JWT header")
        .kid
        .expect("a kid");
    let set: JwkSet = client
        .get(server.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("GET /.well-known/jwks.json")
        .json()
        .await
        .expect("a JWK Set");
    let jwk = set.find(&kid).expect("the token's kid in the JWK Set");
    DecodingKey::from_jwk(jwk).expect("a usable JWK")
}

/// Microseconds one verification of `token` takes in this process, as the
/// server verifies a token the cache does not know (`AccessTokens::verify`):
/// the header read for its `kid`, then the signature, `alg`, `iss`, `aud`
/// and the required claims, into the same claims. The best of five rounds
/// of about 60 ms each, with nothing else running.
fn verify_micros(token: &str, key: &DecodingKey, algorithm: Algorithm) -> f64 {
    // Its own `iss` and `aud`, read without checking the signature.
    let claims: Claims =
        jsonwebtoken::dangerous::insecure_decode_claims(token).expect("a token's claims");

    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[&claims.iss]);
    validation.set_audience(&[&claims.aud]);
    validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub", "jti"]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let verify = || {
        let header = jsonwebtoken::decode_header(black_box(token)).expect("a JWT header");
        black_box(header.kid);
        jsonwebtoken::decode::<Claims>(black_box(token), key, &validation)
            .expect("the token verifies")
    };
    for _ in 0..100 {
        black_box(verify());
    }
    (0..5)
        .map(|_| {
            let started = Instant::now();
            let mut count = 0u32;
            while started.elapsed() < Duration::from_millis(60) {
                for _ in 0..32 {
                    black_box(verify());
                }
                count += 32;
            }
            started.elapsed().as_secs_f64() * 1e6 / f64::from(count)
        })
        .fold(f64::MAX, f64::min)
}
