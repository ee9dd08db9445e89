//! [`Route`]: the one name for how a message travels to a recipient.
//!
//! The capability layer lists the routes that *could* reach a recipient, the policy picks the
//! one that is *allowed*, and the outbox, providers and audit log record the one that was
//! *used*. All of them speak this type, so there is no mapping between vocabularies to get
//! wrong (an earlier layout had two identical enums and a translation table between them).

use std::fmt;
use std::str::FromStr;

/// How a message travels, best first: `Ord` follows that order (`RcsE2ee < Blocked`).
///
/// ```
/// use rcsec_core::Route;
///
/// assert!(Route::RcsE2ee < Route::SmsLink);
/// assert_eq!("sms_link".parse::<Route>()?, Route::SmsLink);
/// assert!(Route::EncryptedPush.is_end_to_end() && !Route::RcsPlain.is_end_to_end());
/// # Ok::<(), rcsec_core::RouteParseError>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// RCS with end-to-end encryption affirmed by the provider or the recipient's client: the
    /// full alert.
    RcsE2ee,
    /// The rcsec app's own end-to-end encryption (HPKE/MLS) to an enrolled device over push. It
    /// does not depend on the phone number's reach.
    EncryptedPush,
    /// RCS without affirmed end-to-end encryption: redacted text, sensitive parts behind a link.
    RcsPlain,
    /// SMS: a fixed template and a one-time secure link, no alert text.
    SmsLink,
    /// Nothing is sent to this recipient.
    Blocked,
}

impl Route {
    /// Every route, best first.
    pub const ALL: [Self; 5] = [
        Self::RcsE2ee,
        Self::EncryptedPush,
        Self::RcsPlain,
        Self::SmsLink,
        Self::Blocked,
    ];

    /// The stable snake_case name used in policy files, logs, metrics, stores and audit events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RcsE2ee => "rcs_e2ee",
            Self::EncryptedPush => "encrypted_push",
            Self::RcsPlain => "rcs_plain",
            Self::SmsLink => "sms_link",
            Self::Blocked => "blocked",
        }
    }

    /// Whether content on this route is readable only by the recipient's devices.
    pub fn is_end_to_end(self) -> bool {
        matches!(self, Self::RcsE2ee | Self::EncryptedPush)
    }

    /// Same as [`Route::is_end_to_end`] (the policy crate's historical name).
    pub fn is_e2ee(self) -> bool {
        self.is_end_to_end()
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the [`Route`] names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown route (expected rcs_e2ee, encrypted_push, rcs_plain, sms_link or blocked)")]
#[non_exhaustive]
pub struct RouteParseError;

impl FromStr for Route {
    type Err = RouteParseError;

    /// Parses the exact [`Route::as_str`] name; anything else is an error (stores read routes
    /// back with this, and a corrupt value must not silently become another route).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(RouteParseError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_order_is_best_first() {
        for route in Route::ALL {
            assert_eq!(route.as_str().parse::<Route>(), Ok(route));
            assert_eq!(route.to_string(), route.as_str());
        }
        assert!(Route::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!("SMS_LINK".parse::<Route>(), Err(RouteParseError));
        assert_eq!("".parse::<Route>(), Err(RouteParseError));
    }

    #[test]
    fn serde_uses_the_stable_names() -> Result<(), serde_json::Error> {
        assert_eq!(serde_json::to_string(&Route::RcsPlain)?, "\"rcs_plain\"");
        assert_eq!(
            serde_json::from_str::<Route>("\"encrypted_push\"")?,
            Route::EncryptedPush
        );
        assert!(serde_json::from_str::<Route>("\"carrier_pigeon\"").is_err());
        Ok(())
    }

    #[test]
    fn only_end_to_end_routes_say_so() {
        let e2e: Vec<_> = Route::ALL
            .into_iter()
            .filter(|r| r.is_end_to_end())
            .collect();
        assert_eq!(e2e, [Route::RcsE2ee, Route::EncryptedPush]);
        assert!(Route::ALL.iter().all(|r| r.is_e2ee() == r.is_end_to_end()));
    }
}
