use std::collections::HashMap;

use proptest::prelude::*;
use rcsec_core::{Clock, ManualClock};

use super::*;
use crate::capability::{Capability, E2ee, Reach, Source};
use crate::carrier::Overrides;
use crate::hints::Carrier;
use crate::pin::PinState;

const MIN: Duration = Duration::from_secs(60);

fn number(i: u64) -> Msisdn {
    Msisdn::parse(&format!("+4470{i:08}")).unwrap()
}

fn resolution(reach: Reach, source: Source, at: Timestamp, label: &str) -> Resolution {
    let cap = Capability::new(reach, E2ee::Verified, source, at).with_carrier(Carrier::new(label));
    Resolution::new(cap, PinState::NotPinned, None, Overrides::default())
}

fn label(r: &Resolution) -> &str {
    r.capability().carrier().unwrap().name()
}

fn cache(capacity: usize) -> CapabilityCache {
    CapabilityCache::new(CacheConfig::new(5 * MIN, Duration::from_secs(60), capacity).unwrap())
}

fn single_shard(capacity: usize) -> CapabilityCache {
    let config = CacheConfig::new(5 * MIN, Duration::from_secs(60), capacity).unwrap();
    CapabilityCache::with_shards(config, 1)
}

#[test]
fn config_bounds_are_enforced() {
    let d = CacheConfig::default();
    assert_eq!((d.ttl(), d.negative_ttl()), (5 * MIN, MIN));
    assert!(CacheConfig::new(MIN, Duration::from_secs(1), 1).is_ok());
    assert!(CacheConfig::new(15 * MIN, 15 * MIN, 1).is_ok());
    for bad in [
        Duration::ZERO,
        MIN - Duration::from_millis(1),
        15 * MIN + Duration::from_millis(1),
    ] {
        assert_eq!(
            CacheConfig::new(bad, MIN, 1),
            Err(ConfigError::TtlOutOfRange(bad))
        );
    }
    for bad in [Duration::from_millis(999), 5 * MIN + Duration::from_secs(1)] {
        assert_eq!(
            CacheConfig::new(5 * MIN, bad, 1),
            Err(ConfigError::NegativeTtlOutOfRange(bad))
        );
    }
    assert_eq!(
        CacheConfig::new(5 * MIN, MIN, 0),
        Err(ConfigError::ZeroCapacity)
    );
}

#[test]
fn positive_entries_expire_exactly_at_the_ttl() {
    let clock = ManualClock::new(Timestamp::from_secs(1_000));
    let c = cache(10);
    let n = number(1);
    let r = resolution(Reach::Rcs, Source::Provider, clock.now(), "a");
    assert_eq!(c.insert(&n, r.clone(), clock.now()), InsertOutcome::Stored);
    clock.advance(5 * MIN - Duration::from_millis(1));
    assert_eq!(c.get(&n, clock.now()), Some(r));
    clock.advance(Duration::from_millis(1));
    assert_eq!(c.get(&n, clock.now()), None, "expired at the boundary");
    assert!(c.is_empty(), "an expired entry is dropped when found");
}

#[test]
fn negative_entries_use_the_shorter_ttl() {
    let clock = ManualClock::new(Timestamp::from_secs(1_000));
    let c = cache(10);
    for (i, reach) in [Reach::SmsOnly, Reach::Unreachable].into_iter().enumerate() {
        let n = number(i as u64);
        c.insert(
            &n,
            resolution(reach, Source::Provider, clock.now(), "x"),
            clock.now(),
        );
    }
    // An uncertain pin status is also cached briefly.
    let uncertain = Resolution::new(
        Capability::new(Reach::Rcs, E2ee::Unverified, Source::Provider, clock.now()),
        PinState::Unavailable,
        None,
        Overrides::default(),
    );
    c.insert(&number(2), uncertain, clock.now());
    clock.advance(MIN - Duration::from_millis(1));
    for i in 0..3 {
        assert!(c.get(&number(i), clock.now()).is_some());
    }
    clock.advance(Duration::from_millis(1));
    for i in 0..3 {
        assert!(c.get(&number(i), clock.now()).is_none(), "{i}");
    }
}

