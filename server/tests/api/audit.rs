//! The audit log records every auth event with the client's IP and user agent.

use reqwest::StatusCode;
use serde_json::json;

use crate::{helpers::*, on_every_backend};

#[derive(sqlx::FromRow, Debug)]
struct Event {
    kind: String,
    user_id: Option<i64>,
    ip: Option<String>,
    user_agent: Option<String>,
}

async fn events(app: &TestApp) -> Vec<Event> {
    sqlx::query_as("SELECT kind, user_id, ip, user_agent FROM audit_events ORDER BY id")
        .fetch_all(&app.state().db.pool)
        .await
        .unwrap()
}

on_every_backend! {
    async fn every_auth_event_is_stored_with_ip_and_user_agent(app) {
        let data = app.register("audrey").await;
        let user_id = data["user"]["id"].as_i64();
        app.login("audrey", "wrong password").await;
        let (_, first) = app.login("audrey", PASSWORD).await;
        let (_, rotated) = app.refresh(first["data"]["refreshToken"].as_str().unwrap()).await;
        app.revoke(rotated["data"]["accessToken"].as_str().unwrap(), None).await;
        let (_, second) = app.login("audrey", PASSWORD).await;
        let refresh = second["data"]["refreshToken"].as_str().unwrap();
        app.refresh(refresh).await;
        app.clock.advance(10);
        app.refresh(refresh).await; // reuse

        let kinds: Vec<String> = events(&app).await.into_iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            ["register", "login_failed", "login_succeeded", "refresh", "revoke", "login_succeeded", "refresh", "refresh_reuse_detected"]
        );
        for event in events(&app).await {
            assert_eq!(event.user_id, user_id, "{event:?}");
            assert_eq!(event.ip.as_deref(), Some("127.0.0.1"), "{event:?}");
            assert!(event.user_agent.is_none(), "reqwest sends no user agent by default");
        }
        let response = app
            .client
            .post(app.url("/api/auth/login"))
            .header("user-agent", "AuditTest/1.0")
            .json(&json!({"username": "nobody", "password": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let last = events(&app).await.pop().unwrap();
        assert_eq!((last.kind.as_str(), last.user_id, last.user_agent.as_deref()), ("login_failed", None, Some("AuditTest/1.0")));
    }

    async fn a_forwarded_for_header_from_an_untrusted_peer_is_ignored(app) {
        let response = app
            .client
            .post(app.url("/api/auth/login"))
            .header("x-forwarded-for", "203.0.113.7")
            .json(&json!({"username": "nobody", "password": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(events(&app).await.pop().unwrap().ip.as_deref(), Some("127.0.0.1"));
    }

    async fn a_repeat_within_the_grace_window_is_a_refresh_event_too(app) {
        // The first presentation's event is stored by the claim itself, the
        // repeat's (which claims nothing) by the audit writer.
        let data = app.register("gracie").await;
        let refresh = data["refreshToken"].as_str().unwrap();
        let before = events(&app).await.len();
        let (status, first) = app.refresh(refresh).await;
        assert_eq!(status, StatusCode::OK);
        let (status, again) = app.refresh(refresh).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["data"]["refreshToken"], first["data"]["refreshToken"]);
        let kinds: Vec<String> = events(&app).await.into_iter().skip(before).map(|e| e.kind).collect();
        assert_eq!(kinds, ["refresh", "refresh"]);
    }

    async fn a_refresh_of_an_inactive_user_ends_the_session_and_is_no_refresh_event(app) {
        // Made inactive behind the server's back: the family is still active.
        let data = app.register("inez").await;
        let refresh = data["refreshToken"].as_str().unwrap();
        sqlx::query("UPDATE users SET is_active = (1 = 0) WHERE id = $1")
            .bind(data["user"]["id"].as_i64().unwrap())
            .execute(&app.state().db.writer)
            .await
            .unwrap();
        let before = events(&app).await.len();
        assert_eq!(app.refresh(refresh).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(events(&app).await.len(), before, "no refresh event");
        let reason: Option<String> = sqlx::query_scalar(
            "SELECT f.revoked_reason FROM refresh_families f JOIN users u ON u.id = f.user_id WHERE u.username = 'inez'",
        )
        .fetch_one(&app.state().db.pool)
        .await
        .unwrap();
        assert_eq!(reason.as_deref(), Some("user inactive"));
    }

    async fn events_of_concurrent_requests_are_each_stored_once(app) {
        // Many events at once are stored by the same INSERT; none is lost.
        let mut chains = Vec::new();
        for i in 0..24 {
            chains.push(app.register(&format!("crowd{i}")).await);
        }
        let before = events(&app).await.len();
        let refreshes = chains.iter().map(|data| {
            app.client
                .post(app.url("/api/auth/refresh"))
                .header("user-agent", format!("crowd/{}", data["user"]["id"]))
                .json(&json!({"refreshToken": data["refreshToken"]}))
                .send()
        });
        for response in futures_util::future::join_all(refreshes).await {
            assert_eq!(envelope(response.unwrap()).await.0, StatusCode::OK);
        }
        let stored = events(&app).await;
        let added = &stored[before..];
        assert_eq!(added.len(), 24);
        let mut users: Vec<i64> = added.iter().map(|e| e.user_id.unwrap()).collect();
        assert!(added.iter().all(|e| e.kind == "refresh" && e.ip.as_deref() == Some("127.0.0.1")));
        assert!(added.iter().all(|e| e.user_agent == Some(format!("crowd/{}", e.user_id.unwrap()))));
        users.sort();
        users.dedup();
        assert_eq!(users.len(), 24, "one event per request");
    }
}

#[tokio::test]
async fn a_trusted_proxy_s_forwarded_for_names_the_client() {
    let app = spawn_app_with(Backend::Sqlite, &[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", "198.51.100.1, 203.0.113.7")
        .json(&json!({"username": "nobody", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        events(&app).await.pop().unwrap().ip.as_deref(),
        Some("203.0.113.7")
    );
}
