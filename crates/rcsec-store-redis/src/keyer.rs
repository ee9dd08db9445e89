//! Keyed hashing of phone numbers into cache keys.

use hmac::{Hmac, Mac as _};
use rcsec_core::{Msisdn, Secret};
use sha2::Sha256;
use zeroize::Zeroize as _;

/// Turns a number into a 32-byte key: HMAC-SHA256 of its E.164 form under a deployment
/// secret. An unkeyed hash of a phone number is reversible by enumerating the number space;
/// this one is not without the key, so a Redis dump does not list who is being alerted.
pub struct NumberKeyer {
    mac: Hmac<Sha256>,
}

impl NumberKeyer {
    /// A keyer under `key` (changing it orphans every cached entry, which is harmless).
    pub fn new(key: &Secret<[u8; 32]>) -> Self {
        let mut block = hmac::digest::Key::<Hmac<Sha256>>::default();
        block[..32].copy_from_slice(key.expose_secret());
        let mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block);
        block.as_mut_slice().zeroize();
        Self { mac }
    }

    /// The key of `number`, as 64 lowercase hex digits.
    pub fn key_hex(&self, number: &Msisdn) -> String {
        let mac = self
            .mac
            .clone()
            .chain_update(b"rcsec-store/v1/number-key")
            .chain_update(number.expose_e164().as_bytes())
            .finalize()
            .into_bytes();
        hex::encode(mac)
    }
}

impl std::fmt::Debug for NumberKeyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NumberKeyer").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_keyed_stable_and_hide_the_number() {
        let n = Msisdn::parse("+447700900123").unwrap_or_else(|_| unreachable!());
        let a = NumberKeyer::new(&Secret::new([1; 32]));
        let b = NumberKeyer::new(&Secret::new([2; 32]));
        assert_eq!(a.key_hex(&n), a.key_hex(&n));
        assert_ne!(a.key_hex(&n), b.key_hex(&n));
        assert_eq!(a.key_hex(&n).len(), 64);
        assert!(!a.key_hex(&n).contains("7700900123"));
    }
}
