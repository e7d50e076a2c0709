//! HTTPS with a certificate made for the test (rcgen), trusted by the client.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn with_tls_files_the_server_speaks_https_and_sends_hsts() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("TLS_CERT", cert_path.to_str().unwrap()),
            ("TLS_KEY", key_path.to_str().unwrap()),
        ],
    )
    .await;

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem().as_bytes()).unwrap())
        .resolve("localhost", app.addr)
        .build()
        .unwrap();
    let url = |path: &str| format!("https://localhost:{}{path}", app.addr.port());

    let response = client.get(url("/api/health")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let registered = client
        .post(url("/api/auth/register"))
        .header("x-browser-session", "1")
        .json(&registration("tlsuser"))
        .send()
        .await
        .unwrap();
    let cookie = registered.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("__Host-auth_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.to_lowercase().contains("domain="), "{cookie}");
    let (status, body) = envelope(registered).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let page = client.get(url("/login")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers().contains_key("strict-transport-security"));

    // Plain HTTP on the TLS port fails the handshake: nothing is answered in the clear.
    let plain = app.client.get(app.url("/api/health")).send().await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
}

#[tokio::test]
async fn an_unreadable_key_stops_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "not a certificate").unwrap();
    let mut vars = base_vars(&dir);
    vars.insert(
        "DATABASE_URL".into(),
        format!("sqlite://{}/auth.db", dir.path().display()),
    );
    vars.insert("TLS_CERT".into(), cert.display().to_string());
    vars.insert("TLS_KEY".into(), cert.display().to_string());
    let config = server::config::Config::from_vars(&vars).unwrap();
    let error = match server::startup::Application::build(config).await {
        Ok(_) => panic!("started with a broken certificate"),
        Err(e) => e.to_string(),
    };
    assert!(error.starts_with("TLS_CERT/TLS_KEY:"), "{error}");
    assert!(!error.contains('\n'), "{error}");
}
