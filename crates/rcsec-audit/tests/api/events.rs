//! Every event kind survives the canonical encoding, and only canonical lines decode.

use rcsec_audit::line::{LineError, LogLine, decode_event, decode_line, encode_event};
use rcsec_audit::{EventKind, Fallback, FallbackAction, Label, MemoryAuditSink, UserAction};
use rcsec_core::{AlertId, Msisdn, Timestamp};

use crate::pseudonymizer;

fn every_kind() -> Vec<EventKind> {
    let label = |s| Label::new(s).unwrap();
    vec![
        EventKind::MessageSent,
        EventKind::Delivered,
        EventKind::Read,
        EventKind::Action(UserAction::Ack),
        EventKind::Action(UserAction::TakeOwnership),
        EventKind::Action(UserAction::Escalate),
        EventKind::LinkIssued,
        EventKind::LinkRedeemed,
        EventKind::LinkRejected,
        EventKind::Fallback(Fallback {
            e2ee: label("none"),
            fallback_reason: label("carrier_no_e2ee"),
            action_taken: FallbackAction::SecureLinkCreated,
        }),
        EventKind::Fallback(Fallback {
            e2ee: label("unverified"),
            fallback_reason: label("downgrade_detected"),
            action_taken: FallbackAction::Blocked,
        }),
        EventKind::Override,
        EventKind::DowngradeDetected,
        EventKind::KeyRotated,
        EventKind::PolicyBlocked,
        EventKind::TicketUpdated,
        EventKind::Failed,
        EventKind::Expired,
        EventKind::Held,
        EventKind::LinkRevoked,
        EventKind::WebhookRejected,
    ]
}

#[test]
fn every_kind_round_trips_through_the_log() {
    let p = pseudonymizer();
    let to = Msisdn::parse("+15550109999").unwrap();
    let sink = MemoryAuditSink::new();
    let kinds = every_kind();
    let batch = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            p.event(
                kind.clone(),
                Timestamp::from_millis(1_700_000_000_000 + i as u64),
            )
            .alert(AlertId::new("fp-1").unwrap())
            .recipient(&to)
            .actor("oncall:alice")
            .route("sms_link")
            .provider("kannel")
            .link("Lk_9aZ-01234567")
            .outcome("ok")
            .reason("expired")
            .message(b"hello")
            .build()
            .unwrap()
        })
        .collect();
    sink.append_now(batch).unwrap();
    let bytes = sink.log_bytes().unwrap();
    let mut seen = Vec::new();
    for (i, raw) in bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let LogLine::Event { event, .. } = decode_line(raw).unwrap() else {
            panic!("line {i} is not an event");
        };
        assert_eq!(event.sequence(), i as u64);
        let mut canonical = Vec::new();
        encode_event(&event, &mut canonical);
        assert_eq!(decode_event(&canonical).unwrap(), event);
        assert!(raw.starts_with(&canonical[..canonical.len() - 1]));
        seen.push(event.kind().clone());
    }
    assert_eq!(seen, kinds);
}

#[test]
fn minimal_events_encode_in_the_documented_order() {
    let p = pseudonymizer();
    let e = p
        .event(
            EventKind::Action(UserAction::Ack),
            Timestamp::from_millis(42),
        )
        .actor("bob")
        .build()
        .unwrap();
    let mut out = Vec::new();
    encode_event(e.event(), &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"type":"event","seq":0,"time":42,"kind":"action","action":"ack","actor":"bob"}"#
    );
}

#[test]
fn new_kinds_require_their_fields() {
    let p = pseudonymizer();
    let t = Timestamp::from_millis(7);
    for (kind, field) in [
        (EventKind::Failed, "reason"),
        (EventKind::Held, "reason"),
        (EventKind::LinkRevoked, "link"),
        (EventKind::WebhookRejected, "reason"),
    ] {
        let name = kind.name();
        assert_eq!(
            p.event(kind, t).build(),
            Err(rcsec_audit::EventError::MissingField { kind: name, field })
        );
    }
    let held = p
        .event(EventKind::Held, t)
        .reason("quiet_hours")
        .build()
        .unwrap();
    let mut out = Vec::new();
    encode_event(held.event(), &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"type":"event","seq":0,"time":7,"kind":"held","reason":"quiet_hours"}"#
    );
    let expired = p.event(EventKind::Expired, t).build().unwrap();
    let mut out = Vec::new();
    encode_event(expired.event(), &mut out);
    assert_eq!(decode_event(&out).unwrap(), *expired.event());
}

#[test]
fn non_canonical_lines_are_refused() {
    let ok = r#"{"type":"event","seq":0,"time":42,"kind":"read"}"#;
    assert!(decode_event(ok.as_bytes()).is_ok());
    for bad in [
        r#"{"type":"event","seq":00,"time":42,"kind":"read"}"#,
        r#"{"type":"event", "seq":0,"time":42,"kind":"read"}"#,
        r#"{"type":"event","seq":0,"kind":"read","time":42}"#,
        r#"{"type":"event","seq":0,"time":42,"kind":"read","extra":"x"}"#,
        r#"{"type":"event","seq":0,"time":42,"kind":"unknown"}"#,
        r#"{"type":"event","seq":0,"time":42,"kind":"action"}"#,
        r#"{"type":"event","seq":0,"time":42,"kind":"link_rejected"}"#,
        r#"{"type":"event","seq":0,"time":42,"kind":"failed"}"#,
        r#"{"type":"event","seq":0,"time":42,"kind":"held"}"#,
        r#"{"type":"event","seq":0,"time":42,"kind":"link_revoked"}"#,
        r#"{"type":"event","seq":0,"time":42,"kind":"read","reason":"a\"b"}"#,
        r#"{"type":"event","seq":0,"time":42,"kind":"read","reason":"+447700900123"}"#,
        r#"{"type":"event","seq":18446744073709551616,"time":42,"kind":"read"}"#,
    ] {
        assert!(decode_event(bad.as_bytes()).is_err(), "{bad}");
    }
    assert_eq!(decode_line(b"{}"), Err(LineError::UnknownType));
}
