//! Keyed pseudonyms for phone numbers and keyed hashes of message plaintext.
//!
//! Both are HMAC-SHA256 under subkeys of one versioned audit key, so the log can say "the same
//! recipient as before" and "the same message as before" without ever holding either. Without
//! the key, a pseudonym of a phone number cannot be brute-forced from the (small) number space.

use std::fmt;

use hmac::{Hmac, KeyInit as _, Mac as _};
use rcsec_core::{Msisdn, Secret};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::event::{EventBuilder, EventKind};

/// Domain-separation labels for the two subkeys derived from an audit key.
const PSEUDONYM_LABEL: &[u8] = b"rcsec-audit v1 pseudonym";
const MESSAGE_LABEL: &[u8] = b"rcsec-audit v1 message-hash";

/// Why a key could not be created or installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Rng,
    /// A rotation must move to a strictly newer version.
    #[error("key version must increase on rotation")]
    VersionNotNewer,
}

/// The dedicated audit key, with its version. Only its two derived subkeys are kept.
///
/// `Debug` shows the version only; the key material is zeroized on drop.
#[derive(Clone)]
pub struct AuditKey {
    version: u32,
    pseudonym_key: Secret<[u8; 32]>,
    message_key: Secret<[u8; 32]>,
}

impl AuditKey {
    /// A key from 32 bytes of key material (from a secret store).
    pub fn from_bytes(version: u32, material: &Secret<[u8; 32]>) -> Self {
        let derive = |label: &[u8]| Secret::new(hmac(material.expose_secret(), &[label]));
        Self {
            version,
            pseudonym_key: derive(PSEUDONYM_LABEL),
            message_key: derive(MESSAGE_LABEL),
        }
    }

    /// A fresh random key from the operating system.
    ///
    /// # Errors
    /// [`KeyError::Rng`] when the OS RNG fails.
    pub fn generate(version: u32) -> Result<Self, KeyError> {
        let mut material = Secret::new([0u8; 32]);
        getrandom::fill(material.expose_secret_mut()).map_err(|_| KeyError::Rng)?;
        Ok(Self::from_bytes(version, &material))
    }

    /// The key version recorded beside every pseudonym and message hash.
    pub fn version(&self) -> u32 {
        self.version
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditKey")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC zero-pads keys shorter than the block (RFC 2104 §2), so padding 32 bytes to the
    // 64-byte block here is the same MAC, through the infallible fixed-size constructor.
    let mut block = zeroize::Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(key);
    // By reference, so the only copy of the padded key is the zeroized one.
    let key: &[u8; 64] = &block;
    let mut mac = <Hmac<Sha256>>::new(key.into());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// A recipient's pseudonym: `HMAC-SHA256(pseudonym subkey of key `version`, E.164 string)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pseudonym {
    version: u32,
    value: [u8; 32],
}

/// A keyed hash of a message's plaintext: `HMAC-SHA256(message subkey of key `version`, text)`.
///
/// Lets an investigator confirm "this log entry is about that message" given the message and
/// the key, while the log alone reveals nothing about the text.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageHash {
    version: u32,
    value: [u8; 32],
}

macro_rules! keyed_value {
    ($name:ident) => {
        impl $name {
            pub(crate) fn from_parts(version: u32, value: [u8; 32]) -> Self {
                Self { version, value }
            }

            /// The audit key version it was computed under.
            pub fn version(&self) -> u32 {
                self.version
            }

            /// The 32-byte HMAC output.
            pub fn value(&self) -> &[u8; 32] {
                &self.value
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    concat!(stringify!($name), "(v{}:{}…)"),
                    self.version,
                    hex::encode(&self.value[..6])
                )
            }
        }
    };
}

keyed_value!(Pseudonym);
keyed_value!(MessageHash);

/// Turns phone numbers into pseudonyms and plaintext into keyed hashes, and is the only way
/// to start an [`EventBuilder`], so no raw number or text can reach an event.
///
/// Rotation installs a newer key for new events and keeps the older ones, so an investigator
/// can still find a number's events written under any earlier version.
///
/// ```
/// use rcsec_audit::{AuditKey, Pseudonymizer};
/// use rcsec_core::{Msisdn, Secret};
///
/// let mut p = Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([7; 32])));
/// let number = Msisdn::parse("+447700900123")?;
/// let old = p.pseudonymize(&number);
/// p.rotate(AuditKey::from_bytes(2, &Secret::new([8; 32])))?;
/// assert_eq!(p.pseudonymize(&number).version(), 2);
/// assert!(p.matches(&old, &number));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Pseudonymizer {
    /// The key new pseudonyms and hashes are made with.
    current: AuditKey,
    /// Earlier keys, oldest first, kept for lookups.
    older: Vec<AuditKey>,
}

impl Pseudonymizer {
    /// A pseudonymizer with one key.
    pub fn new(key: AuditKey) -> Self {
        Self {
            current: key,
            older: Vec::new(),
        }
    }

    fn current(&self) -> &AuditKey {
        &self.current
    }

