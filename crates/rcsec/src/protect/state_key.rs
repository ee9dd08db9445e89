//! [`GroupStateKey`]: group state at rest is AES-256-GCM ciphertext, bound to its group and
//! version.
//!
//! A serialized [`Group`](rcsec_keying::group::Group) holds the orchestrator's signing key and
//! every ratchet secret, so a store (a database file, a backup) must never see it. The
//! associated data binds the group id and the version, so a row copied to another group or
//! under another version number does not unseal. (Replacing a whole row with an older copy of
//! itself — a rollback by someone with write access to the store — is not detectable here; see
//! THREAT_MODEL.md.)

use std::fmt;

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit};
use rcsec_core::Secret;
use zeroize::Zeroize;

use super::ProtectError;

/// Format tag of the sealed blob (the first byte), so a later format can be told apart.
const FORMAT: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const DOMAIN: &[u8] = b"rcsec/v1/group-state\0";

/// The key group states are sealed under at rest (a deployment secret: keep it out of the
/// store it protects). Zeroized on drop; `Debug` prints nothing of it.
#[derive(Clone)]
pub struct GroupStateKey(Secret<[u8; 32]>);

impl fmt::Debug for GroupStateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GroupStateKey(..)")
    }
}

fn aad(group: &[u8], version: u64) -> Vec<u8> {
    let mut aad = Vec::with_capacity(DOMAIN.len() + 12 + group.len());
    aad.extend_from_slice(DOMAIN);
    // Length-prefixed so no (group, version) pair encodes like another.
    aad.extend_from_slice(&u32::try_from(group.len()).unwrap_or(u32::MAX).to_be_bytes());
    aad.extend_from_slice(group);
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

impl GroupStateKey {
    /// A key from 32 secret bytes.
    pub fn new(key: Secret<[u8; 32]>) -> Self {
        Self(key)
    }

    fn cipher(&self) -> Result<Aes256Gcm, ProtectError> {
        Aes256Gcm::new_from_slice(self.0.expose_secret()).map_err(|_| ProtectError::Seal)
    }

    /// `FORMAT || nonce || AES-256-GCM(state)` with a fresh random nonce. The plaintext is
    /// only ever borrowed; the output holds no byte of it.
    pub(crate) fn seal(
        &self,
        group: &[u8],
        version: u64,
        state: &Secret<Vec<u8>>,
    ) -> Result<Vec<u8>, ProtectError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| ProtectError::Seal)?;
        let plain = state.expose_secret();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plain.len() + TAG_LEN);
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let tag = self
            .cipher()?
            .encrypt_inout_detached(
                (&nonce).into(),
                &aad(group, version),
                out[1 + NONCE_LEN..].as_mut().into(),
            )
            .map_err(|_| {
                // Refused before encrypting: the buffer still holds the plaintext.
                ProtectError::Seal
            });
        match tag {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                Ok(out)
            }
            Err(e) => {
                out.zeroize();
                Err(e)
            }
        }
    }

    /// Opens what [`GroupStateKey::seal`] made for this group and version.
    ///
    /// # Errors
    /// [`ProtectError::CorruptState`] for anything else (wrong key, group, version, format or
    /// a modified byte). The tag is checked before anything is decrypted.
    pub(crate) fn open(
        &self,
        group: &[u8],
        version: u64,
        sealed: &[u8],
    ) -> Result<Secret<Vec<u8>>, ProtectError> {
        let (&format, rest) = sealed.split_first().ok_or(ProtectError::CorruptState)?;
        if format != FORMAT || rest.len() < NONCE_LEN + TAG_LEN {
            return Err(ProtectError::CorruptState);
        }
        let (nonce, rest) = rest.split_at(NONCE_LEN);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| ProtectError::CorruptState)?;
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| ProtectError::CorruptState)?;
        let mut plain = Secret::new(body.to_vec());
        self.cipher()?
            .decrypt_inout_detached(
                (&nonce).into(),
                &aad(group, version),
                plain.expose_secret_mut().as_mut_slice().into(),
                (&tag).into(),
            )
            .map_err(|_| ProtectError::CorruptState)?;
        Ok(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_state_opens_only_for_its_group_version_and_key() {
        let key = GroupStateKey::new(Secret::new([1; 32]));
        let state = Secret::new(b"CANARY ratchet secrets".to_vec());
        let sealed = key.seal(b"team-a", 7, &state).unwrap();
        assert!(
            !sealed
                .windows(b"CANARY".len())
                .any(|w| w == b"CANARY".as_slice())
        );
        assert_eq!(
            key.open(b"team-a", 7, &sealed).unwrap().expose_secret(),
            state.expose_secret()
        );
        let other_key = GroupStateKey::new(Secret::new([2; 32]));
        assert_eq!(
            other_key.open(b"team-a", 7, &sealed).err(),
            Some(ProtectError::CorruptState)
        );
        assert!(key.open(b"team-b", 7, &sealed).is_err());
        assert!(key.open(b"team-a", 8, &sealed).is_err());
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(key.open(b"team-a", 7, &flipped).is_err());
        assert!(key.open(b"team-a", 7, &sealed[..20]).is_err());
        assert!(key.open(b"team-a", 7, &[]).is_err());
        let mut other_format = sealed;
        other_format[0] = 2;
        assert!(key.open(b"team-a", 7, &other_format).is_err());
        // Fresh nonce per seal.
        assert_ne!(
            key.seal(b"team-a", 7, &state).unwrap(),
            key.seal(b"team-a", 7, &state).unwrap()
        );
        assert_eq!(format!("{key:?}"), "GroupStateKey(..)");
    }
}
