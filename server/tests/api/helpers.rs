use std::{collections::HashMap, net::SocketAddr, time::Duration};

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::json;
use serde_json::Value;
use server::{auth::Clock, config::Config, startup::Application, state::AppState};
use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each test body on both backends: `mod name { fn sqlite; fn postgres }`.
/// `async fn name(app with &[("SETTING", "value")])` adds settings.
#[macro_export]
macro_rules! on_every_backend {
    ($( $(#[$meta:meta])* async fn $name:ident($app:ident $(with $settings:expr)?) $body:block )*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::helpers::spawn_app_with(
                    $crate::helpers::Backend::Sqlite,
                    $crate::on_every_backend!(@settings $($settings)?),
                )
                .await;
                $body
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $app = $crate::helpers::spawn_app_with(
                    $crate::helpers::Backend::Postgres,
                    $crate::on_every_backend!(@settings $($settings)?),
                )
                .await;
                $body
            }
        }
    )*};
    (@settings) => { &[] };
    (@settings $settings:expr) => { $settings };
}

/// A running server with its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub backend: Backend,
    pub config: Config,
    /// Holds the SQLite file and the data directory.
    pub dir: TempDir,
    state: Option<AppState>,
    pub clock: Clock,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    postgres_db: Option<(String, String)>,
}

pub fn test_database_url() -> String {
    std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set: the PostgreSQL tests need a server. \
         Run ./scripts/test, which starts a throwaway one, or point TEST_DATABASE_URL at yours.",
    )
}

pub fn test_redis_url() -> String {
    std::env::var("TEST_REDIS_URL").expect(
        "TEST_REDIS_URL is not set: the scale-out tests need a Redis server. \
         Run ./scripts/test, which starts a throwaway one, or point TEST_REDIS_URL at yours.",
    )
}

/// The settings every test starts from: cheap bcrypt, a fixed secret, port 0.
/// A Redis URL on a port nothing listens on (bound, then freed).
pub fn unreachable_redis_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("redis://127.0.0.1:{port}")
}

pub fn base_vars(dir: &TempDir) -> HashMap<String, String> {
    HashMap::from([
        ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
        (
            "DATA_DIR".into(),
            dir.path().join("data").display().to_string(),
        ),
        (
            "JWT_SECRET".into(),
            "test-secret-test-secret-test-secret-0123".into(),
        ),
        ("BCRYPT_COST".into(), "4".into()),
        ("LEPTOS_OUTPUT_NAME".into(), "auth".into()),
        // Tests send many logins from one address; `limits.rs` tests the limit.
        ("AUTH_RATE_PER_SECOND".into(), "0".into()),
    ])
}

