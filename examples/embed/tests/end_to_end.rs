//! One alert through the orchestrator to our provider and the vendor endpoint; the provider's
//! idempotency and error mapping.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::time::Duration;

use rcsec::capability::Route;
use rcsec::core::{AlertId, Msisdn, Redacted, Severity, Timestamp};
use rcsec::{
    Alert, DeliveryStatus, MessageBody, MessageId, MessagingProvider, OutboundMessage, Responder,
    SendError,
};
use rcsec_embed::{HttpProvider, PhoneGateway, service};

const PASSWORD: &str = "Pa55-w0rd!canary";

#[tokio::test]
async fn a_secret_reaches_the_vendor_only_as_a_one_time_link() {
    let vendor = PhoneGateway::start().await.unwrap();
    let (orchestrator, audit) = service(vendor.addr()).unwrap();
    let alert = Alert::firing(
        AlertId::new("db7-down").unwrap(),
        Severity::P1,
        "PostgresDown",
        format!("db-7 down; DATABASE_URL=postgres://app:{PASSWORD}@db-7:5432/app"),
    );
    let alice = Msisdn::parse("+447700900123").unwrap();
    let report = orchestrator
        .handle_alert(alert, vec![Responder::new(alice.clone(), "Alice")])
        .await
        .unwrap();

    let [delivery] = &report.deliveries[..] else {
        panic!("one responder, one delivery")
    };
    assert_eq!(delivery.route, Route::RcsPlain);
    assert!(
        matches!(&delivery.status, DeliveryStatus::Sent { provider, .. } if provider == "vendor-http")
    );
    assert_eq!(delivery.links.len(), 1);

    let [received] = &vendor.received()[..] else {
        panic!("the vendor got one message")
    };
    assert_eq!(received.to, alice.expose_e164());
    assert_eq!(received.route, "rcs_plain");
    assert!(
        !received.text.contains(PASSWORD),
        "the secret crossed a non-E2EE route"
    );
    assert!(received.text.contains("https://links.example.invalid/"));

    let log = audit.log_bytes().unwrap();
    let log = String::from_utf8_lossy(&log);
    assert!(!log.contains(PASSWORD) && !log.contains("7700900123"));
}

fn message(id: &str, to: &Msisdn) -> OutboundMessage {
    let now = Timestamp::from_secs(1_800_000_000);
    OutboundMessage {
        id: MessageId::new(id).unwrap(),
        alert: AlertId::new("a1").unwrap(),
        recipient: to.clone(),
        route: Route::SmsLink,
        body: MessageBody::Sms {
            text: Redacted::new("sms", "Alert: https://l.example/x".into()),
        },
        created_at: now,
        expires_at: now.saturating_add(Duration::from_secs(3600)),
    }
}

#[tokio::test]
async fn a_retried_send_is_delivered_once() {
    let vendor = PhoneGateway::start().await.unwrap();
    let provider = HttpProvider::new(vendor.addr());
    let to = Msisdn::parse("+447700900123").unwrap();
    let first = provider.send(&message("m-1", &to)).await.unwrap();
    let again = provider.send(&message("m-1", &to)).await.unwrap();
    let other = provider.send(&message("m-2", &to)).await.unwrap();
    assert_eq!(first, again);
    assert_ne!(first, other);
    assert_eq!(vendor.received().len(), 2);
}

#[tokio::test]
async fn an_unreachable_vendor_is_a_transient_failure() {
    let addr = {
        let gone = PhoneGateway::start().await.unwrap();
        gone.addr()
    };
    // Give the aborted listener a moment to close its socket.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let provider = HttpProvider::new(addr);
    let to = Msisdn::parse("+447700900123").unwrap();
    let err = provider.send(&message("m-1", &to)).await.unwrap_err();
    assert!(matches!(err, SendError::Transient), "{err:?}");
    assert!(!format!("{err:?} {err}").contains("7700900123"));
}
