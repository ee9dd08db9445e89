//! Pinning of end-to-end encryption and detection of downgrades.
//!
//! Trust on first use, for a whole path: once a recipient has been seen with verified E2EE, a
//! later observation that is weaker (plain RCS, SMS only, unreachable, unknown) is not quietly
//! accepted. It is reported as [`DowngradeDetected`] so the policy can fall back
//! (`downgrade_detected`) and the audit log can record it; it might be a SIM swap, a client
//! change, or an attacker stripping encryption. Only an explicit, attributable admin act
//! ([`Resolver::unpin`](crate::Resolver::unpin)) clears a pin.

use std::collections::HashMap;
use std::fmt::{self, Debug};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use rcsec_core::{Msisdn, Timestamp};

use crate::capability::{Capability, E2ee, Reach, Source};
use crate::error::{StoreError, UnpinError};

/// Longest actor or reason accepted for an unpin.
const MAX_UNPIN_TEXT: usize = 256;

/// A recipient seen with verified end-to-end encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    /// When verified E2EE was first observed.
    pub pinned_at: Timestamp,
    /// Which kind of observation established it.
    pub source: Source,
}

/// The pin status that went with a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinState {
    /// The recipient has never been seen with verified E2EE (or was unpinned).
    NotPinned,
    /// The recipient is pinned.
    Pinned(Pin),
    /// The pin store could not be read, so a downgrade cannot be ruled out. Such resolutions
    /// are cached only for the negative TTL; a policy should treat a non-verified capability
    /// with this state as a possible downgrade.
    Unavailable,
}

/// A pinned recipient was observed with something weaker than verified E2EE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DowngradeDetected {
    /// The pin that was contradicted.
    pub pin: Pin,
    /// The weaker reach observed.
    pub observed_reach: Reach,
    /// The weaker E2EE state observed.
    pub observed_e2ee: E2ee,
    /// Where the weaker observation came from.
    pub observed_source: Source,
    /// When it was observed.
    pub observed_at: Timestamp,
}

/// Compares an observation with a pin: anything short of verified E2EE contradicts it.
pub(crate) fn assess(pin: Option<Pin>, observed: &Capability) -> Option<DowngradeDetected> {
    let pin = pin?;
    if observed.is_verified_e2ee() {
        return None;
    }
    Some(DowngradeDetected {
        pin,
        observed_reach: observed.reach(),
        observed_e2ee: observed.e2ee(),
        observed_source: observed.source(),
        observed_at: observed.observed_at(),
    })
}

/// Who unpins a recipient, why, and when; validated so the audit trail is meaningful.
#[derive(Clone, PartialEq, Eq)]
pub struct UnpinRequest {
    actor: String,
    reason: String,
    at: Timestamp,
}

impl UnpinRequest {
    /// Validates an unpin: actor and reason are trimmed, must be non-empty, at most 256
    /// characters and free of control characters (they end up in log lines).
    ///
    /// # Errors
    /// [`UnpinError::MissingActor`], [`UnpinError::MissingReason`] or
    /// [`UnpinError::InvalidText`].
    pub fn new(actor: &str, reason: &str, at: Timestamp) -> Result<Self, UnpinError> {
        let actor = actor.trim();
        let reason = reason.trim();
        if actor.is_empty() {
            return Err(UnpinError::MissingActor);
        }
        if reason.is_empty() {
            return Err(UnpinError::MissingReason);
        }
        let bad = |s: &str| s.chars().count() > MAX_UNPIN_TEXT || s.chars().any(char::is_control);
        if bad(actor) || bad(reason) {
            return Err(UnpinError::InvalidText);
        }
        Ok(Self {
            actor: actor.to_owned(),
            reason: reason.to_owned(),
            at,
        })
    }

    /// Who unpinned.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Why.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// When.
    pub fn at(&self) -> Timestamp {
        self.at
    }
}

/// Free-text reasons may quote a number, so `Debug` shows only their length.
impl Debug for UnpinRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnpinRequest")
            .field("actor", &self.actor)
            .field("reason_chars", &self.reason.chars().count())
            .field("at", &self.at)
            .finish()
    }
}

/// The outcome of an unpin, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpinRecord {
    /// The recipient (masks itself when printed).
    pub number: Msisdn,
    /// Who, why and when.
    pub request: UnpinRequest,
    /// The pin that was removed, or `None` if the recipient was not pinned.
    pub removed: Option<Pin>,
}

