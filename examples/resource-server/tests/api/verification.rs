//! Offline verification: the auth server's tokens pass, nothing else does.

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use futures_util::future::join_all;
use jsonwebtoken::{EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_token_of_the_auth_server_verifies_offline() {
    let auth = AuthServer::start().await;
    let token = auth.register("ada").await;
    let resource = ResourceServer::start(&auth.url(), MINUTE).await;

    let (status, _, body) = resource.get("/hello", Some(&token)).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "ada");
    assert_eq!(body["role"], "User");
    assert!(body["userId"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(resource.jwks.fetches(), 1, "a known kid needs no refetch");
}

#[tokio::test]
async fn a_missing_or_malformed_bearer_token_is_refused() {
    let auth = AuthServer::start().await;
    let resource = ResourceServer::start(&auth.url(), MINUTE).await;

    let (status, challenge, body) = resource.get("/hello", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge, "Bearer");
    assert_eq!(body, json!({"error": "invalid_token"}));

    for token in ["", "not-a-jwt", "a.b.c", &"x".repeat(5000)] {
        let (status, challenge, body) = resource.get("/hello", Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(challenge, r#"Bearer error="invalid_token""#);
        assert_eq!(body, json!({"error": "invalid_token"}));
    }
}

#[tokio::test]
async fn a_foreign_key_is_refused_under_an_unknown_a_known_or_no_kid() {
    let auth = AuthServer::start().await;
    let real_kid = kid_of(&auth.register("ada").await);
    let resource = ResourceServer::start(&auth.url(), MINUTE).await;
    let foreign = Key::foreign();

    for kid in [Some(foreign.kid.as_str()), Some(real_kid.as_str()), None] {
        let token = foreign.sign(kid, &claims("ada"));
        let (status, challenge, _) = resource.get("/hello", Some(&token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "kid {kid:?}");
        assert_eq!(challenge, r#"Bearer error="invalid_token""#);
    }
}

/// The classic confusion: an HMAC token keyed with the public key's bytes.
#[tokio::test]
async fn an_hmac_or_unsigned_token_under_a_known_kid_is_refused() {
    let auth = AuthServer::start().await;
    let real_kid = kid_of(&auth.register("ada").await);
    let resource = ResourceServer::start(&auth.url(), MINUTE).await;
    let x = auth.published_jwk(&real_kid).await["x"]
        .as_str()
        .unwrap()
        .to_string();

    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(real_kid.clone());
    for secret in [URL_SAFE_NO_PAD.decode(&x).unwrap(), x.into_bytes()] {
        let token =
            jsonwebtoken::encode(&header, &claims("ada"), &EncodingKey::from_secret(&secret))
                .unwrap();
        assert_eq!(
            resource.status("/hello", &token).await,
            StatusCode::UNAUTHORIZED
        );
    }
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": real_kid}).to_string()),
        URL_SAFE_NO_PAD.encode(claims("ada").to_string()),
    );
    assert_eq!(
        resource.status("/hello", &unsigned).await,
        StatusCode::UNAUTHORIZED
    );
}

/// Signed with the auth server's own key: only the claims differ.
#[tokio::test]
async fn issuer_audience_and_times_are_checked() {
    let auth = AuthServer::start().await;
    let resource = ResourceServer::start(&auth.url(), MINUTE).await;
    let key = Key::from_file(&auth.dir.path().join("key-1.pem"));
    let sign = |changes: serde_json::Value| {
        let mut claims = claims("ada");
        for (name, value) in changes.as_object().unwrap() {
            match value {
                serde_json::Value::Null => claims.as_object_mut().unwrap().remove(name),
                value => claims
                    .as_object_mut()
                    .unwrap()
                    .insert(name.clone(), value.clone()),
            };
        }
        key.sign(Some(&key.kid), &claims)
    };

    assert_eq!(
        resource.status("/hello", &sign(json!({}))).await,
        StatusCode::OK
    );
    for changes in [
        json!({"iss": "SomeoneElse"}),
        json!({"aud": "AnotherClient"}),
        json!({"exp": now() - 60}),
        json!({"nbf": now() + 60}),
        json!({"nbf": null}),
        json!({"exp": null}),
    ] {
        let token = sign(changes.clone());
        assert_eq!(
            resource.status("/hello", &token).await,
            StatusCode::UNAUTHORIZED,
            "{changes}"
        );
    }
}

#[tokio::test]
async fn a_flood_of_unknown_kids_refetches_at_most_once_per_interval() {
    let interval = Duration::from_secs(2);
    let auth = AuthServer::start().await;
    let resource = ResourceServer::start(&auth.url(), interval).await;
    let started = tokio::time::Instant::now();
    let foreign = Key::foreign();
    let flood = || async {
        let requests = (0..20).map(|i| {
            let token = foreign.sign(Some(&format!("made-up-{i}")), &claims("eve"));
            let resource = &resource;
            async move { resource.status("/hello", &token).await }
        });
        for status in join_all(requests).await {
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    };

    flood().await;
    assert!(
        started.elapsed() < interval,
        "the machine is too slow for this test"
    );
    assert_eq!(
        resource.jwks.fetches(),
        1,
        "within the interval of the first fetch"
    );

    tokio::time::sleep_until(started + interval).await;
    flood().await;
    assert_eq!(
        resource.jwks.fetches(),
        2,
        "twenty unknown kids share one fetch"
    );
    flood().await;
    assert_eq!(resource.jwks.fetches(), 2);
}