#[test]
fn ttl_runs_from_observation_not_insertion() {
    let clock = ManualClock::new(Timestamp::from_secs(10_000));
    let c = cache(10);
    let n = number(1);
    // Observed four minutes ago: one minute left.
    let old = resolution(
        Reach::Rcs,
        Source::Provider,
        clock.now().saturating_sub(4 * MIN),
        "a",
    );
    assert_eq!(c.insert(&n, old, clock.now()), InsertOutcome::Stored);
    clock.advance(MIN);
    assert_eq!(c.get(&n, clock.now()), None);
    // Already past its TTL: not cached at all.
    let stale = resolution(
        Reach::Rcs,
        Source::Provider,
        clock.now().saturating_sub(5 * MIN),
        "b",
    );
    assert_eq!(c.insert(&n, stale, clock.now()), InsertOutcome::Expired);
    assert!(c.is_empty());
    // A timestamp from the future (skew) counts from now, not from then.
    let future = resolution(
        Reach::Rcs,
        Source::Provider,
        clock.now().saturating_add(MIN * 60),
        "c",
    );
    c.insert(&n, future, clock.now());
    clock.advance(5 * MIN);
    assert_eq!(c.get(&n, clock.now()), None);
}

#[test]
fn fresher_client_report_beats_provider_metadata() {
    let clock = ManualClock::new(Timestamp::from_secs(1_000));
    let c = cache(10);
    let n = number(1);
    let report = resolution(Reach::Rcs, Source::ClientReport, clock.now(), "report");
    c.insert(&n, report.clone(), clock.now());
    clock.advance(Duration::from_secs(10));
    // Provider metadata observed before the report (an in-flight query) loses.
    let earlier = resolution(
        Reach::SmsOnly,
        Source::Provider,
        Timestamp::from_secs(995),
        "p1",
    );
    assert_eq!(
        c.insert(&n, earlier, clock.now()),
        InsertOutcome::Superseded(report.clone())
    );
    // At the same instant the client report still wins.
    let tie = resolution(
        Reach::SmsOnly,
        Source::Provider,
        Timestamp::from_secs(1_000),
        "p2",
    );
    assert_eq!(
        c.insert(&n, tie, clock.now()),
        InsertOutcome::Superseded(report.clone())
    );
    assert_eq!(c.get(&n, clock.now()), Some(report));
    // A later provider observation replaces it.
    let later = resolution(Reach::Rcs, Source::Provider, clock.now(), "p3");
    assert_eq!(
        c.insert(&n, later.clone(), clock.now()),
        InsertOutcome::Stored
    );
    assert_eq!(c.get(&n, clock.now()), Some(later));
    // An older client report does not take precedence.
    let old_report = resolution(
        Reach::Rcs,
        Source::ClientReport,
        Timestamp::from_secs(1_005),
        "r2",
    );
    assert!(matches!(
        c.insert(&n, old_report, clock.now()),
        InsertOutcome::Superseded(_)
    ));
}

#[test]
fn an_expired_entry_never_blocks_a_replacement() {
    let clock = ManualClock::new(Timestamp::from_secs(1_000));
    let c = cache(10);
    let n = number(1);
    let report = resolution(Reach::Rcs, Source::ClientReport, clock.now(), "report");
    c.insert(&n, report, clock.now());
    clock.advance(6 * MIN);
    // Older than the (expired) report, but the report no longer counts.
    let provider = resolution(
        Reach::Rcs,
        Source::Provider,
        clock.now().saturating_sub(MIN),
        "p",
    );
    assert_eq!(
        c.insert(&n, provider.clone(), clock.now()),
        InsertOutcome::Stored
    );
    assert_eq!(c.get(&n, clock.now()), Some(provider));
}

#[test]
fn clock_eviction_gives_recently_used_entries_a_second_chance() {
    let now = Timestamp::from_secs(1_000);
    let c = single_shard(3);
    for i in 0..3 {
        c.insert(
            &number(i),
            resolution(Reach::Rcs, Source::Provider, now, "x"),
            now,
        );
    }
    assert!(c.get(&number(0), now).is_some());
    assert!(c.get(&number(2), now).is_some());
    c.insert(
        &number(3),
        resolution(Reach::Rcs, Source::Provider, now, "x"),
        now,
    );
    assert_eq!(c.len(), 3);
    assert!(
        c.get(&number(1), now).is_none(),
        "the unreferenced entry goes first"
    );
    for i in [0, 2, 3] {
        assert!(c.get(&number(i), now).is_some(), "{i}");
    }
}

