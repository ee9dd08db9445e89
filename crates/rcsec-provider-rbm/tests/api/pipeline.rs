//! The whole loop through the real pipeline: the orchestrator pages over RBM (fake server),
//! the recipient taps "Take ownership", RBM posts the signed webhook, and the ticket follows.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcsec::audit::{AuditKey, MemoryAuditSink, Pseudonymizer};
use rcsec::capability::{Resolver, Route};
use rcsec::core::{AlertId, ManualClock, Msisdn, Redacted, Secret, Severity, Timestamp};
use rcsec::link::{Keyring, KeyringPolicy, MemoryBlobStore, MemoryTokenStore, OsRandom};
use rcsec::{Alert, AlertStatus, MemoryTicketSink, Orchestrator, OrchestratorConfig, Responder};
use rcsec_http::{HttpClient, HttpConfig};
use rcsec_provider_rbm::webhook::{
    ClientToken, Inbound, PostbackKey, PostbackSigner, decode_event, verify_signature,
};
use rcsec_provider_rbm::{RbmConfig, RbmProvider, StaticToken};

use super::provider::{RCS_USER, TOKEN, fake_rbm};

fn signed(token: &ClientToken, event: &str) -> (Vec<u8>, String) {
    let body = format!(
        r#"{{"message":{{"data":"{}","messageId":"1","publishTime":"2026-11-22T04:00:00Z"}},"subscription":"s"}}"#,
        STANDARD.encode(event)
    );
    (body.into_bytes(), token.sign(event.as_bytes()))
}

#[tokio::test]
async fn page_over_rbm_then_take_ownership_from_the_signed_webhook() {
    let (base, fake) = fake_rbm().await;
    let clock = ManualClock::new(Timestamp::from_secs(1_800_000_000));
    let postback_key = || PostbackKey::new(1, Secret::new([11; 32]));
    let rbm = Arc::new(RbmProvider::new(
        HttpClient::new(HttpConfig {
            timeout: Duration::from_secs(3),
            ..HttpConfig::default()
        })
        .unwrap(),
        RbmConfig {
            base_url: base,
            agent_id: None,
            link_prefix: Some("https://alerts.example/l/".parse().unwrap()),
        },
        Arc::new(StaticToken::new(TOKEN)),
        PostbackSigner::new(postback_key(), Vec::new()),
        Arc::new(clock.clone()),
    ));
    let tickets = Arc::new(MemoryTicketSink::new());
    let orchestrator = Orchestrator::builder()
        .clock(Arc::new(clock.clone()))
        .resolver(Arc::new(
            Resolver::builder(Arc::new(clock.clone()))
                .provider(rbm.clone(), Duration::from_secs(2))
                .build()
                .unwrap(),
        ))
        .links(
            Arc::new(
                Keyring::generate(
                    KeyringPolicy::default(),
                    rcsec::core::Clock::now(&clock),
                    &OsRandom,
                )
                .unwrap(),
            ),
            Arc::new(MemoryTokenStore::new()),
            Arc::new(MemoryBlobStore::new()),
        )
        .audit(
            Arc::new(MemoryAuditSink::new()),
            Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([7; 32]))),
        )
        .provider(rbm.clone())
        .tickets(tickets.clone())
        .config(OrchestratorConfig::new(
            "https://alerts.example/".parse().unwrap(),
        ))
        .build()
        .unwrap();

    let alert_id = AlertId::new("c4a1b2d3e4f50617").unwrap();
    let alert = Alert {
        id: alert_id.clone(),
        status: AlertStatus::Firing,
        severity: Severity::P1,
        title: Redacted::new("title", "DiskFull".into()),
        summary: Redacted::new("summary", "db-1 /var at 97%".into()),
        details: Redacted::new("details", String::new()),
        labels: Default::default(),
        starts_at: None,
        ends_at: None,
        source_url: None,
        artifacts: Vec::new(),
    };
    let recipient = Msisdn::parse(RCS_USER).unwrap();
    let report = orchestrator
        .handle_alert(alert, vec![Responder::new(recipient.clone(), "Alice")])
        .await
        .unwrap();
    assert_eq!(report.deliveries.len(), 1);
    assert_eq!(
        report.deliveries[0].route,
        Route::RcsPlain,
        "RBM is never E2EE"
    );

    // What RBM received: one message with MAC-bound suggestions.
    let (message_id, postback) = {
        let f = fake.lock().unwrap();
        assert_eq!(f.messages.len(), 1);
        let (id, (_, body)) = f.messages.iter().next().unwrap();
        let suggestions = body["contentMessage"]["suggestions"]
            .as_array()
            .unwrap()
            .clone();
        let own = suggestions
            .iter()
            .find(|s| s["reply"]["text"] == "Take ownership")
            .expect("a take-ownership suggestion");
        (
            id.clone(),
            own["reply"]["postbackData"].as_str().unwrap().to_owned(),
        )
    };

    // RBM reports delivery, then the tap, each as a signed webhook.
    let client_token = ClientToken::new("SJENCPGJESMGUFPY").unwrap();
    let postbacks = PostbackSigner::new(postback_key(), Vec::new());
    for event in [
        format!(
            r#"{{"senderPhoneNumber":"{RCS_USER}","eventType":"DELIVERED","eventId":"ev-1","messageId":"{message_id}"}}"#
        ),
        format!(
            r#"{{"senderPhoneNumber":"{RCS_USER}","messageId":"MsTap1","suggestionResponse":{{"postbackData":"{postback}","text":"Take ownership","type":"REPLY"}}}}"#
        ),
    ] {
        let (body, signature) = signed(&client_token, &event);
        let payload = verify_signature(&client_token, Some(&signature), &body).unwrap();
        let Inbound::Event(event) = decode_event(&payload)
            .unwrap()
            .into_inbound(&postbacks)
            .unwrap()
        else {
            panic!("expected a pipeline event");
        };
        assert_eq!(event.message.as_str(), message_id);
        orchestrator.on_event(event).await.unwrap();
    }
    let ticket = tickets.ticket(&alert_id).expect("a ticket was opened");
    assert!(
        ticket.owner.is_some(),
        "take-ownership reached the ticket: {ticket:?}"
    );
}
