//! The scenarios of the benchmark, each bounded in time and requests: the
//! single-endpoint ones here, those that load two things at once in
//! `contention`, validation under each signing algorithm in `algorithms`,
//! and the Rust client's loads in `loads`.

mod algorithms;
mod contention;
mod loads;

use std::{path::PathBuf, sync::Arc, time::Duration};

use reqwest::Client;
use serde_json::{json, Value};

use self::loads::{bearer_load, login_load, refresh_load};
use crate::{
    load::{Budget, Summary},
    server::{Server, Shared, Store},
    wrk, Row,
};

const PASSWORD: &str = "benchmark password";

/// The scenarios `--only` can name.
pub const NAMES: [&str; 13] = [
    "health",
    "validate",
    "validate-fresh",
    "validate-eddsa",
    "validate-eddsa-fresh",
    "validate-es256",
    "validate-es256-fresh",
    "me",
    "refresh",
    "login",
    "mixed",
    "flood",
    "scale-out",
];

pub struct Run {
    pub server: PathBuf,
    pub duration: Duration,
    pub max_requests: u64,
    pub bcrypt_cost: u32,
    pub soak: Option<Duration>,
    /// Drive validate, me and refresh with wrk.
    pub use_wrk: bool,
    /// Run only these scenarios (all when empty).
    pub only: Vec<String>,
}

fn client() -> Client {
    Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

fn row(backend: &str, scenario: &str, stats: impl Into<Summary>, rss_mb: f64, note: String) -> Row {
    Row {
        backend: backend.into(),
        scenario: scenario.into(),
        stats: stats.into(),
        peak_rss_mb: rss_mb,
        note,
    }
}

/// Registers `username` and returns the AuthResponse `data`.
async fn register(client: &Client, server: &Server, username: &str) -> Value {
    let body = json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD,
        "confirmPassword": PASSWORD, "fullName": username});
    let response = client
        .post(server.url("/api/auth/register"))
        .json(&body)
        .send()
        .await
        .expect("register");
    assert_eq!(response.status(), 201, "registration failed");
    response.json::<Value>().await.expect("JSON")["data"].clone()
}

async fn login(client: &Client, server: &Server, username: &str) -> Value {
    let body = json!({"username": username, "password": PASSWORD});
    let response = client
        .post(server.url("/api/auth/login"))
        .json(&body)
        .send()
        .await
        .expect("login");
    response.json::<Value>().await.expect("JSON")["data"].clone()
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().expect("a string field").to_string()
}

