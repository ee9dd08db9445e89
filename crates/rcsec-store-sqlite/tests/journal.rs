//! [`SqliteJournal`]: one transaction per step, so a failure or a crash leaves the whole step
//! or nothing, and the journal, the plain sink and other writers extend one audit chain.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rcsec::journal::{JournalError, StepJournal};
use rcsec::outbox::conformance::message;
use rcsec::{OutboxError, OutboxState, Settlement};
use rcsec_audit::sink::conformance::events;
use rcsec_audit::{AuditSink, SinkError, Verifier};
use rcsec_core::Timestamp;
use rcsec_store_sqlite::{SqliteAuditSink, SqliteJournal, SqliteStore};

const T0: Timestamp = Timestamp::from_secs(1_800_000_000);
const LEASE: Duration = Duration::from_secs(30);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn open(path: &Path) -> SqliteJournal {
    SqliteJournal::new(SqliteAuditSink::open(SqliteStore::open(path).unwrap()).unwrap())
}

fn at(secs: u64) -> Timestamp {
    T0.saturating_add(Duration::from_secs(secs))
}

fn sent(claim: &rcsec::ClaimToken, delivery: &str) -> Settlement {
    Settlement::Sent {
        claim: claim.clone(),
        provider: "loopback".to_owned(),
        delivery_id: delivery.to_owned(),
    }
}

/// The outcomes (`outcome` labels) of the verified log on disk, in order.
fn logged_outcomes(path: &Path) -> Vec<String> {
    let lines = rcsec_store_sqlite::audit::read_all_lines(path).unwrap();
    Verifier::new().verify_bytes(&lines).unwrap();
    runtime().block_on(async {
        let sink = SqliteAuditSink::open(SqliteStore::open(path).unwrap()).unwrap();
        let size = sink.head().await.unwrap().size;
        sink.read_range(0, size)
            .await
            .unwrap()
            .iter()
            .map(|e| e.outcome().map_or("", |l| l.as_str()).to_owned())
            .collect()
    })
}

/// A step whose outbox part fails (here a trigger refuses the insert) writes no audit line
/// either; the cached chain head did not move, so the next step continues the chain.
#[test]
fn an_outbox_failure_rolls_back_the_steps_audit_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    let journal = open(&path);
    let rt = runtime();
    rt.block_on(async {
        journal
            .record_and_enqueue(events(2, "first"), &[message(0)], T0, LEASE)
            .await
            .unwrap();
    });
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox \
         BEGIN SELECT RAISE(ABORT, 'refused'); END;",
    )
    .unwrap();
    rt.block_on(async {
        let e = journal
            .record_and_enqueue(events(3, "lost"), &[message(1)], T0, LEASE)
            .await
            .unwrap_err();
        assert!(
            matches!(e, JournalError::Outbox(OutboxError::Backend(_))),
            "{e:?}"
        );
        assert_eq!(journal.audit_sink().head().await.unwrap().size, 2);
        assert!(
            journal
                .outbox()
                .status(&message(1).id, T0)
                .await
                .unwrap()
                .is_none()
        );
    });
    raw.execute_batch("DROP TRIGGER refuse_outbox;").unwrap();
    rt.block_on(async {
        let claims = journal
            .record_and_enqueue(events(1, "second"), &[message(1)], T0, LEASE)
            .await
            .unwrap();
        assert_eq!(claims.len(), 1);
        assert!(claims[0].is_some());
    });
    assert_eq!(logged_outcomes(&path), ["first", "first", "second"]);
}

