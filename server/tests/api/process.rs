//! The real binary: configuration errors, the development secret, signals.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_server");

fn command(dir: &TempDir) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEPTOS_OUTPUT_NAME", "auth")
        .env("BCRYPT_COST", "4")
        .stdin(Stdio::null());
    cmd
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    for (name, value) in [
        ("BCRYPT_COST", "99"),
        ("DATABASE_URL", "mysql://x"),
        ("ACCESS_TOKEN_TTL", "soon"),
    ] {
        let out = command(&dir).env(name, value).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}={value}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(name), "{stderr}");
    }
}

#[test]
fn production_refuses_to_start_without_a_long_secret_and_never_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(&dir).env("APP_ENV", "production").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = command(&dir)
        .env("APP_ENV", "production")
        .env("JWT_SECRET", "too-short-secret")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("JWT_SECRET") && !stderr.contains("too-short-secret"),
        "{stderr}"
    );
}

/// Starts the binary in `dir` on a free port and waits until it answers.
fn start(dir: &TempDir, extra: &[(&str, &str)]) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = command(dir);
    cmd.env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn development_generates_a_private_secret_once_and_reuses_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _) = start(&dir, &[]);
    let path = dir.path().join("data/jwt-secret");
    let first = std::fs::read(&path).expect("the development secret was written to data/");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        dir.path().join("data/auth.db").exists(),
        "the default SQLite database lives in data/"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(wait_for_exit(&mut child).success());
    let (mut child, _) = start(&dir, &[]);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        first,
        "the secret is reused on the next start"
    );
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(
        wait_for_exit(&mut child).success(),
        "SIGINT stops the server cleanly too"
    );
}

#[test]
fn a_dot_env_file_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "# a comment\nBCRYPT_COST=99\n").unwrap();
    let out = command(&dir).env_remove("BCRYPT_COST").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "the bad value in .env is read");
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("BCRYPT_COST"));
    let (mut child, _) = start(&dir, &[("BCRYPT_COST", "4")]);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(
        wait_for_exit(&mut child).success(),
        "the environment's value won"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish() {
    let dir = tempfile::tempdir().unwrap();
    // A real bcrypt cost, so that a login is in flight for a while.
    let (mut child, port) = start(&dir, &[("BCRYPT_COST", "13")]);
    let client = crate::helpers::plain_client();
    let base = format!("http://127.0.0.1:{port}");
    let body = serde_json::json!({"username": "slow", "email": "slow@example.com", "password": "secret-pw",
        "confirmPassword": "secret-pw", "fullName": "Slow Poke"});
    let registered = client
        .post(format!("{base}/api/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), reqwest::StatusCode::CREATED);

    let login = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/api/auth/login");
        async move {
            client
                .post(url)
                .json(&serde_json::json!({"username": "slow", "password": "secret-pw"}))
                .send()
                .await
        }
    });
    // The login takes a cost-13 hash (about half a second): it is in flight by now.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let response = login
        .await
        .unwrap()
        .expect("the in-flight login got its answer");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert!(wait_for_exit(&mut child).success());
}

/// Runs `server admin …` with `stdin` as its standard input.
fn admin_command(
    dir: &TempDir,
    database_url: &str,
    args: &[&str],
    stdin: &str,
) -> std::process::Output {
    use std::io::Write;
    let mut child = command(dir)
        .env("DATABASE_URL", database_url)
        .arg("admin")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

async fn the_admin_commands_work_on(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = admin_command(
        &dir,
        database_url,
        &[
            "create",
            "--username",
            "root",
            "--email",
            "root@example.com",
        ],
        "s3cret-admin\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = admin_command(
        &dir,
        database_url,
        &["create", "--username", "ROOT", "--email", "x@example.com"],
        "s3cret-admin\n",
    );
    assert_eq!(again.status.code(), Some(1), "a duplicate is refused");
    let bad = admin_command(
        &dir,
        database_url,
        &["create", "--username", "r", "--email", "nope"],
        "123\n",
    );
    assert_eq!(bad.status.code(), Some(2), "invalid input is a usage error");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("Username") && stderr.contains("Email") && stderr.contains("Password"),
        "{stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("s3cret-admin"),
        "the password is never printed"
    );

    let db = server::db::Db::connect(database_url, 2).await.unwrap();
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE username = 'root'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(role, "Admin");

    sqlx::query(
        "INSERT INTO users (username, username_key, email, email_key, full_name, password_hash, role, is_active, created_at, updated_at) \
         VALUES ('Joe', 'joe', 'joe@example.com', 'joe@example.com', 'Joe', 'x', 'User', TRUE, 0, 0)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let promoted = admin_command(&dir, database_url, &["promote", "JOE"], "");
    assert!(
        promoted.status.success(),
        "{}",
        String::from_utf8_lossy(&promoted.stderr)
    );
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE username = 'Joe'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(role, "Admin");
    assert_eq!(
        admin_command(&dir, database_url, &["promote", "nobody"], "")
            .status
            .code(),
        Some(1)
    );
}

crate::on_every_backend! {
    async fn admin_create_and_promote_work(app) {
        the_admin_commands_work_on(&app.config.database.url).await;
    }
}

#[tokio::test]
async fn an_admin_created_on_the_command_line_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/auth.db", dir.path().display());
    let out = admin_command(
        &dir,
        &url,
        &[
            "create",
            "--username",
            "first",
            "--email",
            "first@example.com",
            "--full-name",
            "First Admin",
        ],
        "first-secret\n",
    );
    assert!(out.status.success());
    let app =
        crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, &[("DATABASE_URL", &url)])
            .await;
    let (status, body) = app.login("first", "first-secret").await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert_eq!(body["data"]["user"]["role"], "Admin");
    assert_eq!(body["data"]["user"]["fullName"], "First Admin");
}

