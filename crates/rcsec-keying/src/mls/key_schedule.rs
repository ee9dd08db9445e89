//! The epoch key schedule (RFC 9420 §8): from the previous epoch's `init_secret`, the commit
//! secret, the PSK secret and the new [`GroupContext`] to every secret of the new epoch.
//!
//! ```text
//! joiner  = ExpandWithLabel(Extract(init_secret, commit_secret), "joiner", GroupContext, Nh)
//! member  = Extract(joiner, psk_secret)
//! welcome = DeriveSecret(member, "welcome")
//! epoch   = ExpandWithLabel(member, "epoch", GroupContext, Nh)
//! sender_data, encryption, exporter, external, confirm, membership, resumption,
//! authentication, init = DeriveSecret(epoch, <label>)
//! ```
//!
//! # Security
//! Every secret is zeroized on drop and omitted from `Debug`. [`KeySchedule`] keeps only the
//! next `init_secret`; the epoch secret itself is dropped as soon as its children exist.

use std::fmt;

use rcsec_core::Secret;

use super::codec::{CodecError, Encode};
use super::crypto::{
    CryptoError, HashSecret, HpkePublicKey, HpkeSecretKey, NH, derive_secret, expand_with_label,
    expand_with_label_vec, extract, hash, mac,
};
use super::group_context::GroupContext;
use super::secret_tree::{SecretTree, SecretTreeConfig};
use super::tree_math::TreeSize;

/// Why an epoch could not be derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyScheduleError {
    /// The group context could not be encoded.
    #[error("group context encoding failed: {0}")]
    Encoding(#[from] CodecError),
    /// A derivation failed.
    #[error("key derivation failed: {0}")]
    Crypto(#[from] CryptoError),
}

/// The joiner secret of an epoch: what a Welcome carries to new members.
pub struct JoinerSecret(HashSecret);

impl fmt::Debug for JoinerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JoinerSecret(..)")
    }
}

impl JoinerSecret {
    /// Wraps a joiner secret received in `GroupSecrets`.
    pub fn new(secret: HashSecret) -> Self {
        Self(secret)
    }

    /// `ExpandWithLabel(Extract(init_secret, commit_secret), "joiner", GroupContext, Nh)`.
    ///
    /// # Errors
    /// [`KeyScheduleError`] (encoding of an oversized context).
    pub fn derive(
        init_secret: &[u8],
        commit_secret: &[u8],
        group_context: &GroupContext,
    ) -> Result<Self, KeyScheduleError> {
        let prk = extract(init_secret, commit_secret);
        let context = group_context.to_bytes()?;
        Ok(Self(expand_with_label(
            prk.expose_secret(),
            "joiner",
            &context,
        )?))
    }

    /// The secret bytes. Do not log or store.
    pub fn expose_secret(&self) -> &[u8; NH] {
        self.0.expose_secret()
    }

    /// `welcome_secret = DeriveSecret(Extract(joiner, psk_secret), "welcome")`.
    ///
    /// # Errors
    /// [`KeyScheduleError::Crypto`] (internal).
    pub fn welcome_secret(&self, psk_secret: &[u8]) -> Result<HashSecret, KeyScheduleError> {
        let member = extract(self.expose_secret(), psk_secret);
        Ok(derive_secret(member.expose_secret(), "welcome")?)
    }
}

/// Every secret of one epoch.
///
/// Cloning copies the secrets into new zeroizing wrappers (a member snapshots its state).
#[derive(Clone)]
pub struct EpochSecrets {
    welcome_secret: HashSecret,
    sender_data_secret: HashSecret,
    encryption_secret: HashSecret,
    exporter_secret: HashSecret,
    external_secret: HashSecret,
    confirmation_key: HashSecret,
    membership_key: HashSecret,
    resumption_psk: HashSecret,
    epoch_authenticator: HashSecret,
    init_secret: HashSecret,
}

impl fmt::Debug for EpochSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpochSecrets").finish_non_exhaustive()
    }
}

