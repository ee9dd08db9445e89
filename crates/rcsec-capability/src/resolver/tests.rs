use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use async_trait::async_trait;
use rcsec_core::ManualClock;
use tokio::sync::Semaphore;

use super::*;
use crate::error::{ConfigError, StoreError};
use crate::health::BreakerConfig;
use crate::hints::Carrier;
use crate::metrics::CountingMetrics;

const MIN: Duration = Duration::from_secs(60);
const START: Timestamp = Timestamp::from_secs(1_700_000_000);

#[derive(Debug, Clone, Copy)]
enum Answer {
    Cap(Reach, E2ee),
    NotFound,
    Fail,
    Hang,
}

/// A provider whose answer tests can change, that counts calls, and that can be held at a gate.
#[derive(Debug)]
struct Scripted {
    name: &'static str,
    clock: ManualClock,
    answer: Mutex<Answer>,
    calls: AtomicUsize,
    gate: Option<Arc<Semaphore>>,
    log: Arc<Mutex<Vec<&'static str>>>,
    carrier: Option<&'static str>,
}

impl Scripted {
    fn new(name: &'static str, clock: &ManualClock, answer: Answer) -> Self {
        Self {
            name,
            clock: clock.clone(),
            answer: Mutex::new(answer),
            calls: AtomicUsize::new(0),
            gate: None,
            log: Arc::default(),
            carrier: None,
        }
    }

