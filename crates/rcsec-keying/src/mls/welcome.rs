//! `Welcome`, `GroupSecrets` and `GroupInfo` (RFC 9420 §12.4.3): how a new member learns the
//! joiner secret and the group's state, and checks both.

use std::fmt;

use rcsec_core::Secret;
use subtle::ConstantTimeEq;

use super::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use super::crypto::{
    AeadKey, CIPHER_SUITE, CryptoError, HashSecret, HpkeCiphertext, HpkeSecretKey, NK, NN,
    SignaturePublicKey, SignatureSecretKey, decrypt_with_label, expand_with_label, hash_secret,
};
use super::group_context::{Extension, GroupContext};
use super::key_package::KeyPackage;
use super::key_schedule::{EpochSecrets, JoinerSecret, KeySchedule, KeyScheduleError};
use super::psk::{PreSharedKeyId, PskError, PskInput, psk_secret};
use super::tree_math::LeafIndex;

/// `EncryptedGroupSecrets`: the group secrets for one new member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedGroupSecrets {
    /// `KeyPackageRef` of the recipient.
    pub new_member: Vec<u8>,
    /// `EncryptWithLabel(init_key, "Welcome", encrypted_group_info, GroupSecrets)`.
    pub encrypted_group_secrets: HpkeCiphertext,
}

impl Encode for EncryptedGroupSecrets {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.put_vector(&self.new_member)?;
        self.encrypted_group_secrets.encode(out)
    }
}

impl Decode for EncryptedGroupSecrets {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            new_member: r.vector()?.to_vec(),
            encrypted_group_secrets: HpkeCiphertext::decode(r)?,
        })
    }
}

/// A Welcome message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    /// The group's cipher suite.
    pub cipher_suite: u16,
    /// One entry per new member.
    pub secrets: Vec<EncryptedGroupSecrets>,
    /// The GroupInfo, encrypted under the welcome key.
    pub encrypted_group_info: Vec<u8>,
}

impl Encode for Welcome {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.cipher_suite.to_be_bytes());
        out.put_vector_of(&self.secrets)?;
        out.put_vector(&self.encrypted_group_info)
    }
}

impl Decode for Welcome {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            cipher_suite: r.u16()?,
            secrets: r.vector_of()?,
            encrypted_group_info: r.vector()?.to_vec(),
        })
    }
}

/// `GroupSecrets`, as decrypted by a new member.
pub struct GroupSecrets {
    /// The epoch's joiner secret.
    pub joiner_secret: JoinerSecret,
    /// The path secret for the new member's lowest common ancestor with the committer.
    pub path_secret: Option<Secret<Vec<u8>>>,
    /// PSKs the epoch injects.
    pub psks: Vec<PreSharedKeyId>,
}

impl fmt::Debug for GroupSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupSecrets")
            .field("has_path_secret", &self.path_secret.is_some())
            .field("psks", &self.psks)
            .finish_non_exhaustive()
    }
}

impl GroupSecrets {
    /// Parses decrypted `GroupSecrets`, moving the secrets into zeroizing wrappers.
    ///
    /// # Errors
    /// [`CodecError`]; a joiner secret that is not 32 bytes is [`CodecError::Invalid`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(bytes);
        let joiner = hash_secret(r.vector()?).map_err(|_| CodecError::Invalid("joiner_secret"))?;
        let path_secret = match r.u8()? {
            0 => None,
            1 => Some(Secret::new(r.vector()?.to_vec())),
            value => {
                return Err(CodecError::UnknownValue {
                    field: "optional presence",
                    value: u64::from(value),
                });
            }
        };
        let psks = r.vector_of()?;
        r.finish()?;
        Ok(Self {
            joiner_secret: JoinerSecret::new(joiner),
            path_secret,
            psks,
        })
    }

    /// The encoding, in a zeroizing buffer (it is the plaintext HPKE seals to a joiner).
    ///
    /// # Errors
    /// [`CodecError`] for oversized fields.
    pub fn to_bytes(&self) -> Result<Secret<Vec<u8>>, CodecError> {
        // Reserved up front so no reallocation leaves an unwiped copy behind.
        let mut out = Secret::new(Vec::with_capacity(256 + 64 * self.psks.len()));
        let buf = out.expose_secret_mut();
        buf.put_vector(self.joiner_secret.expose_secret())?;
        match &self.path_secret {
            None => buf.push(0),
            Some(secret) => {
                buf.push(1);
                buf.put_vector(secret.expose_secret())?;
            }
        }
        buf.put_vector_of(&self.psks)?;
        Ok(out)
    }
}

