//! Self-service through `/api/account` and address verification: what a
//! user can see and change, and what deleting an account leaves behind.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{helpers::*, on_every_backend_with_mail};

const MAIL_WAIT: Duration = Duration::from_secs(15);

impl TestApp {
    pub async fn verify(&self, token: &str) -> (StatusCode, Value) {
        envelope(
            self.post_json("/api/auth/email/verify", &json!({ "token": token }))
                .await,
        )
        .await
    }

    pub async fn account(&self, access_token: &str) -> Value {
        let (status, body) = self
            .call(Method::GET, "/api/account", access_token, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }
}

fn access(data: &Value) -> String {
    data["accessToken"].as_str().unwrap().to_string()
}

/// The verification mails to `address`.
async fn verify_mails(relay: &SmtpSink, address: &str, count: usize) -> Vec<Received> {
    relay
        .wait_for(address, count, MAIL_WAIT)
        .await
        .into_iter()
        .filter(|m| m.subject() == "Confirm your email address")
        .collect()
}

on_every_backend_with_mail! {
    async fn registration_mails_a_link_that_verifies_the_address(app, relay) {
        let data = app.register("newcomer").await;
        let token = access(&data);
        let account = app.account(&token).await;
        assert_eq!(account["emailVerified"], false);
        assert_eq!(account["locale"], "en");
        assert_eq!(account["user"]["username"], "newcomer");
        assert!(account["createdAt"].as_str().unwrap().ends_with('Z'));

        let mail = verify_mails(&relay, "newcomer@example.com", 1).await.remove(0);
        mail.link("https://auth.example.com/verify-email?token=");
        let (status, body) = app.verify(&mail.token()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["emailVerified"], true);
        assert_eq!(app.account(&token).await["emailVerified"], true);
        assert_eq!(app.verify(&mail.token()).await.0, StatusCode::BAD_REQUEST, "used once");
        app.wait_for_audit("email_verified", 1).await;

        // Verified: asking again sends nothing (the next mail is the reset).
        let (status, _) = app.call(Method::POST, "/api/auth/email/resend", &token, None).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        app.forgot("newcomer@example.com").await;
        let mails = relay.wait_for("newcomer@example.com", 2, MAIL_WAIT).await;
        assert_eq!(mails[1].subject(), "Reset your password");
    }

    async fn resend_mails_a_fresh_link_at_most_once_a_minute(app, relay) {
        let data = app.register("patient").await;
        let first = verify_mails(&relay, "patient@example.com", 1).await[0].token();
        let token = access(&data);
        let resend = || app.call(Method::POST, "/api/auth/email/resend", &token, None);
        assert_eq!(resend().await.0, StatusCode::ACCEPTED, "throttled, same answer");
        app.clock.advance(61);
        assert_eq!(resend().await.0, StatusCode::ACCEPTED);
        let mails = verify_mails(&relay, "patient@example.com", 2).await;
        assert_eq!(mails.len(), 2);
        assert_eq!(app.verify(&first).await.0, StatusCode::BAD_REQUEST, "the newer link ends it");
        assert_eq!(app.verify(&mails[1].token()).await.0, StatusCode::OK);
    }

    async fn a_verification_link_dies_with_its_time_to_live(app, relay) {
        app.register("late").await;
        let token = verify_mails(&relay, "late@example.com", 1).await[0].token();
        app.clock.advance(86_401);
        assert_eq!(app.verify(&token).await.0, StatusCode::BAD_REQUEST);
    }

    async fn required_verification_holds_the_login_until_the_address_is_verified(app, relay with &[("EMAIL_VERIFICATION", "required")]) {
        let (status, body) = envelope(app.post_json("/api/auth/register", &registration("careful")).await).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"], Value::Null, "no session before the address is verified");
        let (status, body) = app.login("careful", PASSWORD).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["errors"], json!(["email_not_verified"]));
        assert_eq!(app.login("careful", "wrong password").await.0, StatusCode::UNAUTHORIZED, "the password first");
        verify_mails(&relay, "careful@example.com", 1).await;
        // A login a minute later mails a fresh link.
        app.clock.advance(61);
        assert_eq!(app.login("careful", PASSWORD).await.0, StatusCode::FORBIDDEN);
        let mails = verify_mails(&relay, "careful@example.com", 2).await;
        assert_eq!(app.verify(&mails[1].token()).await.0, StatusCode::OK);
        assert_eq!(app.login("careful", PASSWORD).await.0, StatusCode::OK);
    }

