//! Refresh-token rotation, the grace window, reuse detection and expiry.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{helpers::*, on_every_backend};

fn refresh_token(body: &Value) -> String {
    body["data"]["refreshToken"]
        .as_str()
        .expect("a refresh token")
        .to_string()
}

/// The refresh family of an access token (its `sid` claim).
fn family_of(data: &Value) -> String {
    jwt_part(data["accessToken"].as_str().unwrap(), 1)["sid"]
        .as_str()
        .unwrap()
        .to_string()
}

on_every_backend! {
    async fn refresh_returns_a_new_refresh_token_and_a_working_access_token(app) {
        let data = app.register("ann").await;
        let first = data["refreshToken"].as_str().unwrap();
        let (status, body) = app.refresh(first).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let second = refresh_token(&body);
        assert_ne!(second, first);
        assert_eq!(body["data"]["tokenType"], "Bearer");
        assert_eq!(body["data"]["user"], data["user"]);
        assert_eq!(app.me(body["data"]["accessToken"].as_str().unwrap()).await.0, StatusCode::OK);
        let (status, third) = app.refresh(&second).await;
        assert_eq!(status, StatusCode::OK);
        assert_ne!(refresh_token(&third), second);
    }

    async fn twenty_concurrent_refreshes_share_one_successor(app) {
        let data = app.register("ben").await;
        let token = data["refreshToken"].as_str().unwrap().to_string();
        let attempts = (0..20).map(|_| {
            let (client, url, token) = (app.client.clone(), app.url("/api/auth/refresh"), token.clone());
            tokio::spawn(async move {
                let response = client.post(url).json(&serde_json::json!({"refreshToken": token})).send().await.unwrap();
                envelope(response).await
            })
        });
        let results = futures_util::future::join_all(attempts).await;
        let mut successors = std::collections::HashSet::new();
        for result in results {
            let (status, body) = result.unwrap();
            assert_eq!(status, StatusCode::OK, "{body}");
            successors.insert(refresh_token(&body));
        }
        assert_eq!(successors.len(), 1, "all got the same new refresh token");
        let family = family_of(&data);
        assert_eq!(app.state().auth.refresh_tokens().family_size(&family).await.unwrap(), 2, "the family grew by exactly one");
        let successor = successors.into_iter().next().unwrap();
        assert_eq!(app.refresh(&successor).await.0, StatusCode::OK, "the shared successor works");
    }

    async fn within_the_grace_window_a_rotated_token_returns_the_same_successor(app) {
        let data = app.register("cat").await;
        let first = data["refreshToken"].as_str().unwrap();
        let (_, a) = app.refresh(first).await;
        // Inside the 5 s window, with room for real seconds on a busy machine.
        app.clock.advance(3);
        let (status, b) = app.refresh(first).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert_eq!(refresh_token(&a), refresh_token(&b));
        assert_ne!(a["data"]["accessToken"], b["data"]["accessToken"], "with a fresh access token");
    }

    async fn a_rotated_token_after_the_grace_window_revokes_the_family(app) {
        let data = app.register("dan").await;
        let first = data["refreshToken"].as_str().unwrap();
        let (_, rotated) = app.refresh(first).await;
        let successor = refresh_token(&rotated);
        app.clock.advance(6);
        let (status, body) = app.refresh(first).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(app.refresh(&successor).await.0, StatusCode::UNAUTHORIZED, "the whole family is revoked");
        let reuse = app.count("SELECT COUNT(*) FROM audit_events WHERE kind = $1", "refresh_reuse_detected").await;
        assert_eq!(reuse, 1, "reuse is in the audit log");
        // Other logins of the same user are not affected.
        let (status, _) = app.login("dan", PASSWORD).await;
        assert_eq!(status, StatusCode::OK);
    }

    async fn a_rotated_token_whose_successor_was_used_is_reuse_even_in_the_window(app) {
        let data = app.register("eve").await;
        let first = data["refreshToken"].as_str().unwrap();
        let (_, rotated) = app.refresh(first).await;
        let second = refresh_token(&rotated);
        let (_, rotated_again) = app.refresh(&second).await;
        let third = refresh_token(&rotated_again);
        let (status, _) = app.refresh(first).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.refresh(&third).await.0, StatusCode::UNAUTHORIZED, "the family is revoked");
    }

    async fn a_family_ends_at_its_absolute_expiry_however_often_refreshed(app) {
        let data = app.register("fay").await;
        let mut token = data["refreshToken"].as_str().unwrap().to_string();
        for _ in 0..3 {
            app.clock.advance(2 * 24 * 3600);
            let (status, body) = app.refresh(&token).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            token = refresh_token(&body);
        }
        app.clock.advance(24 * 3600 + 1); // 7 days and a second after login
        assert_eq!(app.refresh(&token).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn expired_families_are_cleaned_up(app) {
        let data = app.register("gil").await;
        app.refresh(data["refreshToken"].as_str().unwrap()).await;
        let family = family_of(&data);
        assert_eq!(app.count("SELECT COUNT(*) FROM refresh_tokens WHERE family_id = $1", &family).await, 2);
        app.state().auth.cleanup().await.unwrap();
        assert_eq!(app.count("SELECT COUNT(*) FROM refresh_families WHERE id = $1", &family).await, 1, "not expired yet");
        app.clock.advance(7 * 24 * 3600);
        app.state().auth.cleanup().await.unwrap();
        assert_eq!(app.count("SELECT COUNT(*) FROM refresh_families WHERE id = $1", &family).await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM refresh_tokens WHERE family_id = $1", &family).await, 0);
    }

    async fn malformed_and_unknown_refresh_tokens_are_401(app) {
        for junk in ["", "abc", &"A".repeat(44), &"=".repeat(44), &"x".repeat(10_000), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "ünïcode"] {
            let (status, body) = app.refresh(junk).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{junk:?}: {body}");
        }
    }
}

/// The sealed successor stored for `token` (it is `None` once forgotten).
async fn sealed_successor(app: &TestApp, token: &str) -> Option<String> {
    sqlx::query_scalar("SELECT successor_sealed FROM refresh_tokens WHERE token_hash = $1")
        .bind(server::auth::refresh::token_hash(token))
        .fetch_one(&app.state().db.pool)
        .await
        .unwrap()
}

on_every_backend! {
    async fn a_sealed_successor_is_forgotten_once_used_or_once_its_window_passed(app with &[("REFRESH_REUSE_GRACE", "1")]) {
        let first = app.register("sealed").await["refreshToken"].as_str().unwrap().to_string();
        let (_, second) = app.refresh(&first).await;
        let second = second["data"]["refreshToken"].as_str().unwrap().to_string();
        assert!(sealed_successor(&app, &first).await.is_some(), "kept for the grace window");
        let (_, third) = app.refresh(&second).await;
        assert!(third["data"]["refreshToken"].is_string());
        assert_eq!(sealed_successor(&app, &first).await, None, "its successor was used");
        assert!(sealed_successor(&app, &second).await.is_some());

        // The window passes: the server forgets the seal by itself.
        app.clock.advance(2);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while sealed_successor(&app, &second).await.is_some() {
            assert!(std::time::Instant::now() < deadline, "the seal is still there");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    async fn a_refresh_whose_request_is_gone_does_not_rotate(app with &[("REQUEST_TIMEOUT", "1"), ("DATABASE_MAX_CONNECTIONS", "1")]) {
        let token = app.register("abandoned").await["refreshToken"].as_str().unwrap().to_string();
        // Every connection that could write is taken: the claim waits.
        let held = app.state().db.writer.acquire().await.unwrap();
        let response = app.post_json("/api/auth/refresh", &json!({"refreshToken": token})).await;
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        drop(held);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // Long after the grace window, the client tries again with the token
        // it still holds: it was never rotated, so this is no reuse.
        app.clock.advance(30);
        let (status, body) = app.refresh(&token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}
