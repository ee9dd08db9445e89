//! Joining from an RFC 9420 Welcome (§12.4.3).
//!
//! The committer seals the `GroupSecrets` (joiner secret and, where the joiner sits below
//! the committer's path, the path secret of their common ancestor) to the device's
//! key-package init key; the signed `GroupInfo` carries the ratchet tree in the standard
//! `ratchet_tree` extension and is encrypted under the welcome key. The joiner checks the
//! tree (every leaf signature, every parent hash, its hash against the group context), the
//! GroupInfo signature by the tree's signer leaf, any path secret against the keys the tree
//! announces, and the confirmation tag against its own key schedule before it trusts
//! anything ([`GroupState::join`]).

use super::commit::state_config;
use super::error::join_error;
use super::{Group, GroupConfig, GroupError};
use crate::device::{Device, KeyPackageBundle};
use crate::mls::codec::Decode;
use crate::mls::crypto::CIPHER_SUITE;
use crate::mls::framing::MlsMessage;
use crate::mls::state::{GroupState, JoinerKeys};

impl Group {
    /// Joins a group from a Welcome sealed to `bundle`'s key package, as `device` (whose
    /// signing key made the package).
    ///
    /// # Errors
    /// [`GroupError::WelcomeNotForUs`] when no entry is sealed to this key package;
    /// [`GroupError::Crypto`] when it does not decrypt; [`GroupError::InvalidWelcome`] for an
    /// unsigned or inconsistent GroupInfo or ratchet tree; [`GroupError::BadConfirmationTag`];
    /// [`GroupError::Codec`] for malformed bytes.
    pub fn join(
        welcome: &[u8],
        bundle: KeyPackageBundle,
        device: &Device,
        config: GroupConfig,
    ) -> Result<Self, GroupError> {
        let MlsMessage::Welcome(welcome) = MlsMessage::from_bytes(welcome)? else {
            return Err(GroupError::UnexpectedMessage);
        };
        if welcome.cipher_suite != CIPHER_SUITE {
            return Err(GroupError::InvalidWelcome("cipher suite"));
        }
        if device.signature_key().as_bytes().as_slice()
            != bundle.key_package.leaf_node.signature_key.as_slice()
        {
            return Err(GroupError::InvalidWelcome(
                "key package is another device's",
            ));
        }
        let joiner = JoinerKeys {
            key_package: bundle.key_package,
            init_key: bundle.init_key,
            leaf_key: bundle.leaf_key,
            signer: device.signer().clone(),
        };
        let state = GroupState::join(&welcome, joiner, None, &|_| None, state_config(&config))
            .map_err(join_error)?;
        Ok(Self {
            config,
            state,
            past: Default::default(),
            removed: false,
            legacy_epoch: false,
        })
    }
}
