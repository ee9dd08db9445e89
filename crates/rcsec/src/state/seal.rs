//! Sealing state at rest: AES-256-GCM under an application-supplied state key.
//!
//! Anything the pipeline persists about an alert (its text, artifacts, responders' numbers)
//! is as sensitive as the alert itself, and the store it lands in (a SQLite file, a database
//! server) is backed up and read by more people than the alert was meant for. So state is
//! written only as sealed bytes; the store sees the record's id, and nothing else in clear.
//!
//! # Format (version 1)
//! ```text
//! 0x01 | record_version: u16 BE | salt: 16 | nonce: 12 | ciphertext | tag: 16
//! ```
//! Each record is encrypted under its own key, `HMAC-SHA256(state_key, "rcsec/v1/state-seal\0"
//! || salt)`, with a random salt and nonce. Random 96-bit nonces alone would cap one state key at
//! about 2^32 records (NIST SP 800-38D); with a fresh 128-bit salt per record the key can seal
//! for the life of a deployment without rotation.
//!
//! The associated data binds the record's *kind* (`alert`, `mls-group`, ...), its *id* and its
//! format *version*: a record cannot be replayed under another alert's id, as another kind of
//! record, or as another format version, and any flipped bit fails authentication. A record
//! can still be replaced by an *older* sealed copy of itself (rollback): stores order writes by
//! a revision number, and THREAT_MODEL.md treats write access to the store as out of scope.

use std::fmt;
use std::sync::Arc;

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit};
use hmac::{Hmac, Mac};
use rcsec_core::Secret;
use rcsec_link::RandomSource;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

/// The first byte of every sealed record.
const FORMAT: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + 2 + SALT_LEN + NONCE_LEN;
const SUBKEY_LABEL: &[u8] = b"rcsec/v1/state-seal\0";
const AAD_LABEL: &[u8] = b"rcsec/v1/state-record\0";

/// Why a record could not be sealed or opened. Never carries record content or key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// Shorter than a header and a tag.
    #[error("sealed record is truncated")]
    Truncated,
    /// The first byte names a sealing format this build does not know.
    #[error("sealed record has unknown format {0}")]
    UnknownFormat(u8),
    /// The tag did not verify: a wrong state key, a tampered record, or a record sealed for
    /// another kind, id or version.
    #[error("sealed record failed authentication (wrong state key or tampered record)")]
    Authentication,
    /// The random source failed; nothing was sealed.
    #[error("random source failed")]
    Random,
    /// The plaintext is beyond what AES-GCM can seal in one message.
    #[error("record too large to seal")]
    TooLarge,
}

/// An opened record: the format version it was sealed under, and its plaintext (wiped on drop).
pub struct Opened {
    /// The record format version bound into the associated data.
    pub version: u16,
    /// The plaintext.
    pub plaintext: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("version", &self.version)
            .field("len", &self.plaintext.len())
            .finish()
    }
}

/// Seals and opens state records under one state key.
///
/// Cheap to clone (shares the key). `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct StateSealer {
    key: Arc<Secret<[u8; 32]>>,
    rng: Arc<dyn RandomSource>,
}

impl fmt::Debug for StateSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateSealer").finish_non_exhaustive()
    }
}

impl StateSealer {
    /// A sealer under `key`, drawing salts and nonces from `rng`.
    pub fn new(key: Secret<[u8; 32]>, rng: Arc<dyn RandomSource>) -> Self {
        Self {
            key: Arc::new(key),
            rng,
        }
    }

    /// Seals `plaintext` as record `id` of `kind` in format `version`.
    ///
    /// # Errors
    /// [`SealError::Random`] when the random source fails; [`SealError::TooLarge`].
    pub fn seal(
        &self,
        kind: &str,
        id: &str,
        version: u16,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        let mut header = [0u8; HEADER_LEN];
        header[0] = FORMAT;
        header[1..3].copy_from_slice(&version.to_be_bytes());
        self.rng
            .fill(&mut header[3..])
            .map_err(|_| SealError::Random)?;
        let (salt, nonce) = header[3..].split_at(SALT_LEN);
        let cipher = self.record_cipher(salt);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Truncated)?;
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&header);
        out.extend_from_slice(plaintext);
        let aad = associated_data(kind, id, version);
        match cipher.encrypt_inout_detached(
            (&nonce).into(),
            &aad,
            out[HEADER_LEN..].as_mut().into(),
        ) {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                Ok(out)
            }
            Err(_) => {
                // Refused before encrypting: the buffer still holds the plaintext.
                out.zeroize();
                Err(SealError::TooLarge)
            }
        }
    }

    /// Opens a record sealed by [`StateSealer::seal`] as record `id` of `kind`.
    ///
    /// The tag is checked before anything is decrypted, so a failed open exposes nothing.
    ///
    /// # Errors
    /// [`SealError::Truncated`], [`SealError::UnknownFormat`], [`SealError::Authentication`].
    pub fn open(&self, kind: &str, id: &str, sealed: &[u8]) -> Result<Opened, SealError> {
        if sealed.len() < HEADER_LEN + TAG_LEN {
            return Err(SealError::Truncated);
        }
        let (header, rest) = sealed.split_at(HEADER_LEN);
        if header[0] != FORMAT {
            return Err(SealError::UnknownFormat(header[0]));
        }
        let version = u16::from_be_bytes([header[1], header[2]]);
        let (salt, nonce) = header[3..].split_at(SALT_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Truncated)?;
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| SealError::Truncated)?;
        let cipher = self.record_cipher(salt);
        let aad = associated_data(kind, id, version);
        let mut plaintext = Zeroizing::new(body.to_vec());
        cipher
            .decrypt_inout_detached(
                (&nonce).into(),
                &aad,
                plaintext.as_mut_slice().into(),
                (&tag).into(),
            )
            .map_err(|_| SealError::Authentication)?;
        Ok(Opened { version, plaintext })
    }

    /// The AES-256-GCM context for the record with `salt` (its key schedule is wiped on drop).
    fn record_cipher(&self, salt: &[u8]) -> Aes256Gcm {
        // RFC 2104 zero-pads a short key to the block size: keying with the padded block is
        // the same MAC, and infallible.
        let mut block = hmac::digest::Key::<Hmac<Sha256>>::default();
        block[..32].copy_from_slice(self.key.expose_secret());
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&block);
        block.as_mut_slice().zeroize();
        mac.update(SUBKEY_LABEL);
        mac.update(salt);
        let subkey = Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
        Aes256Gcm::new((&*subkey).into())
    }
}

