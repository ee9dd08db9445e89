//! Configuration of a [`Resolver`].

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use rcsec_core::Clock;

use super::{ProviderSlot, Resolver};
use crate::cache::single_flight::SingleFlight;
use crate::cache::{CacheConfig, CapabilityCache};
use crate::carrier::CarrierMatrix;
use crate::error::ConfigError;
use crate::health::{BreakerConfig, CircuitBreaker};
use crate::metrics::{CapabilityMetrics, NoopMetrics};
use crate::pin::{MemoryPinStore, PinStore};
use crate::provider::CapabilityProvider;

/// Builds a [`Resolver`].
#[derive(Debug)]
pub struct ResolverBuilder {
    clock: Arc<dyn Clock>,
    providers: Vec<(Arc<dyn CapabilityProvider>, Duration)>,
    breaker: BreakerConfig,
    cache: CacheConfig,
    pins: Option<Arc<dyn PinStore>>,
    matrix: CarrierMatrix,
    metrics: Arc<dyn CapabilityMetrics>,
}

impl ResolverBuilder {
    /// Starts a builder; every TTL, expiry and breaker cooldown reads `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            providers: Vec::new(),
            breaker: BreakerConfig::default(),
            cache: CacheConfig::default(),
            pins: None,
            matrix: CarrierMatrix::empty(),
            metrics: Arc::new(NoopMetrics),
        }
    }

    /// Appends a provider, tried after those added before it, with its own query timeout.
    #[must_use]
    pub fn provider(mut self, provider: Arc<dyn CapabilityProvider>, timeout: Duration) -> Self {
        self.providers.push((provider, timeout));
        self
    }

    /// The breaker configuration for every provider (default: 3 failures, 30 s).
    #[must_use]
    pub fn breaker(mut self, config: BreakerConfig) -> Self {
        self.breaker = config;
        self
    }

    /// Cache TTLs and size (default: [`CacheConfig::default`]).
    #[must_use]
    pub fn cache(mut self, config: CacheConfig) -> Self {
        self.cache = config;
        self
    }

    /// Where pins live. Default: a [`MemoryPinStore`], which forgets pins on restart — use a
    /// durable store in production, or a restart silently resets downgrade detection.
    #[must_use]
    pub fn pins(mut self, store: Arc<dyn PinStore>) -> Self {
        self.pins = Some(store);
        self
    }

    /// Carrier and client overrides applied to every observation (default: none).
    #[must_use]
    pub fn carrier_matrix(mut self, matrix: CarrierMatrix) -> Self {
        self.matrix = matrix;
        self
    }

    /// The metrics sink (default: [`NoopMetrics`]).
    #[must_use]
    pub fn metrics(mut self, metrics: Arc<dyn CapabilityMetrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Builds the resolver.
    ///
    /// # Errors
    /// [`ConfigError::NoProviders`] without providers; [`ConfigError::ZeroTimeout`] for a zero
    /// provider timeout.
    pub fn build(self) -> Result<Resolver, ConfigError> {
        if self.providers.is_empty() {
            return Err(ConfigError::NoProviders);
        }
        let providers = self
            .providers
            .into_iter()
            .map(|(provider, timeout)| {
                if timeout.is_zero() {
                    return Err(ConfigError::ZeroTimeout);
                }
                Ok(ProviderSlot {
                    name: Arc::from(provider.name()),
                    provider,
                    timeout,
                    breaker: CircuitBreaker::new(self.breaker),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Resolver {
            providers,
            cache: CapabilityCache::new(self.cache),
            flights: SingleFlight::new(),
            pins: self.pins.unwrap_or_else(|| Arc::new(MemoryPinStore::new())),
            matrix: self.matrix,
            metrics: self.metrics,
            clock: self.clock,
            unpin_epoch: AtomicU64::new(0),
        })
    }
}
