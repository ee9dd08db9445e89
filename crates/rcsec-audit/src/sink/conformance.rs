//! The conformance suite every [`AuditSink`] adapter runs (feature `test-utils`).
//!
//! Invoke [`audit_sink_tests!`](crate::audit_sink_tests) from an adapter's `tests/` with an
//! expression that evaluates to a constructor `Fn(&Path) -> Arc<dyn AuditSink>`: each test
//! gets a fresh empty directory, and calling the constructor again with the same directory
//! must reopen the same log (an in-memory sink can return another handle on one shared log).
//! The expanded tests use `#[tokio::test]`, so the caller needs `tokio` (with `macros` and
//! `rt-multi-thread`) and `tempfile` as dev-dependencies.
//!
//! ```text
//! rcsec_audit::audit_sink_tests!(|dir: &std::path::Path| {
//!     std::sync::Arc::new(MySink::open(dir).unwrap()) as std::sync::Arc<dyn AuditSink>
//! });
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test suite fails loudly"
)]
#![allow(
    clippy::missing_panics_doc,
    reason = "every function here is a test that panics"
)]

use std::path::Path;
use std::sync::Arc;

use rcsec_core::{AlertId, Msisdn, Secret, Timestamp};

use super::AuditSink;
use crate::chain::{ChainState, Head};
use crate::event::{AuditEvent, EventKind, PendingEvent};
use crate::line::encode_event;
use crate::merkle::{Hash, empty_root};
use crate::pseudonym::{AuditKey, Pseudonymizer};

/// A constructor of sinks over a directory: any `Fn(&Path) -> Arc<dyn AuditSink>`.
///
/// Called once per test with a fresh empty directory, and again with the same directory when
/// a test checks reopening, which must reach the same log.
///
/// ```
/// use std::path::Path;
/// use std::sync::Arc;
/// use rcsec_audit::sink::conformance::SinkConstructor;
/// use rcsec_audit::{AuditSink, JsonlAuditSink, JsonlOptions};
///
/// fn takes(_: impl SinkConstructor) {}
/// takes(|dir: &Path| {
///     let sink = JsonlAuditSink::open(dir, JsonlOptions::default()).unwrap();
///     Arc::new(sink) as Arc<dyn AuditSink>
/// });
/// ```
pub trait SinkConstructor: Fn(&Path) -> Arc<dyn AuditSink> {}
impl<F: Fn(&Path) -> Arc<dyn AuditSink>> SinkConstructor for F {}

fn pseudonymizer() -> Pseudonymizer {
    Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([0x5a; 32])))
}

/// `n` varied events tagged with `tag` in their outcome.
pub fn events(n: usize, tag: &str) -> Vec<PendingEvent> {
    let p = pseudonymizer();
    let to = Msisdn::parse("+447700900123").unwrap();
    (0..n)
        .map(|i| {
            let kind = match i % 3 {
                0 => EventKind::MessageSent,
                1 => EventKind::Delivered,
                _ => EventKind::LinkIssued,
            };
            p.event(kind, Timestamp::from_secs(1_700_000_000 + i as u64))
                .alert(AlertId::new(format!("alert-{i}")).unwrap())
                .recipient(&to)
                .message(format!("message {i}").as_bytes())
                .route("rcs_e2ee")
                .outcome(tag)
                .build()
                .unwrap()
        })
        .collect()
}

/// The head a correct log of exactly `events` must have.
pub fn expected_head(events: &[AuditEvent]) -> Head {
    let mut state = ChainState::new();
    let mut buf = Vec::new();
    for e in events {
        buf.clear();
        encode_event(e, &mut buf);
        state.absorb(&[&buf]);
    }
    state.head()
}

async fn all(sink: &dyn AuditSink) -> Vec<AuditEvent> {
    let size = sink.head().await.unwrap().size;
    sink.read_range(0, size).await.unwrap()
}

