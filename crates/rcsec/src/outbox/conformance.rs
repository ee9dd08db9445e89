//! Conformance suite every [`Outbox`] adapter runs unchanged.
//!
//! ```text
//! // tests/conformance.rs of a store crate
//! rcsec::outbox_tests!(|| MyOutbox::open_for_tests());
//! ```
//! The argument is called once per test and must return an empty outbox. Each expanded test is
//! a plain `#[test]` on a multi-threaded tokio runtime this crate provides.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "test suite"
)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rcsec_core::Route;
use rcsec_core::{AlertId, Msisdn, Redacted, Timestamp};
use tokio::sync::Barrier;

use super::{ClaimToken, Outbox, OutboxError, OutboxState, Settlement};
use crate::message::{ActionKind, MessageBody, MessageId, OutboundMessage};

/// Runs a suite future on a fresh 4-worker runtime.
pub fn block_on<F: Future<Output = ()>>(f: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f);
}

/// Expands one `#[test]` per outbox conformance check.
#[macro_export]
macro_rules! outbox_tests {
    ($ctor:expr) => {
        $crate::__outbox_tests!($ctor;
            enqueue_is_idempotent_and_round_trips, claim_hands_each_message_out_once,
            lease_expiry_returns_message, retry_reschedules, terminal_states_refuse_updates,
            expiry_ends_unsent_messages, claims_oldest_first_and_respects_limit,
            unknown_ids_are_not_found, concurrent_claim_race,
            stale_claim_cannot_overwrite_a_newer_claim, expired_lease_without_newer_claim_still_records,
            unclaimed_message_fails_under_its_status_token, enqueue_batch_is_enqueue_per_message,
            settle_applies_each_settlement_as_its_mark_would,
            enqueue_claimed_hands_out_first_claims_under_fencing);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __outbox_tests {
    ($ctor:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                let outbox: ::std::sync::Arc<dyn $crate::outbox::Outbox> =
                    ::std::sync::Arc::new(($ctor)());
                $crate::outbox::conformance::block_on(
                    $crate::outbox::conformance::$name(outbox),
                );
            }
        )*
    };
}

const T0: Timestamp = Timestamp::from_secs(1_800_000_000);
const LEASE: Duration = Duration::from_secs(30);

/// A message with a distinct id, due at `T0`, expiring an hour later.
pub fn message(n: u32) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::new(format!("msg-{n}")).unwrap(),
        alert: AlertId::new("c4a1b2d3e4f50617").unwrap(),
        recipient: Msisdn::parse("+447700900123").unwrap(),
        route: if n.is_multiple_of(2) {
            Route::RcsPlain
        } else {
            Route::SmsLink
        },
        body: if n.is_multiple_of(2) {
            MessageBody::Text {
                text: Redacted::new("text", format!("alert {n}: [redacted aws_access_key]")),
                actions: vec![ActionKind::Acknowledge, ActionKind::TakeOwnership],
            }
        } else {
            MessageBody::Sms {
                text: Redacted::new("text", format!("P1 alert {n}: https://x.test/l/t")),
            }
        },
        created_at: T0,
        expires_at: T0.saturating_add(Duration::from_secs(3_600)),
    }
}

fn at(secs: u64) -> Timestamp {
    T0.saturating_add(Duration::from_secs(secs))
}

/// Enqueue twice keeps one copy; the claimed message equals the enqueued one.
pub async fn enqueue_is_idempotent_and_round_trips(o: Arc<dyn Outbox>) {
    let m = message(0);
    assert!(o.enqueue(&m, T0).await.unwrap());
    assert!(!o.enqueue(&m, T0).await.unwrap());
    assert_eq!(o.depth().await.unwrap(), 1);
    let status = o.status(&m.id, T0).await.unwrap().unwrap();
    assert_eq!((status.state, status.attempts), (OutboxState::Pending, 0));
    let claims = o.claim_due(T0, LEASE, 10).await.unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].message, m);
    assert_eq!(claims[0].attempt, 1);
    assert_eq!(claims[0].lease_until, at(30));
}