/// Durable storage of pins.
///
/// A pin records that a recipient was once seen with verified end-to-end encryption; any
/// weaker observation later is a downgrade ([`DowngradeDetected`]), which is how a stripped
/// or spoofed capability answer gets caught. So the store is part of the security boundary.
///
/// # Contract
/// - [`PinStore::pin_if_absent`] is atomic: concurrent calls for one number, from any process
///   sharing the store, all return the same pin (the first one written).
/// - A pin stays until [`PinStore::unpin`]: no TTL, no eviction. Losing pins silently turns
///   a downgrade into an ordinary first sighting.
/// - Stores may key rows by a keyed hash of the number rather than the number; errors and
///   logs carry neither.
///
/// The conformance suite (the `pin_store_tests!` macro, feature `test-utils`) checks this.
///
/// ```
/// # tokio::runtime::Builder::new_multi_thread().worker_threads(2).build()?.block_on(async {
/// use std::sync::Arc;
/// use rcsec_capability::{MemoryPinStore, Pin, PinStore, Source, UnpinRequest};
/// use rcsec_core::{Msisdn, Timestamp};
///
/// let store: Arc<dyn PinStore> = Arc::new(MemoryPinStore::new());
/// let alice = Msisdn::parse("+447700900101")?;
/// let pin = |secs| Pin { pinned_at: Timestamp::from_secs(secs), source: Source::Provider };
///
/// // Two replicas observe verified E2EE at once: both end up with the same (first) pin.
/// let (a, b) = tokio::join!(store.pin_if_absent(&alice, pin(100)),
///                           store.pin_if_absent(&alice, pin(200)));
/// let (a, b) = (a?, b?);
/// assert_eq!(a, b);
/// assert_eq!(store.pin_if_absent(&alice, pin(300)).await?, a);
///
/// let request = UnpinRequest::new("admin@example.com", "phone replaced", Timestamp::from_secs(400))?;
/// assert_eq!(store.unpin(&alice, &request).await?, Some(a));
/// assert_eq!(store.get(&alice).await?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[async_trait]
pub trait PinStore: Send + Sync + Debug + 'static {
    /// The pin for `number`, if any.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the backend fails.
    async fn get(&self, number: &Msisdn) -> Result<Option<Pin>, StoreError>;

    /// Stores `pin` unless the number is already pinned; returns the pin now in force (the
    /// earlier one, if there was one).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the backend fails.
    async fn pin_if_absent(&self, number: &Msisdn, pin: Pin) -> Result<Pin, StoreError>;

    /// Removes the pin for `number`, returning it (or `None` if there was none). Stores that
    /// keep history may persist `request` alongside.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the backend fails.
    async fn unpin(
        &self,
        number: &Msisdn,
        request: &UnpinRequest,
    ) -> Result<Option<Pin>, StoreError>;
}

#[cfg(test)]
fn _obj_safe(_: &dyn PinStore) {}

/// Pins in process memory, for tests and single-process deployments that accept losing pins
/// on restart.
#[derive(Default)]
pub struct MemoryPinStore {
    pins: Mutex<HashMap<Msisdn, Pin>>,
}

impl MemoryPinStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn pins(&self) -> std::sync::MutexGuard<'_, HashMap<Msisdn, Pin>> {
        // Every critical section is a single map operation, so a poisoned map is consistent.
        self.pins.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Debug for MemoryPinStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryPinStore")
            .field("pins", &self.pins().len())
            .finish()
    }
}

#[async_trait]
impl PinStore for MemoryPinStore {
    async fn get(&self, number: &Msisdn) -> Result<Option<Pin>, StoreError> {
        Ok(self.pins().get(number).copied())
    }

    async fn pin_if_absent(&self, number: &Msisdn, pin: Pin) -> Result<Pin, StoreError> {
        Ok(*self.pins().entry(number.clone()).or_insert(pin))
    }

    async fn unpin(
        &self,
        number: &Msisdn,
        _request: &UnpinRequest,
    ) -> Result<Option<Pin>, StoreError> {
        Ok(self.pins().remove(number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> Timestamp {
        Timestamp::from_secs(s)
    }

    #[test]
    fn anything_short_of_verified_contradicts_a_pin() {
        let pin = Pin {
            pinned_at: t(1),
            source: Source::Provider,
        };
        let verified = Capability::new(Reach::Rcs, E2ee::Verified, Source::Provider, t(2));
        assert_eq!(assess(Some(pin), &verified), None);
        assert_eq!(assess(None, &verified), None);
        for (reach, e2ee) in [
            (Reach::Rcs, E2ee::Unverified),
            (Reach::Rcs, E2ee::Unknown),
            (Reach::Rcs, E2ee::Unavailable),
            (Reach::SmsOnly, E2ee::Unavailable),
            (Reach::Unreachable, E2ee::Unavailable),
        ] {
            let weaker = Capability::new(reach, e2ee, Source::DeliveryEvent, t(3));
            assert_eq!(assess(None, &weaker), None);
            let found = assess(Some(pin), &weaker).unwrap();
            assert_eq!(found.pin, pin);
            assert_eq!((found.observed_reach, found.observed_e2ee), (reach, e2ee));
            assert_eq!(found.observed_source, Source::DeliveryEvent);
            assert_eq!(found.observed_at, t(3));
        }
    }

    #[test]
    fn unpin_requests_must_be_attributable() {
        assert!(matches!(
            UnpinRequest::new("  ", "lost phone", t(1)),
            Err(UnpinError::MissingActor)
        ));
        assert!(matches!(
            UnpinRequest::new("alice", "\t", t(1)),
            Err(UnpinError::MissingReason)
        ));
        assert!(matches!(
            UnpinRequest::new("alice\n", "x\u{1b}[2J", t(1)),
            Err(UnpinError::InvalidText)
        ));
        assert!(matches!(
            UnpinRequest::new("alice", &"r".repeat(257), t(1)),
            Err(UnpinError::InvalidText)
        ));
        let ok = UnpinRequest::new(" alice ", " new phone, +15550109999 ", t(1)).unwrap();
        assert_eq!(
            (ok.actor(), ok.reason(), ok.at()),
            ("alice", "new phone, +15550109999", t(1))
        );
        assert!(!format!("{ok:?}").contains("555"));
    }
}