/// `GroupInfo`: the group's state at the epoch a new member joins, signed by the committer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// The group context of the epoch.
    pub group_context: GroupContext,
    /// GroupInfo extensions (e.g. the ratchet tree).
    pub extensions: Vec<Extension>,
    /// `MAC(confirmation_key, confirmed_transcript_hash)` of the epoch.
    pub confirmation_tag: Vec<u8>,
    /// The signer's leaf.
    pub signer: LeafIndex,
    /// `SignWithLabel(., "GroupInfoTBS", GroupInfoTBS)`.
    pub signature: Vec<u8>,
}

impl GroupInfo {
    /// `GroupInfoTBS`: everything but the signature.
    fn to_be_signed(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = self.group_context.to_bytes()?;
        out.put_vector_of(&self.extensions)?;
        out.put_vector(&self.confirmation_tag)?;
        out.extend_from_slice(&self.signer.0.to_be_bytes());
        Ok(out)
    }

    /// Signs (or re-signs) the GroupInfo.
    ///
    /// # Errors
    /// [`CryptoError::Encoding`] for oversized fields.
    pub fn sign(&mut self, signer: &SignatureSecretKey) -> Result<(), CryptoError> {
        self.signature = signer
            .sign_with_label("GroupInfoTBS", &self.to_be_signed()?)?
            .to_vec();
        Ok(())
    }

    /// Verifies the signature.
    ///
    /// # Errors
    /// [`CryptoError::BadSignature`].
    pub fn verify(&self, key: &SignaturePublicKey) -> Result<(), CryptoError> {
        key.verify_with_label("GroupInfoTBS", &self.to_be_signed()?, &self.signature)
    }
}

impl Encode for GroupInfo {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.to_be_signed()?);
        out.put_vector(&self.signature)
    }
}

impl Decode for GroupInfo {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            group_context: GroupContext::decode(r)?,
            extensions: r.vector_of()?,
            confirmation_tag: r.vector()?.to_vec(),
            signer: LeafIndex(r.u32()?),
            signature: r.vector()?.to_vec(),
        })
    }
}

