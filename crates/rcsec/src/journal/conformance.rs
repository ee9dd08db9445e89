//! Conformance suite every [`StepJournal`] runs unchanged.
//!
//! ```text
//! rcsec::journal_tests!(|| MyJournal::open_for_tests());
//! ```
//! The argument is called once per test and must return a journal over an empty outbox and
//! an empty audit log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "test suite"
)]

use std::sync::Arc;
use std::time::Duration;

use rcsec_audit::sink::conformance::events;
use rcsec_core::Timestamp;

use super::StepJournal;
use crate::message::MessageId;
use crate::outbox::conformance::message;
use crate::outbox::{ClaimToken, OutboxError, OutboxState, Settlement};

/// Expands one `#[test]` per journal conformance check.
#[macro_export]
macro_rules! journal_tests {
    ($ctor:expr) => {
        $crate::__journal_tests!($ctor;
            record_and_enqueue_appends_then_stores_and_claims,
            settle_and_record_audits_only_applied_outcomes,
            empty_steps_write_nothing);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __journal_tests {
    ($ctor:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                let journal: ::std::sync::Arc<dyn $crate::journal::StepJournal> =
                    ::std::sync::Arc::new(($ctor)());
                $crate::outbox::conformance::block_on(
                    $crate::journal::conformance::$name(journal),
                );
            }
        )*
    };
}

const T0: Timestamp = Timestamp::from_secs(1_800_000_000);
const LEASE: Duration = Duration::from_secs(30);

/// The events land in the log in order; the messages are stored and claimed exactly as
/// `enqueue_claimed` does (a repeat is stored once and not claimed again).
pub async fn record_and_enqueue_appends_then_stores_and_claims(j: Arc<dyn StepJournal>) {
    let (outbox, sink) = (j.outbox(), j.audit_sink());
    let batch = [message(0), message(1)];
    let claims = j
        .record_and_enqueue(events(3, "step"), &batch, T0, LEASE)
        .await
        .unwrap();
    assert_eq!(sink.head().await.unwrap().size, 3);
    let logged = sink.read_range(0, 3).await.unwrap();
    assert!(
        logged
            .iter()
            .all(|e| e.outcome().map(|l| l.as_str()) == Some("step"))
    );
    assert_eq!(claims.len(), 2);
    for (n, claim) in claims.iter().enumerate() {
        let status = outbox.status(&batch[n].id, T0).await.unwrap().unwrap();
        match claim {
            Some(c) => {
                assert_eq!((&c.message, c.attempt), (&batch[n], 1));
                assert_eq!(status.state, OutboxState::InFlight);
            }
            None => assert_eq!(status.state, OutboxState::Pending),
        }
    }

    let again = j
        .record_and_enqueue(events(1, "again"), &batch, T0, LEASE)
        .await
        .unwrap();
    assert!(again.iter().all(Option::is_none), "a repeat is not claimed");
    assert_eq!(sink.head().await.unwrap().size, 4);
    assert_eq!(outbox.depth().await.unwrap(), 2);
}

/// Each settlement applies as `settle` would; only the events of the applied ones are
/// appended, in order, and a refused one (stale, terminal, unknown) leaves no audit line.
pub async fn settle_and_record_audits_only_applied_outcomes(j: Arc<dyn StepJournal>) {
    let (outbox, sink) = (j.outbox(), j.audit_sink());
    for n in 0..3 {
        outbox.enqueue(&message(n), T0).await.unwrap();
    }
    let c: Vec<ClaimToken> = outbox
        .claim_due(T0, LEASE, 10)
        .await
        .unwrap()
        .iter()
        .map(|c| c.token())
        .collect();
    let sent = |claim: &ClaimToken| Settlement::Sent {
        claim: claim.clone(),
        provider: "p".to_owned(),
        delivery_id: "d".to_owned(),
    };
    let tagged = |tag: &str| events(1, tag).pop();
    let stale = ClaimToken::new(c[1].id.clone(), c[1].attempt - 1);
    let unknown = ClaimToken::new(MessageId::new("never-enqueued").unwrap(), 1);
    let outcomes = vec![
        (sent(&c[0]), tagged("sent-0")),
        (sent(&stale), tagged("stale-1")),
        (
            Settlement::Failed {
                claim: c[2].clone(),
                reason: "rejected".to_owned(),
            },
            tagged("failed-2"),
        ),
        (sent(&unknown), tagged("unknown")),
        (sent(&c[0]), tagged("again-0")),
        (
            Settlement::Retry {
                claim: c[1].clone(),
                next_attempt_at: T0.saturating_add(Duration::from_secs(5)),
                reason: "rate_limited".to_owned(),
            },
            None,
        ),
    ];
    let results = j.settle_and_record(outcomes, T0).await.unwrap();
    assert_eq!(results.len(), 6);
    assert!(results[0].is_ok() && results[2].is_ok() && results[5].is_ok());
    assert!(matches!(results[1], Err(OutboxError::StaleClaim)));
    assert!(matches!(results[3], Err(OutboxError::NotFound)));
    assert!(matches!(results[4], Err(OutboxError::AlreadyTerminal)));

    let size = sink.head().await.unwrap().size;
    let outcomes: Vec<String> = sink
        .read_range(0, size)
        .await
        .unwrap()
        .iter()
        .map(|e| e.outcome().map_or("", |l| l.as_str()).to_owned())
        .collect();
    assert_eq!(outcomes, ["sent-0", "failed-2"]);
    let state = |n: u32| {
        let o = Arc::clone(&outbox);
        async move { o.status(&message(n).id, T0).await.unwrap().unwrap().state }
    };
    assert_eq!(state(0).await, OutboxState::Sent);
    assert_eq!(state(1).await, OutboxState::Pending);
    assert_eq!(state(2).await, OutboxState::Failed);
}

/// A step with nothing to write writes nothing.
pub async fn empty_steps_write_nothing(j: Arc<dyn StepJournal>) {
    let (outbox, sink) = (j.outbox(), j.audit_sink());
    let claims = j
        .record_and_enqueue(Vec::new(), &[], T0, LEASE)
        .await
        .unwrap();
    assert!(claims.is_empty());
    assert!(
        j.settle_and_record(Vec::new(), T0)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(sink.head().await.unwrap().size, 0);
    assert_eq!(outbox.depth().await.unwrap(), 0);
}