impl EpochSecrets {
    /// Derives the epoch from its joiner secret, PSK secret and group context (the path a
    /// new member takes after decrypting a Welcome).
    ///
    /// # Errors
    /// [`KeyScheduleError`].
    pub fn derive(
        joiner: &JoinerSecret,
        psk_secret: &[u8],
        group_context: &GroupContext,
    ) -> Result<Self, KeyScheduleError> {
        let member = extract(joiner.expose_secret(), psk_secret);
        let m = member.expose_secret();
        let context = group_context.to_bytes()?;
        let epoch: HashSecret = expand_with_label(m, "epoch", &context)?;
        let e = epoch.expose_secret();
        Ok(Self {
            welcome_secret: derive_secret(m, "welcome")?,
            sender_data_secret: derive_secret(e, "sender data")?,
            encryption_secret: derive_secret(e, "encryption")?,
            exporter_secret: derive_secret(e, "exporter")?,
            external_secret: derive_secret(e, "external")?,
            confirmation_key: derive_secret(e, "confirm")?,
            membership_key: derive_secret(e, "membership")?,
            resumption_psk: derive_secret(e, "resumption")?,
            epoch_authenticator: derive_secret(e, "authentication")?,
            init_secret: derive_secret(e, "init")?,
        })
    }

    /// The secrets in their stored order.
    fn all(&self) -> [&HashSecret; 10] {
        [
            &self.welcome_secret,
            &self.sender_data_secret,
            &self.encryption_secret,
            &self.exporter_secret,
            &self.external_secret,
            &self.confirmation_key,
            &self.membership_key,
            &self.resumption_psk,
            &self.epoch_authenticator,
            &self.init_secret,
        ]
    }

    /// Appends every secret (ten times `Nh` bytes) for a stored member state.
    pub(crate) fn write_state(&self, out: &mut Vec<u8>) {
        for secret in self.all() {
            out.extend_from_slice(secret.expose_secret());
        }
    }

    /// Reads what [`EpochSecrets::write_state`] wrote.
    pub(crate) fn read_state(r: &mut super::codec::Reader<'_>) -> Result<Self, CodecError> {
        let mut next = || -> Result<HashSecret, CodecError> { Ok(Secret::new(r.array::<NH>()?)) };
        Ok(Self {
            welcome_secret: next()?,
            sender_data_secret: next()?,
            encryption_secret: next()?,
            exporter_secret: next()?,
            external_secret: next()?,
            confirmation_key: next()?,
            membership_key: next()?,
            resumption_psk: next()?,
            epoch_authenticator: next()?,
            init_secret: next()?,
        })
    }

    /// All-zero secrets: what a member removed from the group keeps instead of the real
    /// ones, so its state can still be described and stored but opens nothing.
    pub(crate) fn erased() -> Self {
        let zero = || Secret::new([0; NH]);
        Self {
            welcome_secret: zero(),
            sender_data_secret: zero(),
            encryption_secret: zero(),
            exporter_secret: zero(),
            external_secret: zero(),
            confirmation_key: zero(),
            membership_key: zero(),
            resumption_psk: zero(),
            epoch_authenticator: zero(),
            init_secret: zero(),
        }
    }

    /// Rebuilds the epoch of a state stored before TreeKEM (group state versions 1 and 2),
    /// which kept only these four; the others are zero and never used by such a member
    /// (its messages are PrivateMessages and it never sent a Welcome from that epoch).
    pub(crate) fn from_legacy(
        init_secret: HashSecret,
        sender_data_secret: HashSecret,
        exporter_secret: HashSecret,
        epoch_authenticator: HashSecret,
    ) -> Self {
        Self {
            init_secret,
            sender_data_secret,
            exporter_secret,
            epoch_authenticator,
            ..Self::erased()
        }
    }

