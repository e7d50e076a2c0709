//! Security headers, CORS, the auth rate limit, request deadlines and the
//! common-password list.

use reqwest::StatusCode;
use serde_json::json;

use crate::{helpers::*, on_every_backend};

#[tokio::test]
async fn pages_carry_a_nonce_policy_that_their_scripts_match() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app.get("/login").await;
    let headers = response.headers().clone();
    let policy = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = response.text().await.unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(nonce.len() >= 22, "{nonce}");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries it: {html}"
    );
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("'unsafe-inline'"), "{policy}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(
        headers["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
    assert!(
        headers.get("strict-transport-security").is_none(),
        "no HSTS over plain HTTP"
    );

    let again = app.get("/login").await;
    assert_ne!(
        again.headers()["content-security-policy"].to_str().unwrap(),
        policy,
        "a new nonce for every page"
    );
}

#[tokio::test]
async fn api_answers_carry_the_headers_too() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app.get("/api/health").await;
    let headers = response.headers();
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[(
            "CORS_ORIGINS",
            "https://app.example.com, https://admin.example.com",
        )],
    )
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");

    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let simple = app
        .client
        .get(app.url("/api/health"))
        .header("origin", "https://admin.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        simple.headers()["access-control-allow-origin"],
        "https://admin.example.com"
    );
}

#[tokio::test]
async fn without_cors_origins_no_cross_origin_call_is_allowed() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/api/health"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

/// Three requests at once, then one a second.
async fn rate_limited_app(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("AUTH_RATE_PER_SECOND", "1"), ("AUTH_RATE_BURST", "3")];
    vars.extend_from_slice(extra);
    spawn_app_with(backend, &vars).await
}

