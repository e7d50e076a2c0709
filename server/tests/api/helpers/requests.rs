//! The requests tests send, and the checks every answer passes.

use reqwest::{redirect::Policy, Client, Method, Response, StatusCode};
use serde_json::{json, Value};

use super::TestApp;

/// Every reqwest client of the tests (built without a default TLS backend)
/// needs a rustls crypto provider, even for plain HTTP.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A plain client, for tests that start server processes of their own.
pub fn plain_client() -> Client {
    install_crypto_provider();
    Client::new()
}

/// Reads an envelope and checks its invariants: `isSuccess` matches the
/// status, `errors` is a list, and no response is ever a 5xx.
pub async fn envelope(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = response.text().await.expect("body");
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {status} {text}"));
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type}"
    );
    assert_eq!(
        body["isSuccess"],
        Value::Bool(status.is_success()),
        "{status} {body}"
    );
    assert!(
        !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
        "a server error: {status} {body}"
    );
    assert!(body["message"].is_string(), "{body}");
    assert!(body["errors"].is_array(), "{body}");
    assert!(body.get("data").is_some(), "{body}");
    (status, body)
}

/// A registration body that passes every rule.
pub fn registration(username: &str) -> Value {
    json!({
        "username": username,
        "email": format!("{username}@example.com"),
        "password": "correct horse",
        "confirmPassword": "correct horse",
        "fullName": format!("{username} Tester"),
    })
}

pub const PASSWORD: &str = "correct horse";

impl TestApp {
    /// Asserts that `token` is refused as `invalid_token` (RFC 6750), with the envelope.
    pub async fn assert_invalid_token(&self, token: &str, what: &str) {
        let response = self.get_auth("/api/auth/me", token).await;
        assert_eq!(
            challenge(&response),
            r#"Bearer error="invalid_token""#,
            "{what}"
        );
        let (status, body) = envelope(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// Registers `username` and returns the `data` of the answer (201 asserted).
    pub async fn register(&self, username: &str) -> Value {
        let (status, body) = envelope(
            self.post_json("/api/auth/register", &registration(username))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"].clone()
    }

    pub async fn login(&self, username: &str, password: &str) -> (StatusCode, Value) {
        envelope(
            self.post_json(
                "/api/auth/login",
                &json!({"username": username, "password": password}),
            )
            .await,
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> (StatusCode, Value) {
        envelope(
            self.post_json("/api/auth/refresh", &json!({"refreshToken": refresh_token}))
                .await,
        )
        .await
    }

    pub async fn me(&self, access_token: &str) -> (StatusCode, Value) {
        envelope(self.get_auth("/api/auth/me", access_token).await).await
    }

    pub async fn revoke(&self, access_token: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .client
            .post(self.url("/api/auth/revoke"))
            .bearer_auth(access_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        envelope(request.send().await.expect("request sent")).await
    }

    /// Registers `username` and makes them an Admin, in the database before
    /// their token is ever used; returns that token and their id.
    pub async fn admin(&self, username: &str) -> (String, i64) {
        let data = self.register(username).await;
        sqlx::query("UPDATE users SET role = 'Admin' WHERE username = $1")
            .bind(username)
            .execute(&self.state().db.pool)
            .await
            .unwrap();
        (
            data["accessToken"].as_str().unwrap().to_string(),
            data["user"]["id"].as_i64().unwrap(),
        )
    }

    /// Sends `body` (if any) with `token` as the bearer; returns the envelope.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        envelope(request.send().await.unwrap()).await
    }

    /// Sets a user's active flag through the admin API, as `admin`.
    pub async fn set_active(&self, admin: &str, user_id: i64, active: bool) -> (StatusCode, Value) {
        let path = format!("/api/admin/users/{user_id}/active");
        let body = json!({ "isActive": active });
        self.call(Method::PATCH, &path, admin, Some(body)).await
    }

    /// Deactivates a user the way an admin does, through the admin API.
    pub async fn deactivate(&self, user_id: i64) {
        let (admin, _) = self.admin(&format!("deactivator{user_id}")).await;
        let (status, body) = self.set_active(&admin, user_id, false).await;
        assert_eq!(status, StatusCode::OK, "deactivate: {body}");
    }

    /// Runs a query on the app's own pool and returns one i64.
    pub async fn count(&self, sql: &'static str, bind: &str) -> i64 {
        sqlx::query_scalar(sql)
            .bind(bind)
            .fetch_one(&self.state().db.pool)
            .await
            .expect("count query")
    }
}

/// The `WWW-Authenticate` header of a response, or "".
pub fn challenge(response: &Response) -> String {
    response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The decoded payload of a JWT (no verification).
pub fn jwt_part(token: &str, index: usize) -> Value {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let part = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// A browser tab without the app: keeps cookies, follows no redirect.
pub fn tab() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// A form posted from a page of the site, as a browser posts it.
pub async fn post_form(
    app: &TestApp,
    tab: &Client,
    path: &str,
    fields: &[(&str, &str)],
) -> Response {
    tab.post(app.url(path))
        .header("sec-fetch-site", "same-origin")
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// The `kid` of an HMAC secret, computed here as RFC 7638 defines it: the
/// SHA-256 of the JWK's required members in lexicographic order.
pub fn secret_kid(secret: &[u8]) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    use sha2::{Digest, Sha256};
    let members = format!(
        r#"{{"k":"{}","kty":"oct"}}"#,
        URL_SAFE_NO_PAD.encode(secret)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(members.as_bytes()))
}
