//! Canary test on captured logs: whatever alertd logs at debug level while it pages, serves
//! and consumes a link, refuses bad requests and shuts down, no secret, token, payload key,
//! link token or phone number appears. Its own binary: it installs the global subscriber.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    unreachable_pub,
    missing_docs,
    dead_code,
    reason = "tests fail loudly on unexpected errors"
)]

#[path = "api/real.rs"]
mod real;
#[path = "api/support.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use alertd::logging::{self, LogFormat};
use support::{Daemon, TOKEN, get, post_alerts, request, split_link, webhook};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

const SECRET: &str = "Canary-Pa55w0rd-Zq9";
const AWS: &str = "AKIAIOSFODNN7EXAMPLE";

#[tokio::test]
async fn logs_never_carry_secrets_tokens_keys_or_numbers() {
    let captured = Captured::default();
    logging::init(LogFormat::Json, captured.clone(), "debug").unwrap();

    let d = Daemon::start().await;
    let summary = format!("db-1 password={SECRET} key {AWS} call +447700900101");
    assert_eq!(
        post_alerts(&d, &webhook(&[("a1b2c3d4e5f60718", "firing")], &summary))
            .await
            .status,
        200
    );
    d.wait_sent(2).await;
    let link = d.sent_links().pop().unwrap();
    let (path, fragment) = split_link(&link);
    let link_token = path.trim_start_matches("/l/").to_owned();
    let key = fragment.trim_start_matches("k=").to_owned();
    assert_eq!(get(&d.url(&path)).await.status, 200);
    assert_eq!(
        request("POST", &d.url(&path), &[], Vec::new()).await.status,
        200
    );
    assert_eq!(
        request("POST", &d.url(&path), &[], Vec::new()).await.status,
        410
    );
    // Refusals: a malformed body full of secrets, and a wrong token that resembles ours.
    let bad = format!("{{\"version\": \"4\", \"alerts\": [{{\"status\": \"{SECRET}\"");
    assert_eq!(post_alerts(&d, &bad).await.status, 400);
    let wrong = format!("Bearer {SECRET}-{TOKEN}");
    let r = request(
        "POST",
        &d.url("/v1/alertmanager"),
        &[("authorization", &wrong)],
        Vec::new(),
    )
    .await;
    assert_eq!(r.status, 401);
    let resolved = webhook(&[("a1b2c3d4e5f60718", "resolved")], &summary);
    assert_eq!(post_alerts(&d, &resolved).await.status, 200);
    d.stop().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The logs are there and say what happened...
    for expected in [
        "alert handled",
        "secure link redeemed",
        "alertmanager webhook refused",
        "alertd listening",
    ] {
        assert!(
            logs.contains(expected),
            "missing {expected:?} in logs:\n{logs}"
        );
    }
    // ...and carry none of the canaries.
    for canary in [
        SECRET,
        AWS,
        TOKEN,
        &link_token,
        &key,
        "+447700900101",
        "447700900101",
        "7700900101",
        "447700900103",
        "7700900103",
    ] {
        assert!(!logs.contains(canary), "{canary:?} leaked into the logs");
    }
}
