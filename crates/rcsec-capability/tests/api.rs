//! The public API as a caller outside the crate sees it.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rcsec_capability::{
    CacheConfig, Capability, CapabilityCache, CapabilityError, CapabilityProvider, CarrierMatrix,
    CountingMetrics, DeliveryEvent, E2ee, MemoryPinStore, ObservationOutcome, PinStore, Reach,
    Resolver, Route, Source,
};
use rcsec_core::{Clock, ManualClock, Msisdn, Timestamp};

const DIGITS: &str = "7700900123";

#[derive(Debug)]
struct Down;

#[async_trait]
impl CapabilityProvider for Down {
    fn name(&self) -> &str {
        "down"
    }
    async fn query(&self, _: &Msisdn) -> Result<Capability, CapabilityError> {
        Err(CapabilityError::Unavailable)
    }
}

#[derive(Debug)]
struct Rbm(ManualClock);

#[async_trait]
impl CapabilityProvider for Rbm {
    fn name(&self) -> &str {
        "rbm"
    }
    async fn query(&self, _: &Msisdn) -> Result<Capability, CapabilityError> {
        // RCS Business Messaging is not end-to-end encrypted: never `Verified`.
        Ok(Capability::new(
            Reach::Rcs,
            E2ee::Unverified,
            Source::Provider,
            self.0.now(),
        ))
    }
}

fn number() -> Msisdn {
    Msisdn::parse(&format!("+44{DIGITS}")).unwrap()
}

#[tokio::test]
async fn outage_then_failover_without_leaking_the_number() {
    let clock = ManualClock::new(Timestamp::from_secs(1_700_000_000));
    let metrics = Arc::new(CountingMetrics::new());
    let pins: Arc<dyn PinStore> = Arc::new(MemoryPinStore::new());
    let outage = Resolver::builder(Arc::new(clock.clone()))
        .provider(Arc::new(Down), Duration::from_secs(1))
        .pins(Arc::clone(&pins))
        .metrics(metrics.clone())
        .build()
        .unwrap();
    let err = outage.resolve(&number()).await.unwrap_err();
    assert!(err.is_outage());
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(DIGITS), "{shown}");
    assert_eq!(
        err.to_string(),
        "all capability providers failed (down: unavailable)"
    );

    let resolver = Resolver::builder(Arc::new(clock.clone()))
        .provider(Arc::new(Down), Duration::from_secs(1))
        .provider(Arc::new(Rbm(clock.clone())), Duration::from_secs(1))
        .pins(pins)
        .build()
        .unwrap();
    let r = resolver.resolve(&number()).await.unwrap();
    assert_eq!(
        r.candidate_routes(true),
        [
            Route::EncryptedPush,
            Route::RcsPlain,
            Route::SmsLink,
            Route::Blocked
        ]
    );
    let shown = format!("{r:?} {resolver:?}");
    assert!(!shown.contains(DIGITS), "{shown}");

    let out = resolver
        .on_delivery_event(&number(), DeliveryEvent::RevokedOnExpiry)
        .await;
    let ObservationOutcome::Applied(r) = out else {
        panic!("{out:?}")
    };
    assert_eq!(r.capability().reach(), Reach::SmsOnly);
    assert!(r.downgrade().is_none(), "never pinned: RBM never verifies");
}

#[test]
fn the_cache_is_usable_on_its_own() {
    let cache = CapabilityCache::new(CacheConfig::default());
    let now = Timestamp::from_secs(100);
    let cap = Capability::new(Reach::Rcs, E2ee::Verified, Source::ClientReport, now);
    let (cap, overrides) = CarrierMatrix::empty().apply(cap);
    let r = rcsec_capability::Resolution::new(
        cap,
        rcsec_capability::PinState::NotPinned,
        None,
        overrides,
    );
    cache.insert(&number(), r.clone(), now);
    assert_eq!(cache.get(&number(), now), Some(r));
    assert_eq!(
        cache.get(&number(), now.saturating_add(Duration::from_secs(300))),
        None
    );
    assert!(!cache.remove(&number()));
}
