//! Our capability provider: what the vendor can tell us about a number.

use std::sync::Arc;

use rcsec::async_trait;
use rcsec::capability::{Capability, CapabilityError, CapabilityProvider, E2ee, Reach, Source};
use rcsec::core::{Clock, Msisdn};

/// A business-messaging vendor's view: every number is on RCS, and end-to-end encryption is
/// *not* affirmed — RCS Business Messaging is readable by the platform, so claiming
/// [`E2ee::Verified`] here would route secrets over it.
///
/// A real adapter would ask the vendor's capability endpoint and map "not found" to
/// [`CapabilityError::NotFound`].
#[derive(Debug)]
pub struct VendorDirectory {
    clock: Arc<dyn Clock>,
}

impl VendorDirectory {
    /// Answers with observation times from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }
}

#[async_trait]
impl CapabilityProvider for VendorDirectory {
    fn name(&self) -> &str {
        "vendor-directory"
    }

    async fn query(&self, _number: &Msisdn) -> Result<Capability, CapabilityError> {
        Ok(Capability::new(
            Reach::Rcs,
            E2ee::Unverified,
            Source::Provider,
            self.clock.now(),
        ))
    }
}
