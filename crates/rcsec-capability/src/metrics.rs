//! A small metrics facade; the daemon exports it, tests count with [`CountingMetrics`].

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::capability::E2ee;

/// Why a resolution points away from the best route, as far as the capability layer can tell.
///
/// The names match the policy's fallback reasons; the policy adds its own (`device_mismatch`,
/// `policy_blocked`, `user_override`) through the same [`CapabilityMetrics::fallback`] hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FallbackReason {
    /// The number is not reachable over RCS.
    NoRcs,
    /// A carrier-matrix rule removed E2EE or RCS.
    CarrierNoE2ee,
    /// A pinned recipient was observed with weaker E2EE.
    DowngradeDetected,
    /// Every provider failed.
    ProviderOutage,
}

impl FallbackReason {
    /// The reason's stable name (`no_rcs`, `carrier_no_e2ee`, `downgrade_detected`,
    /// `provider_outage`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoRcs => "no_rcs",
            Self::CarrierNoE2ee => "carrier_no_e2ee",
            Self::DowngradeDetected => "downgrade_detected",
            Self::ProviderOutage => "provider_outage",
        }
    }
}

/// Hooks the resolver calls; every method defaults to doing nothing.
///
/// Called on fresh observations and provider queries, never on the cache-hit path, so an
/// implementation may take a lock. Arguments never include a phone number.
///
/// # Contract
/// Hooks must be quick and must not fail or panic: they run inside resolution, which sits on
/// every page. Export asynchronously (counters read by a scrape), never by I/O in the hook.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::time::Duration;
/// use async_trait::async_trait;
/// use rcsec_capability::*;
/// use rcsec_core::{Clock, ManualClock, Msisdn, Timestamp};
///
/// /// Counts the one thing this team alerts on.
/// #[derive(Debug, Default)]
/// struct Downgrades(AtomicU64);
/// impl CapabilityMetrics for Downgrades {
///     fn downgrade(&self) { self.0.fetch_add(1, Ordering::Relaxed); }
/// }
///
/// #[derive(Debug)]
/// struct Verified(ManualClock);
/// #[async_trait]
/// impl CapabilityProvider for Verified {
///     fn name(&self) -> &str { "fixed" }
///     async fn query(&self, _: &Msisdn) -> Result<Capability, CapabilityError> {
///         Ok(Capability::new(Reach::Rcs, E2ee::Verified, Source::Provider, self.0.now()))
///     }
/// }
///
/// let clock = ManualClock::new(Timestamp::from_secs(1_700_000_000));
/// let metrics = Arc::new(Downgrades::default());
/// let resolver = Resolver::builder(Arc::new(clock.clone()))
///     .provider(Arc::new(Verified(clock.clone())), Duration::from_secs(2))
///     .metrics(metrics.clone())
///     .build()?;
/// let alice = Msisdn::parse("+447700900101")?;
/// resolver.resolve(&alice).await?; // verified: pinned
/// resolver.on_delivery_event(&alice, DeliveryEvent::NotFound404).await; // now not on RCS
/// assert_eq!(metrics.0.load(Ordering::Relaxed), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait CapabilityMetrics: Send + Sync + Debug + 'static {
    /// One provider query finished (`ok` is false for errors and timeouts; `NotFound` is ok).
    fn query_latency(&self, _provider: &str, _elapsed: Duration, _ok: bool) {}

    /// A fresh observation entered the cache; the E2EE availability ratio is
    /// `verified / all` over these.
    fn observation(&self, _e2ee: E2ee) {}

    /// A fallback happened for `reason` (see [`FallbackReason`] for the ones this crate emits).
    fn fallback(&self, _reason: &str) {}

    /// A downgrade of a pinned recipient was detected.
    fn downgrade(&self) {}

    /// The pin store failed, so a resolution carries
    /// [`PinState::Unavailable`](crate::PinState::Unavailable).
    fn pin_store_unavailable(&self) {}

    /// A resolution missed the cache and went to the providers (hits are not reported, so the
    /// hit path stays free of metrics calls; count hits as resolutions minus misses).
    fn cache_miss(&self) {}
}