    fn set(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl CapabilityProvider for Scripted {
    fn name(&self) -> &str {
        self.name
    }

    async fn query(&self, _number: &Msisdn) -> Result<Capability, CapabilityError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.log.lock().unwrap().push(self.name);
        if let Some(gate) = &self.gate {
            let _permit = gate.acquire().await.unwrap();
        }
        let answer = *self.answer.lock().unwrap();
        match answer {
            Answer::Cap(reach, e2ee) => {
                let cap = Capability::new(reach, e2ee, Source::Provider, self.clock.now());
                Ok(match self.carrier {
                    Some(c) => cap.with_carrier(Carrier::new(c)),
                    None => cap,
                })
            }
            Answer::NotFound => Err(CapabilityError::NotFound),
            Answer::Fail => Err(CapabilityError::Backend("boom".into())),
            Answer::Hang => std::future::pending().await,
        }
    }
}

struct Setup {
    clock: ManualClock,
    resolver: Arc<Resolver>,
    metrics: Arc<CountingMetrics>,
}

fn setup(
    providers: Vec<Arc<Scripted>>,
    configure: impl FnOnce(ResolverBuilder) -> ResolverBuilder,
) -> Setup {
    let clock = providers
        .first()
        .map_or_else(|| ManualClock::new(START), |p| p.clock.clone());
    let metrics = Arc::new(CountingMetrics::new());
    let mut builder = Resolver::builder(Arc::new(clock.clone())).metrics(metrics.clone());
    for p in providers {
        builder = builder.provider(p, Duration::from_secs(2));
    }
    Setup {
        clock,
        resolver: Arc::new(configure(builder).build().unwrap()),
        metrics,
    }
}

fn one(answer: Answer) -> (Arc<Scripted>, Setup) {
    let clock = ManualClock::new(START);
    let p = Arc::new(Scripted::new("p", &clock, answer));
    let s = setup(vec![p.clone()], |b| b);
    (p, s)
}

fn alice() -> Msisdn {
    Msisdn::parse("+447700900123").unwrap()
}

fn bob() -> Msisdn {
    Msisdn::parse("+447700900456").unwrap()
}

#[tokio::test]
async fn positive_answers_are_cached_for_the_ttl() {
    let (p, s) = one(Answer::Cap(Reach::Rcs, E2ee::Unverified));
    let first = s.resolver.resolve(&alice()).await.unwrap();
    assert_eq!(first.capability().e2ee(), E2ee::Unverified);
    s.clock.advance(5 * MIN - Duration::from_millis(1));
    assert_eq!(s.resolver.resolve(&alice()).await.unwrap(), first);
    assert_eq!(s.resolver.cached(&alice()), Some(first));
    assert_eq!(p.calls(), 1);
    s.clock.advance(Duration::from_millis(1));
    assert_eq!(
        s.resolver.cached(&alice()),
        None,
        "expired exactly at the TTL"
    );
    s.resolver.resolve(&alice()).await.unwrap();
    assert_eq!(p.calls(), 2);
    assert_eq!(s.metrics.misses(), 2);
    assert_eq!(s.metrics.queries(), 2);
}

#[tokio::test]
async fn not_found_is_a_negative_answer_with_the_short_ttl() {
    let (p, s) = one(Answer::NotFound);
    let r = s.resolver.resolve(&alice()).await.unwrap();
    assert_eq!(
        (r.capability().reach(), r.capability().e2ee()),
        (Reach::SmsOnly, E2ee::Unavailable)
    );
    assert_eq!(r.candidate_routes(false), [Route::SmsLink, Route::Blocked]);
    s.clock.advance(MIN - Duration::from_millis(1));
    s.resolver.resolve(&alice()).await.unwrap();
    assert_eq!(p.calls(), 1);
    s.clock.advance(Duration::from_millis(1));
    p.set(Answer::Cap(Reach::Rcs, E2ee::Unverified));
    let r = s.resolver.resolve(&alice()).await.unwrap();
    assert_eq!(
        r.capability().reach(),
        Reach::Rcs,
        "a new RCS user is noticed after 60 s"
    );
    assert_eq!(p.calls(), 2);
    assert_eq!(s.metrics.fallbacks("no_rcs"), 1);
    assert_eq!(
        s.metrics.failed_queries(),
        0,
        "a 404 is an answer, not a failure"
    );
}

use crate::route::Route;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_misses_share_one_provider_query() {
    let clock = ManualClock::new(START);
    let gate = Arc::new(Semaphore::new(0));
    let mut p = Scripted::new("p", &clock, Answer::Cap(Reach::Rcs, E2ee::Verified));
    p.gate = Some(gate.clone());
    let p = Arc::new(p);
    let s = setup(vec![p.clone()], |b| b);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let resolver = Arc::clone(&s.resolver);
            tokio::spawn(async move { resolver.resolve(&alice()).await.unwrap() })
        })
        .collect();
    // Hold the one query until every caller has had time to join it.
    while p.calls() == 0 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    gate.add_permits(1);
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(
        p.calls(),
        1,
        "exactly one provider query for 100 concurrent resolutions"
    );
    assert!(results.iter().all(|r| *r == results[0]));
    assert!(results[0].capability().is_verified_e2ee());
    assert_eq!(s.resolver.flights.in_flight(), 0);
    // A different number is its own flight.
    gate.add_permits(1);
    s.resolver.resolve(&bob()).await.unwrap();
    assert_eq!(p.calls(), 2);
}

#[tokio::test]
async fn a_cancelled_leader_hands_over_to_a_follower() {
    let clock = ManualClock::new(START);
    let gate = Arc::new(Semaphore::new(0));
    let mut p = Scripted::new("p", &clock, Answer::Cap(Reach::Rcs, E2ee::Unverified));
    p.gate = Some(gate.clone());
    let p = Arc::new(p);
    let s = setup(vec![p.clone()], |b| b);
    let leader = tokio::spawn({
        let r = Arc::clone(&s.resolver);
        async move { r.resolve(&alice()).await }
    });
    while p.calls() == 0 {
        tokio::task::yield_now().await;
    }
    let follower = tokio::spawn({
        let r = Arc::clone(&s.resolver);
        async move { r.resolve(&alice()).await }
    });
    tokio::task::yield_now().await;
    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    gate.add_permits(1);
    let r = follower.await.unwrap().unwrap();
    assert_eq!(r.capability().e2ee(), E2ee::Unverified);
    assert_eq!(p.calls(), 2, "the follower became the new leader");
    assert_eq!(s.resolver.flights.in_flight(), 0);
}

