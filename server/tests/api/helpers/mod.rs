//! What every integration test shares: a real server on a random port with
//! a database of its own (`spawn_app`), the requests it is sent
//! (`requests`), and the PostgreSQL and Redis it runs on (`services`).

mod requests;
mod services;
mod smtp;

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use reqwest::{Client, Response};
use server::{auth::Clock, config::Config, startup::Application, state::AppState};
use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;

pub use self::{requests::*, services::*, smtp::*};

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

/// Like `on_every_backend!`, with a real SMTP relay that the server sends
/// its mail through: `async fn name(app, relay [with &[...]])`.
#[macro_export]
macro_rules! on_every_backend_with_mail {
    ($( $(#[$meta:meta])* async fn $name:ident($app:ident, $relay:ident $(with $settings:expr)?) $body:block )*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[allow(unused_mut)]
            async fn sqlite() {
                let mut $relay = $crate::helpers::SmtpSink::start().await;
                let mut $app = $crate::helpers::spawn_app_mailing_to(
                    $crate::helpers::Backend::Sqlite,
                    &$relay,
                    $crate::on_every_backend!(@settings $($settings)?),
                )
                .await;
                $body
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[allow(unused_mut)]
            async fn postgres() {
                let mut $relay = $crate::helpers::SmtpSink::start().await;
                let mut $app = $crate::helpers::spawn_app_mailing_to(
                    $crate::helpers::Backend::Postgres,
                    &$relay,
                    $crate::on_every_backend!(@settings $($settings)?),
                )
                .await;
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
    /// The variables `config` was read from.
    vars: HashMap<String, String>,
    /// Holds the SQLite file and the data directory.
    pub dir: TempDir,
    state: Option<AppState>,
    pub clock: Clock,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    postgres_db: Option<(String, String)>,
}

/// The settings every test starts from: cheap bcrypt, a fixed secret, port 0.
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

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
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
        vars,
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

    /// Restarts the server with some settings changed (`None` unsets one),
    /// as an operator would.
    pub async fn restart_with(&mut self, changes: &[(&str, Option<&str>)]) {
        for (name, value) in changes {
            match value {
                Some(value) => self.vars.insert(name.to_string(), value.to_string()),
                None => self.vars.remove(*name),
            };
        }
        self.config = Config::from_vars(&self.vars).expect("test configuration");
        self.restart().await;
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

/// Starts a server on `backend` that sends its mail through `relay`.
pub async fn spawn_app_mailing_to(
    backend: Backend,
    relay: &SmtpSink,
    extra: &[(&str, &str)],
) -> TestApp {
    let mut settings = vec![
        ("SMTP_URL".to_string(), relay.url()),
        (
            "PUBLIC_URL".to_string(),
            "https://auth.example.com".to_string(),
        ),
    ];
    settings.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    spawn_app_with_owned(backend, &settings).await
}

/// Starts a server with settings built at run time.
pub async fn spawn_app_with_owned(backend: Backend, settings: &[(String, String)]) -> TestApp {
    let borrowed: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    spawn_app_with(backend, &borrowed).await
}