on_every_backend! {
    async fn the_auth_endpoints_are_rate_limited_per_client_ip(app with &[("AUTH_RATE_PER_SECOND", "1"), ("AUTH_RATE_BURST", "3")]) {
        let body = json!({"username": "nobody", "password": "wrong password"});
        for _ in 0..3 {
            let (status, _) = envelope(app.post_json("/api/auth/login", &body).await).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let response = app.post_json("/api/auth/login", &body).await;
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=2).contains(&retry_after), "{retry_after}");
        let (status, body) = envelope(response).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(
            body["message"],
            "Too many requests. Slow down and try again later."
        );
        // Registration and refresh share the bucket; validation does not.
        let (status, _) = envelope(
            app.post_json("/api/auth/refresh", &json!({"refreshToken": "x"}))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let (status, _) = envelope(app.get("/api/auth/validate").await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // The bucket refills as time passes.
        app.clock.advance(1);
        let (status, _) = envelope(
            app.post_json(
                "/api/auth/login",
                &json!({"username": "nobody", "password": "wrong password"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn the_rate_limit_is_shared_by_processes_in_scale_out_mode() {
    let a = rate_limited_app(Backend::Postgres, &[]).await;
    let shared = [
        ("DATABASE_URL", a.config.database.url.as_str()),
        (
            "REDIS_KEY_PREFIX",
            a.config.database.redis_key_prefix.as_str(),
        ),
    ];
    let b = rate_limited_app(Backend::Postgres, &shared).await;
    let body = json!({"username": "nobody", "password": "wrong password"});
    // The burst of three, spent through both processes.
    for app in [&a, &b, &a] {
        let (status, _) = envelope(app.post_json("/api/auth/login", &body).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = b.post_json("/api/auth/login", &body).await;
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // A second later on this process's clock (the buckets count on it).
    b.clock.advance(1);
    let (status, _) = envelope(b.post_json("/api/auth/login", &body).await).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the shared bucket refills"
    );
}

#[tokio::test]
async fn the_rate_limit_still_holds_in_each_process_while_redis_is_unreachable() {
    let redis = unreachable_redis_url();
    let app = rate_limited_app(Backend::Sqlite, &[("REDIS_URL", &redis)]).await;
    let body = json!({"username": "nobody", "password": "wrong password"});
    for _ in 0..3 {
        let (status, _) = envelope(app.post_json("/api/auth/login", &body).await).await;
        assert_ne!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    let (status, _) = envelope(app.post_json("/api/auth/login", &body).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_rate_limit_counts_the_forwarded_client_behind_a_trusted_proxy() {
    let app = rate_limited_app(
        Backend::Sqlite,
        &[("AUTH_RATE_BURST", "1"), ("TRUSTED_PROXIES", "127.0.0.1")],
    )
    .await;
    let login = |client_ip: &'static str| {
        app.client
            .post(app.url("/api/auth/login"))
            .header("x-forwarded-for", client_ip)
            .json(&json!({"username": "nobody", "password": "wrong password"}))
            .send()
    };
    assert_eq!(
        login("198.51.100.1").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login("198.51.100.1").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login("198.51.100.2").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

on_every_backend! {
    async fn common_passwords_are_refused_with_every_other_problem(app) {
        let mut body = registration("commonpw");
        body["password"] = json!("Password123");
        body["confirmPassword"] = json!("Password123");
        body["email"] = json!("not-an-email");
        let (status, body) = envelope(app.post_json("/api/auth/register", &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let errors: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("too common")), "{errors:?}");

        let user = app.register("uncommon").await;
        let token = user["accessToken"].as_str().unwrap();
        let response = app
            .client
            .post(app.url("/api/auth/password"))
            .bearer_auth(token)
            .json(&json!({"currentPassword": PASSWORD, "newPassword": "qwerty123", "confirmPassword": "qwerty123"}))
            .send()
            .await
            .unwrap();
        let (status, body) = envelope(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["errors"][0].as_str().unwrap().contains("too common"), "{body}");
        let (status, _) = app.login("uncommon", PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "the old password still works");
    }
}

#[tokio::test]
async fn a_request_that_takes_too_long_is_a_408_in_the_envelope() {
    let app = spawn_app_with(Backend::Sqlite, &[("REQUEST_TIMEOUT", "1")]).await;
    let answer = app
        .post_with_a_body_that_never_comes("/api/auth/login")
        .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("The request took too long."), "{answer}");
}

on_every_backend! {
    async fn the_rate_limit_counts_an_ipv6_client_by_its_64(app with &[("TRUSTED_PROXIES", "127.0.0.1"), ("AUTH_RATE_PER_SECOND", "1"), ("AUTH_RATE_BURST", "1")]) {
        let login = |from: &'static str| {
            app.client
                .post(app.url("/api/auth/login"))
                .header("x-forwarded-for", from)
                .json(&json!({"username": "nobody", "password": "wrong password"}))
                .send()
        };
        assert_eq!(login("2001:db8:1:2::1").await.unwrap().status(), StatusCode::UNAUTHORIZED);
        assert_eq!(login("2001:db8:1:2:aaaa::7").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(login("2001:db8:1:3::1").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn pages_and_json_are_compressed_but_no_personal_page() {
    let app = spawn_app(Backend::Sqlite).await;
    let get = |path: &'static str, encoding: &'static str| {
        app.client
            .get(app.url(path))
            .header("accept-encoding", encoding)
            .send()
    };
    let page = get("/login", "br").await.unwrap();
    assert_eq!(page.headers()["content-encoding"], "br");
    let vary: Vec<_> = page
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_lowercase())
        .collect();
    assert!(
        vary.iter().any(|v| v.contains("accept-encoding")),
        "{vary:?}"
    );
    let json = get("/api/health", "gzip").await.unwrap();
    assert_eq!(json.headers()["content-encoding"], "gzip");
    let plain = get("/api/health", "identity").await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());

    let tab = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    tab.post(app.url("/api/auth/register"))
        .header("x-browser-session", "1")
        .json(&registration("compressed"))
        .send()
        .await
        .unwrap();
    let personal = tab
        .get(app.url("/profile"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(personal.status(), StatusCode::OK);
    assert!(personal.headers().get("content-encoding").is_none());
}