/// An empty sink has the empty head; appends number events from 0 and the head is the
/// chain and tree over exactly what was appended.
pub async fn append_and_head(make: impl SinkConstructor, dir: &Path) {
    let sink = make(dir);
    let empty = sink.head().await.unwrap();
    assert_eq!(
        empty,
        Head {
            size: 0,
            chain: Hash::default(),
            root: empty_root()
        }
    );
    let h1 = sink.append(events(3, "first")).await.unwrap();
    assert_eq!(h1.size, 3);
    let h2 = sink.append(events(4, "second")).await.unwrap();
    assert_eq!(h2.size, 7);
    assert_eq!(sink.head().await.unwrap(), h2);
    let stored = all(&*sink).await;
    let seqs: Vec<u64> = stored.iter().map(AuditEvent::sequence).collect();
    assert_eq!(seqs, (0..7).collect::<Vec<_>>());
    assert_eq!(expected_head(&stored), h2);
    assert_eq!(expected_head(&stored[..3]), h1);
    let empty_batch = sink.append(Vec::new()).await.unwrap();
    assert_eq!(empty_batch, h2);
}

/// Ranges return exactly the requested events; bad ranges are errors.
pub async fn ranges(make: impl SinkConstructor, dir: &Path) {
    let sink = make(dir);
    sink.append(events(10, "r")).await.unwrap();
    let mid = sink.read_range(2, 5).await.unwrap();
    assert_eq!(
        mid.iter().map(AuditEvent::sequence).collect::<Vec<_>>(),
        [2, 3, 4]
    );
    assert!(sink.read_range(4, 4).await.unwrap().is_empty());
    assert_eq!(sink.read_range(0, 10).await.unwrap().len(), 10);
    assert!(matches!(
        sink.read_range(5, 3).await,
        Err(super::SinkError::InvalidRange { .. })
    ));
    assert!(matches!(
        sink.read_range(0, 11).await,
        Err(super::SinkError::InvalidRange { size: 10, .. })
    ));
}

/// Concurrent appenders produce one gap-free chain, each batch contiguous.
pub async fn concurrent_appends(make: impl SinkConstructor, dir: &Path) {
    let sink = make(dir);
    let mut tasks = Vec::new();
    for t in 0..8 {
        let sink = Arc::clone(&sink);
        tasks.push(tokio::spawn(async move {
            for b in 0..5 {
                sink.append(events(4, &format!("t{t}b{b}"))).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stored = all(&*sink).await;
    assert_eq!(stored.len(), 8 * 5 * 4);
    for (i, e) in stored.iter().enumerate() {
        assert_eq!(e.sequence(), i as u64);
    }
    for batch in stored.chunks(4) {
        let tag = batch[0].outcome().unwrap();
        assert!(
            batch.iter().all(|e| e.outcome() == Some(tag)),
            "batch split"
        );
    }
    assert_eq!(expected_head(&stored), sink.head().await.unwrap());
}

/// Reopening the same storage resumes the chain where it ended.
pub async fn reopen(make: impl SinkConstructor, dir: &Path) {
    let first = make(dir);
    first.append(events(5, "before")).await.unwrap();
    let head = first.head().await.unwrap();
    drop(first);
    let again = make(dir);
    assert_eq!(again.head().await.unwrap(), head);
    let after = again.append(events(3, "after")).await.unwrap();
    assert_eq!(after.size, 8);
    let stored = all(&*again).await;
    assert_eq!(stored[5].sequence(), 5);
    assert_eq!(stored[7].outcome().map(|l| l.as_str()), Some("after"));
    assert_eq!(expected_head(&stored), after);
}

/// Expands the conformance tests for one sink constructor (see the module docs).
#[macro_export]
macro_rules! audit_sink_tests {
    ($make:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn audit_sink_append_and_head() {
            let dir = tempfile::tempdir().unwrap();
            $crate::sink::conformance::append_and_head($make, dir.path()).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn audit_sink_ranges() {
            let dir = tempfile::tempdir().unwrap();
            $crate::sink::conformance::ranges($make, dir.path()).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn audit_sink_concurrent_appends() {
            let dir = tempfile::tempdir().unwrap();
            $crate::sink::conformance::concurrent_appends($make, dir.path()).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn audit_sink_reopen() {
            let dir = tempfile::tempdir().unwrap();
            $crate::sink::conformance::reopen($make, dir.path()).await;
        }
    };
}
