//! A real auth server (in this process, SQLite, EdDSA keys in a temporary
//! directory), the resource server in front of it, and tokens of keys the
//! auth server has never seen.

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::PathBuf,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Client, StatusCode};
use resource_server::{jwks::JwksCache, settings::Settings, App};
use serde_json::{json, Value};
use server::{config::Config, signing_keys, startup::Application, state::AppState};
use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};

pub const PASSWORD: &str = "correct horse";

/// A running auth server; it can be stopped and started again on its port.
pub struct AuthServer {
    pub addr: SocketAddr,
    pub dir: TempDir,
    vars: HashMap<String, String>,
    client: Client,
    running: Option<(
        AppState,
        oneshot::Sender<()>,
        JoinHandle<std::io::Result<()>>,
    )>,
}

impl AuthServer {
    /// An auth server that signs with a new Ed25519 key, `key-1.pem`.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = new_key_file(&dir, "key-1.pem");
        let vars = HashMap::from(
            [
                ("LEPTOS_SITE_ADDR", "127.0.0.1:0".to_string()),
                ("LEPTOS_OUTPUT_NAME", "auth".into()),
                ("DATA_DIR", dir.path().join("data").display().to_string()),
                (
                    "DATABASE_URL",
                    format!("sqlite://{}/auth.db", dir.path().display()),
                ),
                ("BCRYPT_COST", "4".into()),
                ("AUTH_RATE_PER_SECOND", "0".into()),
                ("JWT_ALGORITHM", "EdDSA".into()),
                ("JWT_PRIVATE_KEY", key.display().to_string()),
            ]
            .map(|(k, v)| (k.to_string(), v)),
        );
        let mut auth = AuthServer {
            addr: "127.0.0.1:0".parse().unwrap(),
            dir,
            vars,
            client: Client::new(),
            running: None,
        };
        auth.launch().await;
        auth
    }

    async fn launch(&mut self) {
        let config = Config::from_vars(&self.vars).expect("auth server configuration");
        let app = Application::build(config)
            .await
            .expect("the auth server starts");
        self.addr = app.local_addr();
        let state = app.state.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        self.running = Some((state, stop, task));
    }

    /// Stops the server and lets go of its database.
    pub async fn stop(&mut self) {
        let (state, stop, task) = self.running.take().expect("the auth server runs");
        let _ = stop.send(());
        task.await
            .expect("auth server task")
            .expect("clean shutdown");
        state.db.pool.close().await;
        state.db.writer.close().await;
    }

    /// Restarts on the same port and database with `changes` to the settings.
    pub async fn restart_with(&mut self, changes: &[(&str, String)]) {
        self.stop().await;
        self.vars
            .insert("LEPTOS_SITE_ADDR".into(), self.addr.to_string());
        for (name, value) in changes {
            self.vars.insert(name.to_string(), value.clone());
        }
        self.launch().await;
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Registers `username` and returns the access token.
    pub async fn register(&self, username: &str) -> String {
        let body = json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "password": PASSWORD,
            "confirmPassword": PASSWORD,
            "fullName": format!("{username} Tester"),
        });
        self.token_from("/api/auth/register", &body, StatusCode::CREATED)
            .await
    }

    pub async fn login(&self, username: &str) -> String {
        let body = json!({ "username": username, "password": PASSWORD });
        self.token_from("/api/auth/login", &body, StatusCode::OK)
            .await
    }

    async fn token_from(&self, path: &str, body: &Value, expected: StatusCode) -> String {
        let response = self
            .client
            .post(format!("{}{path}", self.url()))
            .json(body)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON envelope");
        assert_eq!(status, expected, "{body}");
        body["data"]["accessToken"]
            .as_str()
            .expect("an access token")
            .to_string()
    }

    /// Logs out: the auth server refuses `token` from now on.
    pub async fn revoke(&self, token: &str) {
        let response = self
            .client
            .post(format!("{}/api/auth/revoke", self.url()))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), StatusCode::OK);
    }

    /// The public JWK the auth server publishes for `kid`.
    pub async fn published_jwk(&self, kid: &str) -> Value {
        let set: Value = self
            .client
            .get(format!("{}/.well-known/jwks.json", self.url()))
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("a JWK Set");
        set["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["kid"] == kid)
            .cloned()
            .expect("the key is published")
    }
}

/// Writes a new Ed25519 private key into `dir` and returns its path.
pub fn new_key_file(dir: &TempDir, name: &str) -> PathBuf {
    let path = dir.path().join(name);
    let pem = signing_keys::generate(Algorithm::EdDSA).expect("a new key");
    std::fs::write(&path, pem.as_bytes()).expect("key file written");
    path
}

/// The resource server, in front of `auth`.
pub struct ResourceServer {
    pub addr: SocketAddr,
    pub jwks: Arc<JwksCache>,
    client: Client,
    _stop: oneshot::Sender<()>,
}

impl ResourceServer {
    pub async fn start(auth_url: &str, min_refetch: Duration) -> Self {
        let settings = Settings {
            auth_url: auth_url.to_string(),
            issuer: "PersonalManagerAPI".into(),
            audience: "PersonalManagerClient".into(),
            listen: "127.0.0.1:0".parse().unwrap(),
            jwks_min_refetch: min_refetch,
        };
        let app = App::build(settings)
            .await
            .expect("the resource server starts");
        let (addr, jwks) = (app.local_addr(), app.jwks.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        ResourceServer {
            addr,
            jwks,
            client: Client::new(),
            _stop: stop,
        }
    }

    /// GETs `path` with `token`; the status, `WWW-Authenticate` and body.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, String, Value) {
        let mut request = self.client.get(format!("http://{}{path}", self.addr));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = response.json().await.expect("a JSON body");
        (status, challenge, body)
    }

    pub async fn status(&self, path: &str, token: &str) -> StatusCode {
        self.get(path, Some(token)).await.0
    }
}

/// The `kid` in `token`'s header.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("a JWT")
        .kid
        .expect("a kid")
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims the resource server accepts from a trusted key.
pub fn claims(username: &str) -> Value {
    json!({
        "sub": "1", "userId": "1", "username": username, "role": "Admin",
        "iat": now(), "nbf": now(), "exp": now() + 600,
        "iss": "PersonalManagerAPI", "aud": "PersonalManagerClient",
    })
}

/// A private key: `(its kid, a signer with it)`.
pub struct Key {
    pub kid: String,
    encoding: EncodingKey,
    pub public_jwk: Value,
}

impl Key {
    /// A new Ed25519 key that no auth server knows.
    pub fn foreign() -> Self {
        Self::from_pem(&signing_keys::generate(Algorithm::EdDSA).expect("a new key"))
    }

    pub fn from_file(path: &std::path::Path) -> Self {
        Self::from_pem(&std::fs::read_to_string(path).expect("key file"))
    }

    fn from_pem(pem: &str) -> Self {
        let (signing, verifying) = signing_keys::from_private_pem(pem).expect("a key");
        Key {
            kid: signing.kid,
            encoding: signing.key,
            public_jwk: serde_json::to_value(verifying.public).unwrap(),
        }
    }

    /// `claims` signed with EdDSA under the header `kid`.
    pub fn sign(&self, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signed")
    }
}
