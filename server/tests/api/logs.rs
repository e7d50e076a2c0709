//! What the server logs: a normal day nothing loud, and a misconfigured
//! proxy one warning.

use std::process::Command;

use tempfile::TempDir;

use crate::process::{start_with_output, wait_for_exit};

/// Starts the binary like [`start`], with its JSON log lines written to a file.
fn start_logged(
    dir: &TempDir,
    extra: &[(&str, &str)],
) -> (std::process::Child, u16, std::path::PathBuf) {
    let log = dir.path().join("server.log");
    let mut settings = vec![("RUST_LOG", "info"), ("LOG_FORMAT", "json")];
    settings.extend_from_slice(extra);
    let output = std::fs::File::create(&log).unwrap();
    let (child, port) = start_with_output(dir, &settings, output.into());
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
    // With no SMTP relay, mails are files and a developer finds their link
    // in the log: the welcome mail of the registration and a reset link.
    let forgot = api
        .post(format!("{base}/api/auth/password/forgot"))
        .json(&serde_json::json!({"email": "quiet@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forgot.status(), reqwest::StatusCode::ACCEPTED);
    let outbox = dir.path().join("data").join("outbox");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_dir(&outbox).map_or(0, |d| d.count()) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the mails were not written"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let lines = stop_and_read_log(child, &log);
    let loud = warnings(&lines);
    assert!(loud.is_empty(), "{loud:#?}");
    let links: Vec<&str> = lines
        .iter()
        .filter(|l| l["level"] == "INFO")
        .filter_map(|l| l["fields"]["link"].as_str().or(l["link"].as_str()))
        .collect();
    assert_eq!(links.len(), 2, "{lines:#?}");
    assert!(
        links.iter().any(|l| l.contains("/verify-email?token=")),
        "{links:?}"
    );
    assert!(
        links.iter().any(|l| l.contains("/reset-password?token=")),
        "{links:?}"
    );
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
