//! Signed checkpoints in the SQLite audit sink: signed in the batch's transaction, verified
//! in the exported log, and the resume point on open (rows before the latest checkpoint are
//! not re-read; a forged or foreign checkpoint is refused).

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::sync::Arc;
use std::time::Duration;

use rcsec_audit::sink::conformance::events;
use rcsec_audit::{
    AuditSink, CheckpointConfig, CheckpointPolicy, CheckpointSigner, SinkError, Verifier,
    VerifyFailure,
};
use rcsec_core::{ManualClock, Secret, Timestamp};
use rcsec_store_sqlite::{SqliteAuditSink, SqliteStore};

fn signer(seed: u8) -> CheckpointSigner {
    CheckpointSigner::from_seed("sqlite-audit", &Secret::new([seed; 32])).unwrap()
}

fn config(seed: u8, every_events: u64, clock: &ManualClock) -> CheckpointConfig {
    CheckpointConfig {
        signer: signer(seed),
        policy: CheckpointPolicy {
            every_events,
            every: Duration::from_secs(60),
        },
        clock: Arc::new(clock.clone()),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn checkpoints_are_signed_by_count_and_time_and_verify_in_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let clock = ManualClock::new(Timestamp::from_secs(1_800_000_000));
    let sink =
        SqliteAuditSink::with_checkpoints(SqliteStore::open(&path).unwrap(), config(1, 10, &clock))
            .unwrap();
    rt().block_on(async {
        assert_eq!(sink.latest_checkpoint().await.unwrap(), None);
        for i in 0..5 {
            sink.append(events(4, &format!("b{i}"))).await.unwrap();
        }
        // 20 events: the count trigger fired at 12 (the first batch boundary past 10).
        let cp = sink.latest_checkpoint().await.unwrap().unwrap();
        assert_eq!(cp.size(), 12);
        // The time trigger: one more event after a minute.
        clock.advance(Duration::from_secs(61));
        let head = sink.append(events(1, "late")).await.unwrap();
        let cp = sink.latest_checkpoint().await.unwrap().unwrap();
        assert_eq!((cp.size(), cp.root()), (21, head.root));
    });
    let lines = rcsec_store_sqlite::audit::read_all_lines(&path).unwrap();
    let verified = Verifier::new()
        .pin_key(signer(1).verifying_key())
        .verify_bytes(&lines)
        .unwrap();
    assert_eq!(verified.head.size, 21);
    assert_eq!(verified.checkpoints, 2);
}

#[test]
fn reopen_resumes_from_the_latest_checkpoint_and_refuses_forgeries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let clock = ManualClock::new(Timestamp::from_secs(1_800_000_000));
    let store = SqliteStore::open(&path).unwrap();
    let sink = SqliteAuditSink::with_checkpoints(store.clone(), config(1, 5, &clock)).unwrap();
    let head = rt().block_on(async {
        sink.append(events(6, "a")).await.unwrap();
        sink.append(events(2, "b")).await.unwrap()
    });
    drop(sink);
    // Damage an event the checkpoint covers: a sink resuming from the checkpoint does not
    // read it (that is the point), while a full verification still catches it.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "DROP TRIGGER audit_events_no_update;
         UPDATE audit_events SET line = CAST(replace(CAST(line AS TEXT), '\"a\"', '\"x\"') AS BLOB)
         WHERE seq = 1;",
    )
    .unwrap();
    let resumed = SqliteAuditSink::with_checkpoints(store.clone(), config(1, 5, &clock)).unwrap();
    assert_eq!(rt().block_on(resumed.head()).unwrap(), head);
    let lines = rcsec_store_sqlite::audit::read_all_lines(&path).unwrap();
    assert_eq!(Verifier::new().verify_bytes(&lines).unwrap_err().index, 1);
    // A sink without a signer cannot trust the checkpoint, so it re-reads everything.
    match SqliteAuditSink::open(store.clone()) {
        Err(SinkError::Corrupt(e)) => assert_eq!(e.index, 1),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // A checkpoint by another key is refused, not resumed from.
    match SqliteAuditSink::with_checkpoints(store.clone(), config(2, 5, &clock)) {
        Err(SinkError::Corrupt(e)) => {
            assert!(matches!(e.failure, VerifyFailure::Checkpoint(_)), "{e:?}");
            assert_eq!(e.index, 6);
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // A tampered frontier no longer has the signed root.
    raw.execute_batch(
        "DROP TRIGGER audit_checkpoints_no_update;
         UPDATE audit_checkpoints SET frontier = zeroblob(length(frontier));",
    )
    .unwrap();
    match SqliteAuditSink::with_checkpoints(store, config(1, 5, &clock)) {
        Err(SinkError::Corrupt(e)) => assert_eq!(e.failure, VerifyFailure::RootMismatch),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn rows_after_the_checkpoint_are_still_verified_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let clock = ManualClock::new(Timestamp::from_secs(1_800_000_000));
    let store = SqliteStore::open(&path).unwrap();
    let sink = SqliteAuditSink::with_checkpoints(store.clone(), config(1, 4, &clock)).unwrap();
    rt().block_on(async {
        sink.append(events(4, "a")).await.unwrap();
        sink.append(events(3, "b")).await.unwrap();
    });
    drop(sink);
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "DROP TRIGGER audit_events_no_update;
         UPDATE audit_events SET line = CAST(replace(CAST(line AS TEXT), '\"b\"', '\"y\"') AS BLOB)
         WHERE seq = 5;",
    )
    .unwrap();
    match SqliteAuditSink::with_checkpoints(store, config(1, 4, &clock)) {
        Err(SinkError::Corrupt(e)) => {
            assert_eq!((e.index, e.failure), (5, VerifyFailure::ChainMismatch));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}
