//! `/strict` asks the auth server too, and sees what offline checks cannot.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn after_a_logout_strict_refuses_the_token_that_hello_still_accepts() {
    let auth = AuthServer::start().await;
    let token = auth.register("ada").await;
    let resource = ResourceServer::start(&auth.url(), MINUTE).await;
    let (status, _, body) = resource.get("/strict", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "ada");

    auth.revoke(&token).await;

    let (status, challenge, body) = resource.get("/strict", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge, r#"Bearer error="invalid_token""#);
    assert_eq!(body, json!({"error": "invalid_token"}));
    // The trade-off of offline verification: valid until it expires.
    assert_eq!(resource.status("/hello", &token).await, StatusCode::OK);
}

#[tokio::test]
async fn strict_answers_503_while_the_auth_server_is_down_and_hello_still_works() {
    let mut auth = AuthServer::start().await;
    let token = auth.register("ada").await;
    let resource = ResourceServer::start(&auth.url(), MINUTE).await;

    auth.stop().await;

    let (status, _, body) = resource.get("/strict", Some(&token)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, json!({"error": "auth_server_unavailable"}));
    assert_eq!(resource.status("/hello", &token).await, StatusCode::OK);
}

#[tokio::test]
async fn strict_refuses_a_forged_token_without_asking() {
    let mut auth = AuthServer::start().await;
    let resource = ResourceServer::start(&auth.url(), MINUTE).await;
    auth.stop().await;
    let forged = Key::foreign().sign(Some("any"), &claims("eve"));

    // 401, not 503: the offline check comes first.
    assert_eq!(
        resource.status("/strict", &forged).await,
        StatusCode::UNAUTHORIZED
    );
}
