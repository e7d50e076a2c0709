//! Following the auth server's keys: rotation, retirement, failed fetches.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{extract::State, http::header, response::IntoResponse, routing::get, Json, Router};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::time::{sleep_until, Instant};

use crate::helpers::*;

#[tokio::test]
async fn after_a_rotation_old_tokens_verify_and_the_new_kid_after_a_refetch() {
    let interval = Duration::from_secs(2);
    let mut auth = AuthServer::start().await;
    let old_token = auth.register("ada").await;
    let resource = ResourceServer::start(&auth.url(), interval).await;
    let fetched = Instant::now();
    assert_eq!(resource.status("/hello", &old_token).await, StatusCode::OK);

    let new_key = new_key_file(&auth.dir, "key-2.pem");
    let old_key = auth.dir.path().join("key-1.pem");
    auth.restart_with(&[
        ("JWT_PRIVATE_KEY", new_key.display().to_string()),
        ("JWT_PREVIOUS_KEYS", old_key.display().to_string()),
    ])
    .await;
    let new_token = auth.login("ada").await;
    assert_ne!(kid_of(&new_token), kid_of(&old_token));

    assert!(
        fetched.elapsed() < interval,
        "the machine is too slow for this test"
    );
    assert_eq!(
        resource.status("/hello", &new_token).await,
        StatusCode::UNAUTHORIZED,
        "the new kid within the interval of the last fetch"
    );
    assert_eq!(resource.jwks.fetches(), 1);
    assert_eq!(resource.status("/hello", &old_token).await, StatusCode::OK);

    sleep_until(fetched + interval).await;
    assert_eq!(resource.status("/hello", &new_token).await, StatusCode::OK);
    assert_eq!(resource.jwks.fetches(), 2);
    assert_eq!(resource.status("/hello", &old_token).await, StatusCode::OK);
}

/// A JWK Set the test controls: `None` answers 500.
type Published = Arc<Mutex<Option<Vec<Value>>>>;

/// Serves `published` with `Cache-Control: max-age=1`.
async fn jwks_server(published: Published) -> String {
    let router = Router::new()
        .route(
            "/.well-known/jwks.json",
            get(|State(published): State<Published>| async move {
                match published.lock().unwrap().clone() {
                    Some(keys) => (
                        [(header::CACHE_CONTROL, "max-age=1")],
                        Json(json!({ "keys": keys })),
                    )
                        .into_response(),
                    None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                }
            }),
        )
        .with_state(published);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::test]
async fn a_retired_key_is_refused_once_the_set_outlives_its_max_age_and_a_failed_fetch_changes_nothing(
) {
    let second = Duration::from_secs(1);
    let (old, new) = (Key::foreign(), Key::foreign());
    let published: Published = Arc::new(Mutex::new(Some(vec![old.public_jwk.clone()])));
    let url = jwks_server(published.clone()).await;
    let resource = ResourceServer::start(&url, second).await;
    let fetched = Instant::now();
    let old_token = old.sign(Some(&old.kid), &claims("ada"));
    let new_token = new.sign(Some(&new.kid), &claims("ada"));
    assert_eq!(resource.status("/hello", &old_token).await, StatusCode::OK);

    // Stale, and the fetch fails: the keys at hand stay.
    *published.lock().unwrap() = None;
    sleep_until(fetched + second).await;
    assert_eq!(resource.status("/hello", &old_token).await, StatusCode::OK);
    assert_eq!(resource.jwks.fetches(), 2);
    let failed = Instant::now();

    *published.lock().unwrap() = Some(vec![new.public_jwk.clone()]);
    sleep_until(failed + second).await;
    assert_eq!(
        resource.status("/hello", &old_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(resource.jwks.fetches(), 3);
    assert_eq!(resource.status("/hello", &new_token).await, StatusCode::OK);
}

#[tokio::test]
async fn while_a_refetch_hangs_a_known_key_is_served_from_the_stale_set() {
    let second = Duration::from_secs(1);
    let key = Key::foreign();
    let hang = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let router = Router::new()
        .route(
            "/.well-known/jwks.json",
            get(|State((jwk, hang)): State<(Value, Arc<std::sync::atomic::AtomicBool>)>| async move {
                if hang.load(std::sync::atomic::Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                ([(header::CACHE_CONTROL, "max-age=1")], Json(json!({ "keys": [jwk] })))
            }),
        )
        .with_state((key.public_jwk.clone(), hang.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let resource = Arc::new(ResourceServer::start(&url, second).await);
    let token = key.sign(Some(&key.kid), &claims("ada"));
    sleep_until(Instant::now() + second).await;
    hang.store(true, std::sync::atomic::Ordering::SeqCst);
    // The first request on the stale set starts the fetch, which hangs.
    let first = tokio::spawn({
        let (resource, token) = (resource.clone(), token.clone());
        async move { resource.status("/hello", &token).await }
    });
    while resource.jwks.fetches() < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let asked = Instant::now();
    assert_eq!(resource.status("/hello", &token).await, StatusCode::OK);
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "waited {:?} for the hung fetch",
        asked.elapsed()
    );
    assert_eq!(first.await.unwrap(), StatusCode::OK);
}
