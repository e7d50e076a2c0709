//! The stateless scenarios (one token, many connections) are driven by wrk,
//! a C load generator: on two cores shared with the server, a Rust client
//! spends a large share of the CPU the server should be measured with.

use std::{process::Stdio, time::Duration};

use crate::load::Summary;

/// Prints the figures the benchmark needs as one line of JSON when wrk ends.
const REPORT: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"errors":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"#;

pub fn available() -> bool {
    std::process::Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// GETs `url` with the Bearer `token` over `connections` connections for `duration`.
pub async fn get(url: &str, token: &str, connections: usize, duration: Duration) -> Summary {
    let script = std::env::temp_dir().join(format!("bench-wrk-{}.lua", std::process::id()));
    std::fs::write(&script, REPORT).expect("write the wrk script");
    let output = tokio::process::Command::new("wrk")
        .args(["--threads", "1", "--timeout", "10s"])
        .args(["--connections", &connections.to_string()])
        .args(["--duration", &format!("{}s", duration.as_secs().max(1))])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .arg("--script")
        .arg(&script)
        .arg(url)
        .output()
        .await
        .expect("run wrk");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("WRK_RESULT "))
        .unwrap_or_else(|| panic!("wrk printed no result: {stdout}"));
    let v: serde_json::Value = serde_json::from_str(line).expect("wrk JSON");
    let n = |key: &str| v[key].as_u64().unwrap_or(0);
    let requests = n("requests");
    Summary {
        requests,
        errors: n("errors"),
        rps: requests as f64 / (n("duration_us") as f64 / 1e6).max(1e-9),
        p50_ms: n("p50_us") as f64 / 1000.0,
        p99_ms: n("p99_us") as f64 / 1000.0,
        max_ms: n("max_us") as f64 / 1000.0,
    }
}
