//! The canary: a credential and a phone number in an alert never reach SMS or plain-RCS text,
//! the audit log, tickets, errors or `Debug` output.

use rcsec::message::MessageBody;
use rcsec::{ProviderEvent, ProviderEventKind};

use crate::harness::*;

fn leaks(haystack: &str) -> Option<&'static str> {
    let secret_core = "Canary-Pa55w0rd-Zq9";
    let number_digits = "7700900555";
    let spaced = CANARY_NUMBER;
    [secret_core, number_digits, spaced]
        .into_iter()
        .find(|needle| haystack.contains(needle))
}

#[test]
fn canary_never_leaks_outside_end_to_end_routes() {
    let h = harness(|_| {});
    runtime().block_on(async {
        let who = h.responders(&["Alice", "Bob", "Carol", "Dave", "Erin"]);
        let report = h
            .orch
            .handle_alert(canary_alert("a-canary"), who)
            .await
            .unwrap();
        let msg = report.deliveries[1].message_id.clone().unwrap();
        h.orch
            .on_event(ProviderEvent::new(
                msg,
                ProviderEventKind::Reply(rcsec::core::Redacted::new(
                    "reply",
                    format!("rotated {CANARY_SECRET}, call {CANARY_NUMBER}"),
                )),
            ))
            .await
            .unwrap();

        for sent in h.loopback.sent() {
            let route = sent.message.route;
            let text = match &sent.message.body {
                MessageBody::Text { text, .. } | MessageBody::Sms { text } => text.expose().clone(),
                MessageBody::Encrypted { ciphertext } => hex::encode(ciphertext),
                other => panic!("a body kind this test predates: {other:?}"),
            };
            if !route.is_end_to_end() {
                assert_eq!(leaks(&text), None, "{} leaked the canary", route.as_str());
            }
            assert_eq!(leaks(&format!("{:?}", sent.message)), None);
        }
        let log = String::from_utf8(h.audit_log()).unwrap();
        assert_eq!(leaks(&log), None, "audit log");
        for n in ["7700900101", "7700900102", "7700900103"] {
            assert!(!log.contains(n), "recipient numbers are pseudonymized");
        }
        let ticket = h.tickets.ticket(&report.alert).unwrap();
        assert_eq!(leaks(&format!("{ticket:?}")), None, "ticket");
        assert!(ticket.notes.iter().any(|n| n.contains("[redacted")));
        assert_eq!(leaks(&format!("{report:?}")), None, "report Debug");
        let err = h
            .orch
            .on_event(ProviderEvent::new(
                rcsec::MessageId::new("m-nope").unwrap(),
                ProviderEventKind::Read,
            ))
            .await
            .unwrap_err();
        assert_eq!(leaks(&format!("{err} {err:?}")), None);
        assert_eq!(leaks(&format!("{:?}", canary_alert("x"))), None);
    });
}
