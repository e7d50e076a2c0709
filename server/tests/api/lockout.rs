//! Lockout of repeated failed logins.

use reqwest::StatusCode;
use serde_json::json;

use crate::{helpers::*, on_every_backend};

async fn login_response(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/auth/login",
        &json!({"username": username, "password": password}),
    )
    .await
}

on_every_backend! {
    async fn five_failures_lock_the_account_even_for_the_right_password(app) {
        app.register("lock").await;
        for _ in 0..5 {
            assert_eq!(app.login("lock", "wrong password").await.0, StatusCode::UNAUTHORIZED);
        }
        let response = login_response(&app, "LOCK", PASSWORD).await;
        let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry_after), "{retry_after}");
        assert_eq!(envelope(response).await.0, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE kind = $1", "lockout").await, 1);

        // The window ends: the right password works again.
        app.clock.advance(901);
        assert_eq!(app.login("lock", PASSWORD).await.0, StatusCode::OK);
    }

    async fn a_success_resets_the_accounts_count(app) {
        app.register("reset").await;
        for _ in 0..4 {
            app.login("reset", "wrong password").await;
        }
        assert_eq!(app.login("reset", PASSWORD).await.0, StatusCode::OK);
        for _ in 0..4 {
            assert_eq!(app.login("reset", "wrong password").await.0, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(app.login("reset", PASSWORD).await.0, StatusCode::OK);
    }

    async fn unknown_usernames_are_counted_the_same_way(app) {
        for _ in 0..5 {
            assert_eq!(app.login("ghost", "whatever").await.0, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(app.login("ghost", "whatever").await.0, StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test]
async fn one_client_ip_is_locked_out_across_usernames() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = spawn_app_with(backend, &[("LOCKOUT_IP_THRESHOLD", "3")]).await;
        app.register("spray").await;
        for name in ["a1", "a2", "a3"] {
            assert_eq!(app.login(name, "guess").await.0, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(
            app.login("spray", PASSWORD).await.0,
            StatusCode::TOO_MANY_REQUESTS,
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn lockout_is_shared_by_processes_in_scale_out_mode() {
    let a = spawn_app(Backend::Postgres).await;
    let shared = [
        ("DATABASE_URL", a.config.database_url.as_str()),
        ("REDIS_KEY_PREFIX", a.config.redis_key_prefix.as_str()),
    ];
    let b = spawn_app_with(Backend::Postgres, &shared).await;
    a.register("shared").await;
    for app in [&a, &b, &a, &b, &a] {
        assert_eq!(
            app.login("shared", "wrong").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        b.login("shared", PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}