/// Starts the binary like [`start`], with its JSON log lines written to a file.
fn start_logged(
    dir: &TempDir,
    extra: &[(&str, &str)],
) -> (std::process::Child, u16, std::path::PathBuf) {
    let log = dir.path().join("server.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = command(dir);
    cmd.env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .env("LOG_FORMAT", "json")
        // The logs go to standard output.
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port, log)
}

/// Stops the binary with SIGTERM and returns its log lines.
fn stop_and_read_log(
    mut child: std::process::Child,
    log: &std::path::Path,
) -> Vec<serde_json::Value> {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(wait_for_exit(&mut child).success());
    let text = std::fs::read_to_string(log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["message"] == "listening"),
        "the log was captured: {text}"
    );
    lines
}

fn warnings(lines: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    lines
        .iter()
        .filter(|l| matches!(l["level"].as_str(), Some("WARN" | "ERROR")))
        .collect()
}

/// A warning in production must mean a real problem: a normal day of
/// registrations, sign-ins, page views, refreshes and sign-outs logs none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_session_logs_no_warning_or_error() {
    let dir = tempfile::tempdir().unwrap();
    let (child, port, log) = start_logged(&dir, &[]);
    crate::helpers::install_crypto_provider();
    // A tab of the app: its sign-ins ask for a browser session.
    let mut app_headers = reqwest::header::HeaderMap::new();
    app_headers.insert("x-browser-session", "1".parse().unwrap());
    let tab = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(app_headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let registered = tab
        .post(format!("{base}/api/auth/register"))
        .json(&crate::helpers::registration("quiet"))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), reqwest::StatusCode::CREATED);
    let login = |tab: &reqwest::Client| {
        tab.post(format!("{base}/api/auth/login"))
            .json(&serde_json::json!({"username": "quiet", "password": crate::helpers::PASSWORD}))
            .send()
    };
    let signed_in: serde_json::Value = login(&tab).await.unwrap().json().await.unwrap();
    let data = &signed_in["data"];
    for page in ["/", "/profile", "/login", "/no-such-page"] {
        let status = tab
            .get(format!("{base}{page}"))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success() || status == 404, "{page}: {status}");
    }
    let refreshed: serde_json::Value = tab
        .post(format!("{base}/api/auth/refresh"))
        .json(&serde_json::json!({"refreshToken": data["refreshToken"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = refreshed["data"]["accessToken"].as_str().unwrap();
    // An API client without the cookie, and a wrong password.
    let api = crate::helpers::plain_client();
    assert_eq!(login(&api).await.unwrap().status(), reqwest::StatusCode::OK);
    let wrong = api
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"username": "quiet", "password": "not it"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), reqwest::StatusCode::UNAUTHORIZED);
    let me = tab
        .get(format!("{base}/api/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), reqwest::StatusCode::OK);
    let revoked = tab
        .post(format!("{base}/api/auth/revoke"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), reqwest::StatusCode::OK);
    let lines = stop_and_read_log(child, &log);
    let loud = warnings(&lines);
    assert!(loud.is_empty(), "{loud:#?}");
}

/// Behind a proxy that `TRUSTED_PROXIES` does not list, every client shares
/// the proxy's address: the operator is told once, not on every request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_requests_from_an_untrusted_peer_are_warned_about_once() {
    let client = crate::helpers::plain_client();
    for (trusted, expected) in [(None, 1), (Some("127.0.0.1"), 0)] {
        let dir = tempfile::tempdir().unwrap();
        let extra: Vec<(&str, &str)> = trusted
            .map(|t| ("TRUSTED_PROXIES", t))
            .into_iter()
            .collect();
        let (child, port, log) = start_logged(&dir, &extra);
        for from in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
            let answer = client
                .post(format!("http://127.0.0.1:{port}/api/auth/login"))
                .header("x-forwarded-for", from)
                .json(&serde_json::json!({"username": "nobody", "password": "guess"}))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), reqwest::StatusCode::UNAUTHORIZED);
        }
        let lines = stop_and_read_log(child, &log);
        let loud = warnings(&lines);
        assert_eq!(loud.len(), expected, "{trusted:?}: {loud:#?}");
        if let Some(warning) = loud.first() {
            assert!(
                warning["message"]
                    .as_str()
                    .unwrap()
                    .contains("TRUSTED_PROXIES"),
                "{warning}"
            );
        }
    }
}