    /// Key for the Welcome's encrypted GroupInfo.
    pub fn welcome_secret(&self) -> &[u8; NH] {
        self.welcome_secret.expose_secret()
    }
    /// Key material for sender-data encryption.
    pub fn sender_data_secret(&self) -> &[u8; NH] {
        self.sender_data_secret.expose_secret()
    }
    /// Root of the secret tree.
    pub fn encryption_secret(&self) -> &[u8; NH] {
        self.encryption_secret.expose_secret()
    }
    /// Base of [`EpochSecrets::export`].
    pub fn exporter_secret(&self) -> &[u8; NH] {
        self.exporter_secret.expose_secret()
    }
    /// Seed of the external-join HPKE key pair.
    pub fn external_secret(&self) -> &[u8; NH] {
        self.external_secret.expose_secret()
    }
    /// Key of the confirmation tag MAC.
    pub fn confirmation_key(&self) -> &[u8; NH] {
        self.confirmation_key.expose_secret()
    }
    /// Key of the PublicMessage membership tag MAC.
    pub fn membership_key(&self) -> &[u8; NH] {
        self.membership_key.expose_secret()
    }
    /// This epoch's resumption PSK.
    pub fn resumption_psk(&self) -> &[u8; NH] {
        self.resumption_psk.expose_secret()
    }
    /// A value members can compare out of band to confirm they share the epoch.
    pub fn epoch_authenticator(&self) -> &[u8; NH] {
        self.epoch_authenticator.expose_secret()
    }
    /// The next epoch's `init_secret`.
    pub fn init_secret(&self) -> &[u8; NH] {
        self.init_secret.expose_secret()
    }

    /// The external-join HPKE key pair, `DeriveKeyPair(external_secret)`.
    ///
    /// # Errors
    /// [`KeyScheduleError::Crypto`] (internal).
    pub fn external_key_pair(&self) -> Result<(HpkeSecretKey, HpkePublicKey), KeyScheduleError> {
        crate::hpke::derive_key_pair(self.external_secret())
            .map_err(|e| KeyScheduleError::Crypto(e.into()))
    }

    /// The external-join HPKE public key (`external_pub` in the GroupInfo extension).
    ///
    /// # Errors
    /// [`KeyScheduleError::Crypto`] (internal).
    pub fn external_public_key(&self) -> Result<HpkePublicKey, KeyScheduleError> {
        Ok(self.external_key_pair()?.1)
    }

    /// A fresh secret tree for this epoch over `size` leaves.
    pub fn secret_tree(&self, size: TreeSize, config: SecretTreeConfig) -> SecretTree {
        SecretTree::new(self.encryption_secret.clone(), size, config)
    }

    /// `confirmation_tag = MAC(confirmation_key, confirmed_transcript_hash)`.
    ///
    /// # Errors
    /// [`KeyScheduleError::Crypto`] (internal).
    pub fn confirmation_tag(
        &self,
        confirmed_transcript_hash: &[u8],
    ) -> Result<[u8; NH], KeyScheduleError> {
        Ok(mac(self.confirmation_key(), confirmed_transcript_hash)?)
    }

    /// `MLS-Exporter(label, context, length) = ExpandWithLabel(DeriveSecret(exporter_secret,
    /// label), "exported", Hash(context), length)`.
    ///
    /// # Errors
    /// [`KeyScheduleError::Crypto`] for a `length` above 8160 bytes.
    pub fn export(
        &self,
        label: &str,
        context: &[u8],
        length: u16,
    ) -> Result<Secret<Vec<u8>>, KeyScheduleError> {
        let derived = derive_secret(self.exporter_secret(), label)?;
        Ok(expand_with_label_vec(
            derived.expose_secret(),
            "exported",
            &hash(context),
            length,
        )?)
    }
}

/// The chain of epochs: holds only the `init_secret` the next commit will consume.
pub struct KeySchedule {
    init_secret: HashSecret,
}

impl fmt::Debug for KeySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySchedule(..)")
    }
}

impl KeySchedule {
    /// Starts from an `init_secret` (random for a new group's epoch 0).
    pub fn new(init_secret: HashSecret) -> Self {
        Self { init_secret }
    }

