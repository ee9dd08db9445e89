//! The token-store checks; each takes a fresh, empty store.

#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    reason = "conformance tests"
)]

use std::sync::Arc;

use rcsec_core::{AlertId, Timestamp};
use tokio::sync::Barrier;

use super::{at, record};
use crate::extended_access::CodeDigest;
use crate::store::{ConsumeOutcome, ExtendOutcome, ExtensionGrant, TokenStore};
use crate::token::LinkId;

/// Records round-trip; a second insert of the same id is `Duplicate`.
pub async fn insert_get_and_duplicate(s: Arc<dyn TokenStore>) {
    let mut r = record("a1", 600);
    r.binding.device_id = Some(rcsec_core::DeviceId::new("phone-1").unwrap());
    r.binding.user_agent_hash = Some([3; 32]);
    r.binding.ip_prefix = Some("203.0.113.0/24".parse().unwrap());
    r.extension = Some(ExtensionGrant::new(
        CodeDigest::from_bytes([9; 32]),
        5,
        at(7200),
    ));
    s.insert(r.clone()).await.unwrap();
    assert_eq!(s.get(&r.link_id).await.unwrap(), Some(r.clone()));
    assert!(matches!(
        s.insert(r.clone()).await,
        Err(crate::store::StoreError::Duplicate)
    ));
    assert_eq!(s.get(&LinkId::from_bytes([0; 16])).await.unwrap(), None);
}

/// A single-use link is consumed once, then reports `AlreadyConsumed`.
pub async fn consume_once_then_consumed(s: Arc<dyn TokenStore>) {
    let r = record("a1", 600);
    s.insert(r.clone()).await.unwrap();
    match s.consume(&r.link_id, at(1)).await.unwrap() {
        ConsumeOutcome::Consumed { record, remaining } => {
            assert_eq!(remaining, 0);
            assert_eq!(record.uses, 1);
            assert_eq!(record.link_id, r.link_id);
        }
        other => panic!("expected Consumed, got {other:?}"),
    }
    assert_eq!(
        s.consume(&r.link_id, at(2)).await.unwrap(),
        ConsumeOutcome::AlreadyConsumed
    );
    assert_eq!(s.get(&r.link_id).await.unwrap().unwrap().uses, 1);
}

/// NotFound, Revoked beats Expired beats AlreadyConsumed; expiry is exclusive.
pub async fn consume_outcomes_in_order(s: Arc<dyn TokenStore>) {
    assert_eq!(
        s.consume(&LinkId::from_bytes([1; 16]), at(0))
            .await
            .unwrap(),
        ConsumeOutcome::NotFound
    );
    let r = record("a1", 60);
    s.insert(r.clone()).await.unwrap();
    assert_eq!(
        s.consume(&r.link_id, at(60)).await.unwrap(),
        ConsumeOutcome::Expired
    );
    assert!(matches!(
        s.consume(&r.link_id, Timestamp::from_millis(at(60).as_millis() - 1))
            .await
            .unwrap(),
        ConsumeOutcome::Consumed { .. }
    ));
    assert_eq!(
        s.consume(&r.link_id, at(70)).await.unwrap(),
        ConsumeOutcome::Expired
    );
    assert!(s.revoke(&r.link_id).await.unwrap());
    assert_eq!(
        s.consume(&r.link_id, at(70)).await.unwrap(),
        ConsumeOutcome::Revoked
    );
    assert_eq!(
        s.consume(&r.link_id, at(1)).await.unwrap(),
        ConsumeOutcome::Revoked
    );
}

/// `max_uses` uses, counted down.
pub async fn multi_use_counts_down(s: Arc<dyn TokenStore>) {
    let mut r = record("a1", 600);
    r.max_uses = 3;
    s.insert(r.clone()).await.unwrap();
    for expected in [2, 1, 0] {
        match s.consume(&r.link_id, at(1)).await.unwrap() {
            ConsumeOutcome::Consumed { remaining, .. } => assert_eq!(remaining, expected),
            other => panic!("expected Consumed, got {other:?}"),
        }
    }
    assert_eq!(
        s.consume(&r.link_id, at(1)).await.unwrap(),
        ConsumeOutcome::AlreadyConsumed
    );
}

