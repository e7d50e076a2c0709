//! The revocation list: it survives restarts, it is shared by processes in
//! scale-out mode, and it fails closed when Redis is down.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;

use crate::{helpers::*, on_every_backend};

on_every_backend! {
    async fn a_revocation_survives_a_restart(app) {
        let mut app = app;
        let data = app.register("rita").await;
        let token = data["accessToken"].as_str().unwrap().to_string();
        let (_, other) = app.login("rita", PASSWORD).await;
        app.revoke(&token, None).await;
        app.restart().await;
        assert_eq!(app.me(&token).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.me(other["data"]["accessToken"].as_str().unwrap()).await.0, StatusCode::OK);
    }
}

/// A `server` process of our own, on a free port.
struct Process {
    child: Child,
    port: u16,
}

impl Process {
    fn start(vars: &[(&str, &str)]) -> Process {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
        cmd.current_dir(dir.path())
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_OUTPUT_NAME", "auth")
            .env("JWT_SECRET", "two-process-secret-two-process-secret-01")
            .env("BCRYPT_COST", "4")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the server process did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Process { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_token_revoked_through_one_process_is_rejected_by_another_at_once() {
    let (database_url, _name) = fresh_postgres_database().await;
    let redis_url = test_redis_url();
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let vars = [
        ("DATABASE_URL", database_url.as_str()),
        ("REDIS_URL", redis_url.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
    ];
    let a = Process::start(&vars);
    let b = Process::start(&vars);
    let client = plain_client();

    let (status, body) = envelope(
        client
            .post(a.url("/api/auth/register"))
            .json(&registration("multi"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["data"]["accessToken"].as_str().unwrap();
    let refresh = body["data"]["refreshToken"].as_str().unwrap();
    let me_on_b = || client.get(b.url("/api/auth/me")).bearer_auth(token).send();
    assert_eq!(
        envelope(me_on_b().await.unwrap()).await.0,
        StatusCode::OK,
        "a token from A works on B"
    );

    let (status, _) = envelope(
        client
            .post(a.url("/api/auth/revoke"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        envelope(me_on_b().await.unwrap()).await.0,
        StatusCode::UNAUTHORIZED,
        "B rejects it on the next request"
    );
    let refresh_on_b = client
        .post(b.url("/api/auth/refresh"))
        .json(&serde_json::json!({"refreshToken": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(envelope(refresh_on_b).await.0, StatusCode::UNAUTHORIZED);

    // A session ended through A (its tokens' jti is not listed anywhere) stops
    // its token on B at once, though B remembers that token's answer.
    let login_on_a = || {
        client
            .post(a.url("/api/auth/login"))
            .json(&serde_json::json!({"username": "multi", "password": PASSWORD}))
            .send()
    };
    let (_, ended) = envelope(login_on_a().await.unwrap()).await;
    let (_, kept) = envelope(login_on_a().await.unwrap()).await;
    let ended = ended["data"]["accessToken"].as_str().unwrap();
    let kept = kept["data"]["accessToken"].as_str().unwrap();
    let me_on_b = |token: &str| client.get(b.url("/api/auth/me")).bearer_auth(token).send();
    for _ in 0..3 {
        assert_eq!(
            envelope(me_on_b(ended).await.unwrap()).await.0,
            StatusCode::OK
        );
    }
    let sid = jwt_part(ended, 1)["sid"].as_str().unwrap().to_string();
    let end_on_a = client
        .delete(a.url(&format!("/api/auth/sessions/{sid}")))
        .bearer_auth(kept)
        .send()
        .await
        .unwrap();
    assert_eq!(envelope(end_on_a).await.0, StatusCode::OK);
    assert_eq!(
        envelope(me_on_b(ended).await.unwrap()).await.0,
        StatusCode::UNAUTHORIZED,
        "B rejects a token of the ended session on the next request"
    );
    assert_eq!(
        envelope(me_on_b(kept).await.unwrap()).await.0,
        StatusCode::OK
    );
}

/// A Redis server of the test's own, to stop and start.
struct OwnRedis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl OwnRedis {
    fn start() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = OwnRedis {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        redis.resume();
        redis
    }

    fn resume(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (./scripts/test installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_redis_is_down_protected_endpoints_answer_503_and_recover() {
    let mut redis = OwnRedis::start();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let app = spawn_app_with(Backend::Sqlite, &[("REDIS_URL", &url)]).await;
    let data = app.register("outage").await;
    let token = data["accessToken"].as_str().unwrap();
    assert_eq!(app.me(token).await.0, StatusCode::OK);

    redis.stop();
    for path in ["/api/auth/me", "/api/auth/validate", "/api/auth/protected"] {
        let started = Instant::now();
        let (status, body) = envelope(app.get_auth(path, token).await).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{path}: never an unchecked token: {body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "fails fast, no hang"
        );
    }

    redis.resume();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, _) = app.me(token).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "did not recover once Redis came back: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