/// `label || len(kind) || kind || len(id) || id || version`, lengths as u16 BE (kinds and
/// ids longer than that are cut to 65535 bytes' length field by saturation and still bound
/// by their full bytes).
fn associated_data(kind: &str, id: &str, version: u16) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + 6 + kind.len() + id.len());
    aad.extend_from_slice(AAD_LABEL);
    for part in [kind, id] {
        let len = u16::try_from(part.len()).unwrap_or(u16::MAX);
        aad.extend_from_slice(&len.to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcsec_link::{OsRandom, RandomError};

    #[derive(Debug)]
    struct NoRandom;
    impl RandomSource for NoRandom {
        fn fill(&self, _: &mut [u8]) -> Result<(), RandomError> {
            Err(RandomError)
        }
    }

    fn sealer(key: u8) -> StateSealer {
        StateSealer::new(Secret::new([key; 32]), Arc::new(OsRandom))
    }

    const CANARY: &[u8] = b"CANARY-db-password=hunter2-7f3a";

    #[test]
    fn round_trips_and_hides_the_plaintext() -> Result<(), SealError> {
        let s = sealer(1);
        let a = s.seal("alert", "a1", 3, CANARY)?;
        let b = s.seal("alert", "a1", 3, CANARY)?;
        assert_ne!(a, b, "fresh salt and nonce per record");
        assert!(!a.windows(CANARY.len()).any(|w| w == CANARY));
        let opened = s.open("alert", "a1", &a)?;
        assert_eq!(opened.version, 3);
        assert_eq!(opened.plaintext.as_slice(), CANARY);
        assert!(!format!("{opened:?}{s:?}").contains("hunter2"));
        Ok(())
    }

    #[test]
    fn binds_kind_id_version_and_key() -> Result<(), SealError> {
        let s = sealer(1);
        let sealed = s.seal("alert", "a1", 1, CANARY)?;
        assert_eq!(
            s.open("mls-group", "a1", &sealed).err(),
            Some(SealError::Authentication)
        );
        assert_eq!(
            s.open("alert", "a2", &sealed).err(),
            Some(SealError::Authentication)
        );
        assert_eq!(
            sealer(2).open("alert", "a1", &sealed).err(),
            Some(SealError::Authentication)
        );
        let mut other_version = sealed;
        other_version[2] ^= 1;
        assert_eq!(
            s.open("alert", "a1", &other_version).err(),
            Some(SealError::Authentication)
        );
        Ok(())
    }

    #[test]
    fn every_flipped_bit_or_cut_is_refused() -> Result<(), SealError> {
        let s = sealer(1);
        let sealed = s.seal("alert", "a1", 1, b"short")?;
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x80;
            assert!(s.open("alert", "a1", &bad).is_err(), "byte {i}");
        }
        let mut unknown = sealed.clone();
        unknown[0] = 9;
        assert_eq!(
            s.open("alert", "a1", &unknown).err(),
            Some(SealError::UnknownFormat(9))
        );
        for len in 0..HEADER_LEN + TAG_LEN {
            assert_eq!(
                s.open("alert", "a1", &sealed[..len]).err(),
                Some(SealError::Truncated)
            );
        }
        assert!(s.open("alert", "a1", &sealed[..sealed.len() - 1]).is_err());
        Ok(())
    }

    #[test]
    fn a_failing_random_source_seals_nothing() {
        let s = StateSealer::new(Secret::new([1; 32]), Arc::new(NoRandom));
        assert_eq!(s.seal("alert", "a1", 1, CANARY), Err(SealError::Random));
    }

    #[test]
    fn empty_plaintext_round_trips() -> Result<(), SealError> {
        let s = sealer(4);
        let sealed = s.seal("k", "", 0, b"")?;
        assert_eq!(sealed.len(), HEADER_LEN + TAG_LEN);
        assert!(s.open("k", "", &sealed)?.plaintext.is_empty());
        Ok(())
    }
}