/// `revoke` hits one link; `revoke_alert` every link of one alert and no other.
pub async fn revoke_and_revoke_alert(s: Arc<dyn TokenStore>) {
    let (a, b, c) = (
        record("alert-a", 600),
        record("alert-a", 600),
        record("alert-b", 600),
    );
    for r in [&a, &b, &c] {
        s.insert(r.clone()).await.unwrap();
    }
    assert!(!s.revoke(&LinkId::from_bytes([2; 16])).await.unwrap());
    assert_eq!(
        s.revoke_alert(&AlertId::new("alert-a").unwrap())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.revoke_alert(&AlertId::new("alert-a").unwrap())
            .await
            .unwrap(),
        0
    );
    assert!(s.get(&a.link_id).await.unwrap().unwrap().revoked);
    assert_eq!(
        s.consume(&b.link_id, at(1)).await.unwrap(),
        ConsumeOutcome::Revoked
    );
    assert!(matches!(
        s.consume(&c.link_id, at(1)).await.unwrap(),
        ConsumeOutcome::Consumed { .. }
    ));
}

/// Wrong codes spend attempts; the right one grants one more use until the new expiry.
pub async fn extend_code_attempts_and_grant(s: Arc<dyn TokenStore>) {
    let right = CodeDigest::from_bytes([0xAB; 32]);
    let wrong = CodeDigest::from_bytes([0xAC; 32]);
    let mut r = record("a1", 60);
    r.extension = Some(ExtensionGrant::new(right, 3, at(3600)));
    s.insert(r.clone()).await.unwrap();
    assert!(matches!(
        s.consume(&r.link_id, at(1)).await.unwrap(),
        ConsumeOutcome::Consumed { .. }
    ));
    assert_eq!(
        s.extend(&r.link_id, &wrong, at(9000), at(100))
            .await
            .unwrap(),
        ExtendOutcome::WrongCode { attempts_left: 2 }
    );
    match s
        .extend(&r.link_id, &right, at(9000), at(100))
        .await
        .unwrap()
    {
        ExtendOutcome::Extended { record } => {
            assert_eq!(record.expires_at, at(9000));
            assert_eq!(record.max_uses, 2);
            assert_eq!(record.uses, 1);
            assert!(record.extension.unwrap().used);
        }
        other => panic!("expected Extended, got {other:?}"),
    }
    assert_eq!(
        s.extend(&r.link_id, &right, at(9000), at(101))
            .await
            .unwrap(),
        ExtendOutcome::AlreadyExtended
    );
    assert!(matches!(
        s.consume(&r.link_id, at(200)).await.unwrap(),
        ConsumeOutcome::Consumed { remaining: 0, .. }
    ));
    assert_eq!(
        s.consume(&r.link_id, at(201)).await.unwrap(),
        ConsumeOutcome::AlreadyConsumed
    );
}

/// Locked after the budget, late claims, no offer, revoked, unknown.
pub async fn extend_refusals(s: Arc<dyn TokenStore>) {
    let right = CodeDigest::from_bytes([1; 32]);
    let wrong = CodeDigest::from_bytes([2; 32]);
    let mut r = record("a1", 60);
    r.extension = Some(ExtensionGrant::new(right, 2, at(3600)));
    s.insert(r.clone()).await.unwrap();
    assert_eq!(
        s.extend(&r.link_id, &right, at(9000), at(3601))
            .await
            .unwrap(),
        ExtendOutcome::Expired
    );
    for left in [1, 0] {
        assert_eq!(
            s.extend(&r.link_id, &wrong, at(9000), at(10))
                .await
                .unwrap(),
            ExtendOutcome::WrongCode {
                attempts_left: left
            }
        );
    }
    assert_eq!(
        s.extend(&r.link_id, &right, at(9000), at(10))
            .await
            .unwrap(),
        ExtendOutcome::Locked
    );
    let plain = record("a1", 60);
    s.insert(plain.clone()).await.unwrap();
    assert_eq!(
        s.extend(&plain.link_id, &right, at(9000), at(10))
            .await
            .unwrap(),
        ExtendOutcome::NotOffered
    );
    let mut revoked = record("a2", 60);
    revoked.extension = Some(ExtensionGrant::new(right, 2, at(3600)));
    s.insert(revoked.clone()).await.unwrap();
    s.revoke(&revoked.link_id).await.unwrap();
    assert_eq!(
        s.extend(&revoked.link_id, &right, at(9000), at(10))
            .await
            .unwrap(),
        ExtendOutcome::Revoked
    );
    assert_eq!(
        s.extend(&LinkId::from_bytes([5; 16]), &right, at(9000), at(10))
            .await
            .unwrap(),
        ExtendOutcome::NotFound
    );
}

