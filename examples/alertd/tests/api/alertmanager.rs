//! `POST /v1/alertmanager`: auth, status codes, per-alert status, resolution revokes links.

use std::sync::Arc;
use std::time::Duration;

use alertd::AppOptions;
use rcsec::core::Timestamp;
use rcsec::message::{MessageId, OutboundMessage};
use rcsec::{Claim, ClaimToken, Outbox, OutboxError, OutboxStatus};

use crate::support::{Daemon, TOKEN, get, post_alerts, request, split_link, webhook};

#[tokio::test]
async fn firing_alert_is_paged_and_answered_per_alert() {
    let d = Daemon::start().await;
    let r = post_alerts(
        &d,
        &webhook(&[("a1b2c3d4e5f60718", "firing")], "5xx above 5%"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["alerts"][0]["fingerprint"], "a1b2c3d4e5f60718");
    assert_eq!(body["alerts"][0]["status"], "firing");
    assert_eq!(body["alerts"][0]["outcome"], "paged");
    assert_eq!(body["alerts"][0]["deliveries"], 2);
    // Both pages reach the loopback; then the outbox holds nothing undelivered.
    d.wait_sent(2).await;
    assert_eq!(d.sent_count(), 2);
    assert_eq!(d.outbox_depth().await, 0);
    // Carol (SMS only) got a one-time link, not the text.
    let links = d.sent_links();
    assert_eq!(links.len(), 1, "{:?}", d.sent_texts());
    // A repeat (Alertmanager's group_interval, or an HA pair) pages nobody again.
    let again = post_alerts(
        &d,
        &webhook(&[("a1b2c3d4e5f60718", "firing")], "5xx above 5%"),
    )
    .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["alerts"][0]["outcome"], "deduplicated");
    assert_eq!(d.app.loopback.as_ref().unwrap().sent().len(), 2);
    d.stop().await;
}

