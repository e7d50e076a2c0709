//! The browser session kept beside the tokens, so pages render signed in.

use reqwest::{redirect::Policy, StatusCode};
use serde_json::json;

use crate::{helpers::*, on_every_backend};

/// A client that keeps cookies and does not follow redirects, like a browser
/// tab of the app (whose request wrapper asks sign-ins for a session).
fn browser() -> reqwest::Client {
    browser_with(std::sync::Arc::new(reqwest::cookie::Jar::default()))
}

fn browser_with(jar: std::sync::Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-browser-session", "1".parse().unwrap());
    reqwest::Client::builder()
        .cookie_provider(jar)
        .default_headers(headers)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// How many browser sessions the server stores.
async fn stored_sessions(app: &TestApp) -> usize {
    match &app.state().redis {
        Some(redis) => {
            let mut conn = redis.conn.clone();
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(redis.key("session:*"))
                .query_async(&mut conn)
                .await
                .unwrap();
            keys.len()
        }
        None => {
            app.count("SELECT COUNT(*) FROM browser_sessions WHERE id <> $1", "")
                .await as usize
        }
    }
}

on_every_backend! {
    async fn login_sets_an_http_only_lax_session_cookie(app) {
        app.register("cookie").await;
        let response = browser().post(app.url("/api/auth/login")).json(&json!({"username": "cookie", "password": PASSWORD})).send().await.unwrap();
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
    let response = browser()
        .post(app.url("/api/auth/register"))
        .json(&registration("prod"))
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.starts_with("__Host-auth_session="), "{cookie}");
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

on_every_backend! {
    async fn an_api_sign_in_starts_no_browser_session(app) {
        let response = app.post_json("/api/auth/register", &registration("apionly")).await;
        assert!(response.headers().get("set-cookie").is_none());
        assert_eq!(envelope(response).await.0, StatusCode::CREATED);
        let response = app.post_json("/api/auth/login", &json!({"username": "apionly", "password": PASSWORD})).await;
        assert!(response.headers().get("set-cookie").is_none());
        assert_eq!(envelope(response).await.0, StatusCode::OK);
        assert_eq!(stored_sessions(&app).await, 0);
        let tab = browser();
        let signed_in = tab.post(app.url("/api/auth/login")).json(&json!({"username": "apionly", "password": PASSWORD})).send().await.unwrap();
        assert!(signed_in.headers().get("set-cookie").is_some(), "the app asks for one");
        assert_eq!(stored_sessions(&app).await, 1);
    }

    async fn a_planted_session_cookie_is_not_taken_over_by_a_refresh(app) {
        // The attacker signs in and plants their session cookie in the victim's browser.
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let attacker = browser_with(jar.clone());
        let registered = attacker.post(app.url("/api/auth/register")).json(&registration("mallory")).send().await.unwrap();
        assert_eq!(registered.status(), StatusCode::CREATED);
        let victim = app.register("victim").await;
        let victims_browser = browser_with(jar);
        let refreshed = victims_browser
            .post(app.url("/api/auth/refresh"))
            .json(&json!({"refreshToken": victim["refreshToken"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(refreshed.status(), StatusCode::OK);
        // The cookie still names the attacker's session, not the victim's.
        let html = attacker.get(app.url("/profile")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(r#"<dd id="profile-username">mallory"#), "{html}");
        assert!(!html.contains("victim"), "{html}");
    }

    async fn personal_pages_are_stored_by_no_cache(app) {
        let tab = browser();
        let public = tab.get(app.url("/login")).send().await.unwrap();
        assert_eq!(public.headers()["cache-control"], "no-cache");
        assert!(public.headers()["vary"].to_str().unwrap().contains("cookie"));
        tab.post(app.url("/api/auth/register")).json(&registration("private")).send().await.unwrap();
        for page in ["/profile", "/login", "/"] {
            let response = tab.get(app.url(page)).send().await.unwrap();
            assert_eq!(response.headers()["cache-control"], "private, no-store", "{page}");
        }
    }

    async fn expired_sessions_and_old_audit_events_are_deleted(app with &[("AUDIT_RETENTION_DAYS", "1")]) {
        let tab = browser();
        tab.post(app.url("/api/auth/register")).json(&registration("tidy")).send().await.unwrap();
        assert_eq!(stored_sessions(&app).await, 1);
        let events = || app.count("SELECT COUNT(*) FROM audit_events WHERE kind <> $1", "");
        assert!(events().await > 0);
        // Eight days on: the session (seven days) and the events (one) are past.
        app.clock.advance(8 * 86_400);
        app.login("tidy", "wrong password").await;
        assert!(server::maintenance::clean_up(app.state()).await > 0);
        assert_eq!(events().await, 1, "only today's event is kept");
        if app.backend == Backend::Sqlite {
            // (Redis expires its sessions itself, by its own clock.)
            assert_eq!(stored_sessions(&app).await, 0);
        }
    }
}

/// The session store refuses to write (its Redis user may not write the
/// session keys): the sign-in is answered in the envelope, and its family is
/// not left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_store_that_fails_at_sign_in_is_a_503_and_leaves_no_family() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let settings = settings_with_a_redis_user_that_may_not_write(&["session:*"]).await;
        let app = spawn_app_with_owned(backend, &settings).await;
        app.register("unstored").await;
        let (status, body) = envelope(
            browser()
                .post(app.url("/api/auth/login"))
                .json(&json!({"username": "unstored", "password": PASSWORD}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{backend:?}: {body}"
        );
        let families = app
            .count(
                "SELECT COUNT(*) FROM refresh_families WHERE revoked_at IS NULL AND id <> $1",
                "",
            )
            .await;
        assert_eq!(
            families, 1,
            "{backend:?}: only the registration's family is active"
        );
    }
}
