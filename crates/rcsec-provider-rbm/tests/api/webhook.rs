//! The inbound webhook end to end: signed envelope -> event -> de-duplication -> pipeline event.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcsec::{ActionKind, MessageId, ProviderEventKind};
use rcsec_capability::E2ee;
use rcsec_core::{AlertId, Msisdn, Secret, Timestamp};
use rcsec_provider_rbm::webhook::{
    ClientToken, Deduplicator, Inbound, PostbackError, PostbackKey, PostbackSigner, RbmEventKind,
    Seen, WebhookError, decode_event, verify_signature,
};

const NUMBER: &str = "+447700900123";
const CANARY: &str = "CANARY-hunter2-SECRET";

fn token() -> ClientToken {
    ClientToken::new("SJENCPGJESMGUFPY").unwrap()
}

fn signer() -> PostbackSigner {
    PostbackSigner::new(PostbackKey::new(1, Secret::new([42; 32])), Vec::new())
}

/// What RBM would post for event JSON `data`: the envelope and the signature header.
fn request(data: &str) -> (Vec<u8>, String) {
    let body = format!(
        r#"{{"message":{{"attributes":{{}},"data":"{}","messageId":"136969346945","publishTime":"2026-11-22T04:00:00.000Z"}},"subscription":"projects/rbm-agent/subscriptions/rbm-agent-sub"}}"#,
        STANDARD.encode(data)
    );
    (body.into_bytes(), token().sign(data.as_bytes()))
}

fn inbound(data: &str) -> Result<Inbound, PostbackError> {
    let (body, sig) = request(data);
    let payload = verify_signature(&token(), Some(&sig), &body).unwrap();
    decode_event(&payload).unwrap().into_inbound(&signer())
}

#[test]
fn delivered_and_read_map_to_pipeline_events_without_e2ee() {
    let got = inbound(&format!(
        r#"{{"senderPhoneNumber":"{NUMBER}","eventType":"DELIVERED","eventId":"e1","messageId":"m-1","agentId":"a@rbm.goog"}}"#
    ))
    .unwrap();
    let Inbound::Event(e) = got else {
        panic!("expected an event, got {got:?}")
    };
    assert_eq!(e.message, MessageId::new("m-1").unwrap());
    assert!(matches!(
        e.kind,
        ProviderEventKind::Delivered {
            e2ee: E2ee::Unverified
        }
    ));
    let got = inbound(&format!(
        r#"{{"senderPhoneNumber":"{NUMBER}","eventType":"READ","eventId":"e2","messageId":"m-1"}}"#
    ))
    .unwrap();
    assert!(matches!(got, Inbound::Event(e) if matches!(e.kind, ProviderEventKind::Read)));
}

#[test]
fn ttl_expiry_asks_for_the_fallback() {
    for (event_type, revoked) in [
        ("TTL_EXPIRATION_REVOKED", true),
        ("TTL_EXPIRATION_REVOKE_FAILED", false),
    ] {
        let got = inbound(&format!(
            r#"{{"phoneNumber":"{NUMBER}","messageId":"m-9","agentId":"a","eventType":"{event_type}","eventId":"s1","sendTime":"2026-11-22T04:00:00Z"}}"#
        ))
        .unwrap();
        match got {
            Inbound::Expired {
                message,
                revoked: r,
            } => {
                assert_eq!(message.as_str(), "m-9");
                assert_eq!(r, revoked);
            }
            other => panic!("expected Expired, got {other:?}"),
        }
    }
}

#[test]
fn suggestion_postbacks_are_verified_against_the_sender() {
    let alert = AlertId::new("c4a1b2d3e4f50617").unwrap();
    let message = MessageId::new("m-3").unwrap();
    let recipient = Msisdn::parse(NUMBER).unwrap();
    let data = signer()
        .mint(ActionKind::TakeOwnership, &message, &alert, &recipient)
        .unwrap();
    let event = |from: &str, postback: &str| {
        format!(
            r#"{{"senderPhoneNumber":"{from}","messageId":"MsU1","sendTime":"2026-11-22T04:00:00Z","suggestionResponse":{{"postbackData":"{postback}","text":"Take ownership","type":"REPLY"}}}}"#
        )
    };
    let got = inbound(&event(NUMBER, &data)).unwrap();
    let Inbound::Event(e) = got else {
        panic!("expected an action, got {got:?}")
    };
    assert_eq!(e.message, message);
    assert!(matches!(
        e.kind,
        ProviderEventKind::Action(ActionKind::TakeOwnership)
    ));
    // The same postback tapped by (or forwarded to) another number, and a forged one.
    assert_eq!(
        inbound(&event("+447700900999", &data)).unwrap_err(),
        PostbackError::BadTag
    );
    assert_eq!(
        inbound(&event(NUMBER, "ack")).unwrap_err(),
        PostbackError::Malformed
    );
}

