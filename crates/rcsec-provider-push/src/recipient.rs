//! The pseudonymous recipient key the push gateway routes by.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use rcsec_core::{Msisdn, Secret};
use sha2::Sha256;

/// Names a recipient to the gateway without the number: hex HMAC-SHA256 of the E.164 form
/// under a key the device-enrolment service shares, so the gateway can map it to device push
/// tokens but learns no numbers. `Debug` hides the key.
#[derive(Clone)]
pub struct RecipientKeyer(Secret<[u8; 32]>);

impl RecipientKeyer {
    /// A keyer under `key`.
    pub fn new(key: Secret<[u8; 32]>) -> Self {
        Self(key)
    }

    /// The recipient key for `number` (64 hex characters).
    pub fn key_for(&self, number: &Msisdn) -> String {
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.expose_secret()) else {
            return String::new();
        };
        mac.update(b"rcsec/push-recipient/v1\0");
        mac.update(number.expose_e164().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for RecipientKeyer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecipientKeyer").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn stable_per_key_and_number_and_hides_both() {
        let a = RecipientKeyer::new(Secret::new([1; 32]));
        let b = RecipientKeyer::new(Secret::new([2; 32]));
        let n = Msisdn::parse("+447700900123").unwrap();
        let m = Msisdn::parse("+447700900124").unwrap();
        assert_eq!(a.key_for(&n), a.key_for(&n));
        assert_eq!(a.key_for(&n).len(), 64);
        assert_ne!(a.key_for(&n), b.key_for(&n));
        assert_ne!(a.key_for(&n), a.key_for(&m));
        assert!(!a.key_for(&n).contains("7700900"));
        assert!(!format!("{a:?}").contains('1'));
    }
}
