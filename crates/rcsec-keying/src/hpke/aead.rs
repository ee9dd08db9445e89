//! The AEADs of this HPKE suite: AES-128-GCM, AES-256-GCM and export-only (RFC 9180 §7.3).

use std::fmt;

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit};
use zeroize::Zeroize;

use super::HpkeError;

/// `Nn`: nonce length of both AES-GCM variants, in bytes.
pub const NONCE_LEN: usize = 12;

/// `Nt`: tag length of both AES-GCM variants, in bytes; a ciphertext is this much longer than
/// its plaintext.
pub const TAG_LEN: usize = 16;

/// An HPKE AEAD algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Aead {
    /// AES-128-GCM (`aead_id` 0x0001).
    Aes128Gcm,
    /// AES-256-GCM (`aead_id` 0x0002).
    Aes256Gcm,
    /// Export-only (`aead_id` 0xFFFF): the context can [`export`] secrets but not seal or open.
    ///
    /// [`export`]: super::SenderContext::export
    ExportOnly,
}

impl Aead {
    /// Every AEAD this crate implements.
    pub const ALL: [Self; 3] = [Self::Aes128Gcm, Self::Aes256Gcm, Self::ExportOnly];

    /// The RFC 9180 `aead_id`.
    pub const fn id(self) -> u16 {
        match self {
            Self::Aes128Gcm => 0x0001,
            Self::Aes256Gcm => 0x0002,
            Self::ExportOnly => 0xFFFF,
        }
    }

    /// The AEAD with this `aead_id`, if this crate implements it.
    pub fn from_id(id: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|aead| aead.id() == id)
    }

    /// `Nk`: the key length in bytes (0 for export-only).
    pub const fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::Aes256Gcm => 32,
            Self::ExportOnly => 0,
        }
    }
}

/// A keyed AEAD: the AES key schedule and GHASH key are computed once per context, and wiped
/// when it drops (aes-gcm's `zeroize` feature).
pub(crate) enum Cipher {
    Aes128(Aes128Gcm),
    Aes256(Aes256Gcm),
    ExportOnly,
}

impl Cipher {
    /// Keys `aead` with `key` (which must be `aead.key_len()` bytes).
    pub(crate) fn new(aead: Aead, key: &[u8]) -> Result<Self, HpkeError> {
        Ok(match aead {
            Aead::Aes128Gcm => {
                Self::Aes128(Aes128Gcm::new_from_slice(key).map_err(|_| HpkeError::Internal)?)
            }
            Aead::Aes256Gcm => {
                Self::Aes256(Aes256Gcm::new_from_slice(key).map_err(|_| HpkeError::Internal)?)
            }
            Aead::ExportOnly => Self::ExportOnly,
        })
    }

    /// `Seal(key, nonce, aad, pt)`: the ciphertext with its tag appended, in one allocation.
    pub(crate) fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        pt: &[u8],
    ) -> Result<Vec<u8>, HpkeError> {
        if matches!(self, Self::ExportOnly) {
            return Err(HpkeError::ExportOnly);
        }
        let mut out = Vec::with_capacity(pt.len().saturating_add(TAG_LEN));
        out.extend_from_slice(pt);
        let nonce = nonce.into();
        let sealed = match self {
            Self::Aes128(c) => c.encrypt_inout_detached(nonce, aad, out.as_mut_slice().into()),
            Self::Aes256(c) => c.encrypt_inout_detached(nonce, aad, out.as_mut_slice().into()),
            Self::ExportOnly => Err(aes_gcm::Error),
        };
        match sealed {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                Ok(out)
            }
            Err(_) => {
                // Refused before encrypting (input beyond AES-GCM's limits): the buffer still
                // holds the plaintext.
                out.zeroize();
                Err(HpkeError::SealFailed)
            }
        }
    }

    /// `Open(key, nonce, aad, ct)`: the plaintext, or the opaque [`HpkeError::OpenFailed`].
    ///
    /// The tag is checked before anything is decrypted, so a failed open never exposes
    /// unauthenticated plaintext.
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ct: &[u8],
    ) -> Result<Vec<u8>, HpkeError> {
        if matches!(self, Self::ExportOnly) {
            return Err(HpkeError::ExportOnly);
        }
        let body_len = ct.len().checked_sub(TAG_LEN).ok_or(HpkeError::OpenFailed)?;
        let (body, tag) = ct.split_at(body_len);
        let tag = tag.try_into().map_err(|_| HpkeError::OpenFailed)?;
        let mut out = body.to_vec();
        let nonce = nonce.into();
        match self {
            Self::Aes128(c) => c.decrypt_inout_detached(nonce, aad, out.as_mut_slice().into(), tag),
            Self::Aes256(c) => c.decrypt_inout_detached(nonce, aad, out.as_mut_slice().into(), tag),
            Self::ExportOnly => return Err(HpkeError::ExportOnly),
        }
        .map_err(|_| HpkeError::OpenFailed)?;
        Ok(out)
    }
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Aes128(_) => "Aes128Gcm",
            Self::Aes256(_) => "Aes256Gcm",
            Self::ExportOnly => "ExportOnly",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for aead in Aead::ALL {
            assert_eq!(Aead::from_id(aead.id()), Some(aead));
        }
        assert_eq!(Aead::from_id(0x0003), None);
    }

    #[test]
    fn seal_open_and_short_or_tampered_input() {
        let cipher = Cipher::new(Aead::Aes256Gcm, &[7; 32]).unwrap();
        let nonce = [1; NONCE_LEN];
        let ct = cipher.seal(&nonce, b"aad", b"hello").unwrap();
        assert_eq!(ct.len(), 5 + TAG_LEN);
        assert_eq!(cipher.open(&nonce, b"aad", &ct).unwrap(), b"hello");
        assert_eq!(
            cipher.open(&nonce, b"aad", &ct[..TAG_LEN - 1]),
            Err(HpkeError::OpenFailed)
        );
        assert_eq!(
            cipher.open(&[2; NONCE_LEN], b"aad", &ct),
            Err(HpkeError::OpenFailed)
        );
        let export = Cipher::new(Aead::ExportOnly, &[]).unwrap();
        assert_eq!(export.seal(&nonce, b"", b""), Err(HpkeError::ExportOnly));
        assert_eq!(export.open(&nonce, b"", &ct), Err(HpkeError::ExportOnly));
        assert!(Cipher::new(Aead::Aes128Gcm, &[0; 15]).is_err());
    }
}
