//! Every kind of tampering is caught, at the right index.

use rcsec_audit::{Checkpoint, Verifier, VerifyError, VerifyFailure, chain_hash, line};

use crate::{line_of, lines, signed_log, signer};

fn verify(bytes: &[u8]) -> Result<rcsec_audit::Verified, VerifyError> {
    Verifier::new()
        .pin_key(signer().verifying_key())
        .verify_bytes(bytes)
}

fn verify_against(bytes: &[u8], latest: Checkpoint) -> Result<rcsec_audit::Verified, VerifyError> {
    Verifier::new()
        .pin_key(signer().verifying_key())
        .expect_checkpoint(latest)
        .verify_bytes(bytes)
}

#[test]
fn an_untouched_log_verifies() {
    let (sink, bytes) = signed_log(20, 4);
    let verified = verify(&bytes).unwrap();
    let head = futures_head(&sink);
    assert_eq!(verified.head, head);
    assert_eq!(verified.checkpoints, 5);
    let latest = verified.last_checkpoint.unwrap();
    assert_eq!(latest.size(), 20);
    assert_eq!(verify_against(&bytes, latest).unwrap().head, head);
    // Without a pinned key the log is self-consistent too.
    assert_eq!(Verifier::new().verify_bytes(&bytes).unwrap().head, head);
}

fn futures_head(sink: &rcsec_audit::MemoryAuditSink) -> rcsec_audit::Head {
    // append_now with an empty batch returns the head without changing the log.
    sink.append_now(Vec::new()).unwrap()
}

#[test]
fn flipping_any_byte_of_an_event_is_caught_at_that_event() {
    // No checkpoints (every 1000): this is about the chain, and skipping ~1200 signature
    // checks keeps the debug build fast.
    let (_, bytes) = signed_log(12, 1000);
    let all = lines(&bytes);
    for seq in [0u64, 5, 11] {
        let at = line_of(&all, seq);
        let start: usize = all[..at].iter().map(Vec::len).sum();
        // Every byte but the newline (a flipped newline splits the line, still caught at seq).
        for offset in 0..all[at].len() - 1 {
            let mut tampered = bytes.clone();
            tampered[start + offset] ^= 0x01;
            let err = verify(&tampered).unwrap_err();
            assert_eq!(err.index, seq, "byte {offset} of event {seq}: {err}");
        }
    }
}

#[test]
fn deleting_an_event_is_caught_at_its_index() {
    let (_, bytes) = signed_log(12, 4);
    let mut all = lines(&bytes);
    all.remove(line_of(&all, 6));
    let err = verify(&all.concat()).unwrap_err();
    assert_eq!(err.index, 6);
    assert_eq!(err.failure, VerifyFailure::SequenceMismatch { found: 7 });
}

#[test]
fn inserting_an_event_is_caught_at_its_index() {
    let (_, bytes) = signed_log(12, 4);
    let mut all = lines(&bytes);
    let copy = all[line_of(&all, 2)].clone();
    all.insert(line_of(&all, 8), copy);
    let err = verify(&all.concat()).unwrap_err();
    assert_eq!(err.index, 8);
    assert_eq!(err.failure, VerifyFailure::SequenceMismatch { found: 2 });
}

#[test]
fn a_forged_insert_with_valid_sequence_and_chain_is_caught_at_the_next_event() {
    let (_, bytes) = signed_log(12, 4);
    let mut all = lines(&bytes);
    // Forge event 5 by renumbering a copy of event 9 and linking it to event 4's chain.
    let line::LogLine::Event { chain: prev, .. } =
        line::decode_line(all[line_of(&all, 4)].trim_ascii_end()).unwrap()
    else {
        panic!("event 4 is not an event line");
    };
    let source = String::from_utf8(all[line_of(&all, 9)].clone()).unwrap();
    let body =
        source.trim_end()[..source.trim_end().len() - 76].replace("\"seq\":9,", "\"seq\":5,");
    let chain = chain_hash(&prev, &[body.as_bytes(), b"}"]);
    let forged = format!("{body},\"chain\":\"{}\"}}\n", chain.to_hex());
    all.insert(line_of(&all, 5), forged.into_bytes());
    let err = verify(&all.concat()).unwrap_err();
    // The forged line itself is indistinguishable; the genuine event 5 after it no longer
    // sits at its sequence.
    assert_eq!(err.index, 6);
}

#[test]
fn reordering_events_is_caught_at_the_first_moved_index() {
    let (_, bytes) = signed_log(12, 4);
    let mut all = lines(&bytes);
    let (a, b) = (line_of(&all, 9), line_of(&all, 10));
    all.swap(a, b);
    let err = verify(&all.concat()).unwrap_err();
    assert_eq!(err.index, 9);
}

