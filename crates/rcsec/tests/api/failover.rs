//! Outbox semantics: failover, retries with backoff, idempotent re-sends, permanent failures,
//! expiry, and fallback after `not_reachable`.

use std::sync::Arc;

use rcsec::core::{Clock, Severity};
use rcsec::outbox::{Outbox, OutboxState};
use rcsec::policy::Route;
use rcsec::{DeliveryStatus, RecordingProvider, ScriptedFailure};
use rcsec_provider_loopback::LoopbackFailure;

use crate::harness::*;

const ALL: [Route; 4] = [
    Route::RcsE2ee,
    Route::EncryptedPush,
    Route::RcsPlain,
    Route::SmsLink,
];

#[test]
fn a_failing_first_provider_fails_over_to_the_next() {
    let first = Arc::new(RecordingProvider::new("primary", &ALL));
    first.fail_next(&[ScriptedFailure::Transient]);
    let h = harness_with(|_| {}, vec![first.clone()]);
    runtime().block_on(async {
        let r = h
            .orch
            .handle_alert(alert("a-fo", Severity::P1), h.responders(&["Alice"]))
            .await
            .unwrap();
        let DeliveryStatus::Sent { provider, .. } = &r.deliveries[0].status else {
            panic!("{:?}", r.deliveries[0].status)
        };
        assert_eq!(provider, "loopback");
        assert_eq!(first.attempts(), 1);
        assert!(first.accepted().is_empty());
        assert_eq!(h.loopback.sent().len(), 1);
    });
}

#[test]
fn transient_failures_retry_with_backoff_and_never_double_send() {
    let h = harness(|_| {});
    runtime().block_on(async {
        // Accepted by the provider, but the answer is lost: the retry must not page twice.
        h.loopback
            .fail_next(1, LoopbackFailure::TransientAfterAccept);
        h.loopback.fail_next(1, LoopbackFailure::Transient);
        let r = h
            .orch
            .handle_alert(alert("a-retry", Severity::P1), h.responders(&["Alice"]))
            .await
            .unwrap();
        let id = r.deliveries[0].message_id.clone().unwrap();
        assert_eq!(
            r.deliveries[0].status,
            DeliveryStatus::Retrying { attempts: 1 }
        );

        // Not due yet: the backoff is at least half the base delay.
        h.advance(0);
        assert_eq!(h.orch.tick().await.unwrap().retried_sent, 0);
        h.advance(2);
        let t = h.orch.tick().await.unwrap();
        assert_eq!(t.retried_sent, 0, "second attempt fails too");
        let st = h.outbox.status(&id, h.clock.now()).await.unwrap().unwrap();
        assert_eq!((st.state, st.attempts), (OutboxState::Pending, 2));
        h.advance(4);
        assert_eq!(h.orch.tick().await.unwrap().retried_sent, 1);
        assert_eq!(h.loopback.attempts(), 3);
        assert_eq!(
            h.loopback.sent_to(&number(1)).len(),
            1,
            "delivered exactly once"
        );
        let st = h.outbox.status(&id, h.clock.now()).await.unwrap().unwrap();
        assert_eq!(st.state, OutboxState::Sent);
    });
}

#[test]
fn rate_limited_by_the_provider_waits_for_its_hint() {
    let h = harness(|_| {});
    runtime().block_on(async {
        h.loopback.fail_next(
            1,
            LoopbackFailure::RateLimited(std::time::Duration::from_secs(30)),
        );
        h.orch
            .handle_alert(alert("a-429", Severity::P1), h.responders(&["Alice"]))
            .await
            .unwrap();
        h.advance(29);
        assert_eq!(h.orch.tick().await.unwrap().retried_sent, 0);
        h.advance(1);
        assert_eq!(h.orch.tick().await.unwrap().retried_sent, 1);
    });
}

#[test]
fn permanent_rejection_ends_failed_and_audited() {
    let h = harness(|_| {});
    runtime().block_on(async {
        h.loopback.fail_next(1, LoopbackFailure::Rejected);
        let r = h
            .orch
            .handle_alert(alert("a-rej", Severity::P1), h.responders(&["Alice"]))
            .await
            .unwrap();
        assert_eq!(
            r.deliveries[0].status,
            DeliveryStatus::Failed {
                reason: "rejected".into()
            }
        );
        assert!(h.outbox.depth().await.unwrap() == 0);
        let log = String::from_utf8(h.audit_log()).unwrap();
        assert!(log.contains("\"outcome\":\"failed\""), "{log}");
    });
}

#[test]
fn exhausted_attempts_fail_and_stale_messages_expire() {
    let h = harness(|c| {
        c.retry.max_attempts = 2;
        c.message_ttl = std::time::Duration::from_secs(3600);
        c.ack_timeout = std::time::Duration::from_secs(36_000);
    });
    runtime().block_on(async {
        h.loopback.fail_next(10, LoopbackFailure::Transient);
        h.orch
            .handle_alert(alert("a-exh", Severity::P1), h.responders(&["Alice"]))
            .await
            .unwrap();
        h.advance(10);
        h.orch.tick().await.unwrap();
        h.advance(10);
        assert_eq!(h.orch.tick().await.unwrap().failed, 1);

        h.orch
            .handle_alert(alert("a-exp", Severity::P1), h.responders(&["Bob"]))
            .await
            .unwrap();
        h.advance(3600);
        let t = h.orch.tick().await.unwrap();
        assert_eq!(t.expired, 1);
        assert_eq!(
            h.outbox.depth().await.unwrap(),
            0,
            "every message is terminal"
        );
        let log = String::from_utf8(h.audit_log()).unwrap();
        assert!(log.contains("\"outcome\":\"expired\""));
    });
}

#[test]
fn not_reachable_invalidates_and_falls_back() {
    let h = harness(|_| {});
    runtime().block_on(async {
        let bob = h.responders(&["Bob"]);
        // Prime the cache with RCS, then Bob loses RCS before the send.
        h.orch.resolver().resolve(&number(2)).await.unwrap();
        h.loopback.set_capability(
            &number(2),
            rcsec::capability::Reach::SmsOnly,
            rcsec::capability::E2ee::Unavailable,
        );
        let r = h
            .orch
            .handle_alert(canary_alert("a-nr"), bob)
            .await
            .unwrap();
        assert_eq!(r.deliveries.len(), 2, "{:?}", r.deliveries);
        assert_eq!(r.deliveries[0].route, Route::RcsPlain);
        assert_eq!(
            r.deliveries[0].status,
            DeliveryStatus::Failed {
                reason: "not_reachable".into()
            }
        );
        assert_eq!(r.deliveries[1].route, Route::SmsLink);
        assert!(matches!(
            r.deliveries[1].status,
            DeliveryStatus::Sent { .. }
        ));
    });
}