#[test]
fn expired_entries_are_evicted_before_referenced_ones() {
    let start = Timestamp::from_secs(1_000);
    let c = single_shard(2);
    c.insert(
        &number(0),
        resolution(Reach::SmsOnly, Source::Provider, start, "neg"),
        start,
    );
    c.insert(
        &number(1),
        resolution(Reach::Rcs, Source::Provider, start, "pos"),
        start,
    );
    let later = start.saturating_add(2 * MIN);
    assert!(c.get(&number(1), later).is_some());
    c.insert(
        &number(2),
        resolution(Reach::Rcs, Source::Provider, later, "new"),
        later,
    );
    assert!(c.get(&number(1), later).is_some());
    assert!(c.get(&number(2), later).is_some());
}

#[test]
fn remove_and_shards() {
    let now = Timestamp::from_secs(1);
    let c = cache(1_000);
    assert_eq!(c.shards.len(), 16);
    assert_eq!(
        c.shards
            .iter()
            .map(|s| s.lock().unwrap().capacity)
            .sum::<usize>(),
        1_000
    );
    assert_eq!(cache(5).shards.len(), 4);
    assert_eq!(cache(1).shards.len(), 1);
    c.insert(
        &number(9),
        resolution(Reach::Rcs, Source::Provider, now, "x"),
        now,
    );
    assert!(c.remove(&number(9)));
    assert!(!c.remove(&number(9)));
    assert!(c.get(&number(9), now).is_none());
    assert!(CapabilityCache::estimated_bytes_per_entry() > size_of::<Resolution>());
    assert!(format!("{c:?}").contains("len: 0"));
}

#[test]
fn key_hashes_are_seeded_and_spread() {
    let hash = |b: &KeyHasherBuilder, k: u64| b.hash_one(k);
    let (a, b) = (KeyHasherBuilder::random(), KeyHasherBuilder::random());
    assert_ne!(
        hash(&a, 15_550_109_999),
        hash(&b, 15_550_109_999),
        "per-cache seeds"
    );
    // Consecutive numbers land in distinct buckets of a 2^14-bucket table almost always.
    let buckets: std::collections::HashSet<u64> = (0..4_096u64)
        .map(|k| hash(&a, 4_470_000_000 + k) & ((1 << 14) - 1))
        .collect();
    assert!(buckets.len() > 3_000, "{}", buckets.len());
    let mut h = a.build_hasher();
    h.write(b"0123456789");
    assert_ne!(h.finish(), 0);
}

#[derive(Debug, Clone)]
enum Op {
    Insert { key: u64, negative: bool },
    Get(u64),
    Remove(u64),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..60u64, any::<bool>()).prop_map(|(key, negative)| Op::Insert { key, negative }),
        4 => (0..60u64).prop_map(Op::Get),
        1 => (0..60u64).prop_map(Op::Remove),
        2 => (0..120_000u64).prop_map(Op::Advance),
    ]
}

proptest! {
    /// Whatever happens, the cache never holds more than its capacity, and a hit is always the
    /// latest value stored for that number and never past its expiry.
    #[test]
    fn size_bound_and_no_stale_hits(capacity in 1usize..40, ops in prop::collection::vec(op(), 1..300)) {
        let clock = ManualClock::new(Timestamp::from_secs(1_000_000));
        let c = cache(capacity);
        let mut model: HashMap<u64, (String, Timestamp)> = HashMap::new();
        for (i, op) in ops.into_iter().enumerate() {
            let now = clock.now();
            match op {
                Op::Insert { key, negative } => {
                    let id = format!("v{i}");
                    let reach = if negative { Reach::SmsOnly } else { Reach::Rcs };
                    let ttl = if negative { MIN } else { 5 * MIN };
                    let outcome = c.insert(&number(key), resolution(reach, Source::Provider, now, &id), now);
                    prop_assert_eq!(outcome, InsertOutcome::Stored);
                    model.insert(key, (id, now.saturating_add(ttl)));
                }
                Op::Get(key) => {
                    if let Some(hit) = c.get(&number(key), now) {
                        let (id, expires) = model.get(&key).expect("a hit must have been stored");
                        prop_assert_eq!(label(&hit), id.as_str());
                        prop_assert!(now < *expires, "stale hit");
                    }
                }
                Op::Remove(key) => {
                    c.remove(&number(key));
                    model.remove(&key);
                }
                Op::Advance(ms) => clock.advance(Duration::from_millis(ms)),
            }
            prop_assert!(c.len() <= capacity, "{} > {}", c.len(), capacity);
        }
    }
}
