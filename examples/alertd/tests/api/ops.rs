//! `/metrics`, `/healthz`, unknown routes and graceful shutdown.

use crate::support::{Daemon, get, post_alerts, webhook};

#[tokio::test]
async fn metrics_count_sends_fallbacks_and_e2ee() {
    let d = Daemon::start().await;
    assert_eq!(
        post_alerts(&d, &webhook(&[("a1b2c3d4e5f60718", "firing")], "x"))
            .await
            .status,
        200
    );
    d.wait_sent(2).await;
    let r = get(&d.url("/metrics")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = r.text();
    for expected in [
        "rcsec_sends_total{route=\"rcs_e2ee\"} 1",
        "rcsec_sends_total{route=\"sms_link\"} 1",
        "rcsec_fallbacks_total{reason=\"no_rcs\"} 1",
        "rcsec_e2ee_availability_ratio 0.5",
        "rcsec_outbox_depth 0",
        "rcsec_outbox_up 1",
        "alertd_alerts_total{status=\"firing\",outcome=\"paged\"} 1",
        "rcsec_capability_query_seconds_count{provider=\"loopback\",ok=\"true\"} 2",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
    // No number ever reaches a label.
    assert!(!text.contains("447700900"));
    d.stop().await;
}

#[tokio::test]
async fn healthz_and_unknown_routes() {
    let d = Daemon::start().await;
    let h = get(&d.url("/healthz")).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    let missing = get(&d.url("/nope")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("cache-control"), Some("no-store"));
    d.stop().await;
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let d = Daemon::start().await;
    let addr = d.running.as_ref().unwrap().addr;
    d.stop().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