/// Creates a fresh PostgreSQL database and returns its URL and name.
pub async fn fresh_postgres_database() -> (String, String) {
    let admin_url = test_database_url();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&admin_url)
        .await
        .expect("cannot connect to TEST_DATABASE_URL");
    conn.execute(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
        .await
        .expect("cannot create a test database");
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL has a database name");
    (format!("{base}/{name}"), name)
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

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

/// Starts a server on `backend` with extra settings.
pub async fn spawn_app_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    // TEST_LOG=debug shows the server's logs of a failing test.
    if let Ok(filter) = std::env::var("TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
    install_crypto_provider();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = base_vars(&dir);
    let mut postgres_db = None;
    match backend {
        Backend::Sqlite => {
            vars.insert(
                "DATABASE_URL".into(),
                format!("sqlite://{}/auth.db", dir.path().display()),
            );
        }
        Backend::Postgres => {
            let (url, name) = fresh_postgres_database().await;
            vars.insert("DATABASE_URL".into(), url);
            vars.insert("REDIS_URL".into(), test_redis_url());
            vars.insert("REDIS_KEY_PREFIX".into(), format!("test:{name}:"));
            postgres_db = Some((test_database_url(), name));
        }
    }
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    let config = Config::from_vars(&vars).expect("test configuration");
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    let mut app = TestApp {
        addr: "127.0.0.1:0".parse().unwrap(),
        client,
        backend,
        config,
        dir,
        state: None,
        clock: Clock::system(),
        shutdown: None,
        server: None,
        postgres_db,
    };
    app.start().await;
    app
}

impl TestApp {
    /// Starts (or restarts) the server on the same configuration and clock.
    async fn start(&mut self) {
        let app = Application::build_with_clock(self.config.clone(), self.clock.clone())
            .await
            .expect("the server starts");
        self.addr = app.local_addr();
        self.state = Some(app.state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        self.shutdown = Some(tx);
        self.server = Some(tokio::spawn(app.run_until_stopped(async {
            let _ = rx.await;
        })));
    }

    pub fn state(&self) -> &AppState {
        self.state.as_ref().expect("the server is running")
    }

    /// Stops the server (letting in-flight requests finish) and starts a new
    /// one on the same database.
    pub async fn restart(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("clean shutdown");
        }
        self.state
            .take()
            .expect("was running")
            .db
            .pool
            .close()
            .await;
        self.start().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// Sends the headers of a POST to `path` that promise a body which never
    /// comes, and returns the raw answer, read until its envelope's errors or
    /// for at most 10 seconds.
    pub async fn post_with_a_body_that_never_comes(&self, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            let mut buf = [0u8; 4096];
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                answer.extend_from_slice(&buf[..n]);
                if n == 0 || String::from_utf8_lossy(&answer).contains("\"errors\"") {
                    break;
                }
            }
        })
        .await;
        String::from_utf8_lossy(&answer).into_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Leave nothing behind in a PostgreSQL server that may be someone's own.
        if let Some((admin_url, name)) = self.postgres_db.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let mut conn = PgConnection::connect(&admin_url).await.ok()?;
                    conn.execute(sqlx::AssertSqlSafe(format!(
                        r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                    )))
                    .await
                    .ok()
                })
            })
            .join();
        }
    }
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

    /// Turns a user's active flag off directly in the database (what an
    /// operator's script might do), without the admin API's side effects.
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

    /// Deactivates a user the way an admin does, through the admin API.
    pub async fn deactivate(&self, user_id: i64) {
        let (admin, _) = self.admin(&format!("deactivator{user_id}")).await;
        let path = format!("/api/admin/users/{user_id}/active");
        let (status, body) = self
            .call(
                Method::PATCH,
                &path,
                &admin,
                Some(json!({"isActive": false})),
            )
            .await;
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

/// Settings for a server whose Redis user may read every key, and write
/// every key but those matching `unwritable` (after the prefix): the
/// writes of the app to those fail, as they would if Redis went away at
/// that moment.
pub async fn settings_with_a_redis_user_that_may_not_write(
    unwritable: &[&str],
) -> Vec<(String, String)> {
    let admin_url = test_redis_url();
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let user = format!("limited{}", uuid::Uuid::new_v4().simple());
    let mut conn = redis::Client::open(admin_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut acl = redis::cmd("ACL");
    acl.arg("SETUSER")
        .arg(&user)
        .arg("on")
        .arg(">limited-password")
        .arg("+@all")
        .arg("%R~*");
    for writable in [
        "lockout:*",
        "rate:*",
        "revoked:*",
        "session:*",
        "validation-generation",
    ] {
        if !unwritable.contains(&writable) {
            acl.arg(format!("~{prefix}{writable}"));
        }
    }
    acl.query_async::<()>(&mut conn).await.unwrap();
    // The generation exists from the start: reading it must not need a write.
    redis::cmd("SET")
        .arg(format!("{prefix}validation-generation"))
        .arg(1)
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    let url = admin_url.replacen("redis://", &format!("redis://{user}:limited-password@"), 1);
    vec![
        ("REDIS_URL".into(), url),
        ("REDIS_KEY_PREFIX".into(), prefix),
    ]
}

/// Settings for a server that cannot move the validation generation after
/// a committed change.
pub async fn settings_where_the_generation_cannot_move() -> Vec<(String, String)> {
    settings_with_a_redis_user_that_may_not_write(&["validation-generation"]).await
}

/// Starts a server with settings built at run time.
pub async fn spawn_app_with_owned(backend: Backend, settings: &[(String, String)]) -> TestApp {
    let borrowed: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    spawn_app_with(backend, &borrowed).await
}