/// A claimed message is not handed to anyone else while its lease lives.
pub async fn claim_hands_each_message_out_once(o: Arc<dyn Outbox>) {
    o.enqueue(&message(0), T0).await.unwrap();
    assert_eq!(o.claim_due(T0, LEASE, 10).await.unwrap().len(), 1);
    assert!(o.claim_due(at(1), LEASE, 10).await.unwrap().is_empty());
    assert_eq!(
        o.status(&message(0).id, at(1))
            .await
            .unwrap()
            .unwrap()
            .state,
        OutboxState::InFlight
    );
    assert_eq!(o.depth().await.unwrap(), 1);
}

/// A worker that dies leaves its lease to run out; the next claim gets attempt 2.
pub async fn lease_expiry_returns_message(o: Arc<dyn Outbox>) {
    o.enqueue(&message(0), T0).await.unwrap();
    o.claim_due(T0, LEASE, 10).await.unwrap();
    assert!(o.claim_due(at(29), LEASE, 10).await.unwrap().is_empty());
    let again = o.claim_due(at(30), LEASE, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempt, 2);
    o.mark_sent(&again[0].token(), "loopback", "d-1", at(31))
        .await
        .unwrap();
    let status = o.status(&message(0).id, at(31)).await.unwrap().unwrap();
    assert_eq!(status.state, OutboxState::Sent);
    assert_eq!(status.provider.as_deref(), Some("loopback"));
    assert_eq!(status.delivery_id.as_deref(), Some("d-1"));
    assert_eq!(o.depth().await.unwrap(), 0);
}

/// A transient failure puts the message back, due at the given time, with the reason kept.
pub async fn retry_reschedules(o: Arc<dyn Outbox>) {
    let id = message(0).id;
    o.enqueue(&message(0), T0).await.unwrap();
    let claim = o.claim_due(T0, LEASE, 10).await.unwrap().remove(0);
    o.mark_retry(&claim.token(), at(10), "provider_unavailable")
        .await
        .unwrap();
    let status = o.status(&id, at(1)).await.unwrap().unwrap();
    assert_eq!(status.state, OutboxState::Pending);
    assert_eq!(status.next_attempt_at, at(10));
    assert_eq!(status.last_error.as_deref(), Some("provider_unavailable"));
    assert!(o.claim_due(at(9), LEASE, 10).await.unwrap().is_empty());
    let claims = o.claim_due(at(10), LEASE, 10).await.unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].attempt, 2);
}

/// Sent, failed and expired are final.
pub async fn terminal_states_refuse_updates(o: Arc<dyn Outbox>) {
    for n in 0..2 {
        o.enqueue(&message(n), T0).await.unwrap();
    }
    let claims = o.claim_due(T0, LEASE, 10).await.unwrap();
    o.mark_sent(&claims[0].token(), "p", "d", T0).await.unwrap();
    o.mark_failed(&claims[1].token(), "rejected", T0)
        .await
        .unwrap();
    for claim in &claims {
        let id = claim.token();
        assert!(matches!(
            o.mark_failed(&id, "x", T0).await,
            Err(OutboxError::AlreadyTerminal)
        ));
        assert!(matches!(
            o.mark_retry(&id, T0, "x").await,
            Err(OutboxError::AlreadyTerminal)
        ));
        assert!(matches!(
            o.mark_sent(&id, "p", "d", T0).await,
            Err(OutboxError::AlreadyTerminal)
        ));
    }
    assert_eq!(
        o.status(&message(1).id, T0).await.unwrap().unwrap().state,
        OutboxState::Failed
    );
    assert!(o.claim_due(at(1_000), LEASE, 10).await.unwrap().is_empty());
    assert!(o.expire_due(at(7_200)).await.unwrap().is_empty());
    assert_eq!(o.depth().await.unwrap(), 0);
}

/// A message not sent before `expires_at` is never claimed and ends expired.
pub async fn expiry_ends_unsent_messages(o: Arc<dyn Outbox>) {
    for n in 0..3 {
        o.enqueue(&message(n), T0).await.unwrap();
    }
    let first = o.claim_due(T0, LEASE, 1).await.unwrap().remove(0);
    o.mark_sent(&first.token(), "p", "d", T0).await.unwrap();
    assert!(o.claim_due(at(3_600), LEASE, 10).await.unwrap().is_empty());
    let expired = o.expire_due(at(3_600)).await.unwrap();
    assert_eq!(expired, vec![message(1).id, message(2).id]);
    assert_eq!(
        o.status(&message(2).id, at(3_600))
            .await
            .unwrap()
            .unwrap()
            .state,
        OutboxState::Expired
    );
    assert!(o.expire_due(at(3_601)).await.unwrap().is_empty());
    assert_eq!(o.depth().await.unwrap(), 0);
}