#[tokio::test]
async fn status_is_per_alert_and_resolution_revokes_links() {
    let d = Daemon::start().await;
    let r = post_alerts(&d, &webhook(&[("00000000000000aa", "firing")], "disk full")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    d.wait_sent(2).await;
    let link = d.sent_links().pop().unwrap();
    let (path, _) = split_link(&link);
    assert_eq!(get(&d.url(&path)).await.status, 200);

    // The group is still "firing" while this alert is resolved and another one fires.
    let body = webhook(
        &[
            ("00000000000000aa", "resolved"),
            ("00000000000000bb", "firing"),
        ],
        "x",
    );
    let r = post_alerts(&d, &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let alerts = r.json()["alerts"].clone();
    assert_eq!(alerts[0]["status"], "resolved");
    assert_eq!(alerts[0]["outcome"], "resolved");
    assert_eq!(alerts[1]["status"], "firing");
    assert_eq!(alerts[1]["outcome"], "paged");

    let page = get(&d.url(&path)).await;
    assert_eq!(page.status, 410);
    assert!(page.text().contains("data-state=\"revoked\""));
    let confirm = request("POST", &d.url(&path), &[], Vec::new()).await;
    assert_eq!(confirm.status, 410);
    assert_eq!(confirm.json()["error"], "revoked");
    d.stop().await;
}

#[tokio::test]
async fn resolution_of_an_unknown_alert_is_accepted() {
    let d = Daemon::start().await;
    let r = post_alerts(&d, &webhook(&[("00000000000000cc", "resolved")], "x")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(d.app.loopback.as_ref().unwrap().sent().is_empty());
    d.stop().await;
}

#[tokio::test]
async fn missing_or_wrong_token_is_401_before_the_body_is_read() {
    let d = Daemon::start().await;
    let body = webhook(&[("a1b2c3d4e5f60718", "firing")], "x").into_bytes();
    let url = d.url("/v1/alertmanager");
    for auth in [
        None,
        Some("Bearer wrong-token-0123456789abcdef"),
        Some(&*format!("Basic {TOKEN}")),
    ] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", *a)).collect();
        let r = request("POST", &url, &headers, body.clone()).await;
        assert_eq!(r.status, 401, "{auth:?}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        assert_eq!(r.json()["error"], "unauthorized");
    }
    assert!(d.app.loopback.as_ref().unwrap().sent().is_empty());
    assert_eq!(
        d.app.metrics.value(
            "alertd_webhook_rejections_total",
            &[("endpoint", "alertmanager"), ("reason", "unauthorized")]
        ),
        3
    );
    d.stop().await;
}

#[tokio::test]
async fn malformed_bodies_get_a_clear_4xx_that_does_not_echo_them() {
    let d = Daemon::start().await;
    let canary = "Canary-Pa55w0rd-Zq9";
    let cases = [
        format!(
            "{{\"version\": \"4\", \"alerts\": [{{\"status\": \"firing\", \"labels\": \"{canary}\"}}"
        ),
        format!("not json {canary}"),
        webhook(&[("a1b2c3d4e5f60718", "firing")], canary)
            .replace("\"version\":\"4\"", "\"version\":\"3\""),
        webhook(&[("a1b2c3d4e5f60718", "burning")], canary),
        webhook(&[("a1b2c3d4e5f60718", "firing")], canary)
            .replace("2026-11-22T01:00:00Z", "yesterday"),
    ];
    for body in cases {
        let r = post_alerts(&d, &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(r.json()["error"], "malformed");
        assert!(!r.text().contains(canary), "{}", r.text());
    }
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let r = post_alerts(&d, &huge).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(d.app.loopback.as_ref().unwrap().sent().is_empty());
    d.stop().await;
}

/// An outbox whose backend is down: every write fails the way a full disk or a lost
/// database connection does.
#[derive(Debug)]
struct DownOutbox;

fn down() -> OutboxError {
    OutboxError::Backend("database is unavailable".into())
}

#[async_trait::async_trait]
impl Outbox for DownOutbox {
    async fn enqueue(&self, _: &OutboundMessage, _: Timestamp) -> Result<bool, OutboxError> {
        Err(down())
    }
    async fn claim_due(
        &self,
        _: Timestamp,
        _: Duration,
        _: usize,
    ) -> Result<Vec<Claim>, OutboxError> {
        Err(down())
    }
    async fn mark_sent(
        &self,
        _: &ClaimToken,
        _: &str,
        _: &str,
        _: Timestamp,
    ) -> Result<(), OutboxError> {
        Err(down())
    }
    async fn mark_retry(&self, _: &ClaimToken, _: Timestamp, _: &str) -> Result<(), OutboxError> {
        Err(down())
    }
    async fn mark_failed(&self, _: &ClaimToken, _: &str, _: Timestamp) -> Result<(), OutboxError> {
        Err(down())
    }
    async fn expire_due(&self, _: Timestamp) -> Result<Vec<MessageId>, OutboxError> {
        Err(down())
    }
    async fn status(
        &self,
        _: &MessageId,
        _: Timestamp,
    ) -> Result<Option<OutboxStatus>, OutboxError> {
        Err(down())
    }
    async fn depth(&self) -> Result<usize, OutboxError> {
        Err(down())
    }
}

#[tokio::test]
async fn storage_outage_is_503_so_alertmanager_retries() {
    let options = AppOptions::default().outbox(Arc::new(DownOutbox));
    let d = Daemon::start_with(|_| {}, options).await;
    let r = post_alerts(&d, &webhook(&[("a1b2c3d4e5f60718", "firing")], "x")).await;
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["error"], "unavailable");
    assert!(d.app.loopback.as_ref().unwrap().sent().is_empty());
    // The health check tells the load balancer too.
    assert_eq!(get(&d.url("/healthz")).await.status, 503);
    let metrics = get(&d.url("/metrics")).await.text();
    assert!(metrics.contains("rcsec_outbox_up 0"), "{metrics}");
    d.stop().await;
}
