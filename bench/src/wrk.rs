//! The scenarios that need no Rust logic per request are driven by wrk, a C
//! load generator: on two cores shared with the server, a Rust client spends
//! a large share of the CPU the server should be measured with.

use std::{process::Stdio, time::Duration};

use tokio::io::AsyncReadExt;

use crate::{load::Summary, server::Server};

/// wrk has no request bound of its own: it is stopped with SIGINT (it then
/// reports the time it really ran) once the server has answered this many
/// requests since the start of the run.
pub struct Cap<'a> {
    pub server: &'a Server,
    pub client: &'a reqwest::Client,
    pub max_requests: u64,
}

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

/// Refresh chains: wrk runs one thread per connection, each with its own Lua
/// state, so a thread's `token` is its chain's current refresh token. `setup`
/// (in the main state) hands each thread its first token.
const REFRESH_CHAIN: &str = r#"
local next_chain = 1
setup = function(thread)
  thread:set("token", TOKENS[next_chain])
  next_chain = next_chain + 1
end
request = function()
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
    '{"refreshToken":"' .. token .. '"}')
end
response = function(status, headers, body)
  if status == 200 then
    token = body:match('"refreshToken":"([^"]+)"') or token
  end
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
pub async fn get(
    url: &str,
    token: &str,
    connections: usize,
    duration: Duration,
    cap: Cap<'_>,
) -> Summary {
    let auth = format!("Authorization: Bearer {token}");
    run(
        url,
        REPORT,
        &["--threads", "1", "--header", &auth],
        connections,
        duration,
        cap,
    )
    .await
}

/// Rotates each of `tokens` in its own chain, one connection each, for `duration`.
pub async fn refresh_chains(
    url: &str,
    tokens: &[String],
    duration: Duration,
    cap: Cap<'_>,
) -> Summary {
    // Refresh tokens are base64: nothing in them needs escaping in Lua.
    let list: Vec<String> = tokens.iter().map(|t| format!("\"{t}\"")).collect();
    let script = format!("TOKENS = {{{}}}\n{REFRESH_CHAIN}{REPORT}", list.join(", "));
    let threads = tokens.len().to_string();
    run(
        url,
        &script,
        &["--threads", &threads],
        tokens.len(),
        duration,
        cap,
    )
    .await
}

async fn run(
    url: &str,
    script: &str,
    args: &[&str],
    connections: usize,
    duration: Duration,
    cap: Cap<'_>,
) -> Summary {
    // Two runs at once (the soak) need two script files.
    let path =
        std::env::temp_dir().join(format!("bench-wrk-{}.lua", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, script).expect("write the wrk script");
    let start = cap.server.answered(cap.client).await;
    let mut wrk = tokio::process::Command::new("wrk")
        .args(["--timeout", "10s"])
        .args(args)
        .args(["--connections", &connections.to_string()])
        .args(["--duration", &format!("{}s", duration.as_secs().max(1))])
        .arg("--script")
        .arg(&path)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wrk");
    let (mut stdout, mut stderr) = (wrk.stdout.take().unwrap(), wrk.stderr.take().unwrap());
    let read_out = tokio::spawn(async move {
        let (mut out, mut err) = (String::new(), String::new());
        let _ = tokio::join!(
            stdout.read_to_string(&mut out),
            stderr.read_to_string(&mut err)
        );
        (out, err)
    });
    let mut interrupted = false;
    while wrk.try_wait().expect("wait for wrk").is_none() {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if !interrupted && cap.server.answered(cap.client).await - start >= cap.max_requests {
            let pid = wrk.id().expect("wrk pid").to_string();
            let _ = std::process::Command::new("kill")
                .args(["-INT", &pid])
                .status();
            interrupted = true;
        }
    }
    let (stdout, stderr) = read_out.await.expect("wrk output");
    let _ = std::fs::remove_file(&path);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("WRK_RESULT "))
        .unwrap_or_else(|| panic!("wrk printed no result: {stdout}{stderr}"));
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