/// Why a Welcome could not be processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WelcomeError {
    /// The Welcome uses a cipher suite other than 1.
    #[error("unsupported cipher suite")]
    UnsupportedSuite,
    /// No entry is addressed to this KeyPackage.
    #[error("welcome is not addressed to this key package")]
    NotForUs,
    /// A structure is malformed.
    #[error("malformed welcome: {0}")]
    Codec(#[from] CodecError),
    /// Decryption or another primitive failed (opaque).
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// A PSK the Welcome names is not known.
    #[error("unknown psk")]
    UnknownPsk,
    /// The PSK secret could not be computed.
    #[error("{0}")]
    Psk(#[from] PskError),
    /// The key schedule failed.
    #[error("{0}")]
    KeySchedule(#[from] KeyScheduleError),
    /// No signature key is known for the GroupInfo signer.
    #[error("unknown group info signer")]
    UnknownSigner,
    /// The GroupInfo signature did not verify.
    #[error("invalid group info signature")]
    BadSignature,
    /// The confirmation tag does not match the derived epoch.
    #[error("invalid confirmation tag")]
    BadConfirmationTag,
}

/// What a new member knows after a successful [`Welcome::join`].
#[derive(Debug)]
pub struct Joined {
    /// The verified GroupInfo.
    pub group_info: GroupInfo,
    /// The decrypted group secrets.
    pub group_secrets: GroupSecrets,
    /// The key schedule, ready for the next commit.
    pub key_schedule: KeySchedule,
    /// The joined epoch's secrets.
    pub epoch: EpochSecrets,
}

impl Welcome {
    /// Decrypts a Welcome as the owner of `key_package` (whose init private key is
    /// `init_key`): finds the entry addressed to it, decrypts the group secrets, resolves the
    /// PSKs they name through `psk`, derives the welcome key and decrypts the GroupInfo.
    /// Nothing is verified beyond decryption: the caller checks the GroupInfo signature (it
    /// needs the tree to know the signer's key) and the confirmation tag.
    ///
    /// Returns the group secrets, the PSK secret and the GroupInfo.
    ///
    /// # Errors
    /// [`WelcomeError::UnsupportedSuite`], [`WelcomeError::NotForUs`],
    /// [`WelcomeError::UnknownPsk`], [`WelcomeError::Crypto`] (opaque decryption failure),
    /// [`WelcomeError::Codec`].
    pub fn decrypt(
        &self,
        key_package: &KeyPackage,
        init_key: &HpkeSecretKey,
        psk: impl Fn(&PreSharedKeyId) -> Option<Secret<Vec<u8>>>,
    ) -> Result<(GroupSecrets, HashSecret, GroupInfo), WelcomeError> {
        if self.cipher_suite != CIPHER_SUITE || key_package.cipher_suite != CIPHER_SUITE {
            return Err(WelcomeError::UnsupportedSuite);
        }
        let reference = key_package.reference()?;
        let entry = self
            .secrets
            .iter()
            .find(|s| s.new_member.as_slice() == reference.as_slice())
            .ok_or(WelcomeError::NotForUs)?;
        let plain = decrypt_with_label(
            init_key,
            "Welcome",
            &self.encrypted_group_info,
            &entry.encrypted_group_secrets,
        )?;
        let group_secrets = GroupSecrets::from_bytes(plain.expose_secret())?;

        let mut inputs = Vec::with_capacity(group_secrets.psks.len());
        for id in &group_secrets.psks {
            let secret = psk(id).ok_or(WelcomeError::UnknownPsk)?;
            inputs.push(PskInput {
                id: id.clone(),
                secret,
            });
        }
        let psk_secret = psk_secret(&inputs)?;

        let welcome_secret = group_secrets
            .joiner_secret
            .welcome_secret(psk_secret.expose_secret())?;
        let ws = welcome_secret.expose_secret();
        let welcome_key = AeadKey::new(
            expand_with_label::<NK>(ws, "key", &[])?,
            expand_with_label::<NN>(ws, "nonce", &[])?,
        );
        let info_plain = welcome_key.open(&[], &self.encrypted_group_info)?;
        let group_info = GroupInfo::from_bytes(info_plain.expose_secret())?;
        if group_info.group_context.cipher_suite != CIPHER_SUITE {
            return Err(WelcomeError::UnsupportedSuite);
        }
        Ok((group_secrets, psk_secret, group_info))
    }

    /// Processes a Welcome as the owner of `key_package` (whose init private key is
    /// `init_key`): [`Welcome::decrypt`], then verifies the GroupInfo signature (by
    /// `signer_key(group_info.signer)`), derives the epoch and checks the confirmation tag in
    /// constant time.
    ///
    /// `psk` returns the value of each PSK the group secrets name.
    ///
    /// # Errors
    /// [`WelcomeError`], naming the first check that failed.
    pub fn join(
        &self,
        key_package: &KeyPackage,
        init_key: &HpkeSecretKey,
        psk: impl Fn(&PreSharedKeyId) -> Option<Secret<Vec<u8>>>,
        signer_key: impl FnOnce(LeafIndex) -> Option<SignaturePublicKey>,
    ) -> Result<Joined, WelcomeError> {
        let (group_secrets, psk_secret, group_info) = self.decrypt(key_package, init_key, psk)?;
        let key = signer_key(group_info.signer).ok_or(WelcomeError::UnknownSigner)?;
        group_info
            .verify(&key)
            .map_err(|_| WelcomeError::BadSignature)?;

        let (key_schedule, epoch) = KeySchedule::join(
            &group_secrets.joiner_secret,
            psk_secret.expose_secret(),
            &group_info.group_context,
        )?;
        let tag = epoch.confirmation_tag(&group_info.group_context.confirmed_transcript_hash)?;
        if !bool::from(tag.as_slice().ct_eq(group_info.confirmation_tag.as_slice())) {
            return Err(WelcomeError::BadConfirmationTag);
        }
        Ok(Joined {
            group_info,
            group_secrets,
            key_schedule,
            epoch,
        })
    }
}