    fn keys(&self) -> impl Iterator<Item = &AuditKey> {
        self.older.iter().chain(std::iter::once(&self.current))
    }

    fn key(&self, version: u32) -> Option<&AuditKey> {
        self.keys().find(|k| k.version == version)
    }

    /// The current key version.
    pub fn version(&self) -> u32 {
        self.current().version
    }

    /// Makes `key` current; older keys stay available for lookups.
    ///
    /// # Errors
    /// [`KeyError::VersionNotNewer`] unless its version is above the current one.
    pub fn rotate(&mut self, key: AuditKey) -> Result<(), KeyError> {
        if key.version <= self.version() {
            return Err(KeyError::VersionNotNewer);
        }
        let previous = std::mem::replace(&mut self.current, key);
        self.older.push(previous);
        Ok(())
    }

    /// The pseudonym of `number` under the current key.
    pub fn pseudonymize(&self, number: &Msisdn) -> Pseudonym {
        pseudonym_under(self.current(), number)
    }

    /// The pseudonym of `number` under key `version`, if that key is known.
    pub fn pseudonymize_with(&self, version: u32, number: &Msisdn) -> Option<Pseudonym> {
        self.key(version).map(|k| pseudonym_under(k, number))
    }

    /// The pseudonym of `number` under every known key, to search a log across rotations.
    pub fn all_pseudonyms(&self, number: &Msisdn) -> Vec<Pseudonym> {
        self.keys().map(|k| pseudonym_under(k, number)).collect()
    }

    /// Whether `pseudonym` is `number`'s (under its recorded key version), in constant time.
    pub fn matches(&self, pseudonym: &Pseudonym, number: &Msisdn) -> bool {
        self.pseudonymize_with(pseudonym.version, number)
            .is_some_and(|p| bool::from(p.value.ct_eq(&pseudonym.value)))
    }

    /// The keyed hash of `plaintext` under the current key.
    pub fn message_hash(&self, plaintext: &[u8]) -> MessageHash {
        let key = self.current();
        MessageHash {
            version: key.version,
            value: hmac(key.message_key.expose_secret(), &[plaintext]),
        }
    }

    /// Starts an event of `kind` at `time`; see [`EventBuilder`].
    pub fn event(&self, kind: EventKind, time: rcsec_core::Timestamp) -> EventBuilder<'_> {
        EventBuilder::new(self, kind, time)
    }
}

fn pseudonym_under(key: &AuditKey, number: &Msisdn) -> Pseudonym {
    Pseudonym {
        version: key.version,
        value: hmac(
            key.pseudonym_key.expose_secret(),
            &[number.expose_e164().as_bytes()],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(v: u32, b: u8) -> AuditKey {
        AuditKey::from_bytes(v, &Secret::new([b; 32]))
    }

    #[test]
    fn pseudonyms_are_stable_keyed_and_versioned() {
        let n = Msisdn::parse("+447700900123").unwrap();
        let m = Msisdn::parse("+447700900124").unwrap();
        let p = Pseudonymizer::new(key(1, 1));
        assert_eq!(p.pseudonymize(&n), p.pseudonymize(&n));
        assert_ne!(p.pseudonymize(&n), p.pseudonymize(&m));
        let other = Pseudonymizer::new(key(1, 2));
        assert_ne!(p.pseudonymize(&n).value(), other.pseudonymize(&n).value());
        // Subkeys are separated: the message hash of the E.164 text is not the pseudonym.
        assert_ne!(
            p.message_hash(n.expose_e164().as_bytes()).value(),
            p.pseudonymize(&n).value()
        );
    }

    #[test]
    fn rotation_keeps_old_versions_for_lookup() {
        let n = Msisdn::parse("+15550109999").unwrap();
        let mut p = Pseudonymizer::new(key(1, 1));
        let v1 = p.pseudonymize(&n);
        assert_eq!(p.rotate(key(1, 9)), Err(KeyError::VersionNotNewer));
        p.rotate(key(2, 2)).unwrap();
        let v2 = p.pseudonymize(&n);
        assert_eq!((v1.version(), v2.version()), (1, 2));
        assert_ne!(v1.value(), v2.value());
        assert!(p.matches(&v1, &n) && p.matches(&v2, &n));
        assert_eq!(p.pseudonymize_with(1, &n), Some(v1));
        assert_eq!(p.pseudonymize_with(3, &n), None);
        assert_eq!(p.all_pseudonyms(&n), vec![v1, v2]);
        let other = Msisdn::parse("+15550109998").unwrap();
        assert!(!p.matches(&v1, &other));
    }

    #[test]
    fn debug_never_shows_key_material_or_numbers() {
        let k = key(4, 0xAB);
        assert_eq!(format!("{k:?}"), "AuditKey { version: 4, .. }");
        let p = Pseudonymizer::new(k);
        let shown = format!(
            "{p:?} {:?}",
            p.pseudonymize(&Msisdn::parse("+447700900123").unwrap())
        );
        assert!(!shown.contains("7700900123") && !shown.contains("abab"));
    }
}