/// Oldest due first, at most `limit` per claim.
pub async fn claims_oldest_first_and_respects_limit(o: Arc<dyn Outbox>) {
    for n in 0..5 {
        o.enqueue(&message(n), at(u64::from(n))).await.unwrap();
    }
    let first: Vec<_> = o
        .claim_due(at(10), LEASE, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.message.id)
        .collect();
    assert_eq!(first, vec![message(0).id, message(1).id]);
    let rest: Vec<_> = o
        .claim_due(at(10), LEASE, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.message.id)
        .collect();
    assert_eq!(rest, vec![message(2).id, message(3).id, message(4).id]);
    assert!(o.claim_due(at(4), LEASE, 10).await.unwrap().is_empty());
}

/// Updates of ids never enqueued are typed errors.
pub async fn unknown_ids_are_not_found(o: Arc<dyn Outbox>) {
    let unknown = MessageId::new("never-enqueued").unwrap();
    assert!(o.status(&unknown, T0).await.unwrap().is_none());
    let id = ClaimToken::new(unknown, 1);
    assert!(matches!(
        o.mark_sent(&id, "p", "d", T0).await,
        Err(OutboxError::NotFound)
    ));
    assert!(matches!(
        o.mark_retry(&id, T0, "x").await,
        Err(OutboxError::NotFound)
    ));
    assert!(matches!(
        o.mark_failed(&id, "x", T0).await,
        Err(OutboxError::NotFound)
    ));
}

/// 64 workers claim at once, 50 rounds: each message goes to exactly one of them.
pub async fn concurrent_claim_race(o: Arc<dyn Outbox>) {
    for round in 0..50u32 {
        let m = message(1_000 + round);
        o.enqueue(&m, T0).await.unwrap();
        let barrier = Arc::new(Barrier::new(64));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (o, barrier) = (Arc::clone(&o), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    o.claim_due(T0, LEASE, 1).await.unwrap()
                })
            })
            .collect();
        let mut winners = Vec::new();
        for t in tasks {
            winners.extend(t.await.unwrap());
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: {} workers claimed one message",
            winners.len()
        );
        o.mark_sent(&winners[0].token(), "p", "d", T0)
            .await
            .unwrap();
    }
}

/// A worker whose lease ran out and whose message was claimed again cannot record anything:
/// every `mark_*` under the old token is refused and changes nothing.
pub async fn stale_claim_cannot_overwrite_a_newer_claim(o: Arc<dyn Outbox>) {
    let id = message(0).id;
    o.enqueue(&message(0), T0).await.unwrap();
    let slow = o.claim_due(T0, LEASE, 10).await.unwrap().remove(0).token();
    let newer = o
        .claim_due(at(30), LEASE, 10)
        .await
        .unwrap()
        .remove(0)
        .token();
    assert_eq!((slow.attempt, newer.attempt), (1, 2));
    let stale = |r: Result<(), OutboxError>| matches!(r, Err(OutboxError::StaleClaim));
    assert!(stale(o.mark_sent(&slow, "late", "d-late", at(31)).await));
    assert!(stale(o.mark_retry(&slow, at(40), "timeout").await));
    assert!(stale(o.mark_failed(&slow, "rejected", at(31)).await));
    let status = o.status(&id, at(31)).await.unwrap().unwrap();
    assert_eq!((status.state, status.attempts), (OutboxState::InFlight, 2));
    assert_eq!((status.provider, status.last_error), (None, None));

    // The newer claim records normally; the slow one stays refused, even once terminal.
    o.mark_retry(&newer, at(50), "rate_limited").await.unwrap();
    let third = o
        .claim_due(at(50), LEASE, 10)
        .await
        .unwrap()
        .remove(0)
        .token();
    assert!(stale(o.mark_sent(&newer, "p", "d-2", at(51)).await));
    o.mark_sent(&third, "p", "d-3", at(51)).await.unwrap();
    assert!(stale(o.mark_failed(&slow, "x", at(52)).await));
    let status = o.status(&id, at(52)).await.unwrap().unwrap();
    assert_eq!(status.state, OutboxState::Sent);
    assert_eq!(status.delivery_id.as_deref(), Some("d-3"));
}

