//! The sign-in and registration forms, posted before the app has loaded.

use reqwest::StatusCode;

use crate::{helpers::*, on_every_backend};

on_every_backend! {
    async fn a_form_sign_in_redirects_with_a_session_and_hands_the_tokens_to_the_next_page(app) {
        app.register("former").await;
        let tab = tab();
        let answer = post_form(&app, &tab, "/login", &[("username", "former"), ("password", PASSWORD), ("next", "/protected")]).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(answer.headers()["location"], "/protected");
        let cookies: Vec<&str> = answer.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
        assert!(cookies.iter().any(|c| c.starts_with("auth_session=")), "{cookies:?}");
        let handoff = cookies.iter().find(|c| c.starts_with("auth_handoff=")).expect("the handoff cookie");
        assert!(handoff.contains("HttpOnly") && handoff.contains("Max-Age=60"), "{handoff}");

        let page = tab.get(app.url("/protected")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["cache-control"], "private, no-store");
        let cleared = page.headers().get_all("set-cookie").iter().any(|c| {
            let c = c.to_str().unwrap();
            c.starts_with("auth_handoff=;") && c.contains("Max-Age=0")
        });
        assert!(cleared, "the page clears the handoff cookie");
        let html = page.text().await.unwrap();
        assert!(html.contains("refreshToken"), "the tokens are handed to the app: {html}");
        let again = tab.get(app.url("/protected")).send().await.unwrap().text().await.unwrap();
        assert!(!again.contains("refreshToken"), "only once");
        assert_eq!(app.count("SELECT COUNT(*) FROM refresh_families WHERE revoked_at IS NULL AND id <> $1", "").await, 2);
    }

    async fn a_failed_form_sign_in_renders_the_page_again_with_the_message(app) {
        app.register("typo").await;
        let tab = tab();
        let answer = post_form(&app, &tab, "/login", &[("username", "typo"), ("password", "not my password"), ("next", "")]).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        assert!(answer.headers().get("location").is_none());
        let html = answer.text().await.unwrap();
        assert!(html.contains("Invalid username or password."), "{html}");
        assert!(html.contains(r#"value="typo""#), "the name typed is kept: {html}");
        assert!(!html.contains("not my password"), "never the password");
    }

    async fn a_registration_form_with_problems_lists_every_one(app) {
        let tab = tab();
        let answer = post_form(&app, &tab, "/register", &[
            ("username", "newbie"), ("email", "not-an-email"), ("fullName", "New Bie"),
            ("password", "abc"), ("confirmPassword", "abd"),
        ]).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        let html = answer.text().await.unwrap();
        for problem in ["Email must be a valid email address.", "Password must be 6 to 100 characters long.", "Passwords do not match."] {
            assert!(html.contains(problem), "{problem}: {html}");
        }
        assert!(html.contains(r#"value="not-an-email""#), "{html}");
        assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE username <> $1", "").await, 0);

        let answer = post_form(&app, &tab, "/register", &[
            ("username", "newbie"), ("email", "newbie@example.com"), ("fullName", "New Bie"),
            ("password", PASSWORD), ("confirmPassword", PASSWORD),
        ]).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(answer.headers()["location"], "/profile");
        let html = tab.get(app.url("/profile")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(r#"<dd id="profile-username">newbie"#), "{html}");
    }

    async fn a_form_from_another_site_is_refused(app) {
        app.register("target").await;
        let answer = tab()
            .post(app.url("/login"))
            .header("sec-fetch-site", "cross-site")
            .form(&[("username", "target"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN);
        assert!(answer.headers().get("set-cookie").is_none());
    }

    async fn a_form_sign_in_follows_only_a_next_on_this_site(app) {
        app.register("wanderer").await;
        for hostile in ["//evil.example", "/\t/evil.example", "/\\evil.example", "https://evil.example", "/\n/evil.example"] {
            let answer = post_form(&app, &tab(), "/login", &[("username", "wanderer"), ("password", PASSWORD), ("next", hostile)]).await;
            assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{hostile:?}");
            assert_eq!(answer.headers()["location"], "/profile", "{hostile:?}");
        }
    }
}
