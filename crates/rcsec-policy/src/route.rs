//! The decision vocabulary: route tiers, why a better tier was not used, and the facts about a
//! recipient's channels that the decision is made from.
//!
//! [`Route`] itself lives in `rcsec-core` so the capability layer, this policy and the pipeline
//! share one type. `rcsec-capability` observes the channels; the pipeline maps its
//! `Capability` into [`ChannelFacts`], so this crate stays independent of how the facts are
//! learned.

use std::fmt;

/// The route vocabulary shared by the whole workspace (defined in `rcsec-core`, re-exported here
/// so `rcsec_policy::Route` keeps working).
pub use rcsec_core::Route;

/// Why the alert did not go over the best tier (`RcsE2ee`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FallbackReason {
    /// The recipient cannot be reached over RCS.
    NoRcs,
    /// RCS works but the carrier offers no (verifiable) end-to-end encryption.
    CarrierNoE2ee,
    /// The recipient's device keys differ from the pinned, verified ones.
    DeviceMismatch,
    /// The channel reported weaker security than was pinned for it: treated as hostile.
    DowngradeDetected,
    /// The RCS provider is failing.
    ProviderOutage,
    /// The policy forbids every route that is available.
    PolicyBlocked,
    /// Someone chose "send anyway".
    UserOverride,
}

impl FallbackReason {
    /// The stable name: `no_rcs`, `carrier_no_e2ee`, `device_mismatch`, `downgrade_detected`,
    /// `provider_outage`, `policy_blocked`, `user_override`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoRcs => "no_rcs",
            Self::CarrierNoE2ee => "carrier_no_e2ee",
            Self::DeviceMismatch => "device_mismatch",
            Self::DowngradeDetected => "downgrade_detected",
            Self::ProviderOutage => "provider_outage",
            Self::PolicyBlocked => "policy_blocked",
            Self::UserOverride => "user_override",
        }
    }

    /// A plain-language clause for explanations ("because …").
    pub(crate) fn clause(self) -> &'static str {
        match self {
            Self::NoRcs => "the recipient cannot receive RCS messages",
            Self::CarrierNoE2ee => "the carrier does not offer end-to-end encryption",
            Self::DeviceMismatch => "the recipient's device does not match the verified one",
            Self::DowngradeDetected => "a security downgrade was detected on this channel",
            Self::ProviderOutage => "the RCS provider is having an outage",
            Self::PolicyBlocked => "the policy allows none of the available routes",
            Self::UserOverride => "someone chose to send it anyway",
        }
    }
}

impl fmt::Display for FallbackReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The traffic light shown next to a delivered alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// End-to-end encrypted.
    Green,
    /// Delivered over a weaker channel with content withheld behind a link.
    Amber,
    /// Not delivered, delivered by override, or the channel looked hostile.
    Red,
}

/// What is known about end-to-end encryption to the recipient over RCS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum E2eeState {
    /// Encryption is on and the device keys match the pinned ones.
    Verified,
    /// The carrier or client does not support end-to-end encryption.
    Unsupported,
    /// Encryption is on but the keys are not the pinned, verified ones.
    DeviceMismatch,
    /// Nothing reliable is known (treated as unsupported).
    Unknown,
}

/// A recipient's region (an ISO 3166 code such as `DE`, or a label such as `EU`), uppercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Region(String);

impl Region {
    /// A region from a code or label; surrounding space is trimmed and letters uppercased.
    pub fn new(code: &str) -> Self {
        Self(code.trim().to_ascii_uppercase())
    }

    /// The normalised code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the capability layer knows about one recipient's channels right now.
///
/// Build it from a `rcsec-capability` result in the pipeline; every field defaults to the
/// fail-closed value (nothing reachable, nothing verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelFacts {
    /// The number is RCS-capable.
    pub rcs_reachable: bool,
    /// End-to-end encryption over RCS.
    pub e2ee: E2eeState,
    /// A downgrade against the pinned capability was detected (hostile channel).
    pub downgrade_detected: bool,
    /// The recipient has a device enrolled for encrypted push.
    pub device_enrolled: bool,
    /// The RCS provider is failing.
    pub provider_outage: bool,
}