#[test]
fn user_text_typing_files_and_unknown_types() {
    let got = inbound(&format!(
        r#"{{"senderPhoneNumber":"{NUMBER}","messageId":"MsU2","text":"{CANARY}"}}"#
    ))
    .unwrap();
    assert!(matches!(&got, Inbound::UserText(t) if t.expose() == CANARY));
    assert!(!format!("{got:?}").contains(CANARY));
    for (data, reason) in [
        (
            format!(r#"{{"senderPhoneNumber":"{NUMBER}","eventType":"IS_TYPING","eventId":"t"}}"#),
            "is_typing",
        ),
        (
            format!(
                r#"{{"senderPhoneNumber":"{NUMBER}","messageId":"f","userFile":{{"payload":{{}}}}}}"#
            ),
            "other_content",
        ),
        (
            format!(r#"{{"senderPhoneNumber":"{NUMBER}","eventType":"SUBSCRIBE","eventId":"u"}}"#),
            "unknown_event",
        ),
    ] {
        assert!(matches!(inbound(&data).unwrap(), Inbound::Ignored(r) if r == reason));
    }
}

#[test]
fn decode_errors_are_typed_and_never_echo_input() {
    let cases = [
        ("not json".to_owned(), "malformed"),
        (r#"{"eventType":"READ","eventId":"e","messageId":"m"}"#.to_owned(), "lacks senderPhoneNumber"),
        (
            r#"{"senderPhoneNumber":"447700900123","eventType":"READ","eventId":"e","messageId":"m"}"#.to_owned(),
            "invalid senderPhoneNumber",
        ),
        (
            format!(r#"{{"senderPhoneNumber":"{NUMBER}","eventType":"READ","eventId":"e"}}"#),
            "lacks messageId",
        ),
        (
            format!(r#"{{"senderPhoneNumber":"{NUMBER}","eventType":"READ","eventId":"e","messageId":"m 1 {CANARY}"}}"#),
            "invalid messageId",
        ),
        (
            format!(r#"{{"senderPhoneNumber":"{NUMBER}","messageId":"m"}}"#),
            "lacks eventType or message content",
        ),
    ];
    for (data, expected) in cases {
        let (body, sig) = request(&data);
        let payload = verify_signature(&token(), Some(&sig), &body).unwrap();
        let err = decode_event(&payload).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(text.contains(expected), "{text}");
        assert!(
            !text.contains(CANARY) && !text.contains("7700900"),
            "{text}"
        );
    }
}

#[test]
fn a_forged_request_never_reaches_the_decoder() {
    let data = format!(
        r#"{{"senderPhoneNumber":"{NUMBER}","eventType":"READ","eventId":"e","messageId":"m"}}"#
    );
    let (body, _) = request(&data);
    let forged = ClientToken::new("GUESSED").unwrap().sign(data.as_bytes());
    assert_eq!(
        verify_signature(&token(), Some(&forged), &body).unwrap_err(),
        WebhookError::BadSignature
    );
    // Signature over the whole body instead of the decoded data: also refused.
    let wrong = token().sign(&body);
    assert_eq!(
        verify_signature(&token(), Some(&wrong), &body).unwrap_err(),
        WebhookError::BadSignature
    );
}

#[test]
fn redelivered_events_are_dropped_by_their_key() {
    let dedup = Deduplicator::new(Duration::from_secs(86_400), 1_000);
    let now = Timestamp::from_secs(1_800_000_000);
    let data = format!(
        r#"{{"senderPhoneNumber":"{NUMBER}","eventType":"DELIVERED","eventId":"same","messageId":"m-1"}}"#
    );
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (body, sig) = request(&data);
        let event = decode_event(&verify_signature(&token(), Some(&sig), &body).unwrap()).unwrap();
        assert_eq!(event.dedup_key.as_str(), "event:same");
        assert!(matches!(event.kind, RbmEventKind::Delivered(_)));
        seen.push(dedup.check(&event.dedup_key, now));
    }
    assert_eq!(seen, [Seen::First, Seen::Duplicate, Seen::Duplicate]);
    // Without an eventId the Pub/Sub message id is the key.
    let (body, sig) = request(&format!(
        r#"{{"senderPhoneNumber":"{NUMBER}","eventType":"IS_TYPING"}}"#
    ));
    let event = decode_event(&verify_signature(&token(), Some(&sig), &body).unwrap()).unwrap();
    assert_eq!(event.dedup_key.as_str(), "pubsub:136969346945");
}

#[test]
fn debug_of_events_masks_the_number_and_the_text() {
    let (body, sig) = request(&format!(
        r#"{{"senderPhoneNumber":"{NUMBER}","messageId":"MsU2","text":"{CANARY}"}}"#
    ));
    let payload = verify_signature(&token(), Some(&sig), &body).unwrap();
    let event = decode_event(&payload).unwrap();
    let rendered = format!("{payload:?} {event:?}");
    assert!(!rendered.contains(CANARY), "{rendered}");
    assert!(!rendered.contains("7700900"), "{rendered}");
}
