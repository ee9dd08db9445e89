//! The capability answer when no configured provider can tell: SMS only, no E2EE.
//!
//! With Kannel as the only provider nothing can check for RCS, and "unknown" would make the
//! fail-closed policy refuse pages it could deliver as SMS links. Saying "SMS only, E2EE
//! unavailable" is the truthful answer for what this deployment can reach, and it keeps the
//! policy on its most conservative route: a fixed template and a one-time link.

use std::sync::Arc;

use async_trait::async_trait;
use rcsec::capability::{Capability, CapabilityError, CapabilityProvider, E2ee, Reach, Source};
use rcsec::core::{Clock, Msisdn};

/// Answers every number with SMS only, E2EE unavailable.
#[derive(Debug)]
pub struct SmsOnly {
    clock: Arc<dyn Clock>,
}

impl SmsOnly {
    /// Timestamps answers with `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }
}

#[async_trait]
impl CapabilityProvider for SmsOnly {
    fn name(&self) -> &str {
        "sms_only"
    }

    async fn query(&self, _number: &Msisdn) -> Result<Capability, CapabilityError> {
        Ok(Capability::new(
            Reach::SmsOnly,
            E2ee::Unavailable,
            Source::Provider,
            self.clock.now(),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use rcsec::core::{ManualClock, Timestamp};

    #[tokio::test]
    async fn every_number_is_sms_only_without_e2ee() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(1_800_000_000)));
        let cap = SmsOnly::new(clock)
            .query(&Msisdn::parse("+447700900101").unwrap())
            .await
            .unwrap();
        assert_eq!(cap.reach(), Reach::SmsOnly);
        assert_eq!(cap.e2ee(), E2ee::Unavailable);
    }
}