/// A step whose audit part fails (the log's tail was rewritten behind the journal's back)
/// stores no message and settles nothing: nothing is sent or recorded unaudited.
#[test]
fn an_audit_failure_rolls_back_the_steps_outbox_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    let journal = open(&path);
    let rt = runtime();
    let claim = rt.block_on(async {
        let claims = journal
            .record_and_enqueue(events(2, "before"), &[message(0)], T0, LEASE)
            .await
            .unwrap();
        claims[0].clone().unwrap()
    });
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "DROP TRIGGER audit_events_no_update;
         UPDATE audit_events SET line = CAST(replace(CAST(line AS TEXT), 'before', 'after_') AS BLOB)
         WHERE seq = 1;",
    )
    .unwrap();
    rt.block_on(async {
        let e = journal
            .record_and_enqueue(events(1, "next"), &[message(1)], T0, LEASE)
            .await
            .unwrap_err();
        assert!(
            matches!(e, JournalError::Audit(SinkError::Corrupt(ref v)) if v.index == 1),
            "{e:?}"
        );
        let outbox = journal.outbox();
        assert!(outbox.status(&message(1).id, T0).await.unwrap().is_none());

        let e = journal
            .settle_and_record(
                vec![(sent(&claim.token(), "d-1"), events(1, "sent").pop())],
                T0,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, JournalError::Audit(SinkError::Corrupt(_))),
            "{e:?}"
        );
        let status = outbox.status(&message(0).id, T0).await.unwrap().unwrap();
        assert_eq!((status.state, status.attempts), (OutboxState::InFlight, 1));
    });
}

/// A crash between the steps of a send: the page was stored and claimed, the process died
/// before settling. Nothing is lost (the message is claimed again once the lease runs out)
/// and nothing is recorded twice (the dead claim is stale, its outcome and audit line are
/// refused).
#[test]
fn a_crash_after_enqueue_loses_nothing_and_records_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    let rt = runtime();
    let dead_claim = rt.block_on(async {
        let first = open(&path);
        let claims = first
            .record_and_enqueue(events(2, "decided"), &[message(0)], T0, LEASE)
            .await
            .unwrap();
        claims[0].clone().unwrap().token()
        // `first` is dropped here with its claim unsettled: the crash.
    });
    rt.block_on(async {
        let second = open(&path);
        let outbox = second.outbox();
        // The lease still holds: nobody else sends it yet.
        assert!(
            outbox
                .claim_due(at(10), LEASE, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let again = outbox.claim_due(at(30), LEASE, 10).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!((&again[0].message, again[0].attempt), (&message(0), 2));

        // The dead worker's outcome (had it survived) is refused, with its audit line.
        let results = second
            .settle_and_record(
                vec![(sent(&dead_claim, "d-1"), events(1, "stale").pop())],
                at(31),
            )
            .await
            .unwrap();
        assert!(matches!(results[0], Err(OutboxError::StaleClaim)));
        let results = second
            .settle_and_record(
                vec![(sent(&again[0].token(), "d-2"), events(1, "sent").pop())],
                at(31),
            )
            .await
            .unwrap();
        assert!(results[0].is_ok());
        let status = outbox
            .status(&message(0).id, at(31))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (status.state, status.delivery_id.as_deref()),
            (OutboxState::Sent, Some("d-2"))
        );
    });
    assert_eq!(logged_outcomes(&path), ["decided", "decided", "sent"]);
}

/// The journal shares its sink's cached chain head, and another handle on the file (a second
/// process) appends in between: every writer extends one chain, none forks it.
#[test]
fn the_journal_the_sink_and_a_second_writer_extend_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    let store = SqliteStore::open(&path).unwrap();
    let sink = SqliteAuditSink::open(store).unwrap();
    let journal = SqliteJournal::new(sink.clone());
    let other = SqliteAuditSink::open(SqliteStore::open(&path).unwrap()).unwrap();
    runtime().block_on(async {
        for round in 0..4u32 {
            journal
                .record_and_enqueue(events(2, "journal"), &[message(round)], T0, LEASE)
                .await
                .unwrap();
            other.append(events(1, "other")).await.unwrap();
            sink.append(events(1, "sink")).await.unwrap();
        }
        let journal_sink: Arc<dyn AuditSink> = journal.audit_sink();
        assert_eq!(journal_sink.head().await.unwrap().size, 16);
        assert_eq!(sink.head().await.unwrap(), other.head().await.unwrap());
    });
    let outcomes = logged_outcomes(&path);
    assert_eq!(outcomes.len(), 16);
    assert_eq!(outcomes[..4], ["journal", "journal", "other", "sink"]);
}
