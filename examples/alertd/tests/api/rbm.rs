//! `POST /v1/providers/rbm/events`: signature first, 200 fast from a queue, dedup,
//! postbacks bound to alert and recipient, TTL expiry falls back.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rcsec::core::{AlertId, Msisdn};
use rcsec::message::{ActionKind, MessageId};
use rcsec_provider_rbm::webhook::ClientToken;

use crate::real::eventually;
use crate::support::{Daemon, post_alerts, request, webhook};

const CLIENT_TOKEN: &str = "rbm-client-token-for-tests";

async fn start() -> Daemon {
    Daemon::start_with(
        |text| {
            let dir = text
                .lines()
                .find_map(|l| l.strip_prefix("state_dir = \""))
                .and_then(|l| l.strip_suffix("/state\""))
                .unwrap()
                .to_owned();
            // Bob reads plain RCS (no E2EE): RBM's own case; pages to him carry redacted text.
            let roster = format!(
                "{}\n[[recipient]]\nname = \"Bob\"\nnumber = \"+447700900102\"\nreach = \"rcs\"\ne2ee = \"unavailable\"\n",
                crate::support::ROSTER
            );
            std::fs::write(format!("{dir}/roster.toml"), roster).unwrap();
            let file = format!("{dir}/rbm.token");
            std::fs::write(&file, CLIENT_TOKEN).unwrap();
            text.push_str(&format!("\n[webhooks.rbm]\nclient_token_file = \"{file}\"\n"));
        },
        alertd::AppOptions::default(),
    )
    .await
}

fn envelope(event: &serde_json::Value) -> (Vec<u8>, String) {
    let data = event.to_string().into_bytes();
    let signature = ClientToken::new(CLIENT_TOKEN).unwrap().sign(&data);
    let body =
        serde_json::json!({"message": {"data": STANDARD.encode(&data), "messageId": "ps-1"}});
    (body.to_string().into_bytes(), signature)
}

