//! Self-service: a user's sessions, logging out everywhere, changing the password.

use reqwest::StatusCode;
use serde_json::json;

use crate::{helpers::*, on_every_backend};

on_every_backend! {
    async fn the_sessions_list_shows_each_login_and_which_is_current(app) {
        app.register("many").await;
        let other = app
            .client
            .post(app.url("/api/auth/login"))
            .header("user-agent", "Phone/1.0")
            .json(&json!({"username": "many", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(envelope(other).await.0, StatusCode::OK);
        let (_, this) = app.login("many", PASSWORD).await;
        let token = this["data"]["accessToken"].as_str().unwrap();
        let (status, body) = envelope(app.get_auth("/api/auth/sessions", token).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let sessions = body["data"].as_array().unwrap();
        assert_eq!(sessions.len(), 3, "register and two logins");
        assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
        assert!(sessions.iter().any(|s| s["userAgent"] == "Phone/1.0"));
        assert!(sessions.iter().all(|s| s["ip"] == "127.0.0.1" && s["createdAt"].is_string() && s["lastUsedAt"].is_string()));
    }

    async fn ending_one_session_stops_its_tokens_and_leaves_the_others(app) {
        app.register("split").await;
        let (_, a) = app.login("split", PASSWORD).await;
        let (_, b) = app.login("split", PASSWORD).await;
        let a_token = a["data"]["accessToken"].as_str().unwrap();
        let b_token = b["data"]["accessToken"].as_str().unwrap();
        let a_session = jwt_part(a_token, 1)["sid"].as_str().unwrap().to_string();
        let response = app.client.delete(app.url(&format!("/api/auth/sessions/{a_session}"))).bearer_auth(b_token).send().await.unwrap();
        assert_eq!(envelope(response).await.0, StatusCode::OK);
        assert_eq!(app.me(a_token).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.refresh(a["data"]["refreshToken"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.me(b_token).await.0, StatusCode::OK);

        let stranger = app.register("stranger").await;
        let b_session = jwt_part(b_token, 1)["sid"].as_str().unwrap().to_string();
        let response = app
            .client
            .delete(app.url(&format!("/api/auth/sessions/{b_session}")))
            .bearer_auth(stranger["accessToken"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(envelope(response).await.0, StatusCode::NOT_FOUND, "not someone else's session");
        assert_eq!(app.me(b_token).await.0, StatusCode::OK);
    }

    async fn logout_all_ends_every_session(app) {
        let first = app.register("everywhere").await;
        let (_, second) = app.login("everywhere", PASSWORD).await;
        let token = second["data"]["accessToken"].as_str().unwrap();
        let response = app.client.post(app.url("/api/auth/logout-all")).bearer_auth(token).send().await.unwrap();
        assert_eq!(envelope(response).await.0, StatusCode::OK);
        assert_eq!(app.me(token).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.me(first["accessToken"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.refresh(first["refreshToken"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn changing_the_password_needs_the_current_one_and_ends_other_sessions(app) {
        let first = app.register("changer").await;
        let (_, second) = app.login("changer", PASSWORD).await;
        let token = second["data"]["accessToken"].as_str().unwrap();
        let change = |body: serde_json::Value| app.client.post(app.url("/api/auth/password")).bearer_auth(token).json(&body).send();

        let (status, body) = envelope(change(json!({"currentPassword": "wrong", "newPassword": "new secret", "confirmPassword": "new secret"})).await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = envelope(change(json!({"currentPassword": PASSWORD, "newPassword": "abc", "confirmPassword": "abd"})).await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
        let (status, body) = envelope(change(json!({"currentPassword": PASSWORD, "newPassword": "new secret", "confirmPassword": "new secret"})).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        assert_eq!(app.me(token).await.0, StatusCode::OK, "this session goes on");
        assert_eq!(app.me(first["accessToken"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED, "the others end");
        assert_eq!(app.login("changer", PASSWORD).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.login("changer", "new secret").await.0, StatusCode::OK);
    }
}

/// A password change ends the other sessions in the same transaction that
/// stores the new hash, whatever happens to the validation generation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_ends_the_other_sessions_even_when_the_generation_cannot_move() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let settings = settings_where_the_generation_cannot_move().await;
        let app = spawn_app_with_owned(backend, &settings).await;
        let other = app.register("frozenchanger").await;
        let (status, this) = app.login("frozenchanger", PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {this}");
        let token = this["data"]["accessToken"].as_str().unwrap();
        let other_access = other["accessToken"].as_str().unwrap();
        assert_eq!(
            app.me(other_access).await.0,
            StatusCode::OK,
            "remembered by the cache"
        );
        let (status, body) = app
            .call(
                reqwest::Method::POST,
                "/api/auth/password",
                token,
                Some(json!({"currentPassword": PASSWORD, "newPassword": "new secret", "confirmPassword": "new secret"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(
            app.refresh(other["refreshToken"].as_str().unwrap()).await.0,
            StatusCode::UNAUTHORIZED,
            "{backend:?}"
        );
        assert_eq!(
            app.me(other_access).await.0,
            StatusCode::UNAUTHORIZED,
            "{backend:?}"
        );
        assert_eq!(
            app.me(token).await.0,
            StatusCode::OK,
            "{backend:?}: this session goes on"
        );
    }
}
