//! What the policy decides from: the capability layer's [`Resolution`] as policy
//! [`ChannelFacts`].
//!
//! Both layers share one `Route` type (`rcsec_core::Route`); what still needs translating is
//! *observation* (reach, E2EE state, pins, downgrades) into the policy's fail-closed facts, and
//! that happens here, once.

use rcsec_capability::{E2ee, PinState, Reach, Resolution};
use rcsec_policy::{ChannelFacts, E2eeState};

/// What the policy decides from, given a resolution (or `None` when every capability provider
/// failed) and whether the recipient has a device enrolled for encrypted push.
///
/// Fail-closed choices:
/// - a resolution whose pin store was unreadable and that is not verified E2EE counts as a
///   downgrade (the resolver's documented advice);
/// - `Unknown` E2EE is passed as unknown, which the policy treats as unsupported;
/// - no resolution at all is a provider outage: no RCS route, SMS and push stay open.
pub fn channel_facts(resolution: Option<&Resolution>, device_enrolled: bool) -> ChannelFacts {
    let Some(resolution) = resolution else {
        return ChannelFacts {
            rcs_reachable: false,
            provider_outage: true,
            device_enrolled,
            ..ChannelFacts::default()
        };
    };
    let capability = resolution.capability();
    let verified = capability.is_verified_e2ee();
    let pin_unreadable = resolution.pin() == PinState::Unavailable;
    ChannelFacts {
        rcs_reachable: capability.reach() == Reach::Rcs,
        e2ee: match capability.e2ee() {
            E2ee::Verified => E2eeState::Verified,
            E2ee::Unverified | E2ee::Unavailable => E2eeState::Unsupported,
            E2ee::Unknown => E2eeState::Unknown,
        },
        downgrade_detected: resolution.downgrade().is_some() || (pin_unreadable && !verified),
        device_enrolled,
        provider_outage: false,
    }
}

/// The E2EE label the audit log's fallback events carry.
pub fn e2ee_label(resolution: Option<&Resolution>) -> &'static str {
    resolution.map_or("unknown", |r| r.capability().e2ee().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_resolution_is_an_outage() {
        let facts = channel_facts(None, true);
        assert!(facts.provider_outage && !facts.rcs_reachable && facts.device_enrolled);
        assert_eq!(e2ee_label(None), "unknown");
    }
}
