//! The seven endpoints: shapes, status codes and headers of the contract.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{helpers::*, on_every_backend};

on_every_backend! {
    async fn register_returns_201_with_tokens_and_the_user(app) {
        let mut body = registration("alice");
        // A client can never set these.
        body["role"] = json!("Admin");
        body["id"] = json!(999);
        body["isActive"] = json!(false);
        let response = app.post_json("/api/auth/register", &body).await;
        assert_eq!(response.headers()["cache-control"], "no-store", "tokens are never cached");
        let (status, body) = envelope(response).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let data = &body["data"];
        assert_eq!(data["tokenType"], "Bearer");
        assert_eq!(data["refreshToken"].as_str().unwrap().len(), 44);
        assert_eq!(data["user"]["username"], "alice");
        assert_eq!(data["user"]["email"], "alice@example.com");
        assert_eq!(data["user"]["fullName"], "alice Tester");
        assert_eq!(data["user"]["role"], "User");
        assert_eq!(data["user"]["isActive"], true);
        assert!(data["user"]["id"].is_i64());
        assert_ne!(data["user"]["id"], 999);
        let claims = jwt_part(data["accessToken"].as_str().unwrap(), 1);
        assert_eq!(data["expiresIn"], claims["exp"], "expiresIn is the JWT's exp");
    }

    async fn the_access_token_carries_every_claim_of_the_contract(app) {
        let data = app.register("bob").await;
        let token = data["accessToken"].as_str().unwrap();
        let kid = secret_kid(b"test-secret-test-secret-test-secret-0123");
        assert_eq!(jwt_part(token, 0), json!({"alg": "HS256", "typ": "JWT", "kid": kid}));
        let c = jwt_part(token, 1);
        let id = data["user"]["id"].to_string();
        for claim in ["sub", "nameid", "userId"] {
            assert_eq!(c[claim], Value::String(id.clone()), "{claim}");
        }
        assert_eq!(c["name"], "bob");
        assert_eq!(c["username"], "bob");
        assert_eq!(c["email"], "bob@example.com");
        assert_eq!(c["fullName"], "bob Tester");
        assert_eq!(c["role"], "User");
        assert_eq!(c["iss"], "PersonalManagerAPI");
        assert_eq!(c["aud"], "PersonalManagerClient");
        assert!(uuid::Uuid::parse_str(c["jti"].as_str().unwrap()).is_ok());
        assert_eq!(c["iat"], c["nbf"]);
        assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 3600);
        let again = app.login("bob", PASSWORD).await.1;
        assert_ne!(jwt_part(again["data"]["accessToken"].as_str().unwrap(), 1)["jti"], c["jti"], "a fresh jti per token");
    }

    async fn registration_lists_every_failed_rule_at_once(app) {
        let body = json!({"username": "a b", "email": "nope", "password": "123", "confirmPassword": "456", "fullName": "  "});
        let (status, body) = envelope(app.post_json("/api/auth/register", &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["errors"].as_array().unwrap().len(), 5, "{body}");
        assert_eq!(body["data"], Value::Null);
    }

    async fn lengths_count_characters_not_bytes(app) {
        let mut body = registration("unicode");
        body["password"] = json!("ééééé");
        body["confirmPassword"] = json!("ééééé");
        let (status, _) = envelope(app.post_json("/api/auth/register", &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "5 characters (10 bytes) are too few");
        body["password"] = json!("é".repeat(100));
        body["confirmPassword"] = json!("é".repeat(100));
        body["fullName"] = json!("Ö".repeat(100));
        let (status, body) = envelope(app.post_json("/api/auth/register", &body).await).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    async fn duplicate_usernames_and_emails_are_409_case_insensitively(app) {
        app.register("carol").await;
        let mut same_name = registration("CAROL");
        same_name["email"] = json!("other@example.com");
        let (status, body) = envelope(app.post_json("/api/auth/register", &same_name).await).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let mut same_email = registration("carol2");
        same_email["email"] = json!("Carol@Example.COM");
        let (status, _) = envelope(app.post_json("/api/auth/register", &same_email).await).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE username_key <> $1", "").await, 1);
    }

    async fn login_accepts_the_username_or_the_email_in_any_case(app) {
        app.register("dave").await;
        for name in ["dave", "DAVE", "dave@example.com", "Dave@Example.Com"] {
            let (status, body) = app.login(name, PASSWORD).await;
            assert_eq!(status, StatusCode::OK, "{name}: {body}");
            assert_eq!(body["data"]["user"]["username"], "dave");
            assert_eq!(body["data"]["refreshToken"].as_str().unwrap().len(), 44);
        }
    }

    async fn every_login_failure_is_the_same_generic_401(app) {
        let data = app.register("erin").await;
        let user_id = data["user"]["id"].as_i64().unwrap();
        app.register("frank").await;
        app.deactivate(user_id).await;
        let unknown = app.login("nobody", PASSWORD).await;
        let wrong = app.login("frank", "wrong password").await;
        let inactive = app.login("erin", PASSWORD).await;
        for (status, body) in [&unknown, &wrong, &inactive] {
            assert_eq!(*status, StatusCode::UNAUTHORIZED, "{body}");
        }
        assert_eq!(unknown.1, wrong.1);
        assert_eq!(wrong.1, inactive.1);
    }

    async fn passwords_that_differ_after_byte_72_do_not_both_log_in(app) {
        let long = "x".repeat(72);
        let mut body = registration("grace");
        body["password"] = json!(format!("{long}A"));
        body["confirmPassword"] = json!(format!("{long}A"));
        envelope(app.post_json("/api/auth/register", &body).await).await;
        assert_eq!(app.login("grace", &format!("{long}A")).await.0, StatusCode::OK);
        assert_eq!(app.login("grace", &format!("{long}B")).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.login("grace", &long).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn me_validate_and_protected_answer_the_contract_shapes(app) {
        let data = app.register("heidi").await;
        let token = data["accessToken"].as_str().unwrap();
        let (status, me) = app.me(token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["data"], data["user"]);

        let (status, v) = envelope(app.get_auth("/api/auth/validate", token).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["data"]["valid"], true);
        assert_eq!(v["data"]["userId"], Value::String(data["user"]["id"].to_string()));
        assert_eq!(v["data"]["username"], "heidi");
        assert!(v["data"]["message"].is_string());

        let (status, p) = envelope(app.get_auth("/api/auth/protected", token).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(p["data"]["username"], "heidi");
        assert_eq!(p["data"]["role"], "User");
        assert!(p["data"]["message"].is_string());
        let time = p["data"]["serverTime"].as_str().unwrap();
        assert!(time.ends_with('Z'), "UTC: {time}");
        assert!(time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339).is_ok(), "{time}");
    }

    async fn protected_endpoints_challenge_as_rfc_6750_says(app) {
        for path in ["/api/auth/me", "/api/auth/validate", "/api/auth/protected"] {
            let response = app.get(path).await;
            assert_eq!(challenge(&response), "Bearer", "{path}: no token sent");
            let (status, _) = envelope(response).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);

            let response = app.get_auth(path, "not-a-token").await;
            assert_eq!(challenge(&response), r#"Bearer error="invalid_token""#, "{path}");
            let (status, _) = envelope(response).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let response = app.client.post(app.url("/api/auth/revoke")).send().await.unwrap();
        assert_eq!(challenge(&response), "Bearer");
        assert_eq!(envelope(response).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn a_deactivated_user_is_shut_out_at_once(app) {
        let data = app.register("ivan").await;
        let token = data["accessToken"].as_str().unwrap();
        let refresh = data["refreshToken"].as_str().unwrap();
        assert_eq!(app.me(token).await.0, StatusCode::OK);
        app.deactivate(data["user"]["id"].as_i64().unwrap()).await;
        let response = app.get_auth("/api/auth/me", token).await;
        assert_eq!(challenge(&response), r#"Bearer error="invalid_token""#);
        assert_eq!(envelope(response).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.refresh(refresh).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.login("ivan", PASSWORD).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn revoke_rejects_the_access_token_and_ends_the_refresh_family(app) {
        let data = app.register("judy").await;
        let token = data["accessToken"].as_str().unwrap();
        let refresh = data["refreshToken"].as_str().unwrap();
        let (status, body) = app.revoke(token, Some(json!({"refreshToken": refresh}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"], Value::Null);
        let response = app.get_auth("/api/auth/me", token).await;
        assert_eq!(challenge(&response), r#"Bearer error="invalid_token""#);
        assert_eq!(envelope(response).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.refresh(refresh).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn revoke_accepts_an_empty_object_or_no_body_and_ends_that_session(app) {
        for body in [Some(json!({})), None] {
            app.register(&format!("kim{}", body.is_some() as u8)).await;
            let (_, login) = app.login(&format!("kim{}", body.is_some() as u8), PASSWORD).await;
            let token = login["data"]["accessToken"].as_str().unwrap();
            let refresh = login["data"]["refreshToken"].as_str().unwrap();
            assert_eq!(app.revoke(token, body).await.0, StatusCode::OK);
            assert_eq!(app.me(token).await.0, StatusCode::UNAUTHORIZED);
            assert_eq!(app.refresh(refresh).await.0, StatusCode::UNAUTHORIZED, "the token's own session ended");
        }
    }

    async fn revoking_leaves_other_sessions_alone(app) {
        app.register("leo").await;
        let (_, a) = app.login("leo", PASSWORD).await;
        let (_, b) = app.login("leo", PASSWORD).await;
        app.revoke(a["data"]["accessToken"].as_str().unwrap(), None).await;
        assert_eq!(app.me(b["data"]["accessToken"].as_str().unwrap()).await.0, StatusCode::OK);
        assert_eq!(app.refresh(b["data"]["refreshToken"].as_str().unwrap()).await.0, StatusCode::OK);
    }

    async fn someone_elses_refresh_token_is_not_revoked(app) {
        let mallory = app.register("mallory").await;
        let victim = app.register("victim").await;
        let victim_refresh = victim["refreshToken"].as_str().unwrap();
        app.revoke(mallory["accessToken"].as_str().unwrap(), Some(json!({"refreshToken": victim_refresh}))).await;
        assert_eq!(app.refresh(victim_refresh).await.0, StatusCode::OK);
    }
}