async fn post_event(d: &Daemon, event: &serde_json::Value) -> crate::support::Reply {
    let (body, signature) = envelope(event);
    request(
        "POST",
        &d.url("/v1/providers/rbm/events"),
        &[
            ("x-goog-signature", &signature),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await
}

/// (message id, alert, number) of the loopback message to `number`.
fn sent_to(d: &Daemon, number: &str) -> (MessageId, AlertId, Msisdn) {
    let lb = d.app.loopback.as_ref().unwrap();
    let n = Msisdn::parse(number).unwrap();
    let r = lb.sent_to(&n).pop().unwrap();
    (r.message.id.clone(), r.message.alert, n)
}

async fn processed(d: &Daemon, kind: &str, outcome: &str) {
    eventually(
        &format!("{kind}/{outcome}"),
        Duration::from_secs(10),
        || async {
            (d.app.metrics.value(
                "alertd_provider_events_total",
                &[("kind", kind), ("outcome", outcome)],
            ) > 0)
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn signature_is_checked_before_anything_else() {
    let d = start().await;
    let event = serde_json::json!({"senderPhoneNumber": "+447700900101", "eventType": "READ",
                                   "eventId": "e1", "messageId": "m-1"});
    let (body, signature) = envelope(&event);
    let url = d.url("/v1/providers/rbm/events");
    let missing = request("POST", &url, &[], body.clone()).await;
    assert_eq!(missing.status, 401, "{}", missing.text());
    let forged = ClientToken::new("another-token").unwrap().sign(b"x");
    let bad = request("POST", &url, &[("x-goog-signature", &forged)], body.clone()).await;
    assert_eq!(bad.status, 401);
    // A signature over other data does not verify this body either.
    let tampered = String::from_utf8(body)
        .unwrap()
        .replace("\"ps-1\"", "\"ps-2\"");
    let ok_sig_other_body = request(
        "POST",
        &url,
        &[("x-goog-signature", &signature)],
        tampered.into_bytes(),
    )
    .await;
    assert_eq!(
        ok_sig_other_body.status, 200,
        "the pub/sub id is outside the signed data"
    );
    let garbage = request(
        "POST",
        &url,
        &[("x-goog-signature", &signature)],
        b"{not json".to_vec(),
    )
    .await;
    assert_eq!(garbage.status, 400);
    assert_eq!(
        d.app.metrics.value(
            "alertd_webhook_rejections_total",
            &[("endpoint", "rbm"), ("reason", "unauthorized")]
        ),
        2
    );
    // Registration: RBM posts the client token and a secret, and wants the secret back.
    let reg = serde_json::json!({"clientToken": CLIENT_TOKEN, "secret": "echo-me-123"}).to_string();
    let r = request("POST", &url, &[], reg.into_bytes()).await;
    assert_eq!((r.status, r.text().as_str()), (200, "echo-me-123"));
    let reg = serde_json::json!({"clientToken": "not-ours", "secret": "x"}).to_string();
    assert_eq!(
        request("POST", &url, &[], reg.into_bytes()).await.status,
        401
    );
    d.stop().await;
}

#[tokio::test]
async fn receipts_dedup_and_acknowledgement_through_postbacks() {
    let d = start().await;
    assert_eq!(
        post_alerts(&d, &webhook(&[("a1b2c3d4e5f60718", "firing")], "x"))
            .await
            .status,
        200
    );
    d.wait_sent(3).await;
    let (message, alert, alice) = sent_to(&d, "+447700900101");

    let read = serde_json::json!({"senderPhoneNumber": "+447700900101", "eventType": "READ",
                                  "eventId": "ev-read-1", "messageId": message.as_str()});
    let first = post_event(&d, &read).await;
    assert_eq!(
        (first.status, first.json()["status"].as_str()),
        (200, Some("queued"))
    );
    let again = post_event(&d, &read).await;
    assert_eq!(
        (again.status, again.json()["status"].as_str()),
        (200, Some("duplicate"))
    );
    processed(&d, "read", "applied").await;

    // A postback minted for Carol but tapped by Alice is refused (bound to the recipient).
    let signer = d.app.rbm.as_ref().unwrap().postbacks();
    let carol = Msisdn::parse("+447700900103").unwrap();
    let wrong = signer
        .mint(ActionKind::Acknowledge, &message, &alert, &carol)
        .unwrap();
    let forged = serde_json::json!({"senderPhoneNumber": "+447700900101", "messageId": "msg-tap-1",
                                    "suggestionResponse": {"postbackData": wrong, "text": "Acknowledge"}});
    assert_eq!(post_event(&d, &forged).await.status, 200);
    processed(&d, "suggestion", "refused").await;
    assert!(!d.app.orchestrator.escalation(&alert).unwrap().acknowledged);

    let ack = signer
        .mint(ActionKind::Acknowledge, &message, &alert, &alice)
        .unwrap();
    let tap = serde_json::json!({"senderPhoneNumber": "+447700900101", "messageId": "msg-tap-2",
                                 "suggestionResponse": {"postbackData": ack, "text": "Acknowledge"}});
    assert_eq!(post_event(&d, &tap).await.status, 200);
    processed(&d, "acknowledge", "applied").await;
    assert!(d.app.orchestrator.escalation(&alert).unwrap().acknowledged);
    d.stop().await;
}

async fn expire(d: &Daemon, message: &MessageId, event_id: &str) {
    let expired = serde_json::json!({"senderPhoneNumber": "+447700900102",
                                     "eventType": "TTL_EXPIRATION_REVOKED",
                                     "eventId": event_id, "messageId": message.as_str()});
    assert_eq!(post_event(d, &expired).await.status, 200);
}

#[tokio::test]
async fn ttl_expiration_revoked_falls_back_and_p0_fails_closed() {
    let d = start().await;
    let lb = d.app.loopback.as_ref().unwrap();
    // P1 (severity "error") to Bob over plain RCS: when RBM withdraws the expired message,
    // the page falls back to a one-time SMS link.
    let p1 = webhook(&[("0000000000000ee1", "firing")], "x").replace("\"critical\"", "\"error\"");
    assert_eq!(post_alerts(&d, &p1).await.status, 200);
    d.wait_sent(3).await;
    let (message, _, bob) = sent_to(&d, "+447700900102");
    let first = lb.sent_to(&bob);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].message.route.as_str(), "rcs_plain");
    expire(&d, &message, "ev-ttl-1").await;
    processed(&d, "ttl_expiration_revoked", "fell_back").await;
    let to_bob = lb.sent_to(&bob);
    assert_eq!(
        to_bob.len(),
        2,
        "no fallback page: {}",
        d.app.metrics.render(None)
    );
    assert_eq!(to_bob[1].message.route.as_str(), "sms_link");

    // Alice is pinned with verified E2EE: losing RCS is a downgrade, and P0 content may only
    // travel end-to-end encrypted, so the fallback is blocked rather than sent weaker.
    let p0 = webhook(&[("0000000000000ee2", "firing")], "y");
    let before = d.sent_count();
    assert_eq!(post_alerts(&d, &p0).await.status, 200);
    d.wait_sent(before + 3).await;
    let sent_before = lb.sent().len();
    let (message, _, _) = sent_to(&d, "+447700900101");
    let expired = serde_json::json!({"senderPhoneNumber": "+447700900101",
                                     "eventType": "TTL_EXPIRATION_REVOKED",
                                     "eventId": "ev-ttl-2", "messageId": message.as_str()});
    assert_eq!(post_event(&d, &expired).await.status, 200);
    eventually("a blocked fallback", Duration::from_secs(10), || async {
        (d.app.metrics.value(
            "rcsec_deliveries_total",
            &[("route", "blocked"), ("status", "blocked")],
        ) > 0)
            .then_some(())
    })
    .await;
    assert_eq!(
        lb.sent().len(),
        sent_before,
        "nothing sent below E2EE for P0"
    );

    // An event about a message we never sent changes nothing.
    let unknown = serde_json::json!({"senderPhoneNumber": "+447700900101", "eventType": "DELIVERED",
                                     "eventId": "ev-x", "messageId": "never-sent-1"});
    assert_eq!(post_event(&d, &unknown).await.status, 200);
    processed(&d, "delivered", "unknown_message").await;
    d.stop().await;
}

#[tokio::test]
async fn unconfigured_webhook_is_404() {
    let d = Daemon::start().await;
    let r = request(
        "POST",
        &d.url("/v1/providers/rbm/events"),
        &[],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(r.status, 404);
    d.stop().await;
}
