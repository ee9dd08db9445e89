//! [`NumberKeyer`]: phone numbers as keyed hashes, for every store that must look a recipient
//! up without holding the number.
//!
//! Pins (SQLite, PostgreSQL) and the capability cache (Redis) are keyed by recipient, and a copy
//! of any of those stores must not list who is on call. An unkeyed hash of a phone number is
//! reversible by enumerating the number space (about 10^10 guesses per country); a keyed one is
//! not without the deployment secret. This type is that one construction, shared so every
//! backend derives keys the same way and reviewers read it once.

use hmac::{Hmac, KeyInit as _, Mac as _};
use rcsec_core::{Msisdn, Secret};
use sha2::Sha256;
use zeroize::Zeroize as _;

/// The domain label of [`NumberKeyer::new`].
const DEFAULT_DOMAIN: &[u8] = b"rcsec-store/v1/number-key";

/// Turns a number into a 32-byte key: `HMAC-SHA256(secret, domain || E.164)`.
///
/// The 32-byte secret is zero-padded to the block size, exactly what RFC 2104 does with a short
/// key, so keying cannot fail. Changing the secret (or the domain) orphans every stored entry,
/// which for pins means re-pinning on first sight: keep the secret with the other deployment
/// secrets.
///
/// ```
/// use rcsec_capability::NumberKeyer;
/// use rcsec_core::{Msisdn, Secret};
///
/// let keyer = NumberKeyer::new(&Secret::new([7; 32]));
/// let n = Msisdn::parse("+447700900123")?;
/// assert_eq!(keyer.key(&n), keyer.key(&n));
/// assert!(!keyer.key_hex(&n).contains("7700900123"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct NumberKeyer {
    /// The keyed MAC state, cloned per number (zeroized on drop by `hmac`'s `zeroize` feature).
    mac: Hmac<Sha256>,
    domain: &'static [u8],
}

impl NumberKeyer {
    /// A keyer under `secret` with the workspace's default domain label.
    pub fn new(secret: &Secret<[u8; 32]>) -> Self {
        Self::with_domain(secret, DEFAULT_DOMAIN)
    }

    /// A keyer under `secret` with its own `domain` label, so keys from one store cannot be
    /// matched against another's (and stores that predate this type keep finding their rows).
    pub fn with_domain(secret: &Secret<[u8; 32]>, domain: &'static [u8]) -> Self {
        let mut block = hmac::digest::Key::<Hmac<Sha256>>::default();
        block[..32].copy_from_slice(secret.expose_secret());
        let mac = <Hmac<Sha256>>::new(&block);
        block.as_mut_slice().zeroize();
        Self { mac, domain }
    }

    /// The 32-byte key of `number`.
    pub fn key(&self, number: &Msisdn) -> [u8; 32] {
        let tag = self
            .mac
            .clone()
            .chain_update(self.domain)
            .chain_update(number.expose_e164().as_bytes())
            .finalize()
            .into_bytes();
        let mut out = [0u8; 32];
        out.copy_from_slice(&tag);
        out
    }

    /// The key of `number` as 64 lowercase hex digits (for string-keyed stores).
    pub fn key_hex(&self, number: &Msisdn) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.key(number) {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        s
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

    fn number() -> Msisdn {
        Msisdn::parse("+447700900123").unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn keys_are_keyed_stable_and_hide_the_number() {
        let n = number();
        let a = NumberKeyer::new(&Secret::new([1; 32]));
        let b = NumberKeyer::new(&Secret::new([2; 32]));
        assert_eq!(a.key(&n), a.key(&n));
        assert_ne!(a.key(&n), b.key(&n));
        assert_eq!(a.key_hex(&n).len(), 64);
        assert!(!a.key_hex(&n).contains("7700900123"));
        assert!(!format!("{a:?}").contains('1'));
    }

    #[test]
    fn domains_separate_keys() {
        let n = number();
        let secret = Secret::new([1; 32]);
        let a = NumberKeyer::new(&secret);
        let b = NumberKeyer::with_domain(&secret, b"other/v1");
        assert_ne!(a.key(&n), b.key(&n));
    }

    #[test]
    fn matches_hmac_sha256_of_label_and_number() {
        // RFC 4231 test case 1 shape: an independent HMAC over the same bytes must agree.
        let secret = Secret::new([0x0b; 32]);
        let keyer = NumberKeyer::new(&secret);
        let mut mac =
            <Hmac<Sha256>>::new_from_slice(&[0x0b; 32]).unwrap_or_else(|_| unreachable!());
        mac.update(b"rcsec-store/v1/number-key+447700900123");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(keyer.key(&number()), expected);
        let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(keyer.key_hex(&number()), hex);
    }
}