    /// Starts a group at epoch 0 from a fresh random `init_secret` (RFC 9420 §8).
    ///
    /// # Errors
    /// [`CryptoError::Random`] when the OS random number generator fails.
    pub fn random() -> Result<Self, CryptoError> {
        let mut init_secret = Secret::new([0u8; NH]);
        getrandom::fill(init_secret.expose_secret_mut()).map_err(|_| CryptoError::Random)?;
        Ok(Self::new(init_secret))
    }

    /// The chain position a new member reaches from a Welcome's joiner secret.
    ///
    /// # Errors
    /// As [`EpochSecrets::derive`].
    pub fn join(
        joiner: &JoinerSecret,
        psk_secret: &[u8],
        group_context: &GroupContext,
    ) -> Result<(Self, EpochSecrets), KeyScheduleError> {
        let epoch = EpochSecrets::derive(joiner, psk_secret, group_context)?;
        let next = Self::new(epoch.init_secret.clone());
        Ok((next, epoch))
    }

    /// Advances to the epoch described by `group_context`: consumes the stored
    /// `init_secret`, returns the new epoch's joiner secret and secrets, and stores the new
    /// `init_secret`. Pass `Nh` zero bytes as `commit_secret` when the commit has no path.
    ///
    /// # Errors
    /// [`KeyScheduleError`]; on error the schedule is unchanged.
    pub fn advance(
        &mut self,
        commit_secret: &[u8],
        psk_secret: &[u8],
        group_context: &GroupContext,
    ) -> Result<(JoinerSecret, EpochSecrets), KeyScheduleError> {
        let joiner = JoinerSecret::derive(
            self.init_secret.expose_secret(),
            commit_secret,
            group_context,
        )?;
        let epoch = EpochSecrets::derive(&joiner, psk_secret, group_context)?;
        self.init_secret = epoch.init_secret.clone();
        Ok((joiner, epoch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_chain_and_depend_on_every_input() {
        let gc = GroupContext::new(b"g".to_vec(), 1, vec![0; 32], vec![0; 32]);
        let mut a = KeySchedule::new(Secret::new([1; NH]));
        let mut b = KeySchedule::new(Secret::new([1; NH]));
        let (_, a1) = a.advance(&[2; NH], &[0; NH], &gc).unwrap();
        let (_, b1) = b.advance(&[2; NH], &[0; NH], &gc).unwrap();
        assert_eq!(a1.epoch_authenticator(), b1.epoch_authenticator());
        let (_, a2) = a.advance(&[2; NH], &[0; NH], &gc).unwrap();
        assert_ne!(a1.encryption_secret(), a2.encryption_secret());
        let (_, b2) = b.advance(&[2; NH], &[3; NH], &gc).unwrap();
        assert_ne!(a2.encryption_secret(), b2.encryption_secret());
        let x1 = a1.export("label", b"ctx", 16).unwrap();
        assert_eq!(x1.expose_secret().len(), 16);
        assert_ne!(x1, a1.export("label", b"ctx2", 16).unwrap());
        assert_eq!(format!("{a1:?}"), "EpochSecrets { .. }");
    }

    #[test]
    fn joiners_reach_the_same_epoch() {
        let gc = GroupContext::new(b"g".to_vec(), 4, vec![0; 32], vec![0; 32]);
        let mut member = KeySchedule::new(Secret::new([1; NH]));
        let (joiner, epoch) = member.advance(&[2; NH], &[0; NH], &gc).unwrap();
        let (mut joined, joined_epoch) = KeySchedule::join(&joiner, &[0; NH], &gc).unwrap();
        assert_eq!(epoch.membership_key(), joined_epoch.membership_key());
        assert_eq!(
            joiner.welcome_secret(&[0; NH]).unwrap().expose_secret(),
            epoch.welcome_secret()
        );
        let gc5 = GroupContext { epoch: 5, ..gc };
        let (_, m5) = member.advance(&[0; NH], &[0; NH], &gc5).unwrap();
        let (_, j5) = joined.advance(&[0; NH], &[0; NH], &gc5).unwrap();
        assert_eq!(m5.init_secret(), j5.init_secret());
    }
}
