//! The browser session kept beside the tokens, so pages render signed in.

use reqwest::{redirect::Policy, StatusCode};
use serde_json::json;

use crate::{helpers::*, on_every_backend};

/// A client that keeps cookies and does not follow redirects, like a browser tab.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

on_every_backend! {
    async fn login_sets_an_http_only_lax_session_cookie(app) {
        app.register("cookie").await;
        let response = app.post_json("/api/auth/login", &json!({"username": "cookie", "password": PASSWORD})).await;
        let cookie = response.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_string();
        assert!(cookie.starts_with("auth_session="), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(!cookie.contains("Secure"), "not Secure in development: {cookie}");
    }

    async fn a_signed_in_browser_gets_its_name_rendered_and_a_signed_out_one_is_redirected(app) {
        let tab = browser();
        let response = tab.get(app.url("/profile")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], "/login?next=%2Fprofile");
        assert!(response.text().await.unwrap().is_empty(), "no HTML before the redirect");

        let registered = tab.post(app.url("/api/auth/register")).json(&registration("rendered")).send().await.unwrap();
        let (_, body) = envelope(registered).await;
        let page = tab.get(app.url("/profile")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains(r#"<dd id="profile-username">rendered"#), "{html}");

        // Logout ends the session: the next page load is signed out.
        let token = body["data"]["accessToken"].as_str().unwrap();
        let revoked = tab.post(app.url("/api/auth/revoke")).bearer_auth(token).send().await.unwrap();
        assert_eq!(revoked.status(), StatusCode::OK);
        let after = tab.get(app.url("/profile")).send().await.unwrap();
        assert_eq!(after.status(), StatusCode::SEE_OTHER);
    }

    async fn the_session_ends_with_its_refresh_family(app) {
        let tab = browser();
        let registered = tab.post(app.url("/api/auth/register")).json(&registration("family")).send().await.unwrap();
        let (_, body) = envelope(registered).await;
        let first = body["data"]["refreshToken"].as_str().unwrap();
        // Rotate, wait out the grace window, then replay the old token: reuse revokes the family.
        let rotated = tab.post(app.url("/api/auth/refresh")).json(&json!({"refreshToken": first})).send().await.unwrap();
        assert_eq!(rotated.status(), StatusCode::OK);
        assert_eq!(tab.get(app.url("/profile")).send().await.unwrap().status(), StatusCode::OK);
        app.clock.advance(10);
        assert_eq!(app.refresh(first).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(tab.get(app.url("/profile")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn the_session_cookie_is_secure_in_production() {
    let app = spawn_app_with(Backend::Sqlite, &[("APP_ENV", "production")]).await;
    let response = app
        .post_json("/api/auth/register", &registration("prod"))
        .await;
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn a_refresh_without_the_cookie_starts_no_session() {
    let app = spawn_app(Backend::Sqlite).await;
    let data = app.register("apiclient").await;
    let before = app
        .count("SELECT COUNT(*) FROM browser_sessions WHERE id <> $1", "")
        .await;
    let response = app
        .post_json(
            "/api/auth/refresh",
            &json!({"refreshToken": data["refreshToken"]}),
        )
        .await;
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(envelope(response).await.0, StatusCode::OK);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM browser_sessions WHERE id <> $1", "")
            .await,
        before
    );
}
