//! The loads the Rust client drives (where wrk is not used).

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use reqwest::Client;
use serde_json::{json, Value};

use super::PASSWORD;
use crate::load::{drive, Budget, Stats};

/// GET `path` with a Bearer token from many workers; a worker's state is (client, url, token).
pub(super) async fn bearer_load(
    budget: Arc<Budget>,
    workers: usize,
    targets: Vec<(Client, String, String)>,
) -> Stats {
    let states = (0..workers)
        .map(|i| targets[i % targets.len()].clone())
        .collect();
    drive(
        budget,
        states,
        |(client, url, token): (Client, String, String)| async move {
            let ok = match client.get(&url).bearer_auth(&token).send().await {
                Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            ((client, url, token), ok)
        },
    )
    .await
}

/// GET `url` from many workers, each request with the next of `tokens` in
/// turn (round-robin over all workers): a token comes round again only
/// after every other has been sent once.
pub(super) async fn rotating_bearer_load(
    budget: Arc<Budget>,
    workers: usize,
    client: Client,
    url: String,
    tokens: Arc<Vec<String>>,
) -> Stats {
    let next = Arc::new(AtomicUsize::new(0));
    let states = (0..workers)
        .map(|_| (client.clone(), url.clone(), tokens.clone(), next.clone()))
        .collect();
    drive(
        budget,
        states,
        |(client, url, tokens, next): (Client, String, Arc<Vec<String>>, Arc<AtomicUsize>)| async move {
            let token = &tokens[next.fetch_add(1, Ordering::Relaxed) % tokens.len()];
            let ok = match client.get(&url).bearer_auth(token).send().await {
                Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            ((client, url, tokens, next), ok)
        },
    )
    .await
}

pub(super) async fn login_load(
    budget: Arc<Budget>,
    workers: usize,
    client: Client,
    url: String,
) -> Stats {
    let states = (0..workers)
        .map(|_| (client.clone(), url.clone()))
        .collect();
    drive(
        budget,
        states,
        |(client, url): (Client, String)| async move {
            let body = json!({"username": "bench", "password": PASSWORD});
            let ok =
                matches!(client.post(&url).json(&body).send().await, Ok(r) if r.status() == 200);
            ((client, url), ok)
        },
    )
    .await
}

/// Each worker rotates its own refresh token in a chain.
pub(super) async fn refresh_load(
    budget: Arc<Budget>,
    client: Client,
    url: String,
    tokens: Vec<String>,
) -> Stats {
    let states = tokens
        .into_iter()
        .map(|t| (client.clone(), url.clone(), t))
        .collect();
    drive(
        budget,
        states,
        |(client, url, token): (Client, String, String)| async move {
            let response = client
                .post(&url)
                .json(&json!({"refreshToken": token}))
                .send()
                .await;
            let next = match response {
                Ok(r) if r.status() == 200 => r
                    .json::<Value>()
                    .await
                    .ok()
                    .and_then(|v| v["data"]["refreshToken"].as_str().map(str::to_string)),
                _ => None,
            };
            match next {
                Some(next) => ((client, url, next), true),
                None => ((client, url, token), false),
            }
        },
    )
    .await
}
