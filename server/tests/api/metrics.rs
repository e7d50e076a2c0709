use reqwest::StatusCode;

use crate::helpers::*;

const TOKEN: &str = "metrics-token-for-tests";

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    response.text().await.unwrap()
}

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[tokio::test]
async fn metrics_are_off_without_a_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let (status, _) = envelope(app.get("/metrics").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_need_the_token() {
    let app = spawn_app_with(Backend::Sqlite, &[("METRICS_TOKEN", TOKEN)]).await;
    let (status, body) = envelope(app.get("/metrics").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token-for-testz")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn auth_events_and_requests_are_counted_by_route_and_status() {
    let app = spawn_app_with(Backend::Sqlite, &[("METRICS_TOKEN", TOKEN)]).await;
    let user = app.register("metered").await;
    let (status, _) = app.login("metered", "wrong password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, login) = app.login("metered", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .refresh(login["data"]["refreshToken"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    // Presenting the rotated token again after the grace window is reuse.
    app.clock.advance(60);
    let (status, _) = app
        .refresh(login["data"]["refreshToken"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .revoke(user["accessToken"].as_str().unwrap(), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let _ = app.get("/api/users/42").await;
    let _ = app.get("/no/such/page/42").await;

    let text = scrape(&app).await;
    for (event, expected) in [
        ("register", 1.0),
        ("login_succeeded", 1.0),
        ("login_failed", 1.0),
        ("refresh", 1.0),
        ("refresh_reuse_detected", 1.0),
        ("revoke", 1.0),
        ("lockout", 0.0),
    ] {
        assert_eq!(
            value(&text, &format!("auth_events_total{{event=\"{event}\"}}")),
            expected,
            "{event}"
        );
    }
    assert_eq!(
        value(
            &text,
            r#"http_requests_total{method="POST",route="/api/auth/login",status="401"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            r#"http_requests_total{method="POST",route="/api/auth/login",status="200"}"#
        ),
        1.0
    );
    assert!(
        value(
            &text,
            r#"http_request_duration_seconds_count{method="POST",route="/api/auth/refresh"}"#
        ) >= 2.0
    );
    // Unknown paths never become series of their own.
    assert!(!text.contains("/api/users/42"), "{text}");
    assert!(!text.contains("/no/such/page"), "{text}");
    assert!(text.contains(r#"route="unmatched""#), "{text}");
    assert!(text.contains("bcrypt_queue_depth 0"), "{text}");
    assert!(
        !text.contains(PASSWORD) && !text.contains("metered"),
        "no user data in metrics"
    );
}

#[tokio::test]
async fn a_request_that_times_out_is_counted_under_its_route() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("METRICS_TOKEN", TOKEN), ("REQUEST_TIMEOUT", "1")],
    )
    .await;
    let answer = app
        .post_with_a_body_that_never_comes("/api/auth/login")
        .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let text = scrape(&app).await;
    assert_eq!(
        value(
            &text,
            r#"http_requests_total{method="POST",route="/api/auth/login",status="408"}"#
        ),
        1.0,
        "{text}"
    );
}