#[test]
fn truncation_is_caught_against_the_latest_checkpoint() {
    let (_, bytes) = signed_log(20, 4);
    let latest = verify(&bytes).unwrap().last_checkpoint.unwrap();
    let all = lines(&bytes);
    // Cut after event 13: a clean prefix, valid on its own.
    let cut = all[..=line_of(&all, 13)].concat();
    assert_eq!(verify(&cut).unwrap().head.size, 14);
    let err = verify_against(&cut, latest).unwrap_err();
    assert_eq!(err.index, 14);
    assert_eq!(err.failure, VerifyFailure::Truncated { size: 20 });
    // Cutting inside a line leaves a torn last line.
    let torn = &bytes[..bytes.len() - 10];
    assert_eq!(verify(torn).unwrap_err().failure, VerifyFailure::TornLine);
    // Dropping just the last event (the checkpoint line after it stays): out of place.
    let mut dropped = all.clone();
    dropped.remove(line_of(&all, 19));
    let err = verify(&dropped.concat()).unwrap_err();
    assert_eq!(err.index, 19);
}

#[test]
fn a_replayed_old_checkpoint_is_rejected() {
    let (_, bytes) = signed_log(12, 4);
    let all = lines(&bytes);
    let first_cp = all[line_of(&all, 3) + 1].clone();
    assert!(first_cp.starts_with(b"{\"type\":\"checkpoint\""));
    let mut replayed = all.clone();
    replayed.push(first_cp.clone());
    let err = verify(&replayed.concat()).unwrap_err();
    assert_eq!(err.index, 12);
    assert_eq!(err.failure, VerifyFailure::StaleCheckpoint);
    // Alone in the wrong place (no later checkpoint before it): out of place, size bound.
    let mut early = all[..=line_of(&all, 5)].to_vec();
    early.retain(|l| !l.starts_with(b"{\"type\":\"checkpoint\""));
    early.push(first_cp);
    let err = verify(&early.concat()).unwrap_err();
    assert_eq!(
        (err.index, err.failure),
        (6, VerifyFailure::CheckpointOutOfPlace { size: 4 })
    );
}

#[test]
fn a_rewritten_history_with_recomputed_chain_fails_at_the_next_checkpoint() {
    let (_, bytes) = signed_log(12, 4);
    let mut all = lines(&bytes);
    // Change event 5 and recompute every later chain hash, as a careful attacker would.
    let at = line_of(&all, 5);
    let text = String::from_utf8(all[at].clone()).unwrap();
    all[at] = text.replace("rcs_e2ee", "sms_link").into_bytes();
    let mut prev = rcsec_audit::Hash::default();
    for l in &mut all {
        if !l.starts_with(b"{\"type\":\"event\"") {
            continue;
        }
        let trimmed = l.trim_ascii_end().to_vec();
        let body = &trimmed[..trimmed.len() - 76];
        let chain = chain_hash(&prev, &[body, b"}"]);
        let mut rebuilt = body.to_vec();
        rebuilt.extend_from_slice(format!(",\"chain\":\"{}\"}}\n", chain.to_hex()).as_bytes());
        *l = rebuilt;
        prev = chain;
    }
    let err = verify(&all.concat()).unwrap_err();
    assert_eq!(err.failure, VerifyFailure::RootMismatch);
    // The last verified checkpoint covers events 0..4; event 4 onwards is unproven.
    assert_eq!(err.index, 4);
}

#[test]
fn checkpoints_from_another_key_are_rejected() {
    let (_, bytes) = signed_log(8, 4);
    let other = rcsec_audit::CheckpointSigner::from_seed(
        "audit-test",
        &rcsec_core::Secret::new([0x99; 32]),
    )
    .unwrap();
    let err = Verifier::new()
        .pin_key(other.verifying_key())
        .verify_bytes(&bytes)
        .unwrap_err();
    assert_eq!(err.index, 4);
    assert!(matches!(err.failure, VerifyFailure::Checkpoint(_)));
}

#[test]
fn checkpoints_follow_the_time_trigger_and_bind_their_time() {
    use std::sync::Arc;
    use std::time::Duration;

    let clock = crate::clock();
    let config = rcsec_audit::CheckpointConfig {
        signer: signer(),
        policy: rcsec_audit::CheckpointPolicy {
            every_events: 0,
            every: Duration::from_secs(60),
        },
        clock: Arc::new(clock.clone()),
    };
    let sink = rcsec_audit::MemoryAuditSink::with_checkpoints(config);
    let p = crate::pseudonymizer();
    sink.append_now(vec![crate::event(&p, 0)]).unwrap();
    clock.advance(Duration::from_secs(59));
    sink.append_now(vec![crate::event(&p, 1)]).unwrap();
    let count = |s: &rcsec_audit::MemoryAuditSink| {
        lines(&s.log_bytes().unwrap())
            .iter()
            .filter(|l| l.starts_with(b"{\"type\":\"checkpoint\""))
            .count()
    };
    assert_eq!(count(&sink), 0);
    clock.advance(Duration::from_secs(1));
    sink.append_now(vec![crate::event(&p, 2)]).unwrap();
    assert_eq!(count(&sink), 1);
    // Idle time alone writes nothing; the next append does.
    clock.advance(Duration::from_secs(600));
    assert_eq!(count(&sink), 1);
    sink.append_now(vec![crate::event(&p, 3)]).unwrap();
    assert_eq!(count(&sink), 2);
    let verified = verify(&sink.log_bytes().unwrap()).unwrap();
    let latest = verified.last_checkpoint.unwrap();
    assert_eq!(latest.size(), 4);
    assert_eq!(
        latest.time(),
        rcsec_core::Timestamp::from_secs(1_700_000_660)
    );
}
