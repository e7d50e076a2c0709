use std::{collections::HashMap, net::SocketAddr, time::Duration};

use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use server::{config::Config, startup::Application};
use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each test body on both backends: `mod name { fn sqlite; fn postgres }`.
#[macro_export]
macro_rules! on_every_backend {
    ($( $(#[$meta:meta])* async fn $name:ident($app:ident) $body:block )*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await;
                $body
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $app = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await;
                $body
            }
        }
    )*};
}

/// A running server with its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub backend: Backend,
    pub config: Config,
    /// Holds the SQLite file and the data directory.
    pub dir: TempDir,
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
pub fn base_vars(dir: &TempDir) -> HashMap<String, String> {
    HashMap::from([
        ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
        ("DATA_DIR".into(), dir.path().join("data").display().to_string()),
        ("JWT_SECRET".into(), "test-secret-test-secret-test-secret-0123".into()),
        ("BCRYPT_COST".into(), "4".into()),
        ("LEPTOS_OUTPUT_NAME".into(), "auth".into()),
    ])
}

/// Creates a fresh PostgreSQL database and returns its URL and name.
pub async fn fresh_postgres_database() -> (String, String) {
    let admin_url = test_database_url();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&admin_url).await.expect("cannot connect to TEST_DATABASE_URL");
    conn.execute(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#))).await.expect("cannot create a test database");
    let (base, _) = admin_url.rsplit_once('/').expect("TEST_DATABASE_URL has a database name");
    (format!("{base}/{name}"), name)
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Starts a server on `backend` with extra settings.
pub async fn spawn_app_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = base_vars(&dir);
    let mut postgres_db = None;
    match backend {
        Backend::Sqlite => {
            vars.insert("DATABASE_URL".into(), format!("sqlite://{}/auth.db", dir.path().display()));
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
    let app = Application::build(config.clone()).await.expect("the server starts");
    let addr = app.local_addr();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let client = Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
    TestApp { addr, client, backend, config, dir, postgres_db }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Leave nothing behind in a PostgreSQL server that may be someone's own.
        if let Some((admin_url, name)) = self.postgres_db.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    let mut conn = PgConnection::connect(&admin_url).await.ok()?;
                    conn.execute(sqlx::AssertSqlSafe(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))).await.ok()
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
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {status} {text}"));
    assert!(content_type.starts_with("application/json"), "content-type {content_type}");
    assert_eq!(body["isSuccess"], Value::Bool(status.is_success()), "{status} {body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body["errors"].is_array(), "{body}");
    assert!(body.get("data").is_some(), "{body}");
    (status, body)
}