/// Sweeping deletes expired records but keeps those whose extension can still be claimed.
pub async fn sweep_expired_keeps_claimable(s: Arc<dyn TokenStore>) {
    let short = record("a1", 60);
    let long = record("a1", 6000);
    let mut claimable = record("a1", 60);
    claimable.extension = Some(ExtensionGrant::new(
        CodeDigest::from_bytes([1; 32]),
        5,
        at(3600),
    ));
    for r in [&short, &long, &claimable] {
        s.insert(r.clone()).await.unwrap();
    }
    assert_eq!(s.sweep_expired(at(59)).await.unwrap(), 0);
    assert_eq!(s.sweep_expired(at(60)).await.unwrap(), 1);
    assert_eq!(s.get(&short.link_id).await.unwrap(), None);
    assert!(s.get(&claimable.link_id).await.unwrap().is_some());
    assert_eq!(s.sweep_expired(at(3600)).await.unwrap(), 1);
    assert!(s.get(&long.link_id).await.unwrap().is_some());
    assert_eq!(
        s.consume(&short.link_id, at(1)).await.unwrap(),
        ConsumeOutcome::NotFound
    );
}

async fn race(s: &Arc<dyn TokenStore>, link: LinkId, contenders: usize) -> usize {
    let barrier = Arc::new(Barrier::new(contenders));
    let mut tasks = Vec::with_capacity(contenders);
    for _ in 0..contenders {
        let (s, barrier) = (Arc::clone(s), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            matches!(
                s.consume(&link, at(1)).await.unwrap(),
                ConsumeOutcome::Consumed { .. }
            )
        }));
    }
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    winners
}

/// 64 tasks consume the same single-use link at once, 200 rounds: exactly one wins each.
pub async fn concurrent_consume_race(s: Arc<dyn TokenStore>) {
    for round in 0..200 {
        let r = record("race", 600);
        s.insert(r.clone()).await.unwrap();
        assert_eq!(race(&s, r.link_id, 64).await, 1, "round {round}");
        assert_eq!(s.get(&r.link_id).await.unwrap().unwrap().uses, 1);
    }
}

/// 64 tasks on a 3-use link, 50 rounds: exactly three win each.
pub async fn concurrent_multi_use_race(s: Arc<dyn TokenStore>) {
    for round in 0..50 {
        let mut r = record("race", 600);
        r.max_uses = 3;
        s.insert(r.clone()).await.unwrap();
        assert_eq!(race(&s, r.link_id, 64).await, 3, "round {round}");
    }
}

/// 16 concurrent wrong guesses against a 5-attempt budget: exactly five are judged, the
/// rest find the offer locked, and the right code is then refused.
pub async fn concurrent_extend_spends_each_attempt_once(s: Arc<dyn TokenStore>) {
    let right = CodeDigest::from_bytes([1; 32]);
    let mut r = record("a1", 60);
    r.extension = Some(ExtensionGrant::new(right, 5, at(3600)));
    s.insert(r.clone()).await.unwrap();
    let barrier = Arc::new(Barrier::new(16));
    let mut tasks = Vec::new();
    for i in 0..16u8 {
        let (s, barrier) = (Arc::clone(&s), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let guess = CodeDigest::from_bytes([i.wrapping_add(2); 32]);
            s.extend(&r.link_id, &guess, at(9000), at(10))
                .await
                .unwrap()
        }));
    }
    let mut judged = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            ExtendOutcome::WrongCode { attempts_left } => judged.push(attempts_left),
            ExtendOutcome::Locked => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    judged.sort_unstable();
    assert_eq!(judged, vec![0, 1, 2, 3, 4]);
    assert_eq!(
        s.extend(&r.link_id, &right, at(9000), at(10))
            .await
            .unwrap(),
        ExtendOutcome::Locked
    );
}
