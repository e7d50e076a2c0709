//! A server process of the benchmark's own, and its memory.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use sqlx::{Connection, Executor, PgConnection};

/// Where the server keeps its data.
pub enum Store {
    Sqlite,
    Postgres {
        admin_url: String,
        redis_url: String,
    },
}

/// The settings both processes of a run share.
pub struct Shared {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub dir: std::path::PathBuf,
    /// The PostgreSQL server and the database made for the run.
    postgres: Option<(String, String)>,
}

impl Shared {
    pub async fn new(store: &Store) -> Shared {
        let dir =
            std::env::temp_dir().join(format!("auth-bench-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let prefix = format!("bench:{}:", uuid::Uuid::new_v4().simple());
        match store {
            Store::Sqlite => Shared {
                database_url: format!("sqlite://{}/auth.db", dir.display()),
                redis_url: None,
                redis_prefix: prefix,
                dir,
                postgres: None,
            },
            Store::Postgres {
                admin_url,
                redis_url,
            } => {
                let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
                let mut conn = PgConnection::connect(admin_url)
                    .await
                    .expect("connect to the PostgreSQL of --postgres-url");
                conn.execute(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
                    .await
                    .expect("create the bench database");
                let (base, _) = admin_url
                    .rsplit_once('/')
                    .expect("a database name in the URL");
                Shared {
                    database_url: format!("{base}/{name}"),
                    redis_url: Some(redis_url.clone()),
                    redis_prefix: prefix,
                    dir,
                    postgres: Some((admin_url.clone(), name)),
                }
            }
        }
    }

    /// Leaves nothing of the run behind: its directory (the SQLite file, the
    /// dev secret), its PostgreSQL database and its Redis keys. Call once
    /// every server of the run has stopped.
    pub async fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin_url, name)) = &self.postgres {
            match PgConnection::connect(admin_url).await {
                Ok(mut conn) => {
                    let drop = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
                    if let Err(e) = conn.execute(sqlx::AssertSqlSafe(drop)).await {
                        eprintln!("cannot drop the bench database {name}: {e}");
                    }
                }
                Err(e) => eprintln!("cannot drop the bench database {name}: {e}"),
            }
        }
        if let Some(url) = &self.redis_url {
            if let Err(e) = remove_redis_keys(url, &self.redis_prefix).await {
                eprintln!(
                    "cannot remove the bench's Redis keys {}*: {e}",
                    self.redis_prefix
                );
            }
        }
    }
}

async fn remove_redis_keys(url: &str, prefix: &str) -> redis::RedisResult<()> {
    let mut conn = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            redis::cmd("UNLINK")
                .arg(&keys)
                .query_async::<()>(&mut conn)
                .await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

pub struct Server {
    child: Child,
    pub base: String,
    peak_rss_kb: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

/// The HMAC secret of HS256 servers (every server of the run has it; only
/// HS256 ones sign with it).
pub const JWT_SECRET: &str = "benchmark-secret-benchmark-secret-0123456789";

impl Server {
    /// A server that signs access tokens with HS256 and [`JWT_SECRET`].
    pub fn start(binary: &Path, shared: &Shared, bcrypt_cost: u32) -> Server {
        Server::start_signing(binary, shared, bcrypt_cost, "HS256")
    }

    /// A server that signs access tokens with `algorithm` (`JWT_ALGORITHM`:
    /// HS256, EdDSA, ES256 or RS256). Without `JWT_PRIVATE_KEY`, a
    /// development server makes its asymmetric key in `DATA_DIR` once (and
    /// the servers of the run share that directory, hence that key).
    pub fn start_signing(
        binary: &Path,
        shared: &Shared,
        bcrypt_cost: u32,
        algorithm: &str,
    ) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("addr")
            .port();
        let mut cmd = Command::new(binary);
        cmd.env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &shared.database_url)
            .env("DATA_DIR", &shared.dir)
            .env("JWT_ALGORITHM", algorithm)
            .env("JWT_SECRET", JWT_SECRET)
            // The key of `algorithm` is the development one in DATA_DIR.
            .env_remove("JWT_PRIVATE_KEY")
            .env("BCRYPT_COST", bcrypt_cost.to_string())
            .env("REDIS_KEY_PREFIX", &shared.redis_prefix)
            // The load comes from one address: lockout would stop the login scenario.
            .env("LOCKOUT_THRESHOLD", "1000000000")
            .env("LOCKOUT_IP_THRESHOLD", "1000000000")
            // Every client of the benchmark is 127.0.0.1: the per-IP limit
            // would measure itself, not the server.
            .env("AUTH_RATE_PER_SECOND", "0")
            .env("RUST_LOG", "warn")
            // The wrk scenarios read the request count to stop at --max-requests.
            .env("METRICS_TOKEN", METRICS_TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(redis) = &shared.redis_url {
            cmd.env("REDIS_URL", redis);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let peak_rss_kb = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (pid, peak, halt) = (child.id(), peak_rss_kb.clone(), stop.clone());
        std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                if let Some(kb) = rss_kb(pid) {
                    peak.fetch_max(kb, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            peak_rss_kb,
            stop,
        }
    }

    /// The highest RSS seen since the last call, in MB; starts a new window.
    pub fn take_peak_rss_mb(&self) -> f64 {
        let now = rss_kb(self.child.id()).unwrap_or(0);
        self.peak_rss_kb.swap(now, Ordering::Relaxed).max(now) as f64 / 1024.0
    }

    pub fn rss_mb(&self) -> f64 {
        rss_kb(self.child.id()).unwrap_or(0) as f64 / 1024.0
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The requests the server has answered so far, from its `/metrics`.
    pub async fn answered(&self, client: &reqwest::Client) -> u64 {
        let text = client
            .get(self.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("read /metrics");
        text.lines()
            .filter(|l| l.starts_with("http_requests_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

const METRICS_TOKEN: &str = "benchmark-metrics-token";

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
