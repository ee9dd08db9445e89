//! The resolver: cache, single-flight, providers with failover, carrier matrix, and pins.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rcsec_core::{Clock, Msisdn, Timestamp};

pub use self::builder::ResolverBuilder;
use crate::cache::single_flight::{self, Join, SingleFlight};
use crate::cache::{CapabilityCache, InsertOutcome, NumberKey, Resolution};
use crate::capability::{Capability, E2ee, Reach, Source};
use crate::carrier::CarrierMatrix;
use crate::error::{CapabilityError, FailureKind, OutageReport, UnpinError};
use crate::health::{BreakerState, CircuitBreaker};
use crate::metrics::{CapabilityMetrics, FallbackReason};
use crate::pin::{self, Pin, PinState, PinStore, UnpinRecord, UnpinRequest};
use crate::provider::CapabilityProvider;

/// What a messaging provider told us about a message, as far as capability is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryEvent {
    /// The provider answered 404 for the recipient: not (or no longer) an RCS user.
    NotFound404,
    /// The message was revoked when it expired undelivered: RCS did not reach the device.
    RevokedOnExpiry,
    /// The message was delivered over RCS; `e2ee` says whether that delivery was end-to-end
    /// encrypted.
    Delivered {
        /// End-to-end encryption of this delivery, as the provider affirms it.
        e2ee: E2ee,
    },
}

/// What recording a client report or delivery event did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObservationOutcome {
    /// The observation is now the cached resolution.
    Applied(Resolution),
    /// A more recent observation is cached and stays in force; here it is.
    Superseded(Resolution),
    /// The observation is older than the TTL and was ignored.
    Stale,
    /// The cached entry was dropped; the next resolution asks the providers.
    Invalidated,
    /// Nothing changed.
    Unchanged,
}

/// One provider's circuit-breaker state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderHealth {
    /// The provider's name.
    pub name: Arc<str>,
    /// Its breaker's state now.
    pub state: BreakerState,
}

struct ProviderSlot {
    provider: Arc<dyn CapabilityProvider>,
    name: Arc<str>,
    timeout: Duration,
    breaker: CircuitBreaker,
}

/// Resolves recipients to a [`Resolution`]: cached, single-flight, failing over across
/// providers, adjusted by the carrier matrix, and checked against pins.
///
/// Downgrade detection happens when an observation enters the cache (a miss, a client report,
/// a delivery event); a hit returns the verdict stored with the entry, so hits never touch the
/// pin store. Pins written by another replica are therefore seen within one TTL.
pub struct Resolver {
    providers: Vec<ProviderSlot>,
    cache: CapabilityCache,
    flights: SingleFlight<Result<Resolution, OutageReport>>,
    pins: Arc<dyn PinStore>,
    matrix: CarrierMatrix,
    metrics: Arc<dyn CapabilityMetrics>,
    clock: Arc<dyn Clock>,
    /// Bumped by every unpin; a resolution assessed under an older epoch is not cached, so an
    /// in-flight query cannot re-cache a pin that was just removed.
    unpin_epoch: AtomicU64,
}

impl Resolver {
    /// Starts a [`ResolverBuilder`].
    pub fn builder(clock: Arc<dyn Clock>) -> ResolverBuilder {
        ResolverBuilder::new(clock)
    }

    /// The cached resolution for `number`, without asking anyone. This is the whole hit path
    /// of [`Resolver::resolve`].
    pub fn cached(&self, number: &Msisdn) -> Option<Resolution> {
        self.cache.get_key(NumberKey::of(number), self.clock.now())
    }

