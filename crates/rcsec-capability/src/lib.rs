//! Capability routing for rcsec: how can a recipient be reached, is that path end-to-end
//! encrypted, and did it get worse?
//!
//! Before an alert goes out, the pipeline asks a [`Resolver`] about the recipient. The answer,
//! a [`Resolution`], must be fast (it sits on every page) and honest (the policy sends secrets
//! only over a path marked [`E2ee::Verified`]):
//!
//! - **Providers** ([`CapabilityProvider`]) are asked in order, each with a timeout and a
//!   [`CircuitBreaker`] (without a capability API, [`StaticCapabilities`] answers from a table
//!   of numbers and prefixes); when all fail, the error is [`CapabilityError::ProviderOutage`].
//!   Adapters never claim E2EE their provider does not affirm — RCS Business Messaging is not
//!   end-to-end encrypted.
//! - **Cache** ([`CapabilityCache`]): 5-minute TTL (1–15 configurable), shorter negative TTL,
//!   bounded with CLOCK eviction, single-flight misses, client reports beating older provider
//!   metadata, invalidation from [`DeliveryEvent`]s. A hit costs one shard lock and no
//!   allocation.
//! - **Carrier matrix** ([`CarrierMatrix`], TOML): operator overrides that can only weaken an
//!   answer ("RCS yes, E2EE disabled by policy — treat as public").
//! - **Pins** ([`PinStore`]): a recipient once seen with verified E2EE is pinned; anything
//!   weaker later is a [`DowngradeDetected`] in the resolution, until an admin
//!   [unpins](Resolver::unpin) with a name and a reason.
//! - **Number keys** ([`NumberKeyer`]): the keyed hash every store uses instead of a phone
//!   number (pins, cached capabilities), so a database dump does not list who is on call.
//! - **Routes** ([`candidate_routes`]): the ordered tiers the policy chooses from.
//! - **Metrics** ([`CapabilityMetrics`]): query latency, E2EE ratio, fallbacks, downgrades.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use async_trait::async_trait;
//! use rcsec_capability::*;
//! use rcsec_core::{Clock, ManualClock, Msisdn, Timestamp};
//!
//! #[derive(Debug)]
//! struct Fixed(ManualClock);
//!
//! #[async_trait]
//! impl CapabilityProvider for Fixed {
//!     fn name(&self) -> &str { "fixed" }
//!     async fn query(&self, _: &Msisdn) -> Result<Capability, CapabilityError> {
//!         Ok(Capability::new(Reach::Rcs, E2ee::Verified, Source::Provider, self.0.now()))
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
//! let clock = ManualClock::new(Timestamp::from_secs(1_700_000_000));
//! let resolver = Resolver::builder(Arc::new(clock.clone()))
//!     .provider(Arc::new(Fixed(clock.clone())), Duration::from_secs(2))
//!     .build()?;
//! let alice = Msisdn::parse("+44 7700 900123")?;
//!
//! let first = resolver.resolve(&alice).await?;
//! assert_eq!(first.candidate_routes(false)[0], Route::RcsE2ee);
//! assert!(matches!(first.pin(), PinState::Pinned(_)));
//!
//! // Later the provider's 404 says alice is no longer on RCS: a downgrade of a pinned contact.
//! let outcome = resolver.on_delivery_event(&alice, DeliveryEvent::NotFound404).await;
//! let ObservationOutcome::Applied(now) = outcome else { unreachable!() };
//! assert!(now.downgrade().is_some());
//! assert_eq!(now.candidate_routes(false), [Route::SmsLink, Route::Blocked]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//! - `test-utils`: the [`PinStore`] conformance suite, `pin_store_tests!` (module
//!   `conformance`).
//!
//! # Security
//! Capability answers decide whether secrets may travel, so adapters follow the honesty rule on
//! [`CapabilityProvider`], and the [`PinStore`] is part of the security boundary: losing pins
//! turns downgrades into first sightings (THREAT_MODEL.md §1).

#![forbid(unsafe_code)]

mod cache;
mod capability;
mod carrier;
#[cfg(feature = "test-utils")]
pub mod conformance;
mod error;
mod fixed;
#[doc(hidden)]
pub mod fuzzing;
mod health;
mod hints;
mod keyer;
mod metrics;
mod pin;
mod provider;
mod resolver;
mod route;

pub use cache::{CacheConfig, CapabilityCache, InsertOutcome, Resolution};
pub use capability::{Capability, E2ee, Features, Reach, Source};
pub use carrier::{CarrierMatrix, Overrides};
pub use error::{
    CapabilityError, CarrierMatrixError, ConfigError, FailureKind, HintError, OutageReport,
    ProviderFailure, StoreError, UnpinError,
};
pub use fixed::{InvalidPrefix, StaticCapabilities};
pub use health::{BreakerConfig, BreakerState, CircuitBreaker, Permit};
pub use hints::{Carrier, ClientHints, ClientVersion, Region};
pub use keyer::NumberKeyer;
pub use metrics::{CapabilityMetrics, CountingMetrics, FallbackReason, NoopMetrics};
pub use pin::{
    DowngradeDetected, MemoryPinStore, Pin, PinState, PinStore, UnpinRecord, UnpinRequest,
};
pub use provider::CapabilityProvider;
pub use resolver::{DeliveryEvent, ObservationOutcome, ProviderHealth, Resolver, ResolverBuilder};
pub use route::{Route, candidate_routes};
