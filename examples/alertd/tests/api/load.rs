//! A bounded wrk run against `/l/{bad token}` and `/v1/alertmanager`: no 5xx, no socket
//! errors, memory flat between two rounds. Skips without `RCSEC_TEST_WRK_BIN`.
//! `scripts/alertd_load.sh` is the longer run against the release binary.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::real::{binary, eventually, free_port, listening, spawn};
use crate::support::{TOKEN, config_text, get, webhook};

/// Counts responses by class in every thread and prints them from the main thread.
const COUNTING: &str = r#"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) c2 = 0; c4 = 0; c5 = 0; co = 0 end
function response(status, headers, body)
  if status >= 500 then c5 = c5 + 1
  elseif status >= 400 then c4 = c4 + 1
  elseif status >= 200 and status < 300 then c2 = c2 + 1
  else co = co + 1 end
end
function done(summary, latency, requests)
  local t2, t4, t5, to = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    t2 = t2 + t:get("c2"); t4 = t4 + t:get("c4"); t5 = t5 + t:get("c5"); to = to + t:get("co")
  end
  io.write(string.format("STATUS 2xx=%d 4xx=%d 5xx=%d other=%d\n", t2, t4, t5, to))
end
"#;

#[derive(Debug, Default)]
struct Run {
    rps: f64,
    ok: u64,
    client_errors: u64,
    server_errors: u64,
    other: u64,
    socket_errors: bool,
}

fn parse(out: &str) -> Run {
    let mut run = Run::default();
    for line in out.lines() {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            run.rps = v.trim().parse().unwrap();
        }
        if let Some(rest) = line.strip_prefix("STATUS ") {
            for field in rest.split_whitespace() {
                let (k, v) = field.split_once('=').unwrap();
                let v: u64 = v.parse().unwrap();
                match k {
                    "2xx" => run.ok = v,
                    "4xx" => run.client_errors = v,
                    "5xx" => run.server_errors = v,
                    _ => run.other = v,
                }
            }
        }
        run.socket_errors |= line.contains("Socket errors");
    }
    run
}

async fn wrk(bin: &Path, script: &Path, url: &str) -> Run {
    let out = tokio::process::Command::new(bin)
        .args(["-t2", "-c16", "-d2s", "--timeout", "5s", "-s"])
        .arg(script)
        .arg(url)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = parse(&text);
    eprintln!("wrk {url}: {:.0} requests/s, {run:?}", run.rps);
    assert!(run.ok + run.client_errors > 0, "{text}");
    assert_eq!((run.server_errors, run.other), (0, 0), "{text}");
    assert!(!run.socket_errors, "{text}");
    run
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrk_bounded_run_has_no_5xx_and_flat_memory() {
    let Some(bin) = binary("RCSEC_TEST_WRK_BIN", "wrk_bounded_run") else {
        return;
    };
    // The real binary in its own process, so its memory is measured alone.
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = config_text(tmp.path(), &format!("{base}/")).replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    std::fs::write(tmp.path().join("alertd.toml"), config).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_alertd"));
    cmd.arg("--config")
        .arg(tmp.path().join("alertd.toml"))
        .env("RUST_LOG", "warn");
    let daemon = spawn(cmd, &tmp.path().join("alertd.log"));
    let pid = daemon.0.id();
    eventually("alertd healthy", Duration::from_secs(30), || async {
        if !listening(port).await {
            return None;
        }
        (get(&format!("{base}/healthz")).await.status == 200).then_some(())
    })
    .await;

    let bad_link = tmp.path().join("bad_link.lua");
    std::fs::write(&bad_link, COUNTING).unwrap();
    let am = tmp.path().join("alertmanager.lua");
    let body = webhook(&[("f00dfeed00000001", "firing")], "load test");
    let request = format!(
        "wrk.method = \"POST\"\nwrk.body = [==[{body}]==]\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n\
         wrk.headers[\"Authorization\"] = \"Bearer {TOKEN}\"\n{COUNTING}"
    );
    std::fs::write(&am, request).unwrap();
    let bad_url = format!("{base}/l/{}", "A".repeat(64));
    let am_url = format!("{base}/v1/alertmanager");

    // Round 1 warms caches and pages the alert once; round 2 must not grow memory.
    let link = wrk(&bin, &bad_link, &bad_url).await;
    assert_eq!(link.ok, 0);
    let alerts = wrk(&bin, &am, &am_url).await;
    assert_eq!(alerts.client_errors, 0);
    let before = rss_kib(pid);
    wrk(&bin, &bad_link, &bad_url).await;
    wrk(&bin, &am, &am_url).await;
    let after = rss_kib(pid);
    eprintln!("alertd RSS {before} KiB -> {after} KiB");
    assert!(
        after.saturating_sub(before) < 16 * 1024,
        "RSS grew {before} -> {after} KiB"
    );
    // The repeats were deduplicated: paged once, no matter the load.
    let metrics = get(&format!("{base}/metrics")).await.text();
    assert!(
        metrics.contains("alertd_alerts_total{status=\"firing\",outcome=\"paged\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rcsec_sends_total{route=\"sms_link\"} 1\n"),
        "{metrics}"
    );
    drop(daemon);
}