    /// Resolves `number`: from the cache when fresh, otherwise by one provider query shared
    /// with every concurrent caller for the same number.
    ///
    /// The cache is consulted when this is called, so a hit is ready on the first poll and
    /// allocates nothing; only a miss builds the (boxed) query future.
    ///
    /// # Errors
    /// [`CapabilityError::ProviderOutage`] when every provider failed or was skipped by its
    /// open circuit breaker (the policy's `provider_outage`). Outages are not cached.
    pub fn resolve<'a>(
        &'a self,
        number: &'a Msisdn,
    ) -> impl Future<Output = Result<Resolution, CapabilityError>> + Send + 'a {
        let key = NumberKey::of(number);
        let hit = self.cache.get_key(key, self.clock.now());
        async move {
            match hit {
                Some(hit) => Ok(hit),
                None => Box::pin(self.resolve_miss(number, key)).await,
            }
        }
    }

    async fn resolve_miss(
        &self,
        number: &Msisdn,
        key: NumberKey,
    ) -> Result<Resolution, CapabilityError> {
        self.metrics.cache_miss();
        loop {
            match self.flights.join(key.0) {
                Join::Leader(leader) => {
                    // The previous flight may have cached its answer just before ending.
                    let result = match self.cache.get_key(key, self.clock.now()) {
                        Some(hit) => Ok(hit),
                        None => self.refresh(number, key).await,
                    };
                    leader.finish(result.clone());
                    return result.map_err(CapabilityError::ProviderOutage);
                }
                Join::Follower(rx) => {
                    if let Some(result) = single_flight::wait(rx).await {
                        return result.map_err(CapabilityError::ProviderOutage);
                    }
                    // The leader was cancelled; try again (possibly as the new leader).
                }
            }
        }
    }

    /// Queries the providers and records the answer.
    async fn refresh(&self, number: &Msisdn, key: NumberKey) -> Result<Resolution, OutageReport> {
        let epoch = self.unpin_epoch.load(Ordering::SeqCst);
        match self.query_providers(number).await {
            Ok(capability) => {
                let resolution = self.assess(number, capability).await;
                Ok(match self.store(key, resolution.clone(), epoch) {
                    InsertOutcome::Superseded(newer) => newer,
                    _ => resolution,
                })
            }
            Err(report) => {
                self.metrics
                    .fallback(FallbackReason::ProviderOutage.as_str());
                Err(report)
            }
        }
    }

    /// Tries each provider in order, honouring breakers and timeouts.
    async fn query_providers(&self, number: &Msisdn) -> Result<Capability, OutageReport> {
        let mut report = OutageReport::default();
        for slot in &self.providers {
            let asked_at = self.clock.now();
            let Some(permit) = slot.breaker.try_acquire(asked_at) else {
                report.push(Arc::clone(&slot.name), FailureKind::CircuitOpen);
                continue;
            };
            let started = tokio::time::Instant::now();
            let outcome = tokio::time::timeout(slot.timeout, slot.provider.query(number)).await;
            let elapsed = started.elapsed();
            let failure = match outcome {
                Ok(Ok(capability)) => {
                    permit.success();
                    self.metrics.query_latency(&slot.name, elapsed, true);
                    // The answer is as of the request at the latest, and it is provider
                    // metadata whatever the adapter labelled it.
                    let observed_at = capability.observed_at().min(asked_at);
                    return Ok(relabel(capability, Source::Provider, observed_at));
                }
                Ok(Err(CapabilityError::NotFound)) => {
                    permit.success();
                    self.metrics.query_latency(&slot.name, elapsed, true);
                    return Ok(Capability::new(
                        Reach::SmsOnly,
                        E2ee::Unavailable,
                        Source::Provider,
                        asked_at,
                    ));
                }
                Ok(Err(error)) => failure_kind(&error),
                Err(_elapsed) => FailureKind::Timeout,
            };
            permit.failure(self.clock.now());
            self.metrics.query_latency(&slot.name, elapsed, false);
            report.push(Arc::clone(&slot.name), failure);
        }
        Err(report)
    }

    /// Applies the carrier matrix and checks (or sets) the pin.
    async fn assess(&self, number: &Msisdn, observed: Capability) -> Resolution {
        let (before_reach, before_e2ee) = (observed.reach(), observed.e2ee());
        let (capability, overrides) = self.matrix.apply(observed);
        let pin_state = match self.pins.get(number).await {
            Ok(Some(pin)) => PinState::Pinned(pin),
            Ok(None) if capability.is_verified_e2ee() => {
                let pin = Pin {
                    pinned_at: capability.observed_at().min(self.clock.now()),
                    source: capability.source(),
                };
                match self.pins.pin_if_absent(number, pin).await {
                    Ok(pin) => PinState::Pinned(pin),
                    Err(_) => PinState::Unavailable,
                }
            }
            Ok(None) => PinState::NotPinned,
            Err(_) => PinState::Unavailable,
        };
        let pinned = match pin_state {
            PinState::Pinned(pin) => Some(pin),
            PinState::NotPinned | PinState::Unavailable => None,
        };
        let downgrade = pin::assess(pinned, &capability);

        let m = &self.metrics;
        m.observation(capability.e2ee());
        if pin_state == PinState::Unavailable {
            m.pin_store_unavailable();
        }
        if capability.reach() != Reach::Rcs {
            m.fallback(FallbackReason::NoRcs.as_str());
        }
        if (capability.reach(), capability.e2ee()) != (before_reach, before_e2ee) {
            m.fallback(FallbackReason::CarrierNoE2ee.as_str());
        }
        if downgrade.is_some() {
            m.downgrade();
            m.fallback(FallbackReason::DowngradeDetected.as_str());
        }
        Resolution::new(capability, pin_state, downgrade, overrides)
    }

    /// Caches `resolution` unless an unpin happened since `epoch` (then it is returned but not
    /// cached, so the next resolution re-reads the pin).
    fn store(&self, key: NumberKey, resolution: Resolution, epoch: u64) -> InsertOutcome {
        if self.unpin_epoch.load(Ordering::SeqCst) != epoch {
            return InsertOutcome::Expired;
        }
        self.cache.insert_key(key, resolution, self.clock.now())
    }

    /// Records what the recipient's own enrolled client reports. Its source is recorded as
    /// [`Source::ClientReport`] whatever `report` says, and it takes precedence over provider
    /// metadata observed earlier (or at the same instant).
    ///
    /// # Security
    /// Call this only with reports authenticated as coming from the recipient's enrolled
    /// device: a verified report pins the recipient.
    pub async fn record_client_report(
        &self,
        number: &Msisdn,
        report: Capability,
    ) -> ObservationOutcome {
        let observed_at = report.observed_at();
        self.observe(number, relabel(report, Source::ClientReport, observed_at))
            .await
    }

    /// Updates what is known from a delivery event.
    ///
    /// - [`DeliveryEvent::NotFound404`] and [`DeliveryEvent::RevokedOnExpiry`] record the number
    ///   as not RCS (negative TTL); for a pinned recipient that is a downgrade.
    /// - [`DeliveryEvent::Delivered`] with verified E2EE records (and pins) verified RCS.
    /// - Any other delivery says which channel one message took, not what the recipient
    ///   supports, so it never lowers a cached E2EE state; it only drops a cached "not RCS"
    ///   entry, which the delivery just disproved, so the next resolution asks again.
    pub async fn on_delivery_event(
        &self,
        number: &Msisdn,
        event: DeliveryEvent,
    ) -> ObservationOutcome {
        let now = self.clock.now();
        let observed = match event {
            DeliveryEvent::NotFound404 | DeliveryEvent::RevokedOnExpiry => Capability::new(
                Reach::SmsOnly,
                E2ee::Unavailable,
                Source::DeliveryEvent,
                now,
            ),
            DeliveryEvent::Delivered {
                e2ee: E2ee::Verified,
            } => Capability::new(Reach::Rcs, E2ee::Verified, Source::DeliveryEvent, now),
            DeliveryEvent::Delivered { .. } => {
                let key = NumberKey::of(number);
                return match self.cache.get_key(key, now) {
                    Some(cached) if cached.capability().reach() != Reach::Rcs => {
                        self.cache.remove_key(key);
                        ObservationOutcome::Invalidated
                    }
                    _ => ObservationOutcome::Unchanged,
                };
            }
        };
        self.observe(number, observed).await
    }

    async fn observe(&self, number: &Msisdn, observed: Capability) -> ObservationOutcome {
        let key = NumberKey::of(number);
        let now = self.clock.now();
        let ttl = if observed.is_negative() {
            self.cache.config().negative_ttl()
        } else {
            self.cache.config().ttl()
        };
        if observed.observed_at().saturating_add(ttl) <= now {
            return ObservationOutcome::Stale;
        }
        if let Some(current) = self.cache.get_key(key, now)
            && !crate::cache::supersedes(&observed, current.capability())
        {
            return ObservationOutcome::Superseded(current);
        }
        let epoch = self.unpin_epoch.load(Ordering::SeqCst);
        let resolution = self.assess(number, observed).await;
        match self.store(key, resolution.clone(), epoch) {
            InsertOutcome::Superseded(newer) => ObservationOutcome::Superseded(newer),
            _ => ObservationOutcome::Applied(resolution),
        }
    }

    /// Removes the pin for `number`: an explicit, attributable admin act. The cached entry is
    /// dropped so the next resolution starts afresh. Keep the returned record in the audit log.
    ///
    /// # Errors
    /// [`UnpinError::MissingActor`] / [`UnpinError::MissingReason`] / [`UnpinError::InvalidText`]
    /// for an unattributable request; [`UnpinError::Store`] when the pin store fails.
    pub async fn unpin(
        &self,
        number: &Msisdn,
        actor: &str,
        reason: &str,
    ) -> Result<UnpinRecord, UnpinError> {
        let request = UnpinRequest::new(actor, reason, self.clock.now())?;
        let removed = self.pins.unpin(number, &request).await?;
        self.unpin_epoch.fetch_add(1, Ordering::SeqCst);
        self.cache.remove_key(NumberKey::of(number));
        Ok(UnpinRecord {
            number: number.clone(),
            request,
            removed,
        })
    }

    /// Drops the cached entry for `number`; returns whether there was one.
    pub fn invalidate(&self, number: &Msisdn) -> bool {
        self.cache.remove_key(NumberKey::of(number))
    }

    /// Each provider's breaker state, in failover order.
    pub fn provider_health(&self) -> Vec<ProviderHealth> {
        let now = self.clock.now();
        self.providers
            .iter()
            .map(|slot| ProviderHealth {
                name: Arc::clone(&slot.name),
                state: slot.breaker.state(now),
            })
            .collect()
    }

    /// The cache (for sizing and inspection).
    pub fn cache(&self) -> &CapabilityCache {
        &self.cache
    }
}

fn relabel(capability: Capability, source: Source, observed_at: Timestamp) -> Capability {
    capability.with_source(source).with_observed_at(observed_at)
}

fn failure_kind(error: &CapabilityError) -> FailureKind {
    match error {
        CapabilityError::Timeout => FailureKind::Timeout,
        CapabilityError::RateLimited => FailureKind::RateLimited,
        CapabilityError::Unavailable => FailureKind::Unavailable,
        _ => FailureKind::Backend,
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.providers.iter().map(|p| &*p.name).collect();
        f.debug_struct("Resolver")
            .field("providers", &names)
            .field("cache", &self.cache)
            .field("pins", &self.pins)
            .field("matrix", &self.matrix)
            .finish_non_exhaustive()
    }
}

mod builder;
#[cfg(test)]
mod tests;
