//! The real binary: configuration errors, the development secret, signals.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_server");

pub fn command(dir: &TempDir) -> Command {
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

#[test]
fn production_refuses_to_start_without_a_signing_key_and_never_prints_one() {
    let dir = tempfile::tempdir().unwrap();
    for algorithm in ["EdDSA", "ES256", "RS256"] {
        let out = command(&dir)
            .env("APP_ENV", "production")
            .env("JWT_ALGORITHM", algorithm)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{algorithm}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("JWT_PRIVATE_KEY"), "{stderr}");
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no key was generated"
    );
    // A key of another algorithm, and a file that is no key, are refused
    // without their contents in the message.
    let ed25519 = dir.path().join("ed25519.pem");
    let out = command(&dir)
        .args(["keys", "generate", "--alg", "EdDSA", "--out"])
        .arg(&ed25519)
        .output()
        .unwrap();
    assert!(out.status.success());
    let not_a_key = dir.path().join("not-a-key.pem");
    std::fs::write(
        &not_a_key,
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LW1hdGVyaWFs\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    for (algorithm, file) in [("ES256", &ed25519), ("EdDSA", &not_a_key)] {
        let out = command(&dir)
            .env("APP_ENV", "production")
            .env("JWT_ALGORITHM", algorithm)
            .env("JWT_PRIVATE_KEY", file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("JWT_PRIVATE_KEY"), "{stderr}");
        assert!(
            !stderr.contains("c2VjcmV0") && !stderr.contains("BEGIN"),
            "{stderr}"
        );
    }
}

#[test]
fn keys_generate_writes_a_private_key_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    for algorithm in ["EdDSA", "ES256", "RS256"] {
        let file = dir.path().join(format!("{algorithm}.pem"));
        let out = command(&dir)
            .args(["keys", "generate", "--alg", algorithm, "--out"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let pem = std::fs::read_to_string(&file).unwrap();
        assert!(
            pem.starts_with("-----BEGIN PRIVATE KEY-----"),
            "{algorithm}"
        );
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{algorithm}");
        let (key, _) = server::signing_keys::from_private_pem(&pem).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(&key.kid), "the kid is printed: {stderr}");
        assert!(!stderr.contains("PRIVATE"), "{stderr}");

        let again = command(&dir)
            .args(["keys", "generate", "--alg", algorithm, "--out"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(again.status.code(), Some(1), "an existing file is kept");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), pem);
    }
    // Without --out, a file named by the algorithm and kid, here.
    let out = command(&dir)
        .args(["keys", "generate", "--alg", "EdDSA"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let written = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("jwt-eddsa-"))
        .count();
    assert_eq!(written, 1);
    for bad in ["HS256", "none", "ES384"] {
        let out = command(&dir)
            .args(["keys", "generate", "--alg", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

/// Starts the binary in `dir` on a free port and waits until it answers.
pub fn start(dir: &TempDir, extra: &[(&str, &str)]) -> (std::process::Child, u16) {
    start_with_output(dir, extra, Stdio::null())
}

/// Like [`start`], with the binary's standard output (its logs) going to `output`.
pub fn start_with_output(
    dir: &TempDir,
    extra: &[(&str, &str)],
    output: Stdio,
) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = command(dir);
    cmd.env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .stdout(output)
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

pub fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
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
