//! A capability provider that answers from configuration, for embedders without a capability
//! API.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use rcsec_core::{Clock, Msisdn};

use crate::capability::{Capability, E2ee, Reach, Source};
use crate::error::CapabilityError;
use crate::provider::CapabilityProvider;

/// A number prefix that is not `+` followed by 1 to 15 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("capability prefix must be '+' followed by 1 to 15 digits")]
pub struct InvalidPrefix;

/// Fixed answers: exact numbers first, then the longest matching prefix, then a default.
///
/// For a service whose messaging vendor has no capability API (or that knows its on-call
/// phones): it lets an `rcsec::Orchestrator` be built with honest answers, and the resolver
/// still adds caching, pinning and downgrade detection on top.
///
/// # Honesty
/// A table cannot affirm end-to-end encryption, so answers carry a [`Reach`] only:
/// [`Reach::Rcs`] is reported with [`E2ee::Unverified`] (RCS works, nothing affirms E2EE, as
/// with RCS Business Messaging), [`Reach::SmsOnly`] as [`CapabilityError::NotFound`] (what a
/// provider's "not on RCS" is), [`Reach::Unreachable`] with [`E2ee::Unavailable`]. Secrets
/// then travel only as one-time links or over encrypted push to an enrolled device.
///
/// # Example
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use rcsec_capability::{E2ee, Reach, Resolver, Route, StaticCapabilities};
/// use rcsec_core::{ManualClock, Msisdn, Timestamp};
///
/// let clock = Arc::new(ManualClock::new(Timestamp::from_secs(1_700_000_000)));
/// let carol = Msisdn::parse("+447700900103")?;
/// // Our phones in the UK are on RCS, one of them is not, the rest of the world gets SMS.
/// let table = StaticCapabilities::new(clock.clone(), Reach::SmsOnly)
///     .prefix("+44", Reach::Rcs)?
///     .number(carol.clone(), Reach::SmsOnly);
/// let resolver = Resolver::builder(clock)
///     .provider(Arc::new(table), Duration::from_secs(1))
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
pub struct StaticCapabilities {
    clock: Arc<dyn Clock>,
    numbers: HashMap<Msisdn, Reach>,
    /// Longest first, so the first match is the most specific.
    prefixes: Vec<(String, Reach)>,
    default: Reach,
}

impl fmt::Debug for StaticCapabilities {
    /// Counts only: the table lists people's numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCapabilities")
            .field("numbers", &self.numbers.len())
            .field("prefixes", &self.prefixes.len())
            .field("default", &self.default)
            .finish()
    }
}

impl StaticCapabilities {
    /// Every number answers `default` until [`number`](Self::number) or
    /// [`prefix`](Self::prefix) says otherwise; observation times come from `clock`.
    pub fn new(clock: Arc<dyn Clock>, default: Reach) -> Self {
        Self {
            clock,
            numbers: HashMap::new(),
            prefixes: Vec::new(),
            default,
        }
    }

    /// `number` answers `reach` (exact numbers beat prefixes).
    #[must_use]
    pub fn number(mut self, number: Msisdn, reach: Reach) -> Self {
        self.numbers.insert(number, reach);
        self
    }

    /// Numbers starting with `prefix` (E.164, e.g. `+44` or `+4477009`) answer `reach`; the
    /// longest matching prefix wins, a repeated prefix replaces the earlier one.
    ///
    /// # Errors
    /// [`InvalidPrefix`] unless `prefix` is `+` followed by 1 to 15 digits.
    pub fn prefix(mut self, prefix: &str, reach: Reach) -> Result<Self, InvalidPrefix> {
        let digits = prefix.strip_prefix('+').ok_or(InvalidPrefix)?;
        if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidPrefix);
        }
        self.prefixes.retain(|(p, _)| p != prefix);
        self.prefixes.push((prefix.to_owned(), reach));
        self.prefixes
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        Ok(self)
    }

    /// The configured answer for `number`.
    pub fn reach_of(&self, number: &Msisdn) -> Reach {
        if let Some(reach) = self.numbers.get(number) {
            return *reach;
        }
        let e164 = number.expose_e164();
        self.prefixes
            .iter()
            .find(|(p, _)| e164.starts_with(p.as_str()))
            .map_or(self.default, |(_, reach)| *reach)
    }
}

#[async_trait]
impl CapabilityProvider for StaticCapabilities {
    fn name(&self) -> &str {
        "static"
    }

    async fn query(&self, number: &Msisdn) -> Result<Capability, CapabilityError> {
        let reach = self.reach_of(number);
        let e2ee = match reach {
            Reach::SmsOnly => return Err(CapabilityError::NotFound),
            Reach::Rcs => E2ee::Unverified,
            Reach::Unreachable => E2ee::Unavailable,
        };
        Ok(Capability::new(
            reach,
            e2ee,
            Source::Provider,
            self.clock.now(),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use rcsec_core::{ManualClock, Timestamp};

    use super::*;

    fn n(s: &str) -> Msisdn {
        Msisdn::parse(s).unwrap()
    }

    fn table() -> StaticCapabilities {
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(1_700_000_000)));
        StaticCapabilities::new(clock, Reach::SmsOnly)
            .prefix("+44", Reach::Rcs)
            .unwrap()
            .prefix("+447700900", Reach::Unreachable)
            .unwrap()
            .number(n("+447700900101"), Reach::Rcs)
    }

    #[tokio::test]
    async fn exact_number_then_longest_prefix_then_default() {
        let t = table();
        assert_eq!(t.reach_of(&n("+447700900101")), Reach::Rcs);
        assert_eq!(t.reach_of(&n("+447700900102")), Reach::Unreachable);
        assert_eq!(t.reach_of(&n("+447911123456")), Reach::Rcs);
        assert_eq!(t.reach_of(&n("+14155550100")), Reach::SmsOnly);

        let rcs = t.query(&n("+447911123456")).await.unwrap();
        assert_eq!((rcs.reach(), rcs.e2ee()), (Reach::Rcs, E2ee::Unverified));
        assert_eq!(rcs.source(), Source::Provider);
        let gone = t.query(&n("+447700900102")).await.unwrap();
        assert_eq!(gone.e2ee(), E2ee::Unavailable);
        assert!(matches!(
            t.query(&n("+14155550100")).await,
            Err(CapabilityError::NotFound)
        ));
    }

    #[test]
    fn prefixes_are_validated_and_debug_lists_no_number() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(0)));
        for bad in ["44", "+", "+4a", "+1234567890123456", " +44"] {
            let t = StaticCapabilities::new(clock.clone(), Reach::Rcs);
            assert_eq!(
                t.prefix(bad, Reach::Rcs).err(),
                Some(InvalidPrefix),
                "{bad}"
            );
        }
        let t = table().prefix("+44", Reach::SmsOnly).unwrap();
        assert_eq!(t.reach_of(&n("+447911123456")), Reach::SmsOnly, "replaced");
        let debug = format!("{t:?}");
        assert!(!debug.contains("7700900"), "{debug}");
    }
}
