//! A pipeline-shaped run over a canary secret and a canary number leaves neither in the log,
//! the exports or any error.

use std::time::Duration;

use rcsec_audit::export::ocsf::write_ocsf;
use rcsec_audit::export::syslog::{SyslogOptions, write_syslog};
use rcsec_audit::line::decode_line;
use rcsec_audit::{
    AuditSink as _, EventKind, Fallback, FallbackAction, JsonlAuditSink, JsonlOptions, Label,
    MemoryAuditSink, UserAction, Verifier,
};
use rcsec_core::{AlertId, Msisdn, Timestamp};

use crate::{clock, config, pseudonymizer};

const CANARY_SECRET: &str = "CANARY-hunter2-sk_live_4eC39HqLyjWDarjtT1zdp7dc";
const CANARY_NUMBER: &str = "+44 7700 900461";
const CANARY_DIGITS: &str = "447700900461";

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(!text.contains(CANARY_SECRET), "{what} leaks the secret");
    assert!(!text.contains("hunter2"), "{what} leaks part of the secret");
    assert!(!text.contains(CANARY_DIGITS), "{what} leaks the number");
    assert!(
        !text.contains("7700900461"),
        "{what} leaks the national number"
    );
    assert!(!text.contains("900461"), "{what} leaks the number's tail");
}

#[tokio::test]
async fn canary_never_reaches_log_exports_or_errors() {
    let p = pseudonymizer();
    let number = Msisdn::parse(CANARY_NUMBER).unwrap();
    let message = format!("db creds rotated: {CANARY_SECRET}");
    let alert = AlertId::new("fp-canary").unwrap();
    let t = |s: u64| Timestamp::from_secs(1_700_000_000 + s);
    let label = |s| Label::new(s).unwrap();
    let pipeline = vec![
        p.event(
            EventKind::Fallback(Fallback {
                e2ee: label("none"),
                fallback_reason: label("carrier_no_e2ee"),
                action_taken: FallbackAction::SecureLinkCreated,
            }),
            t(0),
        )
        .alert(alert.clone())
        .recipient(&number)
        .message(message.as_bytes())
        .route("sms_link"),
        p.event(EventKind::LinkIssued, t(1))
            .alert(alert.clone())
            .recipient(&number)
            .link("L1"),
        p.event(EventKind::MessageSent, t(2))
            .alert(alert.clone())
            .recipient(&number)
            .message(message.as_bytes())
            .route("sms_link")
            .provider("kannel"),
        p.event(EventKind::Delivered, t(3))
            .alert(alert.clone())
            .recipient(&number),
        p.event(EventKind::LinkRedeemed, t(4))
            .alert(alert.clone())
            .link("L1"),
        p.event(EventKind::LinkRejected, t(5))
            .alert(alert.clone())
            .link("L1")
            .reason("consumed"),
        p.event(EventKind::Action(UserAction::Ack), t(6))
            .alert(alert.clone())
            .recipient(&number),
        p.event(EventKind::Override, t(7))
            .alert(alert.clone())
            .actor("oncall:lead")
            .reason("drill"),
        p.event(EventKind::TicketUpdated, t(8))
            .alert(alert.clone())
            .outcome("acknowledged"),
    ];
    let batch: Vec<_> = pipeline.into_iter().map(|b| b.build().unwrap()).collect();
    for pending in &batch {
        assert_clean("event debug", format!("{pending:?}").as_bytes());
    }

    let clock = clock();
    let memory = MemoryAuditSink::with_checkpoints(config(3, &clock));
    let dir = tempfile::tempdir().unwrap();
    let jsonl = JsonlAuditSink::open(
        dir.path(),
        JsonlOptions {
            max_file_bytes: 1_000,
            checkpoints: Some(config(3, &clock)),
        },
    )
    .unwrap();
    clock.advance(Duration::from_secs(1));
    memory.append(batch.clone()).await.unwrap();
    jsonl.append(batch).await.unwrap();

    let log = memory.log_bytes().unwrap();
    assert_clean("memory log", &log);
    for file in jsonl.files().unwrap() {
        assert_clean("jsonl file", &std::fs::read(file).unwrap());
    }
    let events = memory.read_range(0, 9).await.unwrap();
    let mut ocsf = Vec::new();
    write_ocsf(&events, &mut ocsf);
    assert_clean("ocsf export", &ocsf);
    let mut syslog = Vec::new();
    write_syslog(&events, &SyslogOptions::default(), &mut syslog);
    assert_clean("syslog export", &syslog);
    assert_clean("events debug", format!("{events:?}").as_bytes());

    // The pseudonym and message hash still link the events to the number and the message.
    assert!(p.matches(events[0].recipient().unwrap(), &number));
    assert_eq!(
        events[2].message_hash(),
        Some(&p.message_hash(message.as_bytes()))
    );

    // Errors: trying to smuggle either into a label, and verification failures.
    let mut errors = String::new();
    for attempt in [
        CANARY_SECRET,
        CANARY_NUMBER,
        CANARY_DIGITS,
        message.as_str(),
    ] {
        let err = p
            .event(EventKind::Read, t(9))
            .reason(attempt)
            .build()
            .unwrap_err();
        errors.push_str(&format!("{err} {err:?}\n"));
        let err = Label::new(attempt).unwrap_err();
        errors.push_str(&format!("{err} {err:?}\n"));
    }
    let tampered = String::from_utf8(log)
        .unwrap()
        .replacen("sms_link", "sms_lynk", 1);
    let err = Verifier::new()
        .verify_bytes(tampered.as_bytes())
        .unwrap_err();
    errors.push_str(&format!("{err} {err:?}\n"));
    let err = decode_line(format!("{{\"reason\":\"{CANARY_SECRET}\"}}").as_bytes()).unwrap_err();
    errors.push_str(&format!("{err} {err:?}\n"));
    assert_clean("errors", errors.as_bytes());
    assert_clean("pseudonymizer debug", format!("{p:?}").as_bytes());
}