impl Default for ChannelFacts {
    fn default() -> Self {
        Self {
            rcs_reachable: false,
            e2ee: E2eeState::Unknown,
            downgrade_detected: false,
            device_enrolled: false,
            provider_outage: false,
        }
    }
}

impl ChannelFacts {
    /// A recipient with verified RCS end-to-end encryption.
    pub fn rcs_e2ee() -> Self {
        Self {
            rcs_reachable: true,
            e2ee: E2eeState::Verified,
            ..Self::default()
        }
    }

    /// Whether `route` can physically carry a message to this recipient.
    ///
    /// A detected downgrade closes every route over the recipient's number (RCS and SMS):
    /// whoever downgraded it may read or redirect it. Encrypted push to an enrolled device
    /// does not depend on the number and stays open.
    pub fn available(&self, route: Route) -> bool {
        let rcs_up = self.rcs_reachable && !self.provider_outage && !self.downgrade_detected;
        match route {
            Route::RcsE2ee => rcs_up && self.e2ee == E2eeState::Verified,
            Route::EncryptedPush => self.device_enrolled,
            Route::RcsPlain => rcs_up,
            Route::SmsLink => !self.downgrade_detected,
            Route::Blocked => true,
        }
    }

    /// Why `RcsE2ee` is not available (`None` when it is).
    pub fn e2ee_fallback_reason(&self) -> Option<FallbackReason> {
        if self.available(Route::RcsE2ee) {
            return None;
        }
        Some(if self.downgrade_detected {
            FallbackReason::DowngradeDetected
        } else if self.provider_outage {
            FallbackReason::ProviderOutage
        } else if !self.rcs_reachable {
            FallbackReason::NoRcs
        } else if self.e2ee == E2eeState::DeviceMismatch {
            FallbackReason::DeviceMismatch
        } else {
            FallbackReason::CarrierNoE2ee
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable() {
        let names: Vec<_> = [
            FallbackReason::NoRcs,
            FallbackReason::CarrierNoE2ee,
            FallbackReason::DeviceMismatch,
            FallbackReason::DowngradeDetected,
            FallbackReason::ProviderOutage,
            FallbackReason::PolicyBlocked,
            FallbackReason::UserOverride,
        ]
        .iter()
        .map(|r| r.as_str())
        .collect();
        assert_eq!(
            names,
            [
                "no_rcs",
                "carrier_no_e2ee",
                "device_mismatch",
                "downgrade_detected",
                "provider_outage",
                "policy_blocked",
                "user_override"
            ]
        );
        assert!(Route::RcsE2ee < Route::EncryptedPush && Route::SmsLink < Route::Blocked);
        assert_eq!(Region::new(" de ").as_str(), "DE");
    }

    #[test]
    fn downgrade_closes_the_number_but_not_push() {
        let facts = ChannelFacts {
            downgrade_detected: true,
            device_enrolled: true,
            ..ChannelFacts::rcs_e2ee()
        };
        assert!(!facts.available(Route::RcsE2ee));
        assert!(!facts.available(Route::RcsPlain));
        assert!(!facts.available(Route::SmsLink));
        assert!(facts.available(Route::EncryptedPush));
        assert_eq!(
            facts.e2ee_fallback_reason(),
            Some(FallbackReason::DowngradeDetected)
        );
    }

    #[test]
    fn reasons_follow_the_facts() {
        let mut f = ChannelFacts::default();
        assert_eq!(f.e2ee_fallback_reason(), Some(FallbackReason::NoRcs));
        f.rcs_reachable = true;
        assert_eq!(
            f.e2ee_fallback_reason(),
            Some(FallbackReason::CarrierNoE2ee)
        );
        f.e2ee = E2eeState::DeviceMismatch;
        assert_eq!(
            f.e2ee_fallback_reason(),
            Some(FallbackReason::DeviceMismatch)
        );
        f.provider_outage = true;
        assert_eq!(
            f.e2ee_fallback_reason(),
            Some(FallbackReason::ProviderOutage)
        );
        assert_eq!(ChannelFacts::rcs_e2ee().e2ee_fallback_reason(), None);
    }
}
