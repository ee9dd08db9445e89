//! The adapter trait a messaging provider implements to answer capability queries.

use std::fmt::Debug;

use async_trait::async_trait;
use rcsec_core::Msisdn;

use crate::capability::Capability;
#[cfg(doc)]
use crate::capability::{E2ee, Reach};
use crate::error::CapabilityError;

/// Asks one messaging provider how a number can be reached.
///
/// Held as `Arc<dyn CapabilityProvider>` in an ordered list by the
/// [`Resolver`](crate::Resolver), which adds the timeout, circuit breaker, failover, cache,
/// pinning and carrier overrides; an adapter only translates one query.
///
/// # Honesty rule for adapters
/// An adapter must never claim more than its provider affirms:
///
/// - [`E2ee::Verified`] only when the provider (or the recipient's client, through the
///   provider) positively affirms end-to-end encryption for this recipient.
/// - **RCS Business Messaging is not end-to-end encrypted**: messages from a business agent
///   are readable by the RBM platform. An RBM adapter therefore reports
///   [`E2ee::Unverified`] (RCS works, nothing affirms E2EE) or [`E2ee::Unavailable`], never
///   `Verified`, whatever the user's person-to-person chats use.
/// - A provider that does not say reports [`E2ee::Unknown`], which the policy treats like
///   "not encrypted".
/// - A capability "not found" (an RBM 404) is [`CapabilityError::NotFound`], which the
///   resolver records as "not RCS" ([`Reach::SmsOnly`]); it is not a failure.
///
/// # Errors
/// [`CapabilityError::NotFound`], [`CapabilityError::Timeout`],
/// [`CapabilityError::RateLimited`], [`CapabilityError::Unavailable`] or
/// [`CapabilityError::Backend`]. Error sources must not contain the phone number.
///
/// # Security
/// The number is an [`Msisdn`], which masks itself when formatted; call
/// [`Msisdn::expose_e164`] only to build the request.
///
/// # Example
/// A directory that knows which of our numbers have no RCS; everyone else is on RCS, with
/// end-to-end encryption not affirmed:
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use async_trait::async_trait;
/// use rcsec_capability::*;
/// use rcsec_core::{Clock, ManualClock, Msisdn, Timestamp};
///
/// #[derive(Debug)]
/// struct Directory { clock: ManualClock, sms_only: Vec<Msisdn> }
///
/// #[async_trait]
/// impl CapabilityProvider for Directory {
///     fn name(&self) -> &str { "directory" }
///     async fn query(&self, number: &Msisdn) -> Result<Capability, CapabilityError> {
///         if self.sms_only.contains(number) {
///             return Err(CapabilityError::NotFound); // "not on RCS", not a failure
///         }
///         Ok(Capability::new(Reach::Rcs, E2ee::Unverified, Source::Provider, self.clock.now()))
///     }
/// }
///
/// let clock = ManualClock::new(Timestamp::from_secs(1_700_000_000));
/// let carol = Msisdn::parse("+447700900103")?;
/// let directory = Directory { clock: clock.clone(), sms_only: vec![carol.clone()] };
/// let resolver = Resolver::builder(Arc::new(clock))
///     .provider(Arc::new(directory), Duration::from_secs(2))
///     .build()?;
///
/// let alice = resolver.resolve(&Msisdn::parse("+447700900101")?).await?;
/// assert_eq!(alice.capability().e2ee(), E2ee::Unverified);
/// assert_eq!(alice.candidate_routes(false)[0], Route::RcsPlain);
/// let carol = resolver.resolve(&carol).await?;
/// assert_eq!(carol.capability().reach(), Reach::SmsOnly);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[async_trait]
pub trait CapabilityProvider: Send + Sync + Debug + 'static {
    /// A short stable name for health reports, metrics and audit (`"rbm"`, `"loopback"`).
    fn name(&self) -> &str;

    /// Queries the provider once; the observation's source should be
    /// [`Source::Provider`](crate::Source::Provider) and its time the provider's.
    async fn query(&self, number: &Msisdn) -> Result<Capability, CapabilityError>;
}

#[cfg(test)]
fn _obj_safe(_: &dyn CapabilityProvider) {}
