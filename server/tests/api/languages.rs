//! The API and the pages in English, Simplified and Traditional Chinese
//! (the contract, section 2).

use app::i18n::{self, Locale, Msg, CATALOG_VERSION};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{helpers::*, on_every_backend};

impl TestApp {
    async fn post_in(&self, language: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("accept-language", language)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn page(&self, path: &str, headers: &[(&str, &str)]) -> String {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let vary: Vec<_> = response
            .headers()
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert!(
            vary.iter().any(|v| v.contains("accept-language")),
            "{vary:?}"
        );
        response.text().await.unwrap()
    }
}

/// A failed login, by a name of its own (so that no lockout answers instead).
fn wrong_password(name: &str) -> Value {
    json!({"username": name, "password": "not the password"})
}

on_every_backend! {
    async fn messages_follow_accept_language_and_say_so_in_vary(app) {
        for (header, expected) in [
            ("zh-TW,zh;q=0.9,en;q=0.8", "使用者名稱或密碼錯誤。"),
            ("zh-HK", "使用者名稱或密碼錯誤。"),
            ("zh-CN,zh;q=0.9", "用户名或密码错误。"),
            ("zh-Hans", "用户名或密码错误。"),
            ("en-US,en;q=0.9", "Invalid username or password."),
            ("fr-FR", "Invalid username or password."),
        ] {
            let response = app.post_in(header, "/api/auth/login", &wrong_password(header)).await;
            let vary: Vec<_> = response.headers().get_all("vary").iter().map(|v| v.to_str().unwrap().to_lowercase()).collect();
            assert!(vary.iter().any(|v| v.contains("accept-language")), "{header}: {vary:?}");
            let (status, body) = envelope(response).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(body["message"], expected, "{header}");
            assert_eq!(body["errors"], json!([expected]), "{header}");
        }
        // No header: English.
        let (_, body) = envelope(app.post_json("/api/auth/login", &wrong_password("nobody")).await).await;
        assert_eq!(body["message"], "Invalid username or password.");
    }

    async fn the_shared_rules_answer_in_the_callers_language(app) {
        let bad = json!({"username": "a", "email": "nope", "password": "123", "confirmPassword": "456", "fullName": " "});
        let (status, body) = envelope(app.post_in("zh-TW", "/api/auth/register", &bad).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["message"], "請求無效。");
        assert_eq!(
            body["errors"],
            json!([
                "使用者名稱長度須為 3 到 50 個字元。",
                "請輸入有效的電子郵件地址。",
                "密碼長度須為 6 到 100 個字元。",
                "兩次輸入的密碼不一致。",
                "姓名長度須為 1 到 100 個字元。",
            ])
        );
        let (_, body) = envelope(app.post_in("zh-CN", "/api/auth/register", &bad).await).await;
        assert_eq!(body["errors"][0], "用户名长度必须为 3 到 50 个字符。");
        // A malformed body names its field, whose name never changes.
        let (status, body) = envelope(app.post_in("zh-CN", "/api/auth/login", &json!({"username": 5})).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["errors"], json!(["字段“username”必须是字符串。", "字段“password”为必填项。"]));
    }

    async fn success_messages_and_field_values_too(app) {
        let body = registration("lang_ok");
        let response = app.post_in("zh-TW", "/api/auth/register", &body).await;
        let (status, body) = envelope(response).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(body["message"], "註冊成功。");
        // Machine-readable values stay as they are.
        assert_eq!(body["data"]["tokenType"], "Bearer");
        assert_eq!(body["data"]["user"]["role"], "User");
        let token = body["data"]["accessToken"].as_str().unwrap();
        let response = app.client.get(app.url("/api/auth/protected")).bearer_auth(token)
            .header("accept-language", "zh-CN").send().await.unwrap();
        let (_, body) = envelope(response).await;
        assert_eq!(body["message"], "已授予访问权限。");
        assert_eq!(body["data"]["message"], "lang_ok Tester，您好！您已访问受保护的资源。");
    }

    async fn the_account_locale_answers_when_the_request_names_none(app) {
        let token = app.register("lang_account").await["accessToken"].as_str().unwrap().to_string();
        let (status, _) = app.call(Method::PATCH, "/api/account", &token, Some(json!({"locale": "zh-TW"}))).await;
        assert_eq!(status, StatusCode::OK);
        // The validation cache may hold the account as it was for a moment.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (_, body) = app.me(&token).await;
        assert_eq!(body["message"], "目前的使用者。");
        // A header the server understands still wins over the account.
        let response = app.client.get(app.url("/api/auth/me")).bearer_auth(&token)
            .header("accept-language", "en").send().await.unwrap();
        assert_eq!(envelope(response).await.1["message"], "Current user.");
        // One it does not understand leaves the account's choice.
        let response = app.client.get(app.url("/api/auth/me")).bearer_auth(&token)
            .header("accept-language", "de-DE").send().await.unwrap();
        assert_eq!(envelope(response).await.1["message"], "目前的使用者。");
    }

    async fn pages_are_rendered_in_the_chosen_language(app) {
        let html = app.page("/login", &[("accept-language", "zh-TW,zh;q=0.9")]).await;
        assert!(html.contains(r#"<html lang="zh-TW""#), "{html}");
        assert!(html.contains(&format!(r#"href="/i18n/zh-TW.{CATALOG_VERSION}.json""#)), "the texts are preloaded");
        let html = app.page("/login", &[]).await;
        assert!(html.contains(r#"<html lang="en""#));
        assert!(html.contains(&format!(r#"href="/i18n/en.{CATALOG_VERSION}.json""#)), "the bundle holds no texts");
        // The cookie of the switcher beats Accept-Language.
        let html = app.page("/login", &[("accept-language", "zh-TW"), ("cookie", "lang=zh-CN")]).await;
        assert!(html.contains(r#"<html lang="zh-CN""#));
        // A cookie naming no language of ours is ignored.
        let html = app.page("/login", &[("accept-language", "zh-TW"), ("cookie", "lang=xx")]).await;
        assert!(html.contains(r#"<html lang="zh-TW""#));
    }

    async fn the_texts_of_each_language_are_served_for_the_browser(app) {
        for locale in Locale::ALL {
            let response = app.get(&i18n::catalog_path(*locale)).await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
            let texts: Vec<String> = response.json().await.unwrap();
            assert_eq!(texts.len(), Msg::COUNT);
            assert_eq!(texts[Msg::ApiInvalidCredentials as usize], i18n::text(*locale, Msg::ApiInvalidCredentials));
        }
        let stale = app.get(&format!("/i18n/zh-TW.{}.json", "0000000000000000")).await;
        assert_eq!(stale.status(), StatusCode::OK);
        assert_eq!(stale.headers()["cache-control"], "no-cache");
        for missing in ["/i18n/fr.json", "/i18n/fr.123.json", "/i18n/zh-TW", "/i18n/..json"] {
            assert_eq!(app.get(missing).await.status(), StatusCode::NOT_FOUND, "{missing}");
        }
    }

    async fn the_switcher_form_sets_the_cookie_and_the_signed_in_account(app) {
        let tab = tab();
        let switched = post_form(&app, &tab, "/language", &[("lang", "zh-TW"), ("next", "/register?x=1")]).await;
        assert_eq!(switched.status(), StatusCode::SEE_OTHER);
        assert_eq!(switched.headers()["location"], "/register?x=1");
        let cookie = switched.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.starts_with("lang=zh-TW;") && cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(tab.get(app.url("/login")).send().await.unwrap().text().await.unwrap().contains(r#"<html lang="zh-TW""#));
        // Never off the site, whatever `next` says.
        for next in ["//evil.example/", "https://evil.example/", "/\\evil.example"] {
            let answer = post_form(&app, &tab, "/language", &[("lang", "en"), ("next", next)]).await;
            assert_eq!(answer.headers()["location"], "/", "{next}");
        }
        // A language not ours: refused in the page's language, the cookie kept.
        let bad = post_form(&app, &tab, "/language", &[("lang", "fr"), ("next", "/")]).await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        assert!(bad.headers().get("set-cookie").is_none());
        assert_eq!(bad.text().await.unwrap(), i18n::text(Locale::En, Msg::ApiChooseLanguage));
        // From another site: refused, nothing set.
        let forged = tab.post(app.url("/language")).header("sec-fetch-site", "cross-site").form(&[("lang", "zh-CN")]).send().await.unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert!(forged.headers().get("set-cookie").is_none());

        // Signed in, the choice is the account's, and beats the cookie anywhere.
        let access = app.register("switcher").await["accessToken"].as_str().unwrap().to_string();
        let signed_in = post_form(&app, &tab, "/login", &[("username", "switcher"), ("password", PASSWORD), ("next", "")]).await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        post_form(&app, &tab, "/language", &[("lang", "zh-CN"), ("next", "/profile")]).await;
        assert_eq!(app.account(&access).await["locale"], "zh-CN");
        let elsewhere = app.page("/login", &[("cookie", "lang=en")]).await;
        assert!(elsewhere.contains(r#"<html lang="en""#), "a browser not signed in follows its own cookie");
        let html = tab.get(app.url("/profile")).header("accept-language", "en").send().await.unwrap().text().await.unwrap();
        assert!(html.contains(r#"<html lang="zh-CN""#), "{html}");
    }

    async fn machine_values_never_change_with_the_language(app) {
        let access = app.register("machine").await["accessToken"].as_str().unwrap().to_string();
        for language in ["zh-TW", "zh-CN"] {
            let response = app.client.get(app.url("/api/auth/me")).header("accept-language", language).bearer_auth(&access).send().await.unwrap();
            let (status, body) = envelope(response).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body["data"]["role"], "User", "{language}");
            assert_eq!(body["data"]["username"], "machine");
            let wrong = app.post_in(language, "/api/auth/login", &wrong_password("machine")).await;
            let (_, body) = envelope(wrong).await;
            assert_eq!(body["isSuccess"], false, "{body}");
            assert!(!body["message"].as_str().unwrap().is_ascii(), "the text is translated: {body}");
        }
    }
}