impl Run {
    fn wants(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == scenario)
    }

    fn budget(&self) -> Arc<Budget> {
        Budget::new(self.duration, self.max_requests)
    }

    fn wrk_cap<'a>(&self, server: &'a Server, client: &'a Client) -> wrk::Cap<'a> {
        wrk::Cap {
            server,
            client,
            max_requests: self.max_requests,
        }
    }

    /// GETs `url` with `token` over `connections` connections: with wrk
    /// when it is installed, else with the Rust client.
    async fn bearer(
        &self,
        server: &Server,
        client: &Client,
        url: &str,
        token: &str,
        connections: usize,
    ) -> Summary {
        if self.use_wrk {
            let cap = self.wrk_cap(server, client);
            wrk::get(url, token, connections, self.duration, cap).await
        } else {
            let target = vec![(client.clone(), url.to_string(), token.to_string())];
            Summary::from(&bearer_load(self.budget(), connections, target).await)
        }
    }

    /// Rotates each token in its own chain: with wrk when it is installed
    /// (with one chain more, see [`wrk::refresh_chains`]), else with the
    /// Rust client.
    async fn refresh_chains(
        &self,
        server: &Server,
        client: &Client,
        url: &str,
        tokens: Vec<String>,
    ) -> Summary {
        if self.use_wrk {
            let mut tokens = tokens;
            tokens.push(text(&login(client, server, "bench").await, "refreshToken"));
            let cap = self.wrk_cap(server, client);
            wrk::refresh_chains(url, &tokens, self.duration, cap).await
        } else {
            Summary::from(
                &refresh_load(self.budget(), client.clone(), url.to_string(), tokens).await,
            )
        }
    }

    pub async fn all(&self, backend: &str, store: &Store) -> Vec<Row> {
        let shared = Shared::new(store).await;
        let server = Server::start(&self.server, &shared, self.bcrypt_cost);
        let client = client();
        let mut rows = Vec::new();
        eprintln!("[{backend}] preparing users");
        let user = register(&client, &server, "bench").await;
        let token = text(&user, "accessToken");
        let _ = server.take_peak_rss_mb();

        // The same server doing no auth work: the ceiling validate is held to.
        let mut ceiling = None;
        let mut validate_rps = None;
        for (scenario, path, label) in [
            ("health", "/api/health", "health (32 conn)"),
            ("validate", "/api/auth/validate", "validate (32 conn)"),
            ("me", "/api/auth/me", "me (32 conn)"),
        ] {
            if !self.wants(scenario) {
                continue;
            }
            eprintln!("[{backend}] {scenario}");
            let stats = self
                .bearer(&server, &client, &server.url(path), &token, 32)
                .await;
            if scenario == "validate" {
                validate_rps = Some(stats.rps);
            }
            let note = match (scenario, ceiling) {
                ("health", _) => {
                    ceiling = Some(stats.rps);
                    String::new()
                }
                (_, Some(health)) => format!("{:.2} of health", stats.rps / health),
                _ => String::new(),
            };
            rows.push(row(backend, label, stats, server.take_peak_rss_mb(), note));
        }

        if self.wants("refresh") {
            eprintln!("[{backend}] refresh");
            let mut chains = Vec::new();
            for _ in 0..32 {
                chains.push(text(
                    &login(&client, &server, "bench").await,
                    "refreshToken",
                ));
            }
            let _ = server.take_peak_rss_mb();
            let stats = self
                .refresh_chains(&server, &client, &server.url("/api/auth/refresh"), chains)
                .await;
            rows.push(row(
                backend,
                "refresh (32 chains)",
                stats,
                server.take_peak_rss_mb(),
                String::new(),
            ));
        }

        if self.wants("login") {
            eprintln!("[{backend}] login");
            let hash_secs = bcrypt_hash_secs(self.bcrypt_cost);
            let cores = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1) as f64;
            let stats = login_load(
                self.budget(),
                8,
                client.clone(),
                server.url("/api/auth/login"),
            )
            .await;
            let fraction = stats.rps() / (cores / hash_secs);
            let note = format!(
                "{fraction:.2} of the bcrypt limit ({:.1}/s)",
                cores / hash_secs
            );
            rows.push(row(
                backend,
                "login (8 conc)",
                &stats,
                server.take_peak_rss_mb(),
                note,
            ));
        }

        if self.wants("mixed") {
            eprintln!("[{backend}] mixed");
            let storm = tokio::spawn(login_load(
                self.budget(),
                8,
                client.clone(),
                server.url("/api/auth/login"),
            ));
            let stats = self
                .bearer(
                    &server,
                    &client,
                    &server.url("/api/auth/validate"),
                    &token,
                    16,
                )
                .await;
            let logins = storm.await.expect("login storm");
            let note = format!("during {:.1} logins/s", logins.rps());
            rows.push(row(
                backend,
                "mixed: validate (16)",
                stats,
                server.take_peak_rss_mb(),
                note,
            ));
        }

        if self.wants("flood") {
            rows.push(
                self.logins_during_a_page_flood(backend, &server, &client)
                    .await,
            );
        }

        if let Some(soak) = self.soak {
            eprintln!("[{backend}] soak for {} s", soak.as_secs());
            let start_rss = server.rss_mb();
            let budget = Budget::new(soak, u64::MAX / 2);
            let mut chains = Vec::new();
            for _ in 0..16 {
                chains.push(text(
                    &login(&client, &server, "bench").await,
                    "refreshToken",
                ));
            }
            let target = vec![(
                client.clone(),
                server.url("/api/auth/validate"),
                token.clone(),
            )];
            let refreshing = tokio::spawn(refresh_load(
                budget.clone(),
                client.clone(),
                server.url("/api/auth/refresh"),
                chains,
            ));
            let stats = bearer_load(budget, 16, target).await;
            let refreshed = refreshing.await.expect("refresh soak");
            let note = format!(
                "RSS {start_rss:.1} -> {:.1} MB; {:.0} refreshes/s beside",
                server.rss_mb(),
                refreshed.rps()
            );
            rows.push(row(
                backend,
                "soak: validate",
                &stats,
                server.take_peak_rss_mb(),
                note,
            ));
        }

        if matches!(store, Store::Postgres { .. }) && self.wants("scale-out") {
            rows.push(self.scale_out(backend, &shared, &server, &client).await);
        }
        drop(server);
        // Each on a server of its own, one at a time, on the same store.
        rows.extend(
            self.algorithms(backend, &shared, &client, &token, validate_rps)
                .await,
        );
        shared.remove().await;
        rows
    }
}

/// Seconds one bcrypt hash takes here at `cost` (the best of three).
pub fn bcrypt_hash_secs(cost: u32) -> f64 {
    (0..3)
        .map(|_| {
            let started = std::time::Instant::now();
            let _ = bcrypt::hash("a benchmark password", cost);
            started.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}
