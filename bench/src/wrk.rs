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

/// Refresh chains on one wrk thread: a chain's current token waits in a queue
/// while no request carries it. A request takes the token at the head; its
/// response puts the successor at the tail. So each chain is rotated in
/// turn, never twice at once, over whichever connection is free. (Lua in wrk
/// cannot tell connections apart, so a chain cannot stay on one connection.)
/// A failed rotation ends its chain; once chains are gone, requests carry no
/// token and count as errors. Before the run, wrk calls `request` once on
/// the thread's Lua state to check what it returns (`script_verify_request`
/// in wrk.c) and sends nothing: that call takes a chain, so the queue is
/// given one chain more than there are connections.
const REFRESH_CHAIN: &str = r#"
local queue, head, tail = {}, 1, 0
for _, token in ipairs(TOKENS) do
  tail = tail + 1
  queue[tail] = token
end
request = function()
  local token = queue[head]
  if token then
    queue[head] = nil
    head = head + 1
  end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
    '{"refreshToken":"' .. (token or "") .. '"}')
end
response = function(status, headers, body)
  local successor = status == 200 and body:match('"refreshToken":"([^"]+)"')
  if successor then
    tail = tail + 1
    queue[tail] = successor
  end
end
"#;

/// A GET per request with the next token of the file `TOKENS_FILE` (one a
/// line), round-robin: a token comes round again only after every other has
/// been sent once. wrk's `script_verify_request` call takes one token too,
/// which changes nothing.
const ROTATING_BEARER: &str = r#"
local tokens = {}
for line in io.lines(TOKENS_FILE) do
  tokens[#tokens + 1] = line
end
local at = 0
request = function()
  at = at % #tokens + 1
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[at]})
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

/// GETs `url` over `connections` connections for `duration`, each request
/// with the next of `tokens` in turn (see [`ROTATING_BEARER`]).
pub async fn get_rotating(
    url: &str,
    tokens: &[String],
    connections: usize,
    duration: Duration,
    cap: Cap<'_>,
) -> Summary {
    // A file rather than a Lua table of thousands of literals; tokens are
    // JWTs (base64url and dots): one a line needs no escaping.
    let path = std::env::temp_dir().join(format!(
        "bench-tokens-{}.txt",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, tokens.join("\n")).expect("write the token file");
    let script = format!(
        "TOKENS_FILE = [[{}]]\n{ROTATING_BEARER}{REPORT}",
        path.display()
    );
    let summary = run(
        url,
        &script,
        &["--threads", "1"],
        connections,
        duration,
        cap,
    )
    .await;
    let _ = std::fs::remove_file(&path);
    summary
}

/// GETs `url` without credentials (a page) over `connections` connections for `duration`.
pub async fn page(url: &str, connections: usize, duration: Duration, cap: Cap<'_>) -> Summary {
    run(url, REPORT, &["--threads", "1"], connections, duration, cap).await
}

/// Rotates each of `tokens` in its own chain over one connection fewer than
/// there are tokens (see [`REFRESH_CHAIN`]), for `duration`.
pub async fn refresh_chains(
    url: &str,
    tokens: &[String],
    duration: Duration,
    cap: Cap<'_>,
) -> Summary {
    assert!(tokens.len() > 1, "one chain more than connections");
    // Refresh tokens are base64: nothing in them needs escaping in Lua.
    let list: Vec<String> = tokens.iter().map(|t| format!("\"{t}\"")).collect();
    let script = format!("TOKENS = {{{}}}\n{REFRESH_CHAIN}{REPORT}", list.join(", "));
    run(
        url,
        &script,
        &["--threads", "1"],
        tokens.len() - 1,
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