#[tokio::test]
async fn failover_follows_the_configured_order() {
    let clock = ManualClock::new(START);
    let log = Arc::new(Mutex::new(Vec::new()));
    let mk = |name, answer| {
        let mut p = Scripted::new(name, &clock, answer);
        p.log = Arc::clone(&log);
        Arc::new(p)
    };
    let (a, b, c) = (
        mk("a", Answer::Fail),
        mk("b", Answer::Cap(Reach::Rcs, E2ee::Unverified)),
        mk("c", Answer::Cap(Reach::Rcs, E2ee::Verified)),
    );
    let s = setup(vec![a.clone(), b.clone(), c.clone()], |x| x);
    let r = s.resolver.resolve(&alice()).await.unwrap();
    assert_eq!(r.capability().e2ee(), E2ee::Unverified, "b answered first");
    assert_eq!(*log.lock().unwrap(), ["a", "b"]);
    assert_eq!(c.calls(), 0);
    assert_eq!((s.metrics.queries(), s.metrics.failed_queries()), (2, 1));

    // A 404 is an answer: no failover past it.
    b.set(Answer::NotFound);
    s.resolver.invalidate(&alice());
    let r = s.resolver.resolve(&alice()).await.unwrap();
    assert_eq!(r.capability().reach(), Reach::SmsOnly);
    assert_eq!(c.calls(), 0);

    // Total outage: a typed error listing every provider in order, and nothing cached.
    b.set(Answer::Fail);
    c.set(Answer::Fail);
    s.resolver.invalidate(&alice());
    let err = s.resolver.resolve(&alice()).await.unwrap_err();
    assert!(err.is_outage());
    let CapabilityError::ProviderOutage(report) = &err else {
        panic!("{err}")
    };
    let kinds: Vec<_> = report
        .failures()
        .iter()
        .map(|f| (&*f.provider, f.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("a", FailureKind::Backend),
            ("b", FailureKind::Backend),
            ("c", FailureKind::Backend)
        ]
    );
    assert_eq!(
        err.to_string(),
        "all capability providers failed (a: backend, b: backend, c: backend)"
    );
    assert_eq!(s.resolver.cached(&alice()), None);
    assert_eq!(s.metrics.fallbacks("provider_outage"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_provider_times_out_and_fails_over() {
    let clock = ManualClock::new(START);
    let slow = Arc::new(Scripted::new("slow", &clock, Answer::Hang));
    let fast = Arc::new(Scripted::new(
        "fast",
        &clock,
        Answer::Cap(Reach::Rcs, E2ee::Unknown),
    ));
    let s = setup(vec![slow.clone(), fast.clone()], |b| b);
    let started = tokio::time::Instant::now();
    let r = s.resolver.resolve(&alice()).await.unwrap();
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(2),
        "the slow provider's timeout"
    );
    assert_eq!(r.capability().e2ee(), E2ee::Unknown);
    assert_eq!((slow.calls(), fast.calls()), (1, 1));

    fast.set(Answer::Hang);
    let err = s.resolver.resolve(&bob()).await.unwrap_err();
    let CapabilityError::ProviderOutage(report) = err else {
        panic!()
    };
    assert!(
        report
            .failures()
            .iter()
            .all(|f| f.kind == FailureKind::Timeout)
    );
}

#[tokio::test]
async fn breakers_open_skip_probe_and_close() {
    let clock = ManualClock::new(START);
    let a = Arc::new(Scripted::new("a", &clock, Answer::Fail));
    let b = Arc::new(Scripted::new(
        "b",
        &clock,
        Answer::Cap(Reach::Rcs, E2ee::Unverified),
    ));
    let s = setup(vec![a.clone(), b.clone()], |x| {
        x.breaker(BreakerConfig::new(2, Duration::from_secs(30)).unwrap())
    });
    let numbers: Vec<Msisdn> = (0..6)
        .map(|i| Msisdn::parse(&format!("+4915100000{i:02}")).unwrap())
        .collect();
    s.resolver.resolve(&numbers[0]).await.unwrap();
    s.resolver.resolve(&numbers[1]).await.unwrap();
    assert_eq!(a.calls(), 2);
    let health = s.resolver.provider_health();
    assert_eq!(
        (health[0].state, health[1].state),
        (BreakerState::Open, BreakerState::Closed)
    );
    assert_eq!(&*health[0].name, "a");
    // Open: `a` is not asked at all.
    s.resolver.resolve(&numbers[2]).await.unwrap();
    assert_eq!(a.calls(), 2);
    assert_eq!(b.calls(), 3);
    // After the cooldown (measured on the injected clock) one probe goes to `a`; it fails.
    clock.advance(Duration::from_secs(30));
    assert_eq!(
        s.resolver.provider_health()[0].state,
        BreakerState::HalfOpen
    );
    s.resolver.resolve(&numbers[3]).await.unwrap();
    assert_eq!(a.calls(), 3);
    assert_eq!(s.resolver.provider_health()[0].state, BreakerState::Open);
    // Next cooldown: the probe succeeds and the breaker closes.
    clock.advance(Duration::from_secs(30));
    a.set(Answer::Cap(Reach::Rcs, E2ee::Verified));
    let r = s.resolver.resolve(&numbers[4]).await.unwrap();
    assert!(r.capability().is_verified_e2ee());
    assert_eq!(s.resolver.provider_health()[0].state, BreakerState::Closed);
    // Both open: the outage report says so.
    a.set(Answer::Fail);
    b.set(Answer::Fail);
    for n in &numbers[..4] {
        s.resolver.invalidate(n);
        let _ = s.resolver.resolve(n).await;
    }
    let err = s.resolver.resolve(&numbers[5]).await.unwrap_err();
    let CapabilityError::ProviderOutage(report) = err else {
        panic!()
    };
    assert!(
        report
            .failures()
            .iter()
            .all(|f| f.kind == FailureKind::CircuitOpen)
    );
}

#[tokio::test]
async fn verified_contacts_are_pinned_and_downgrades_detected() {
    let (p, s) = one(Answer::Cap(Reach::Rcs, E2ee::Verified));
    let r = s.resolver.resolve(&alice()).await.unwrap();
    let PinState::Pinned(pin) = r.pin() else {
        panic!("{r:?}")
    };
    assert_eq!((pin.pinned_at, pin.source), (START, Source::Provider));
    assert_eq!(r.downgrade(), None);

    s.clock.advance(5 * MIN);
    p.set(Answer::Cap(Reach::Rcs, E2ee::Unverified));
    let r = s.resolver.resolve(&alice()).await.unwrap();
    let d = *r.downgrade().unwrap();
    assert_eq!(d.pin, pin);
    assert_eq!(
        (d.observed_reach, d.observed_e2ee),
        (Reach::Rcs, E2ee::Unverified)
    );
    assert_eq!(
        (d.observed_source, d.observed_at),
        (Source::Provider, s.clock.now())
    );
    // Hits carry the verdict without asking anyone.
    assert_eq!(s.resolver.cached(&alice()).unwrap().downgrade(), Some(&d));
    assert_eq!(s.metrics.downgrades(), 1);
    assert_eq!(s.metrics.fallbacks("downgrade_detected"), 1);
    // A different number is unaffected.
    assert_eq!(
        s.resolver.resolve(&bob()).await.unwrap().pin(),
        PinState::NotPinned
    );

    // Unpinning is attributable or refused.
    assert!(matches!(
        s.resolver.unpin(&alice(), "", "x").await,
        Err(UnpinError::MissingActor)
    ));
    assert!(matches!(
        s.resolver.unpin(&alice(), "ops", " ").await,
        Err(UnpinError::MissingReason)
    ));
    assert!(
        s.resolver.cached(&alice()).unwrap().downgrade().is_some(),
        "refusal changes nothing"
    );
    let record = s
        .resolver
        .unpin(&alice(), "ops-oncall", "user changed phone")
        .await
        .unwrap();
    assert_eq!(record.removed, Some(pin));
    assert_eq!(record.request.actor(), "ops-oncall");
    assert_eq!(record.request.at(), s.clock.now());
    assert_eq!(record.number, alice());
    assert!(!format!("{record:?}").contains("7700900123"));
    let r = s.resolver.resolve(&alice()).await.unwrap();
    assert_eq!((r.pin(), r.downgrade()), (PinState::NotPinned, None));
    let again = s.resolver.unpin(&alice(), "ops", "again").await.unwrap();
    assert_eq!(again.removed, None);
}

#[tokio::test]
async fn an_unpin_during_a_query_is_not_undone_by_its_answer() {
    let clock = ManualClock::new(START);
    let gate = Arc::new(Semaphore::new(1));
    let mut p = Scripted::new("p", &clock, Answer::Cap(Reach::Rcs, E2ee::Verified));
    p.gate = Some(gate.clone());
    let p = Arc::new(p);
    let s = setup(vec![p.clone()], |b| b);
    s.resolver.resolve(&alice()).await.unwrap();
    s.clock.advance(5 * MIN);
    p.set(Answer::Cap(Reach::Rcs, E2ee::Unverified));
    let pending = tokio::spawn({
        let r = Arc::clone(&s.resolver);
        async move { r.resolve(&alice()).await.unwrap() }
    });
    while p.calls() < 2 {
        tokio::task::yield_now().await;
    }
    s.resolver
        .unpin(&alice(), "ops", "confirmed new phone")
        .await
        .unwrap();
    gate.add_permits(1);
    let r = pending.await.unwrap();
    assert!(r.downgrade().is_some(), "assessed against the pin it read");
    assert_eq!(
        s.resolver.cached(&alice()),
        None,
        "but not cached past the unpin"
    );
    let r = s.resolver.resolve(&alice()).await.unwrap();
    assert_eq!((r.pin(), r.downgrade()), (PinState::NotPinned, None));
}

#[tokio::test]
async fn fresher_client_reports_take_precedence() {
    let (p, s) = one(Answer::NotFound);
    s.resolver.resolve(&alice()).await.unwrap();
    s.clock.advance(Duration::from_secs(1));
    let report = Capability::new(Reach::Rcs, E2ee::Verified, Source::Provider, s.clock.now());
    let ObservationOutcome::Applied(r) = s.resolver.record_client_report(&alice(), report).await
    else {
        panic!("a fresher report applies")
    };
    assert_eq!(r.capability().source(), Source::ClientReport, "relabelled");
    assert!(matches!(
        r.pin(),
        PinState::Pinned(Pin {
            source: Source::ClientReport,
            ..
        })
    ));
    // A report older than the cached one is not applied.
    let older = Capability::new(
        Reach::SmsOnly,
        E2ee::Unavailable,
        Source::ClientReport,
        START,
    );
    assert_eq!(
        s.resolver.record_client_report(&alice(), older).await,
        ObservationOutcome::Superseded(r.clone())
    );
    // It replaced the negative entry and is cached with the positive TTL from its time.
    s.clock.advance(5 * MIN - Duration::from_millis(1));
    assert_eq!(s.resolver.resolve(&alice()).await.unwrap(), r);
    assert_eq!(p.calls(), 1);
    // A report older than the TTL is ignored outright.
    s.clock.advance(MIN);
    let stale = Capability::new(Reach::Rcs, E2ee::Verified, Source::ClientReport, START);
    assert_eq!(
        s.resolver.record_client_report(&bob(), stale).await,
        ObservationOutcome::Stale
    );
    assert_eq!(s.resolver.cached(&bob()), None);
}

#[tokio::test]
async fn a_report_made_during_a_query_beats_the_query_answer() {
    let clock = ManualClock::new(START);
    let gate = Arc::new(Semaphore::new(0));
    let mut p = Scripted::new("p", &clock, Answer::Cap(Reach::Rcs, E2ee::Unverified));
    p.gate = Some(gate.clone());
    let p = Arc::new(p);
    let s = setup(vec![p.clone()], |b| b);
    let pending = tokio::spawn({
        let r = Arc::clone(&s.resolver);
        async move { r.resolve(&alice()).await.unwrap() }
    });
    while p.calls() == 0 {
        tokio::task::yield_now().await;
    }
    clock.advance(Duration::from_secs(1));
    let report = Capability::new(
        Reach::Rcs,
        E2ee::Verified,
        Source::ClientReport,
        clock.now(),
    );
    let outcome = s.resolver.record_client_report(&alice(), report).await;
    assert!(matches!(outcome, ObservationOutcome::Applied(_)));
    clock.advance(Duration::from_secs(1)); // the provider stamps its answer later still
    gate.add_permits(1);
    let r = pending.await.unwrap();
    assert_eq!(
        r.capability().source(),
        Source::ClientReport,
        "the caller gets the report"
    );
    assert!(r.capability().is_verified_e2ee());
    assert_eq!(s.resolver.cached(&alice()).unwrap(), r);
}

#[tokio::test]
async fn delivery_events_mark_non_rcs_or_refresh() {
    let (p, s) = one(Answer::Cap(Reach::Rcs, E2ee::Verified));
    s.resolver.resolve(&alice()).await.unwrap();
    s.clock.advance(Duration::from_secs(5));

    // A plain delivery does not lower a verified entry.
    let out = s
        .resolver
        .on_delivery_event(
            &alice(),
            DeliveryEvent::Delivered {
                e2ee: E2ee::Unverified,
            },
        )
        .await;
    assert_eq!(out, ObservationOutcome::Unchanged);
    assert!(
        s.resolver
            .cached(&alice())
            .unwrap()
            .capability()
            .is_verified_e2ee()
    );

    // A 404 marks the number non-RCS: for a pinned contact, a downgrade; negative TTL.
    for event in [DeliveryEvent::NotFound404, DeliveryEvent::RevokedOnExpiry] {
        let ObservationOutcome::Applied(r) = s.resolver.on_delivery_event(&alice(), event).await
        else {
            panic!("{event:?}")
        };
        assert_eq!(r.capability().reach(), Reach::SmsOnly);
        assert_eq!(r.capability().source(), Source::DeliveryEvent);
        assert_eq!(
            r.downgrade().unwrap().observed_source,
            Source::DeliveryEvent
        );
        s.clock.advance(Duration::from_millis(1));
    }
    s.clock.advance(MIN - Duration::from_millis(2));
    assert!(s.resolver.cached(&alice()).is_some());
    s.clock.advance(Duration::from_millis(1));
    assert!(s.resolver.cached(&alice()).is_none());

    // A delivery over RCS disproves a cached "not RCS": the entry is dropped and re-queried.
    s.resolver
        .on_delivery_event(&bob(), DeliveryEvent::NotFound404)
        .await;
    let out = s
        .resolver
        .on_delivery_event(
            &bob(),
            DeliveryEvent::Delivered {
                e2ee: E2ee::Unknown,
            },
        )
        .await;
    assert_eq!(out, ObservationOutcome::Invalidated);
    let calls = p.calls();
    s.resolver.resolve(&bob()).await.unwrap();
    assert_eq!(p.calls(), calls + 1);

    // A verified delivery records (and pins) verified RCS.
    let carol = Msisdn::parse("+447700900789").unwrap();
    let ObservationOutcome::Applied(r) = s
        .resolver
        .on_delivery_event(
            &carol,
            DeliveryEvent::Delivered {
                e2ee: E2ee::Verified,
            },
        )
        .await
    else {
        panic!()
    };
    assert!(matches!(
        r.pin(),
        PinState::Pinned(Pin {
            source: Source::DeliveryEvent,
            ..
        })
    ));
}

#[tokio::test]
async fn the_carrier_matrix_applies_on_top_of_provider_answers() {
    let clock = ManualClock::new(START);
    let mut p = Scripted::new("p", &clock, Answer::Cap(Reach::Rcs, E2ee::Verified));
    p.carrier = Some("Acme");
    let p = Arc::new(p);
    let matrix = CarrierMatrix::parse(
        "[[carrier]]\nid = \"acme-public\"\ncarrier = \"acme\"\ne2ee = \"disabled\"\n",
    )
    .unwrap();
    let s = setup(vec![p.clone()], |b| b.carrier_matrix(matrix));
    let r = s.resolver.resolve(&alice()).await.unwrap();
    assert_eq!(r.capability().e2ee(), E2ee::Unavailable);
    assert_eq!(r.overrides().carrier_rule.as_deref(), Some("acme-public"));
    assert_eq!(
        r.pin(),
        PinState::NotPinned,
        "an overridden answer does not pin"
    );
    assert_eq!(r.candidate_routes(false)[0], Route::RcsPlain);
    assert_eq!(s.metrics.fallbacks("carrier_no_e2ee"), 1);
    assert_eq!(s.metrics.e2ee_ratio(), Some(0.0));
}

#[derive(Debug)]
struct BrokenPins;

#[async_trait]
impl PinStore for BrokenPins {
    async fn get(&self, _: &Msisdn) -> Result<Option<Pin>, StoreError> {
        Err(StoreError::Backend("down".into()))
    }
    async fn pin_if_absent(&self, _: &Msisdn, _: Pin) -> Result<Pin, StoreError> {
        Err(StoreError::Backend("down".into()))
    }
    async fn unpin(&self, _: &Msisdn, _: &UnpinRequest) -> Result<Option<Pin>, StoreError> {
        Err(StoreError::Backend("down".into()))
    }
}

#[tokio::test]
async fn an_unreadable_pin_store_is_reported_and_cached_briefly() {
    let clock = ManualClock::new(START);
    let p = Arc::new(Scripted::new(
        "p",
        &clock,
        Answer::Cap(Reach::Rcs, E2ee::Unverified),
    ));
    let s = setup(vec![p.clone()], |b| b.pins(Arc::new(BrokenPins)));
    let r = s.resolver.resolve(&alice()).await.unwrap();
    assert_eq!(r.pin(), PinState::Unavailable);
    assert_eq!(s.metrics.pin_store_errors(), 1);
    s.clock.advance(MIN);
    assert!(
        s.resolver.cached(&alice()).is_none(),
        "negative TTL, so the pin is re-read soon"
    );
    let err = s.resolver.unpin(&alice(), "ops", "why").await.unwrap_err();
    assert!(matches!(err, UnpinError::Store(_)));
    assert_eq!(err.to_string(), "pin store backend failed");
}

#[derive(Debug)]
struct Liar(ManualClock);

#[async_trait]
impl CapabilityProvider for Liar {
    fn name(&self) -> &str {
        "liar"
    }
    async fn query(&self, _: &Msisdn) -> Result<Capability, CapabilityError> {
        let future = self.0.now().saturating_add(Duration::from_secs(3_600));
        Ok(Capability::new(
            Reach::Rcs,
            E2ee::Unverified,
            Source::ClientReport,
            future,
        ))
    }
}

#[tokio::test]
async fn provider_answers_are_labelled_and_timed_by_the_resolver() {
    let clock = ManualClock::new(START);
    let resolver = Resolver::builder(Arc::new(clock.clone()))
        .provider(Arc::new(Liar(clock.clone())), Duration::from_secs(1))
        .build()
        .unwrap();
    let r = resolver.resolve(&alice()).await.unwrap();
    assert_eq!(r.capability().source(), Source::Provider);
    assert_eq!(r.capability().observed_at(), START);
}

#[test]
fn builder_validates_and_debug_hides_numbers() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(START));
    assert_eq!(
        Resolver::builder(clock.clone()).build().unwrap_err(),
        ConfigError::NoProviders
    );
    let liar = Arc::new(Liar(ManualClock::new(START)));
    assert_eq!(
        Resolver::builder(clock.clone())
            .provider(liar.clone(), Duration::ZERO)
            .build()
            .unwrap_err(),
        ConfigError::ZeroTimeout
    );
    let resolver = Resolver::builder(clock)
        .provider(liar, Duration::from_secs(1))
        .build()
        .unwrap();
    let text = format!("{resolver:?}");
    assert!(text.contains("liar"), "{text}");
    assert_eq!(resolver.cache().len(), 0);
}
