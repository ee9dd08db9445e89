//! Real Prometheus Alertmanager → alertd: an alert added through Alertmanager's API reaches
//! alertd over the webhook (bearer token), is paged through the pipeline (loopback), and its
//! resolution revokes the secure links. Skips without `RCSEC_TEST_ALERTMANAGER_BIN`.

use std::process::Command;
use std::time::Duration;

use crate::real::{Guard, binary, eventually, free_port, listening, rfc3339_ago, spawn};
use crate::support::{Daemon, TOKEN, get, request, split_link};

fn am_config(webhook: &str) -> String {
    format!(
        r#"global: {{resolve_timeout: 1m}}
route:
  receiver: alertd
  group_by: ['alertname', 'service']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: alertd
    webhook_configs:
      - url: '{webhook}'
        send_resolved: true
        max_alerts: 0
        http_config:
          authorization: {{type: Bearer, credentials: '{TOKEN}'}}
"#
    )
}

async fn post_json(url: &str, body: &serde_json::Value) -> u16 {
    request(
        "POST",
        url,
        &[("content-type", "application/json")],
        body.to_string().into_bytes(),
    )
    .await
    .status
}

#[tokio::test]
async fn alertmanager_fires_and_resolves_through_alertd() {
    let Some(bin) = binary(
        "RCSEC_TEST_ALERTMANAGER_BIN",
        "alertmanager_fires_and_resolves",
    ) else {
        return;
    };
    let d = Daemon::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("alertmanager.yml");
    std::fs::write(&config, am_config(&d.url("/v1/alertmanager"))).unwrap();
    let port = free_port();
    let am = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(&bin);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.path={}",
            tmp.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .arg(format!("--web.external-url={am}"));
    let log = tmp.path().join("am.log");
    let _am: Guard = spawn(cmd, &log);
    let show_log = || std::fs::read_to_string(&log).unwrap_or_default();
    eventually("alertmanager ready", Duration::from_secs(30), || async {
        if !listening(port).await {
            return None;
        }
        (get(&format!("{am}/-/ready")).await.status == 200).then_some(())
    })
    .await;

    let labels = serde_json::json!({
        "alertname": "CheckoutErrors", "service": "checkout", "severity": "critical"
    });
    let starts = rfc3339_ago(30);
    let firing = serde_json::json!([{
        "labels": labels,
        "annotations": {"summary": "5xx above 5% on checkout", "description": "token=Canary-Pa55w0rd-Zq9"},
        "startsAt": starts,
    }]);
    assert_eq!(
        post_json(&format!("{am}/api/v2/alerts"), &firing).await,
        200,
        "{}",
        show_log()
    );

    // Alertmanager posts after group_wait; the pipeline pages Alice (RCS E2EE) and Carol (SMS).
    let link = eventually(
        "the page to reach the loopback",
        Duration::from_secs(30),
        || async { d.sent_links().pop() },
    )
    .await;
    d.wait_sent(2).await;
    assert_eq!(d.sent_count(), 2);
    for text in d.sent_texts().iter().filter(|t| t.contains("/l/")) {
        // The SMS carries the link, never the credential.
        assert!(!text.contains("Canary-Pa55w0rd-Zq9"), "{text}");
    }
    let (path, _) = split_link(&link);
    let page = get(&d.url(&path)).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("data-state=\"valid\""));

    // Resolve: the same labels with endsAt now. Alertmanager sends the resolved notification
    // at the next group_interval; alertd revokes the alert's links.
    let resolved = serde_json::json!([{
        "labels": labels,
        "annotations": {"summary": "5xx above 5% on checkout"},
        "startsAt": starts,
        "endsAt": rfc3339_ago(0),
    }]);
    assert_eq!(
        post_json(&format!("{am}/api/v2/alerts"), &resolved).await,
        200
    );
    eventually(
        "the link to be revoked",
        Duration::from_secs(30),
        || async {
            let page = get(&d.url(&path)).await;
            (page.status == 410 && page.text().contains("data-state=\"revoked\"")).then_some(())
        },
    )
    .await;
    let confirm = request("POST", &d.url(&path), &[], Vec::new()).await;
    assert_eq!(confirm.status, 410);
    // The handler revokes first and answers after the follow-up messages: wait for it.
    // (At least once: Alertmanager may notify a resolved group again at the next flush.)
    eventually(
        "the resolution to be answered",
        Duration::from_secs(10),
        || async {
            let resolved = d.app.metrics.value(
                "alertd_alerts_total",
                &[("status", "resolved"), ("outcome", "resolved")],
            );
            (resolved >= 1).then_some(())
        },
    )
    .await;
    assert_eq!(
        d.app.metrics.value(
            "alertd_webhook_rejections_total",
            &[("endpoint", "alertmanager"), ("reason", "unauthorized")]
        ),
        0
    );
    d.stop().await;
}
