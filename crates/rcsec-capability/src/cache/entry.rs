//! What a resolution yields, and the cached form of it.

use rcsec_core::{Msisdn, Timestamp};

use crate::capability::Capability;
use crate::carrier::Overrides;
use crate::pin::{DowngradeDetected, PinState};
use crate::route::{Route, candidate_routes};

/// The answer to "how can this recipient be reached, is it E2EE, and did it get worse?".
///
/// Carries everything the policy and the audit log need: the (carrier-adjusted) capability,
/// the pin status, a detected downgrade, and which carrier-matrix rules changed the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    capability: Capability,
    pin: PinState,
    downgrade: Option<DowngradeDetected>,
    overrides: Overrides,
}

impl Resolution {
    /// Bundles a resolution (the [`Resolver`](crate::Resolver) builds these; stores and tests
    /// may too).
    pub fn new(
        capability: Capability,
        pin: PinState,
        downgrade: Option<DowngradeDetected>,
        overrides: Overrides,
    ) -> Self {
        Self {
            capability,
            pin,
            downgrade,
            overrides,
        }
    }

    /// The capability after carrier-matrix overrides.
    pub fn capability(&self) -> &Capability {
        &self.capability
    }

    /// The recipient's pin status when this was resolved.
    pub fn pin(&self) -> PinState {
        self.pin
    }

    /// `Some` when a pinned recipient was observed with something weaker than verified E2EE.
    pub fn downgrade(&self) -> Option<&DowngradeDetected> {
        self.downgrade.as_ref()
    }

    /// The carrier-matrix rules that matched.
    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// Candidate routes for this capability (see [`candidate_routes`]).
    pub fn candidate_routes(&self, device_enrolled: bool) -> Vec<Route> {
        candidate_routes(&self.capability, device_enrolled)
    }
}

/// The cache key: the E.164 digits as an integer, tagged with the digit count.
///
/// E.164 numbers have at most 15 digits (< 2^50), so `digits | len << 50` is exact and
/// injective: two different numbers never share a key, and no hash collision can hand one
/// recipient another's capability. Building it allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct NumberKey(pub(crate) u64);

impl NumberKey {
    pub(crate) fn of(number: &Msisdn) -> Self {
        let digits = number.expose_digits();
        let value = digits.bytes().fold(0u64, |acc, b| {
            acc.wrapping_mul(10)
                .wrapping_add(u64::from(b.wrapping_sub(b'0')))
        });
        let len = u64::try_from(digits.len()).unwrap_or(u64::MAX);
        Self(value | (len << 50))
    }
}

/// A cached resolution and the instant it stops being valid.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) resolution: Resolution,
    pub(crate) expires_at: Timestamp,
}

impl Entry {
    /// Valid strictly before `expires_at`: at the boundary the entry is already expired.
    pub(crate) fn is_fresh(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

/// Whether observation `new` should replace `old`: the later observation wins; at the same
/// instant the recipient's own client beats a delivery event, which beats provider metadata.
pub(crate) fn supersedes(new: &Capability, old: &Capability) -> bool {
    (new.observed_at(), new.source().rank()) >= (old.observed_at(), old.source().rank())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::{E2ee, Reach, Source};

    #[test]
    fn keys_are_exact_and_distinct() {
        let key = |s: &str| NumberKey::of(&Msisdn::parse(s).unwrap()).0;
        assert_eq!(key("+15550109999") & ((1 << 50) - 1), 15_550_109_999);
        assert_ne!(key("+4412345678"), key("+44123456780"));
        assert_ne!(key("+2904001"), key("+29040010"));
        assert_eq!(key("+1 555 010 9999"), key("+15550109999"));
        assert_eq!(key("+999999999999999") >> 50, 15);
    }

    #[test]
    fn later_observations_and_better_sources_win() {
        let at = |secs, source| {
            Capability::new(
                Reach::Rcs,
                E2ee::Unknown,
                source,
                Timestamp::from_secs(secs),
            )
        };
        assert!(supersedes(
            &at(2, Source::Provider),
            &at(1, Source::ClientReport)
        ));
        assert!(!supersedes(
            &at(1, Source::Provider),
            &at(2, Source::ClientReport)
        ));
        assert!(!supersedes(
            &at(1, Source::Provider),
            &at(1, Source::ClientReport)
        ));
        assert!(supersedes(
            &at(1, Source::ClientReport),
            &at(1, Source::Provider)
        ));
        assert!(supersedes(
            &at(1, Source::DeliveryEvent),
            &at(1, Source::Provider)
        ));
        assert!(supersedes(
            &at(1, Source::Provider),
            &at(1, Source::Provider)
        ));
    }
}
