//! The account pages' forms, posted before the app has loaded: the pages
//! of mailed links and the signed-in user's own account.

use std::time::Duration;

use reqwest::StatusCode;

use crate::{helpers::*, on_every_backend_with_mail};

const MAIL_WAIT: Duration = Duration::from_secs(15);

fn location(response: &reqwest::Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

/// The mails to `address` with `subject`, once `count` mails have arrived.
async fn mail(relay: &SmtpSink, address: &str, count: usize, subject: &str) -> Received {
    relay
        .wait_for(address, count, MAIL_WAIT)
        .await
        .into_iter()
        .rev()
        .find(|m| m.subject() == subject)
        .unwrap_or_else(|| panic!("no mail '{subject}' to {address}"))
}

on_every_backend_with_mail! {
    async fn a_password_is_reset_through_the_pages_without_the_app(app, relay) {
        app.register("paper").await;
        let tab = tab();
        let asked = post_form(&app, &tab, "/forgot-password", &[("email", "paper@example.com")]).await;
        assert_eq!(asked.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&asked), "/forgot-password?sent=1");
        let unknown = post_form(&app, &tab, "/forgot-password", &[("email", "nobody@example.com")]).await;
        assert_eq!(location(&unknown), "/forgot-password?sent=1", "the same answer");
        let bad = post_form(&app, &tab, "/forgot-password", &[("email", "not an address")]).await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        assert!(bad.text().await.unwrap().contains("not an address"), "the page keeps what was typed");

        let token = mail(&relay, "paper@example.com", 2, "Reset your password").await.token();
        // The page of the link lets its token go nowhere.
        let page = tab.get(app.url(&format!("/reset-password?token={token}"))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["referrer-policy"], "no-referrer");
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!("name=\"token\" value=\"{token}\"")), "{html}");
        assert!(html.contains("action=\"/reset-password\""), "the form posts to a URL without the token");

        let differ = post_form(&app, &tab, "/reset-password", &[("token", &token), ("newPassword", "a brand new secret"), ("confirmPassword", "something else")]).await;
        assert_eq!(differ.status(), StatusCode::BAD_REQUEST);
        let html = differ.text().await.unwrap();
        assert!(html.contains("Passwords do not match."), "{html}");
        assert!(html.contains(&format!("value=\"{token}\"")), "the link works for the next try");

        let reset = post_form(&app, &tab, "/reset-password", &[("token", &token), ("newPassword", "a brand new secret"), ("confirmPassword", "a brand new secret")]).await;
        assert_eq!(reset.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&reset), "/login?reason=password-reset");
        assert_eq!(app.login("paper", "a brand new secret").await.0, StatusCode::OK);
        let again = post_form(&app, &tab, "/reset-password", &[("token", &token), ("newPassword", "yet another secret"), ("confirmPassword", "yet another secret")]).await;
        assert_eq!(again.status(), StatusCode::BAD_REQUEST, "used once");
    }

    async fn an_address_is_verified_through_the_page_without_the_app(app, relay) {
        let data = app.register("letter").await;
        let access = data["accessToken"].as_str().unwrap().to_string();
        let token = mail(&relay, "letter@example.com", 1, "Confirm your email address").await.token();
        let tab = tab();
        let page = tab.get(app.url(&format!("/verify-email?token={token}"))).send().await.unwrap();
        assert_eq!(page.headers()["referrer-policy"], "no-referrer");
        assert_eq!(app.account(&access).await["emailVerified"], false, "opening the link verifies nothing");

        let wrong = post_form(&app, &tab, "/verify-email", &[("token", "not-a-token")]).await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
        let verified = post_form(&app, &tab, "/verify-email", &[("token", &token)]).await;
        assert_eq!(verified.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&verified), "/verify-email?verified=1");
        assert_eq!(app.account(&access).await["emailVerified"], true);
    }

    async fn the_account_page_changes_and_deletes_the_account_without_the_app(app, relay) {
        app.register("owner").await;
        let tab = tab();
        let signed_out = post_form(&app, &tab, "/account", &[("form", "profile"), ("fullName", "X")]).await;
        assert_eq!(location(&signed_out), "/login?next=%2Faccount");
        let signed_in = post_form(&app, &tab, "/login", &[("username", "owner"), ("password", PASSWORD), ("next", "/account")]).await;
        assert_eq!(location(&signed_in), "/account");

        let saved = post_form(&app, &tab, "/account", &[("form", "profile"), ("fullName", "Owner Renamed"), ("locale", "zh-TW")]).await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&saved), "/account?done=profile");
        let (_, data) = app.login("owner", PASSWORD).await;
        let access = data["data"]["accessToken"].as_str().unwrap().to_string();
        let account = app.account(&access).await;
        assert_eq!(account["user"]["fullName"], "Owner Renamed");
        assert_eq!(account["locale"], "zh-TW");
        // A language menu not loaded yet posts nothing: the language stays.
        post_form(&app, &tab, "/account", &[("form", "profile"), ("fullName", "Owner Again")]).await;
        assert_eq!(app.account(&access).await["locale"], "zh-TW");

        let moved = post_form(&app, &tab, "/account", &[("form", "email"), ("newEmail", "owner@elsewhere.example"), ("currentPassword", PASSWORD)]).await;
        assert_eq!(location(&moved), "/account?done=email");
        // The mail speaks the language the account chose above.
        let confirm = mail(&relay, "owner@elsewhere.example", 1, "請確認您的電子郵件地址").await;
        assert!(confirm.part("text/html").contains(r#"lang="zh-TW""#));

        let wrong = post_form(&app, &tab, "/account", &[("form", "password"), ("currentPassword", "not it"), ("newPassword", "another secret"), ("confirmPassword", "another secret")]).await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
        assert!(wrong.text().await.unwrap().contains("form-errors"), "the page shows the failure");
        let changed = post_form(&app, &tab, "/account", &[("form", "password"), ("currentPassword", PASSWORD), ("newPassword", "another secret"), ("confirmPassword", "another secret")]).await;
        assert_eq!(location(&changed), "/account?done=password");
        // The tab's own session goes on; the API sign-in above has ended.
        assert_eq!(tab.get(app.url("/account")).send().await.unwrap().status(), StatusCode::OK);
        assert_eq!(app.me(&access).await.0, StatusCode::UNAUTHORIZED);

        let unconfirmed = post_form(&app, &tab, "/account", &[("form", "delete"), ("currentPassword", "another secret")]).await;
        assert_eq!(unconfirmed.status(), StatusCode::BAD_REQUEST);
        assert!(unconfirmed.text().await.unwrap().contains("請勾選核取方塊"), "the page speaks the account's language");
        let deleted = post_form(&app, &tab, "/account", &[("form", "delete"), ("currentPassword", "another secret"), ("confirm", "yes")]).await;
        assert_eq!(location(&deleted), "/login?reason=account-deleted");
        assert_eq!(app.login("owner", "another secret").await.0, StatusCode::UNAUTHORIZED);
        let after = tab.get(app.url("/account")).send().await.unwrap();
        assert_eq!(after.status(), StatusCode::SEE_OTHER, "the tab is signed out");
    }
}
