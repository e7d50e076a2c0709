//! Password hashing as seen from outside: timing, cost upgrades, and that a
//! burst of logins does not hold up token validation.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::*;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_users_take_as_long_as_wrong_passwords() {
    // A real cost, so bcrypt dominates; a high lockout threshold, so no 429.
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("BCRYPT_COST", "10"),
            ("LOCKOUT_THRESHOLD", "1000"),
            ("LOCKOUT_IP_THRESHOLD", "1000"),
        ],
    )
    .await;
    app.register("timing").await;
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    for i in 0..12 {
        let started = Instant::now();
        assert_eq!(
            app.login(&format!("nobody{i}"), "wrong password").await.0,
            StatusCode::UNAUTHORIZED
        );
        unknown.push(started.elapsed());
        let started = Instant::now();
        assert_eq!(
            app.login("timing", "wrong password").await.0,
            StatusCode::UNAUTHORIZED
        );
        wrong.push(started.elapsed());
    }
    let (unknown, wrong) = (median(unknown), median(wrong));
    // Without the dummy hash an unknown user answers in about a millisecond
    // (a ratio near 0.03); the window leaves room for a busy machine.
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (0.6..1.67).contains(&ratio),
        "median unknown user {unknown:?} vs wrong password {wrong:?}"
    );
    assert!(
        unknown > Duration::from_millis(5),
        "bcrypt ran for the unknown user: {unknown:?}"
    );
}

#[tokio::test]
async fn a_hash_of_an_older_cost_is_upgraded_at_the_next_login() {
    let mut app = spawn_app(Backend::Sqlite).await;
    app.register("upgrade").await;
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'upgrade'")
            .fetch_one(&app.state().db.pool)
            .await
            .unwrap();
    assert!(hash.starts_with("$2b$04$"), "{hash}");
    app.config.passwords.bcrypt_cost = 5;
    app.restart().await;
    assert_eq!(app.login("upgrade", PASSWORD).await.0, StatusCode::OK);
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'upgrade'")
            .fetch_one(&app.state().db.pool)
            .await
            .unwrap();
    assert!(hash.starts_with("$2b$05$"), "{hash}");
    assert_eq!(
        app.login("upgrade", PASSWORD).await.0,
        StatusCode::OK,
        "the new hash verifies"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_burst_does_not_hold_up_validation() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("BCRYPT_COST", "11"),
            ("LOCKOUT_THRESHOLD", "1000"),
            ("LOCKOUT_IP_THRESHOLD", "1000"),
        ],
    )
    .await;
    let data = app.register("burst").await;
    let token = data["accessToken"].as_str().unwrap().to_string();
    // One hash at this cost, for scale.
    let started = Instant::now();
    app.login("burst", "wrong password").await;
    let one_hash = started.elapsed();

    let logins: Vec<_> = (0..16)
        .map(|_| {
            let (client, url) = (app.client.clone(), app.url("/api/auth/login"));
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&serde_json::json!({"username": "burst", "password": "wrong password"}))
                    .send()
                    .await
            })
        })
        .collect();
    // The burst is under way: hashes are queued behind the busy threads.
    let depth = app.state().metrics.bcrypt_queue_depth();
    let deadline = Instant::now() + Duration::from_secs(10);
    while depth.get() < 8 {
        assert!(
            Instant::now() < deadline,
            "the burst never queued: depth {}",
            depth.get()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let (status, _) = envelope(app.get_auth("/api/auth/validate", &token).await).await;
        assert_eq!(status, StatusCode::OK);
        slowest = slowest.max(started.elapsed());
    }
    assert!(depth.get() > 0, "the measurements ran during the burst");
    for login in logins {
        login.await.unwrap().unwrap();
    }
    // Sixteen queued hashes take eight hash-times on two cores; validation
    // must not wait behind them.
    assert!(
        slowest < one_hash,
        "slowest validate {slowest:?} during a burst; one hash takes {one_hash:?}"
    );
}
