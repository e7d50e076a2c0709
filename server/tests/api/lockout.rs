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
        ("DATABASE_URL", a.config.database.url.as_str()),
        (
            "REDIS_KEY_PREFIX",
            a.config.database.redis_key_prefix.as_str(),
        ),
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

/// `count` logins for `username` at once; their statuses.
async fn logins_at_once(app: &TestApp, username: &str, passwords: &[&str]) -> Vec<StatusCode> {
    let requests: Vec<_> = passwords
        .iter()
        .map(|password| {
            let request = app
                .client
                .post(app.url("/api/auth/login"))
                .json(&json!({"username": username, "password": password}));
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for request in requests {
        statuses.push(request.await.unwrap());
    }
    statuses
}

// A real hash cost, so that thirty checks overlap in time.
on_every_backend! {
    async fn thirty_guesses_at_once_check_at_most_the_threshold(app with &[("BCRYPT_COST", "8")]) {
        app.register("crowd").await;
        let statuses = logins_at_once(&app, "crowd", &["wrong guess"; 30]).await;
        let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
        let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
        assert_eq!((checked, refused), (5, 25), "{statuses:?}");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE detail = $1", "wrong password").await,
            5,
            "five hashes ran"
        );
        assert_eq!(app.login("crowd", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn the_right_password_among_thirty_guesses_is_checked_only_within_the_budget(app with &[("BCRYPT_COST", "8")]) {
        app.register("lucky").await;
        let mut passwords = vec!["wrong guess"; 29];
        passwords.insert(20, PASSWORD);
        let statuses = logins_at_once(&app, "lucky", &passwords).await;
        let answered = statuses.iter().filter(|s| **s != StatusCode::TOO_MANY_REQUESTS).count();
        assert!(answered <= 5, "{statuses:?}");
        let checked = app.count("SELECT COUNT(*) FROM audit_events WHERE kind IN ('login_failed', 'login_succeeded') AND (detail IS NULL OR detail <> $1)", "locked out").await;
        assert!(checked <= 5, "{checked} hashes ran: {statuses:?}");
    }

    async fn the_username_and_the_email_of_an_account_share_one_budget(app) {
        app.register("alice").await;
        for name in ["alice", "ALICE", "alice@example.com", "Alice@Example.com", "alice"] {
            assert_eq!(app.login(name, "wrong password").await.0, StatusCode::UNAUTHORIZED, "{name}");
        }
        assert_eq!(app.login("alice@example.com", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(app.login("alice", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn a_wrong_current_password_counts_as_a_failed_login(app) {
        let data = app.register("stolen").await;
        let token = data["accessToken"].as_str().unwrap();
        let change = |current: &str| {
            app.call(
                reqwest::Method::POST,
                "/api/auth/password",
                token,
                Some(json!({"currentPassword": current, "newPassword": "taken over", "confirmPassword": "taken over"})),
            )
        };
        for _ in 0..5 {
            let (status, body) = change("guess").await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(body["errors"], json!(["The current password is wrong."]));
        }
        let (status, body) = change(PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(app.login("stolen", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS, "one budget with login");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_events WHERE detail = $1", "wrong current password").await,
            5
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE kind = $1", "lockout").await, 1);
    }

    async fn an_ipv6_client_counts_by_its_64(app with &[("TRUSTED_PROXIES", "127.0.0.1"), ("LOCKOUT_IP_THRESHOLD", "3")]) {
        app.register("v6user").await;
        let login = |from: &'static str, username: &'static str, password: &'static str| {
            app.client
                .post(app.url("/api/auth/login"))
                .header("x-forwarded-for", from)
                .json(&json!({"username": username, "password": password}))
                .send()
        };
        for (from, name) in [("2001:db8:5:6::1", "n1"), ("2001:db8:5:6::2", "n2"), ("2001:db8:5:6:ffff::9", "n3")] {
            assert_eq!(login(from, name, "guess").await.unwrap().status(), StatusCode::UNAUTHORIZED);
        }
        let same_64 = login("2001:db8:5:6:1:2:3:4", "v6user", PASSWORD).await.unwrap();
        assert_eq!(same_64.status(), StatusCode::TOO_MANY_REQUESTS, "a fresh address of the same /64");
        let other_64 = login("2001:db8:5:7::1", "v6user", PASSWORD).await.unwrap();
        assert_eq!(other_64.status(), StatusCode::OK, "another /64");
        let logged = app.count("SELECT COUNT(*) FROM audit_events WHERE ip = $1", "2001:db8:5:6:ffff::9").await;
        assert!(logged >= 1, "the audit log keeps the full address");
    }
}
