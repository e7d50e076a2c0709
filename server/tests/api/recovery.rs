//! A forgotten password, reset by a mailed link: the mails a real relay
//! receives, the life of a link, and what a reset ends.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{helpers::*, on_every_backend_with_mail};

const MAIL_WAIT: Duration = Duration::from_secs(15);
const NEW_PASSWORD: &str = "a brand new secret";

impl TestApp {
    pub async fn forgot(&self, email: &str) -> (StatusCode, Value) {
        envelope(
            self.post_json("/api/auth/password/forgot", &json!({ "email": email }))
                .await,
        )
        .await
    }

    pub async fn reset(&self, token: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({"token": token, "newPassword": password, "confirmPassword": password});
        envelope(self.post_json("/api/auth/password/reset", &body).await).await
    }

    /// Waits until `kind` has been stored `count` times in the audit log.
    pub async fn wait_for_audit(&self, kind: &'static str, count: i64) {
        let deadline = Instant::now() + MAIL_WAIT;
        loop {
            let stored = self
                .count("SELECT COUNT(*) FROM audit_events WHERE kind = $1", kind)
                .await;
            if stored >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{stored} of {count} {kind} events"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The reset mails to `address` (not the verification of the registration).
async fn reset_mails(relay: &SmtpSink, address: &str, count: usize) -> Vec<Received> {
    let deadline = Instant::now() + MAIL_WAIT;
    loop {
        let mails: Vec<Received> = relay
            .to(address)
            .into_iter()
            .filter(|m| m.subject() == "Reset your password")
            .collect();
        if mails.len() >= count {
            return mails;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {count} reset mails",
            mails.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

on_every_backend_with_mail! {
    async fn a_forgotten_password_is_reset_by_the_mailed_link(app, relay) {
        let registered = app.register("forgetful").await;
        let (_, elsewhere) = app.login("forgetful", PASSWORD).await;
        let (status, body) = app.forgot("Forgetful@Example.com").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["data"], Value::Null);

        let mail = reset_mails(&relay, "forgetful@example.com", 1).await.remove(0);
        assert!(mail.from.contains("no-reply@localhost"), "{}", mail.from);
        let link = mail.link("https://auth.example.com/reset-password?token=");
        assert!(mail.part("text/html").contains("reset-password?token="));
        let token = mail.token();
        assert!(link.ends_with(&token) && token.len() >= 43, "{link}");

        let (status, body) = app.reset(&token, NEW_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(app.login("forgetful", PASSWORD).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.login("forgetful", NEW_PASSWORD).await.0, StatusCode::OK);
        // Every session ended: access and refresh tokens of both.
        for session in [&registered, &elsewhere["data"]] {
            assert_eq!(app.me(session["accessToken"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED);
            assert_eq!(app.refresh(session["refreshToken"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED);
        }
        // Used once.
        let (status, again) = app.reset(&token, "yet another secret").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(app.login("forgetful", NEW_PASSWORD).await.0, StatusCode::OK, "{again}");
        // A notice to the account's address, and the events in the log.
        let notices = relay.wait_for("forgetful@example.com", 3, MAIL_WAIT).await;
        assert!(notices.iter().any(|m| m.subject() == "Your password was changed"));
        app.wait_for_audit("password_reset", 1).await;
        app.wait_for_audit("password_reset_requested", 1).await;
        // Receiving the link proved the address.
        let (_, account) = app.call(Method::GET, "/api/account", app.login("forgetful", NEW_PASSWORD).await.1["data"]["accessToken"].as_str().unwrap(), None).await;
        assert_eq!(account["data"]["emailVerified"], true, "{account}");
    }

    async fn forgot_answers_the_same_whether_or_not_the_address_has_an_account(app, relay) {
        app.register("known").await;
        let known = app.forgot("known@example.com").await;
        let unknown = app.forgot("nobody-here@example.com").await;
        assert_eq!(known, unknown);
        assert_eq!(known.0, StatusCode::ACCEPTED);
        reset_mails(&relay, "known@example.com", 1).await;
        app.wait_for_audit("password_reset_requested", 2).await;
        assert!(relay.to("nobody-here@example.com").is_empty());
        // Bad input is refused whoever asks.
        let (status, body) = app.forgot("not an address").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }

    async fn a_reset_link_dies_with_its_time_to_live(app, relay) {
        app.register("slowpoke").await;
        app.forgot("slowpoke@example.com").await;
        let token = reset_mails(&relay, "slowpoke@example.com", 1).await[0].token();
        app.clock.advance(3601);
        let (status, body) = app.reset(&token, NEW_PASSWORD).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["errors"][0], "This link is invalid, has been used or has expired. Ask for a new one.");
        assert_eq!(app.login("slowpoke", PASSWORD).await.0, StatusCode::OK);
    }

    async fn a_newer_link_ends_the_older_one(app, relay) {
        app.register("twice").await;
        app.forgot("twice@example.com").await;
        let first = reset_mails(&relay, "twice@example.com", 1).await[0].token();
        app.clock.advance(61);
        app.forgot("twice@example.com").await;
        let second = reset_mails(&relay, "twice@example.com", 2).await[1].token();
        assert_eq!(app.reset(&first, NEW_PASSWORD).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(app.reset(&second, NEW_PASSWORD).await.0, StatusCode::OK);
    }

    async fn a_password_change_ends_the_links(app, relay) {
        let data = app.register("changer").await;
        app.forgot("changer@example.com").await;
        let token = reset_mails(&relay, "changer@example.com", 1).await[0].token();
        let change = json!({"currentPassword": PASSWORD, "newPassword": "changed my mind", "confirmPassword": "changed my mind"});
        let (status, body) = app.call(Method::POST, "/api/auth/password", data["accessToken"].as_str().unwrap(), Some(change)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(app.reset(&token, NEW_PASSWORD).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(app.login("changer", "changed my mind").await.0, StatusCode::OK);
    }

    async fn forgot_mails_an_address_at_most_once_a_minute(app, relay) {
        app.register("popular").await;
        let asks = (0..10).map(|_| app.forgot("popular@example.com"));
        for (status, _) in futures_util::future::join_all(asks).await {
            assert_eq!(status, StatusCode::ACCEPTED);
        }
        app.wait_for_audit("password_reset_requested", 10).await;
        reset_mails(&relay, "popular@example.com", 1).await;
        // The registration's link went through the same outbox first: every
        // mail written before it has been sent.
        app.clock.advance(61);
        app.forgot("popular@example.com").await;
        let mails = reset_mails(&relay, "popular@example.com", 2).await;
        assert_eq!(mails.len(), 2, "one a minute");
    }

    async fn thirty_resets_with_one_link_change_the_password_once(app, relay) {
        app.register("contested").await;
        app.forgot("contested@example.com").await;
        let token = reset_mails(&relay, "contested@example.com", 1).await[0].token();
        let attempts = (0..30).map(|i| {
            let token = token.clone();
            let app = &app;
            async move { (i, app.reset(&token, &format!("contender number {i}")).await) }
        });
        let results = futures_util::future::join_all(attempts).await;
        let winners: Vec<usize> = results.iter().filter(|(_, (s, _))| *s == StatusCode::OK).map(|(i, _)| *i).collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        assert!(results.iter().all(|(_, (s, _))| *s == StatusCode::OK || *s == StatusCode::BAD_REQUEST));
        assert_eq!(app.login("contested", &format!("contender number {}", winners[0])).await.0, StatusCode::OK);
    }

    async fn a_reset_clears_the_lockout_of_the_account(app, relay) {
        app.register("locked").await;
        for _ in 0..5 {
            app.login("locked", "wrong guess").await;
        }
        assert_eq!(app.login("locked", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
        app.forgot("locked@example.com").await;
        let token = reset_mails(&relay, "locked@example.com", 1).await[0].token();
        assert_eq!(app.reset(&token, NEW_PASSWORD).await.0, StatusCode::OK);
        assert_eq!(app.login("locked", NEW_PASSWORD).await.0, StatusCode::OK);
    }

    async fn a_new_password_follows_the_rules_and_a_refused_one_keeps_the_link(app, relay) {
        app.register("picky").await;
        app.forgot("picky@example.com").await;
        let token = reset_mails(&relay, "picky@example.com", 1).await[0].token();
        let body = json!({"token": token, "newPassword": "short", "confirmPassword": "other"});
        let (status, refused) = envelope(app.post_json("/api/auth/password/reset", &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(refused["errors"].as_array().unwrap().len(), 2, "{refused}");
        assert_eq!(app.reset(&token, "password").await.0, StatusCode::BAD_REQUEST, "a common password");
        assert_eq!(app.reset(&token, NEW_PASSWORD).await.0, StatusCode::OK);
        for bad in ["", "x", &"A".repeat(43), &format!("{token}x"), "../../etc/passwd"] {
            assert_eq!(app.reset(bad, NEW_PASSWORD).await.0, StatusCode::BAD_REQUEST, "{bad}");
        }
    }

    async fn an_admin_can_mail_a_user_a_reset_link(app, relay) {
        let (admin, _) = app.admin("resetter").await;
        let user = app.register("helped").await;
        let id = user["user"]["id"].as_i64().unwrap();
        let path = format!("/api/admin/users/{id}/password-reset");
        let (status, body) = app.call(Method::POST, &path, &admin, None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let token = reset_mails(&relay, "helped@example.com", 1).await[0].token();
        assert_eq!(app.reset(&token, NEW_PASSWORD).await.0, StatusCode::OK);

        let user_token = app.login("helped", NEW_PASSWORD).await.1["data"]["accessToken"].as_str().unwrap().to_string();
        assert_eq!(app.call(Method::POST, &path, &user_token, None).await.0, StatusCode::FORBIDDEN);
        assert_eq!(app.call(Method::POST, "/api/admin/users/999999/password-reset", &admin, None).await.0, StatusCode::NOT_FOUND);
        app.set_active(&admin, id, false).await;
        assert_eq!(app.call(Method::POST, &path, &admin, None).await.0, StatusCode::CONFLICT);
        app.wait_for_audit("password_reset_requested", 1).await;
    }
}

/// `forgot` answers before anything is looked up or mailed: with a relay
/// that takes a second over each reply, an address with an account and one
/// without answer as fast as each other, and far faster than one reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_for_a_known_and_an_unknown_address_cannot_be_told_apart_by_time() {
    let mut relay = SmtpSink::start().await;
    relay.set_delay(Duration::from_secs(1));
    let app = spawn_app_mailing_to(Backend::Sqlite, &relay, &[]).await;
    let mut known_users = Vec::new();
    for i in 0..15 {
        let name = format!("timed{i}");
        app.register(&name).await;
        known_users.push(format!("{name}@example.com"));
    }
    let time = |email: String| {
        let app = &app;
        async move {
            let started = Instant::now();
            let (status, body) = app.forgot(&email).await;
            assert_eq!(status, StatusCode::ACCEPTED);
            (started.elapsed(), body)
        }
    };
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let mut bodies = Vec::new();
    for (i, email) in known_users.into_iter().enumerate() {
        let (elapsed, body) = time(email).await;
        known.push(elapsed);
        bodies.push(body);
        let (elapsed, body) = time(format!("stranger{i}@example.com")).await;
        unknown.push(elapsed);
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "one body for all");
    let median = |mut samples: Vec<Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let (known, unknown) = (median(known), median(unknown));
    let gap = known.abs_diff(unknown);
    assert!(
        known < Duration::from_millis(250) && unknown < Duration::from_millis(250),
        "no answer waits for the relay: known {known:?}, unknown {unknown:?}"
    );
    assert!(
        gap < Duration::from_millis(25),
        "median known {known:?} vs unknown {unknown:?}"
    );
    relay.stop();
}