    async fn the_account_changes_its_name_and_language(app, _relay) {
        let data = app.register("renamed").await;
        let token = access(&data);
        let change = json!({"fullName": "Renée Renamed", "locale": "zh-TW"});
        let (status, body) = app.call(Method::PATCH, "/api/account", &token, Some(change)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["user"]["fullName"], "Renée Renamed");
        assert_eq!(body["data"]["locale"], "zh-TW");
        assert_eq!(app.me(&token).await.1["data"]["fullName"], "Renée Renamed", "no stale cache");
        let (status, body) = app.call(Method::PATCH, "/api/account", &token, Some(json!({"locale": "zh-CN"}))).await;
        assert_eq!((status, &body["data"]["user"]["fullName"]), (StatusCode::OK, &json!("Renée Renamed")), "{body}");
        for bad in [json!({"locale": "fr"}), json!({"fullName": ""}), json!({"fullName": "x".repeat(101)}), json!({"fullName": "a\u{0}b"}), json!({"fullName": 7})] {
            let (status, body) = app.call(Method::PATCH, "/api/account", &token, Some(bad.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        }
        assert_eq!(app.account(&token).await["locale"], "zh-CN");
    }

    async fn an_email_change_is_confirmed_from_the_new_address(app, relay) {
        let data = app.register("mover").await;
        let token = access(&data);
        verify_mails(&relay, "mover@example.com", 1).await;
        let change = json!({"newEmail": "Moved@Example.com", "currentPassword": PASSWORD});
        let (status, body) = app.call(Method::POST, "/api/account/email", &token, Some(change)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(app.account(&token).await["user"]["email"], "mover@example.com", "not before the link");

        let link = verify_mails(&relay, "Moved@Example.com", 1).await.remove(0);
        let notice = relay.wait_for("mover@example.com", 2, MAIL_WAIT).await.remove(1);
        assert_eq!(notice.subject(), "Your email address is being changed");
        let text = notice.part("text/plain");
        assert!(text.contains("M•••@Example.com") && !text.contains("Moved@"), "{text}");
        assert!(!text.contains("token="), "the old address gets no link");

        let (status, body) = app.verify(&link.token()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["user"]["email"], "Moved@Example.com");
        assert_eq!(body["data"]["emailVerified"], true);
        assert_eq!(app.me(&token).await.1["data"]["email"], "Moved@Example.com");
        assert_eq!(app.login("moved@example.com", PASSWORD).await.0, StatusCode::OK);
        assert_eq!(app.login("mover@example.com", PASSWORD).await.0, StatusCode::UNAUTHORIZED);
        app.wait_for_audit("email_change_requested", 1).await;
        app.wait_for_audit("email_changed", 1).await;
    }

    async fn an_email_change_needs_the_password_and_a_free_address(app, relay) {
        let data = app.register("claimer").await;
        app.register("holder").await;
        let token = access(&data);
        let ask = |email: &str, password: &str| json!({"newEmail": email, "currentPassword": password});
        let (status, body) = app.call(Method::POST, "/api/account/email", &token, Some(ask("holder@example.com", "wrong"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "the password before anything is told: {body}");
        let (status, _) = app.call(Method::POST, "/api/account/email", &token, Some(ask("HOLDER@example.com", PASSWORD))).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, _) = app.call(Method::POST, "/api/account/email", &token, Some(ask("claimer@example.com", PASSWORD))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "the same address");
        let (status, _) = app.call(Method::POST, "/api/account/email", &token, Some(ask("nope", PASSWORD))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // Taken by someone else between the request and the link: 409, and
        // the link still works once the address is free again.
        let (status, _) = app.call(Method::POST, "/api/account/email", &token, Some(ask("wanted@example.com", PASSWORD))).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let link = verify_mails(&relay, "wanted@example.com", 1).await[0].token();
        let mut racer = registration("racer");
        racer["email"] = json!("wanted@example.com");
        let racer = app.post_json("/api/auth/register", &racer).await;
        let racer = envelope(racer).await.1["data"].clone();
        let (status, _) = app.verify(&link).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(app.account(&token).await["user"]["email"], "claimer@example.com");
        let (status, _) = app.call(Method::DELETE, "/api/account", &access(&racer), Some(json!({"currentPassword": PASSWORD}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.verify(&link).await.0, StatusCode::OK);
    }

    async fn a_wrong_current_password_counts_as_a_failed_login(app, _relay) {
        let data = app.register("guessed").await;
        let token = access(&data);
        for _ in 0..5 {
            let body = json!({"newEmail": "other@example.com", "currentPassword": "a guess"});
            let (status, _) = app.call(Method::POST, "/api/account/email", &token, Some(body)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
        let (status, _) = app.call(Method::DELETE, "/api/account", &token, Some(json!({"currentPassword": PASSWORD}))).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "locked out, even with the right one");
        assert_eq!(app.login("guessed", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn deleting_the_account_leaves_only_anonymous_audit_events(app, relay) {
        let data = app.register("leaver").await;
        let id = data["user"]["id"].as_i64().unwrap();
        let (_, other) = app.login("leaver@example.com", PASSWORD).await;
        app.login("leaver", "a wrong one").await;
        app.forgot("leaver@example.com").await;
        relay.wait_for("leaver@example.com", 2, MAIL_WAIT).await;
        let token = access(&data);
        let (status, _) = app.call(Method::DELETE, "/api/account", &token, Some(json!({"currentPassword": "wrong"}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let (status, body) = app.call(Method::DELETE, "/api/account", &token, Some(json!({"currentPassword": PASSWORD}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(app.me(&token).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.me(&access(&other["data"])).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.refresh(other["data"]["refreshToken"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED);
        app.wait_for_audit("account_deleted", 1).await;
        let id = id.to_string();
        for (table, sql) in [
            ("users", "SELECT COUNT(*) FROM users WHERE CAST(id AS TEXT) = $1"),
            ("refresh_families", "SELECT COUNT(*) FROM refresh_families WHERE CAST(user_id AS TEXT) = $1"),
            ("mail_tokens", "SELECT COUNT(*) FROM mail_tokens WHERE CAST(user_id AS TEXT) = $1"),
            ("outbox", "SELECT COUNT(*) FROM outbox WHERE CAST(user_id AS TEXT) = $1"),
            ("login_failures", "SELECT COUNT(*) FROM login_failures WHERE subject = 'account:' || $1"),
        ] {
            assert_eq!(app.count(sql, &id).await, 0, "{table}");
        }
        let events = app.count("SELECT COUNT(*) FROM audit_events WHERE CAST(user_id AS TEXT) = $1", &id).await;
        assert!(events >= 4, "the events stay: {events}");
        let named = app.count(
            "SELECT COUNT(*) FROM audit_events WHERE LOWER(COALESCE(username, '') || ' ' || COALESCE(detail, '')) LIKE $1",
            "%leaver%",
        ).await;
        assert_eq!(named, 0, "no event names the account");
        // The name and the address are free again.
        app.register("leaver").await;
    }

    async fn the_last_admin_cannot_delete_their_account(app, _relay) {
        let (admin, _) = app.admin("keeper").await;
        let (status, body) = app.call(Method::DELETE, "/api/account", &admin, Some(json!({"currentPassword": PASSWORD}))).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(app.me(&admin).await.0, StatusCode::OK);
        let (second, _) = app.admin("second").await;
        let (status, _) = app.call(Method::DELETE, "/api/account", &admin, Some(json!({"currentPassword": PASSWORD}))).await;
        assert_eq!(status, StatusCode::OK, "one admin remains");
        let (status, _) = app.call(Method::DELETE, "/api/account", &second, Some(json!({"currentPassword": PASSWORD}))).await;
        assert_eq!(status, StatusCode::CONFLICT);
    }
}
