//! Integration tests of rcsec-audit's public API (one binary; topics in `api/`).

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

mod api {
    pub(crate) mod canary;
    pub(crate) mod events;
    pub(crate) mod export;
    pub(crate) mod jsonl;
    pub(crate) mod tamper;
}

use std::sync::Arc;
use std::time::Duration;

use rcsec_audit::{
    AuditKey, CheckpointConfig, CheckpointPolicy, CheckpointSigner, EventKind, MemoryAuditSink,
    PendingEvent, Pseudonymizer,
};
use rcsec_core::{AlertId, ManualClock, Msisdn, Secret, Timestamp};

pub(crate) fn pseudonymizer() -> Pseudonymizer {
    Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([0x11; 32])))
}

pub(crate) fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed("audit-test", &Secret::new([0x22; 32])).unwrap()
}

pub(crate) fn clock() -> ManualClock {
    ManualClock::new(Timestamp::from_secs(1_700_000_000))
}

pub(crate) fn config(every_events: u64, clock: &ManualClock) -> CheckpointConfig {
    CheckpointConfig {
        signer: signer(),
        policy: CheckpointPolicy {
            every_events,
            every: Duration::from_secs(3600),
        },
        clock: Arc::new(clock.clone()),
    }
}

pub(crate) fn event(p: &Pseudonymizer, i: u64) -> PendingEvent {
    let to = Msisdn::parse("+447700900123").unwrap();
    p.event(
        EventKind::MessageSent,
        Timestamp::from_secs(1_700_000_000 + i),
    )
    .alert(AlertId::new(format!("alert-{i}")).unwrap())
    .recipient(&to)
    .message(format!("body {i}").as_bytes())
    .route("rcs_e2ee")
    .provider("rbm")
    .build()
    .unwrap()
}

/// A log of `n` events appended one per batch, signed every `every` events.
pub(crate) fn signed_log(n: u64, every: u64) -> (MemoryAuditSink, Vec<u8>) {
    let clock = clock();
    let sink = MemoryAuditSink::with_checkpoints(config(every, &clock));
    let p = pseudonymizer();
    for i in 0..n {
        clock.advance(Duration::from_millis(10));
        sink.append_now(vec![event(&p, i)]).unwrap();
    }
    let bytes = sink.log_bytes().unwrap();
    (sink, bytes)
}

/// The log's lines, each with its newline.
pub(crate) fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Position in `lines` of the line holding event `seq`.
pub(crate) fn line_of(lines: &[Vec<u8>], seq: u64) -> usize {
    let needle = format!("{{\"type\":\"event\",\"seq\":{seq},");
    lines
        .iter()
        .position(|l| l.starts_with(needle.as_bytes()))
        .unwrap()
}