/// A lease that ran out with nobody claiming the message since does not void the worker's
/// token: its send may well have succeeded, and recording that is right.
pub async fn expired_lease_without_newer_claim_still_records(o: Arc<dyn Outbox>) {
    let id = message(0).id;
    o.enqueue(&message(0), T0).await.unwrap();
    let claim = o.claim_due(T0, LEASE, 10).await.unwrap().remove(0);
    o.mark_sent(&claim.token(), "p", "d-1", at(45))
        .await
        .unwrap();
    let status = o.status(&id, at(45)).await.unwrap().unwrap();
    assert_eq!(status.state, OutboxState::Sent);
    assert!(o.claim_due(at(60), LEASE, 10).await.unwrap().is_empty());
}

/// A message can be taken out of the queue without a claim, under the attempt count read
/// from `status`, which is refused once a worker claims it in between.
pub async fn unclaimed_message_fails_under_its_status_token(o: Arc<dyn Outbox>) {
    for n in 0..2 {
        o.enqueue(&message(n), T0).await.unwrap();
    }
    let read = |n: u32| {
        let o = Arc::clone(&o);
        async move {
            let status = o.status(&message(n).id, T0).await.unwrap().unwrap();
            ClaimToken::new(message(n).id, status.attempts)
        }
    };
    let first = read(0).await;
    o.mark_failed(&first, "stored_message_corrupt", T0)
        .await
        .unwrap();
    assert_eq!(
        o.status(&message(0).id, T0).await.unwrap().unwrap().state,
        OutboxState::Failed
    );

    let second = read(1).await;
    let claimed = o.claim_due(T0, LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(matches!(
        o.mark_failed(&second, "operator", T0).await,
        Err(OutboxError::StaleClaim)
    ));
    o.mark_sent(&claimed[0].token(), "p", "d", T0)
        .await
        .unwrap();
}

/// A batch enqueue is idempotent per message, reports which were new, keeps batch order for
/// claiming, and an empty batch is a no-op.
pub async fn enqueue_batch_is_enqueue_per_message(o: Arc<dyn Outbox>) {
    assert!(o.enqueue(&message(0), T0).await.unwrap());
    let batch = [message(1), message(0), message(2), message(1)];
    assert_eq!(
        o.enqueue_batch(&batch, T0).await.unwrap(),
        [true, false, true, false]
    );
    assert!(o.enqueue_batch(&[], T0).await.unwrap().is_empty());
    assert_eq!(o.depth().await.unwrap(), 3);
    let claimed: Vec<_> = o
        .claim_due(T0, LEASE, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.message, c.attempt))
        .collect();
    assert_eq!(claimed, [(message(0), 1), (message(1), 1), (message(2), 1)]);
}

