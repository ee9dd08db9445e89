//! Route tiers: the ways an alert could travel to one recipient, best first.
//!
//! This is the capability layer's view of what is *possible*; the policy decides what is
//! *allowed* for a given severity and sensitivity. Both speak the one [`Route`] type.

use crate::capability::{Capability, E2ee, Reach};

/// The route vocabulary shared by the whole workspace (defined in `rcsec-core`, re-exported here
/// so `rcsec_capability::Route` keeps working).
pub use rcsec_core::Route;

/// The routes that could reach the recipient, best first, always ending with
/// [`Route::Blocked`] so a policy walking the list fails closed.
///
/// - [`Route::RcsE2ee`] only for RCS with [`E2ee::Verified`];
/// - [`Route::EncryptedPush`] whenever the recipient has an enrolled device (it does not depend
///   on the phone number's reach);
/// - [`Route::RcsPlain`] for any RCS reach;
/// - [`Route::SmsLink`] for RCS or SMS reach (RCS phones receive SMS too).
///
/// ```
/// use rcsec_capability::{candidate_routes, Capability, E2ee, Reach, Route, Source};
/// use rcsec_core::Timestamp;
///
/// let cap = Capability::new(Reach::Rcs, E2ee::Unverified, Source::Provider, Timestamp::EPOCH);
/// assert_eq!(
///     candidate_routes(&cap, true),
///     [Route::EncryptedPush, Route::RcsPlain, Route::SmsLink, Route::Blocked]
/// );
/// ```
pub fn candidate_routes(capability: &Capability, device_enrolled: bool) -> Vec<Route> {
    let rcs = capability.reach() == Reach::Rcs;
    let mut routes = Vec::with_capacity(5);
    if rcs && capability.e2ee() == E2ee::Verified {
        routes.push(Route::RcsE2ee);
    }
    if device_enrolled {
        routes.push(Route::EncryptedPush);
    }
    if rcs {
        routes.push(Route::RcsPlain);
    }
    if matches!(capability.reach(), Reach::Rcs | Reach::SmsOnly) {
        routes.push(Route::SmsLink);
    }
    routes.push(Route::Blocked);
    routes
}

#[cfg(test)]
mod tests {
    use rcsec_core::Timestamp;

    use super::*;
    use crate::capability::Source;

    fn cap(reach: Reach, e2ee: E2ee) -> Capability {
        Capability::new(reach, e2ee, Source::Provider, Timestamp::EPOCH)
    }

    #[test]
    fn routes_follow_reach_e2ee_and_enrollment() {
        use Route::*;
        let cases = [
            (
                Reach::Rcs,
                E2ee::Verified,
                false,
                vec![RcsE2ee, RcsPlain, SmsLink, Blocked],
            ),
            (
                Reach::Rcs,
                E2ee::Verified,
                true,
                vec![RcsE2ee, EncryptedPush, RcsPlain, SmsLink, Blocked],
            ),
            (
                Reach::Rcs,
                E2ee::Unverified,
                false,
                vec![RcsPlain, SmsLink, Blocked],
            ),
            (
                Reach::Rcs,
                E2ee::Unknown,
                false,
                vec![RcsPlain, SmsLink, Blocked],
            ),
            (
                Reach::Rcs,
                E2ee::Unavailable,
                true,
                vec![EncryptedPush, RcsPlain, SmsLink, Blocked],
            ),
            (
                Reach::SmsOnly,
                E2ee::Verified,
                false,
                vec![SmsLink, Blocked],
            ),
            (
                Reach::SmsOnly,
                E2ee::Unknown,
                true,
                vec![EncryptedPush, SmsLink, Blocked],
            ),
            (Reach::Unreachable, E2ee::Unknown, false, vec![Blocked]),
            (
                Reach::Unreachable,
                E2ee::Unknown,
                true,
                vec![EncryptedPush, Blocked],
            ),
        ];
        for (reach, e2ee, enrolled, expected) in cases {
            assert_eq!(
                candidate_routes(&cap(reach, e2ee), enrolled),
                expected,
                "{reach:?} {e2ee:?} {enrolled}"
            );
        }
    }

    #[test]
    fn lists_are_sorted_best_first_and_end_blocked() {
        for reach in [Reach::Rcs, Reach::SmsOnly, Reach::Unreachable] {
            for e2ee in [
                E2ee::Verified,
                E2ee::Unverified,
                E2ee::Unavailable,
                E2ee::Unknown,
            ] {
                for enrolled in [false, true] {
                    let routes = candidate_routes(&cap(reach, e2ee), enrolled);
                    assert!(routes.windows(2).all(|w| w[0] < w[1]));
                    assert_eq!(routes.last(), Some(&Route::Blocked));
                    assert_eq!(
                        routes.contains(&Route::RcsE2ee),
                        reach == Reach::Rcs && e2ee == E2ee::Verified
                    );
                }
            }
        }
        assert_eq!(Route::SmsLink.as_str(), "sms_link");
        assert!(Route::EncryptedPush.is_end_to_end());
        assert!(!Route::RcsPlain.is_end_to_end());
    }
}
