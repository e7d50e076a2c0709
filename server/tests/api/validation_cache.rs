//! Validation remembers the database's answer for a token it has seen. Each
//! test here has the answer remembered first, then makes a change that must
//! reach the token, and checks that it does at once; a change made outside
//! the server must be seen within `MAX_AGE`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use server::auth::validation_cache::MAX_AGE;

use crate::{helpers::*, on_every_backend};

/// Validates `token` until its answer is remembered (with Redis, the first
/// validation after start-up only sets the generation up).
async fn remembered(app: &TestApp, token: &str) {
    for _ in 0..2 {
        assert_eq!(app.me(token).await.0, StatusCode::OK);
    }
}

fn access(data: &Value) -> String {
    data["accessToken"].as_str().unwrap().to_string()
}

/// Registers `username` and signs in once more: two sessions, each with a
/// remembered token (of the registration, and of the sign-in).
async fn two_remembered_sessions(app: &TestApp, username: &str) -> (String, String) {
    let first = access(&app.register(username).await);
    let (_, second) = app.login(username, PASSWORD).await;
    let second = access(&second["data"]);
    remembered(app, &first).await;
    remembered(app, &second).await;
    (first, second)
}

on_every_backend! {
    async fn logout_reaches_a_remembered_token(app) {
        let token = access(&app.register("cache-logout").await);
        remembered(&app, &token).await;
        assert_eq!(app.revoke(&token, None).await.0, StatusCode::OK);
        assert_eq!(app.me(&token).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn ending_a_session_reaches_its_remembered_token_only(app) {
        let (a, b) = two_remembered_sessions(&app, "cache-split").await;
        let sid = jwt_part(&a, 1)["sid"].as_str().unwrap().to_string();
        let (status, _) = app.call(Method::DELETE, &format!("/api/auth/sessions/{sid}"), &b, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.me(&a).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.me(&b).await.0, StatusCode::OK);
    }

    async fn logout_everywhere_reaches_every_remembered_token(app) {
        let (first, second) = two_remembered_sessions(&app, "cache-everywhere").await;
        let (status, _) = app.call(Method::POST, "/api/auth/logout-all", &second, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.me(&first).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.me(&second).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn a_password_change_reaches_the_other_sessions_remembered_tokens(app) {
        let (other, this) = two_remembered_sessions(&app, "cache-changer").await;
        let change = json!({"currentPassword": PASSWORD, "newPassword": "a new secret 42", "confirmPassword": "a new secret 42"});
        let (status, body) = app.call(Method::POST, "/api/auth/password", &this, Some(change)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(app.me(&other).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.me(&this).await.0, StatusCode::OK);
    }

    async fn a_role_change_shows_at_once_in_a_remembered_answer(app) {
        let (admin, _) = app.admin("cache-chief").await;
        let user = app.register("cache-rising").await;
        let (token, id) = (access(&user), user["user"]["id"].as_i64().unwrap());
        remembered(&app, &token).await;
        assert_eq!(app.call(Method::GET, "/api/admin/users", &token, None).await.0, StatusCode::FORBIDDEN);
        let path = format!("/api/admin/users/{id}/role");
        let (status, _) = app.call(Method::PATCH, &path, &admin, Some(json!({"role": "Admin"}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.me(&token).await.1["data"]["role"], "Admin");
        assert_eq!(app.call(Method::GET, "/api/admin/users", &token, None).await.0, StatusCode::OK);
        let (status, _) = app.call(Method::PATCH, &path, &admin, Some(json!({"role": "User"}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.call(Method::GET, "/api/admin/users", &token, None).await.0, StatusCode::FORBIDDEN);
    }

    async fn deactivation_reaches_a_remembered_token(app) {
        let user = app.register("cache-paused").await;
        let token = access(&user);
        remembered(&app, &token).await;
        app.deactivate(user["user"]["id"].as_i64().unwrap()).await;
        assert_eq!(app.me(&token).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn an_admin_ending_a_users_sessions_reaches_remembered_tokens(app) {
        let (admin, _) = app.admin("cache-sheriff").await;
        let user = app.register("cache-outlaw").await;
        let token = access(&user);
        remembered(&app, &token).await;
        let path = format!("/api/admin/users/{}/revoke-sessions", user["user"]["id"]);
        assert_eq!(app.call(Method::POST, &path, &admin, None).await.0, StatusCode::OK);
        assert_eq!(app.me(&token).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn refresh_token_reuse_reaches_the_familys_remembered_tokens(app) {
        let data = app.register("cache-reuse").await;
        let token = access(&data);
        let first = data["refreshToken"].as_str().unwrap();
        let (_, rotated) = app.refresh(first).await;
        let second = rotated["data"]["refreshToken"].as_str().unwrap().to_string();
        let newest = access(&rotated["data"]);
        remembered(&app, &token).await;
        remembered(&app, &newest).await;
        assert_eq!(app.refresh(&second).await.0, StatusCode::OK);
        assert_eq!(app.refresh(first).await.0, StatusCode::UNAUTHORIZED, "reuse");
        assert_eq!(app.me(&token).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.me(&newest).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn a_change_made_outside_the_server_is_seen_within_max_age(app) {
        let user = app.register("cache-outside").await;
        let token = access(&user);
        remembered(&app, &token).await;
        sqlx::query("UPDATE users SET is_active = FALSE WHERE id = $1")
            .bind(user["user"]["id"].as_i64().unwrap())
            .execute(&app.state().db.pool)
            .await
            .unwrap();
        app.clock.advance(MAX_AGE.as_secs().max(1) as i64);
        assert_eq!(app.me(&token).await.0, StatusCode::UNAUTHORIZED);
    }
}
