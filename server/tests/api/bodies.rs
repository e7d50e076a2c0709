//! Bad request bodies: always a 4xx in the envelope, never a 5xx or axum's 422.

use reqwest::StatusCode;
use serde_json::json;

use crate::{helpers::*, on_every_backend};

on_every_backend! {
    async fn malformed_json_is_400_in_the_envelope(app) {
        for body in ["{", "nul", "{\"username\": }", "[1,2]", "\"text\"", "", "{\"a\":1}{"] {
            let response = app
                .client
                .post(app.url("/api/auth/login"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let (status, envelope_body) = envelope(response).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {envelope_body}");
            assert!(!envelope_body["errors"].as_array().unwrap().is_empty());
        }
    }

    async fn missing_and_mistyped_fields_are_400_listing_each(app) {
        let (status, body) = envelope(app.post_json("/api/auth/register", &json!({"username": 7, "password": ["x"]})).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let errors: Vec<String> = serde_json::from_value(body["errors"].clone()).unwrap();
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("'username' must be a string")));
        assert!(errors.iter().any(|e| e.contains("'confirmPassword' is required")));
        let (status, _) = envelope(app.post_json("/api/auth/refresh", &json!({})).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    async fn a_wrong_content_type_is_415(app) {
        for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
            let mut request = app.client.post(app.url("/api/auth/login")).body(r#"{"username":"a","password":"b"}"#);
            if let Some(ct) = content_type {
                request = request.header("content-type", ct);
            }
            let (status, _) = envelope(request.send().await.unwrap()).await;
            assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
        }
    }

    async fn a_body_over_64_kib_is_413_with_or_without_a_length(app) {
        let big = format!(r#"{{"username":"{}","password":"x"}}"#, "a".repeat(70_000));
        let response = app.client.post(app.url("/api/auth/login")).header("content-type", "application/json").body(big.clone()).send().await.unwrap();
        assert_eq!(envelope(response).await.0, StatusCode::PAYLOAD_TOO_LARGE);
        // Chunked: no Content-Length header.
        let chunks: Vec<Result<String, std::io::Error>> = big.as_bytes().chunks(8192).map(|c| Ok(String::from_utf8(c.to_vec()).unwrap())).collect();
        let stream = futures_util::stream::iter(chunks);
        let response = app
            .client
            .post(app.url("/api/auth/login"))
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .unwrap();
        assert_eq!(envelope(response).await.0, StatusCode::PAYLOAD_TOO_LARGE);
        // Just under the limit is read (and is then an ordinary failed login).
        let fits = format!(r#"{{"username":"{}","password":"x"}}"#, "a".repeat(60_000));
        let response = app.client.post(app.url("/api/auth/login")).header("content-type", "application/json").body(fits).send().await.unwrap();
        assert_eq!(envelope(response).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn an_oversized_login_name_is_refused_and_stored_only_in_part(app) {
        let long = "a".repeat(60_000);
        assert_eq!(app.login(&long, "whatever").await.0, StatusCode::UNAUTHORIZED);
        let longest: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(LENGTH(subject)), 0) FROM login_failures")
            .fetch_one(&app.state().db.pool)
            .await
            .unwrap();
        assert!(longest <= 260, "{longest}");
        let logged: i64 = sqlx::query_scalar("SELECT MAX(LENGTH(username)) FROM audit_events")
            .fetch_one(&app.state().db.pool)
            .await
            .unwrap();
        assert_eq!(logged, 254);
    }

    async fn hostile_strings_are_stored_and_returned_verbatim(app) {
        let mut body = registration("o.brien-1");
        body["fullName"] = json!("Robert'); DROP TABLE users;-- \u{202e} <script>");
        let (status, created) = envelope(app.post_json("/api/auth/register", &body).await).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["data"]["user"]["fullName"], "Robert'); DROP TABLE users;-- \u{202e} <script>");
        assert_eq!(app.login("o.brien-1", PASSWORD).await.0, StatusCode::OK);
        assert_eq!(app.login("' OR 1=1 --", PASSWORD).await.0, StatusCode::UNAUTHORIZED);
    }
}
