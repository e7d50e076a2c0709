//! The benchmark: builds nothing itself (scripts/bench builds the release
//! server first), starts the server, loads it over loopback (with wrk where a
//! scenario allows, else with a Rust HTTP client), and prints a table and a
//! JSON file of throughput, latency, errors
//! and the server's peak RSS for each scenario.

mod bundle;
mod load;
mod scenarios;
mod server;
mod wrk;

use std::{path::PathBuf, time::Duration};

use clap::Parser;
use serde::Serialize;

#[derive(Parser)]
#[command(about = "Benchmark the auth server (see README, 'Benchmark')")]
struct Args {
    /// `sqlite`, `postgres` (PostgreSQL + Redis) or `both`.
    #[arg(long, default_value = "both")]
    backend: String,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Most requests a scenario sends; it stops at this or at `--seconds`,
    /// whichever comes first (wrk is stopped when the server's request count
    /// reaches it, read every 50 ms).
    #[arg(long, default_value_t = 1_000_000)]
    max_requests: u64,
    /// Also run a soak of validate + refresh for this many seconds.
    #[arg(long)]
    soak: Option<u64>,
    /// Where to write the JSON results.
    #[arg(long, default_value = "target/bench/results.json")]
    json: PathBuf,
    /// The release server binary.
    #[arg(long, default_value = "target/release/server")]
    server: PathBuf,
    /// A PostgreSQL URL whose server may get a fresh database for the run.
    #[arg(long, env = "BENCH_DATABASE_URL")]
    postgres_url: Option<String>,
    /// A Redis URL for the PostgreSQL runs.
    #[arg(long, env = "BENCH_REDIS_URL")]
    redis_url: Option<String>,
    /// Load validate, me and refresh with the Rust client even when wrk is installed.
    #[arg(long)]
    no_wrk: bool,
    /// Run only these scenarios: health, validate, validate-fresh,
    /// validate-eddsa, validate-eddsa-fresh, validate-es256,
    /// validate-es256-fresh, me, refresh, login, mixed, flood, scale-out
    /// (comma-separated; all by default). The
    /// `-eddsa` and `-es256` ones validate with a server that signs with that
    /// algorithm; the `-fresh` ones rotate through many distinct tokens, so
    /// that none is answered by the server's validation cache.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// bcrypt cost of the server.
    #[arg(long, default_value_t = 12)]
    bcrypt_cost: u32,
}

/// One row of the results.
#[derive(Serialize, Clone)]
pub struct Row {
    pub backend: String,
    pub scenario: String,
    #[serde(flatten)]
    pub stats: load::Summary,
    pub peak_rss_mb: f64,
    /// Scenario-specific figures (the login CPU fraction, a soak's RSS drift...).
    pub note: String,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Some(unknown) = args
        .only
        .iter()
        .find(|s| !scenarios::NAMES.contains(&s.as_str()))
    {
        eprintln!(
            "unknown scenario {unknown}: {}",
            scenarios::NAMES.join(", ")
        );
        std::process::exit(2);
    }
    let run = scenarios::Run {
        server: args.server.clone(),
        duration: Duration::from_secs(args.seconds),
        max_requests: args.max_requests,
        bcrypt_cost: args.bcrypt_cost,
        soak: args.soak.map(Duration::from_secs),
        use_wrk: !args.no_wrk && wrk::available(),
        only: args.only.clone(),
    };
    if !run.use_wrk {
        eprintln!("wrk is not used: every scenario runs on the Rust client");
    }
    let mut rows = Vec::new();
    let backends: Vec<&str> = match args.backend.as_str() {
        "both" => vec!["sqlite", "postgres"],
        one => vec![one],
    };
    for backend in backends {
        let store = match backend {
            "sqlite" => server::Store::Sqlite,
            "postgres" => {
                let (Some(pg), Some(redis)) = (&args.postgres_url, &args.redis_url) else {
                    eprintln!("postgres needs --postgres-url and --redis-url (scripts/bench starts throwaway ones)");
                    std::process::exit(2);
                };
                server::Store::Postgres {
                    admin_url: pg.clone(),
                    redis_url: redis.clone(),
                }
            }
            other => {
                eprintln!("unknown backend {other}: sqlite, postgres or both");
                std::process::exit(2);
            }
        };
        rows.extend(run.all(backend, &store).await);
    }
    print_table(&rows);
    let wasm = bundle::wasm_size();
    let bcrypt_ms = scenarios::bcrypt_hash_secs(args.bcrypt_cost) * 1000.0;
    println!(
        "\nbcrypt cost {}: {bcrypt_ms:.0} ms per hash on this machine",
        args.bcrypt_cost
    );
    if let Some(w) = &wasm {
        println!(
            "WASM bundle every page loads: {} bytes, {} bytes after brotli (quality 11); the lazy pages' {} files: {} bytes after brotli in all",
            w.raw, w.brotli, w.lazy_files, w.lazy_brotli
        );
    }
    let report = serde_json::json!({
        "machine": { "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) },
        "bcrypt_ms": bcrypt_ms,
        "wasm": wasm.map(|w| serde_json::json!({
            "raw": w.raw, "brotli": w.brotli, "lazyFiles": w.lazy_files, "lazyBrotli": w.lazy_brotli,
        })),
        "results": rows,
    });
    if let Some(dir) = args.json.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(
        &args.json,
        serde_json::to_string_pretty(&report).expect("JSON"),
    ) {
        Ok(()) => println!("results: {}", args.json.display()),
        Err(e) => eprintln!("cannot write {}: {e}", args.json.display()),
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "\n{:<9} {:<30} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9}  note",
        "backend",
        "scenario",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "RSS MB"
    );
    for r in rows {
        println!(
            "{:<9} {:<30} {:>9} {:>7} {:>10.0} {:>9.2} {:>9.2} {:>9.1} {:>9.1}  {}",
            r.backend,
            r.scenario,
            r.stats.requests,
            r.stats.errors,
            r.stats.rps,
            r.stats.p50_ms,
            r.stats.p99_ms,
            r.stats.max_ms,
            r.peak_rss_mb,
            r.note
        );
    }
}