#[cfg(test)]
fn _obj_safe(_: &dyn CapabilityMetrics) {}

/// Metrics that go nowhere (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopMetrics;

impl CapabilityMetrics for NoopMetrics {}

/// Metrics counted in memory, for tests and simple status pages.
#[derive(Debug, Default)]
pub struct CountingMetrics {
    queries: AtomicU64,
    failed_queries: AtomicU64,
    query_micros: AtomicU64,
    observations: AtomicU64,
    verified: AtomicU64,
    downgrades: AtomicU64,
    misses: AtomicU64,
    pin_store_errors: AtomicU64,
    fallbacks: Mutex<BTreeMap<String, u64>>,
}

impl CountingMetrics {
    /// All counters at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Provider queries so far.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    /// Provider queries that failed.
    pub fn failed_queries(&self) -> u64 {
        self.failed_queries.load(Ordering::Relaxed)
    }

    /// Total time spent in provider queries.
    pub fn query_time(&self) -> Duration {
        Duration::from_micros(self.query_micros.load(Ordering::Relaxed))
    }

    /// Fresh observations so far.
    pub fn observations(&self) -> u64 {
        self.observations.load(Ordering::Relaxed)
    }

    /// Share of observations with verified E2EE, or `None` before the first.
    pub fn e2ee_ratio(&self) -> Option<f64> {
        let all = self.observations();
        (all > 0).then(|| self.verified.load(Ordering::Relaxed) as f64 / all as f64)
    }

    /// Downgrades detected.
    pub fn downgrades(&self) -> u64 {
        self.downgrades.load(Ordering::Relaxed)
    }

    /// Cache misses.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Pin store failures seen.
    pub fn pin_store_errors(&self) -> u64 {
        self.pin_store_errors.load(Ordering::Relaxed)
    }

    /// Fallbacks counted for `reason`.
    pub fn fallbacks(&self, reason: &str) -> u64 {
        let map = self
            .fallbacks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.get(reason).copied().unwrap_or(0)
    }
}

impl CapabilityMetrics for CountingMetrics {
    fn query_latency(&self, _provider: &str, elapsed: Duration, ok: bool) {
        self.queries.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.failed_queries.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.query_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn observation(&self, e2ee: E2ee) {
        self.observations.fetch_add(1, Ordering::Relaxed);
        if e2ee == E2ee::Verified {
            self.verified.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn fallback(&self, reason: &str) {
        let mut map = self
            .fallbacks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *map.entry(reason.to_owned()).or_default() += 1;
    }

    fn downgrade(&self) {
        self.downgrades.fetch_add(1, Ordering::Relaxed);
    }

    fn pin_store_unavailable(&self) {
        self.pin_store_errors.fetch_add(1, Ordering::Relaxed);
    }

    fn cache_miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_it_is_told() {
        let m = CountingMetrics::new();
        assert_eq!(m.e2ee_ratio(), None);
        m.query_latency("a", Duration::from_millis(3), true);
        m.query_latency("b", Duration::from_millis(2), false);
        for e2ee in [
            E2ee::Verified,
            E2ee::Unverified,
            E2ee::Verified,
            E2ee::Unknown,
        ] {
            m.observation(e2ee);
        }
        m.fallback(FallbackReason::NoRcs.as_str());
        m.fallback("no_rcs");
        m.fallback("user_override");
        m.downgrade();
        m.cache_miss();
        m.pin_store_unavailable();
        assert_eq!(m.pin_store_errors(), 1);
        assert_eq!((m.queries(), m.failed_queries()), (2, 1));
        assert_eq!(m.query_time(), Duration::from_millis(5));
        assert_eq!(m.e2ee_ratio(), Some(0.5));
        assert_eq!(m.fallbacks("no_rcs"), 2);
        assert_eq!(m.fallbacks("user_override"), 1);
        assert_eq!(m.fallbacks("provider_outage"), 0);
        assert_eq!((m.downgrades(), m.misses()), (1, 1));
        // The no-op sink accepts everything.
        let noop: &dyn CapabilityMetrics = &NoopMetrics;
        noop.fallback("no_rcs");
    }
}