/// Settling a batch applies each settlement exactly as the matching `mark_*` (in order, so a
/// second settlement of the same claim sees the first), and one refused settlement does not
/// stop the others.
pub async fn settle_applies_each_settlement_as_its_mark_would(o: Arc<dyn Outbox>) {
    for n in 0..4 {
        o.enqueue(&message(n), T0).await.unwrap();
    }
    let c: Vec<ClaimToken> = o
        .claim_due(T0, LEASE, 10)
        .await
        .unwrap()
        .iter()
        .map(|c| c.token())
        .collect();
    let unknown = ClaimToken::new(MessageId::new("never-enqueued").unwrap(), 1);
    let sent = |claim: &ClaimToken, d: &str| Settlement::Sent {
        claim: claim.clone(),
        provider: "p".to_owned(),
        delivery_id: d.to_owned(),
    };
    let batch = [
        sent(&c[0], "d-0"),
        Settlement::Retry {
            claim: c[1].clone(),
            next_attempt_at: at(10),
            reason: "rate_limited".to_owned(),
        },
        Settlement::Failed {
            claim: c[2].clone(),
            reason: "rejected".to_owned(),
        },
        sent(&unknown, "d-x"),
        sent(&c[0], "d-again"),
        Settlement::Failed {
            claim: ClaimToken::new(c[3].id.clone(), c[3].attempt - 1),
            reason: "late".to_owned(),
        },
    ];
    assert_eq!(batch[1].claim(), &c[1]);
    let results = o.settle(&batch, at(1)).await.unwrap();
    assert_eq!(results.len(), batch.len());
    assert!(results[0].is_ok() && results[1].is_ok() && results[2].is_ok());
    assert!(matches!(results[3], Err(OutboxError::NotFound)));
    assert!(matches!(results[4], Err(OutboxError::AlreadyTerminal)));
    assert!(matches!(results[5], Err(OutboxError::StaleClaim)));

    let status = |n: u32| {
        let o = Arc::clone(&o);
        async move { o.status(&message(n).id, at(1)).await.unwrap().unwrap() }
    };
    let s0 = status(0).await;
    assert_eq!(
        (s0.state, s0.delivery_id.as_deref()),
        (OutboxState::Sent, Some("d-0"))
    );
    let s1 = status(1).await;
    assert_eq!(
        (s1.state, s1.next_attempt_at, s1.last_error.as_deref()),
        (OutboxState::Pending, at(10), Some("rate_limited"))
    );
    assert_eq!(status(2).await.state, OutboxState::Failed);
    assert_eq!(status(3).await.state, OutboxState::InFlight);
    assert!(o.settle(&[], at(1)).await.unwrap().is_empty());
    assert_eq!(o.depth().await.unwrap(), 2);
}

/// `enqueue_claimed` stores like `enqueue_batch`; each message it hands back claimed is an
/// ordinary first claim (attempt 1, leased, not handed to anyone else, fenced, re-claimed once
/// its lease runs out), and each it does not (a duplicate, or a backend that only enqueues) is
/// left for `claim_due`.
pub async fn enqueue_claimed_hands_out_first_claims_under_fencing(o: Arc<dyn Outbox>) {
    assert!(o.enqueue(&message(0), T0).await.unwrap());
    let batch = [message(1), message(0), message(2), message(1)];
    let claims = o.enqueue_claimed(&batch, T0, LEASE).await.unwrap();
    assert_eq!(claims.len(), batch.len());
    assert!(
        claims[1].is_none() && claims[3].is_none(),
        "duplicates are not claimed"
    );
    assert!(o.enqueue_claimed(&[], T0, LEASE).await.unwrap().is_empty());
    assert_eq!(o.depth().await.unwrap(), 3);

    let mut expect_polled = vec![message(0).id];
    let mut held = Vec::new();
    for (n, claim) in [(1, &claims[0]), (2, &claims[2])] {
        match claim {
            Some(c) => {
                assert_eq!(
                    (&c.message, c.attempt, c.lease_until),
                    (&message(n), 1, at(30))
                );
                let status = o.status(&message(n).id, T0).await.unwrap().unwrap();
                assert_eq!((status.state, status.attempts), (OutboxState::InFlight, 1));
                held.push(c.token());
            }
            None => expect_polled.push(message(n).id),
        }
    }
    // Only what was not handed out claimed is due.
    let mut polled: Vec<MessageId> = o
        .claim_due(T0, LEASE, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.message.id)
        .collect();
    polled.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(polled, expect_polled);

    // A claim from enqueue records its outcome like any other.
    if let Some(second) = held.get(1) {
        o.mark_sent(second, "p", "d-1", T0).await.unwrap();
        let status = o.status(&second.id, T0).await.unwrap().unwrap();
        assert_eq!(status.state, OutboxState::Sent);
    }
    // One whose lease ran out is claimed again, and its token is then stale.
    if let Some(first) = held.first() {
        let again = o.claim_due(at(30), LEASE, 10).await.unwrap();
        let newer = again
            .iter()
            .find(|c| c.message.id == first.id)
            .expect("re-claimed after the lease");
        assert_eq!(newer.attempt, 2);
        assert!(matches!(
            o.mark_sent(first, "late", "d-late", at(31)).await,
            Err(OutboxError::StaleClaim)
        ));
        o.mark_sent(&newer.token(), "p", "d-2", at(31))
            .await
            .unwrap();
    }
}
