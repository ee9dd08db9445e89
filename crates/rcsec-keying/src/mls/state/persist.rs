//! Storing a [`GroupState`] between messages, and the pieces the on-call
//! [`crate::group::Group`] needs to build one from a state written before TreeKEM.
//!
//! Layout (all secret; the caller keeps it in a zeroizing buffer and encrypted at rest):
//! the ratchet tree (its RFC 9420 encoding), the group context, the interim transcript hash,
//! the ten epoch secrets, the held path keys (`u32` count, then node index and private key
//! each), the secret tree's remaining state, and the kept resumption PSKs (`u16` count, then
//! epoch and secret each). The signing key and the settings are the caller's to store: they
//! outlive any one group state. Proposals cached in the current epoch are not kept; the
//! on-call group never caches any.

use std::collections::VecDeque;

use rcsec_core::Secret;

use super::{GroupConfig, GroupError, GroupState, RESUMPTION_PSKS_KEPT};
use crate::mls::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use crate::mls::crypto::{HashSecret, HpkeSecretKey, NH, SignatureSecretKey};
use crate::mls::group_context::GroupContext;
use crate::mls::key_schedule::EpochSecrets;
use crate::mls::secret_tree::SecretTree;
use crate::mls::tree::RatchetTree;
use crate::mls::tree_math::{LeafIndex, NodeIndex};
use crate::mls::treekem::PathKeys;

/// The parts of a member state, for [`GroupState::from_parts`].
pub(crate) struct StateParts {
    pub(crate) config: GroupConfig,
    pub(crate) context: GroupContext,
    pub(crate) tree: RatchetTree,
    pub(crate) keys: PathKeys,
    pub(crate) signer: SignatureSecretKey,
    pub(crate) epoch: EpochSecrets,
    pub(crate) secret_tree: SecretTree,
    pub(crate) interim_transcript_hash: Vec<u8>,
}

/// Borrowed keys of the current epoch (see [`GroupState::message_keys`]).
pub(crate) struct MessageKeys<'a> {
    pub(crate) context: &'a GroupContext,
    pub(crate) tree: &'a RatchetTree,
    pub(crate) signer: &'a SignatureSecretKey,
    pub(crate) sender_data_secret: &'a [u8; NH],
    pub(crate) secret_tree: &'a mut SecretTree,
}

impl GroupState {
    /// A state from parts already checked by the caller (a migrated or loaded state).
    pub(crate) fn from_parts(parts: StateParts) -> Self {
        Self {
            config: parts.config,
            context: parts.context,
            tree: parts.tree,
            keys: parts.keys,
            signer: parts.signer,
            epoch: parts.epoch,
            secret_tree: parts.secret_tree,
            interim_transcript_hash: parts.interim_transcript_hash,
            proposals: Vec::new(),
            resumption_psks: VecDeque::new(),
        }
    }

    /// Appends the state (without signing key and settings) to `out`.
    pub(crate) fn write_state(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.tree.to_bytes()?);
        self.context.encode(out)?;
        out.put_vector(&self.interim_transcript_hash)?;
        self.epoch.write_state(out);
        let keys: Vec<_> = self.keys.iter().collect();
        let count = u32::try_from(keys.len()).map_err(|_| CodecError::LengthOverLimit)?;
        out.extend_from_slice(&count.to_be_bytes());
        for (node, key) in keys {
            out.extend_from_slice(&node.0.to_be_bytes());
            out.extend_from_slice(key.to_bytes().expose_secret());
        }
        self.secret_tree.write_state(out)?;
        let count =
            u16::try_from(self.resumption_psks.len()).map_err(|_| CodecError::LengthOverLimit)?;
        out.extend_from_slice(&count.to_be_bytes());
        for (epoch, secret) in &self.resumption_psks {
            out.extend_from_slice(&epoch.to_be_bytes());
            out.extend_from_slice(secret.expose_secret());
        }
        Ok(())
    }

    /// Reads what [`GroupState::write_state`] wrote, for the member at `own_leaf` signing
    /// with `signer`. Only the encoding is checked here; the caller checks that the parts fit
    /// together ([`GroupState::check_own_keys`] and the tree hash).
    pub(crate) fn read_state(
        r: &mut Reader<'_>,
        own_leaf: LeafIndex,
        signer: SignatureSecretKey,
        config: GroupConfig,
    ) -> Result<Self, GroupError> {
        let tree = read_tree(r)?;
        let context = GroupContext::decode(r)?;
        let interim_transcript_hash = r.vector()?.to_vec();
        let epoch = EpochSecrets::read_state(r)?;
        let count = r.u32()? as usize;
        if count > r.remaining().len() / (4 + NH) {
            return Err(CodecError::Truncated.into());
        }
        let mut keys = PathKeys::none(own_leaf);
        for _ in 0..count {
            let node = NodeIndex(r.u32()?);
            if !tree.size().contains(node) {
                return Err(CodecError::Invalid("path key node").into());
            }
            let key = HpkeSecretKey::from_bytes(Secret::new(r.array::<NH>()?).expose_secret())
                .map_err(|_| CodecError::Invalid("path key"))?;
            keys.insert(node, key);
        }
        let secret_tree = SecretTree::read_state(r, config.secret_tree)?;
        let count = usize::from(r.u16()?);
        if count > RESUMPTION_PSKS_KEPT {
            return Err(CodecError::Invalid("resumption psks").into());
        }
        let mut resumption_psks = VecDeque::with_capacity(count);
        for _ in 0..count {
            let epoch = r.u64()?;
            let secret: HashSecret = Secret::new(r.array::<NH>()?);
            resumption_psks.push_back((epoch, secret));
        }
        let mut state = Self::from_parts(StateParts {
            config,
            context,
            tree,
            keys,
            signer,
            epoch,
            secret_tree,
            interim_transcript_hash,
        });
        state.resumption_psks = resumption_psks;
        Ok(state)
    }

    /// Whether this state's own leaf shows this member's signature key and a leaf key it
    /// holds the private half of, and the tree's hash is the one the context binds.
    pub(crate) fn check_own_keys(&self) -> Result<(), &'static str> {
        let own = self.own_leaf();
        let leaf = self.tree.leaf(own).ok_or("own leaf")?;
        let node = own.node().ok_or("own leaf")?;
        if leaf.signature_key.as_slice() != self.signer.public_key().as_bytes().as_slice()
            || self.keys.key_for(&self.tree, node).is_none()
        {
            return Err("keys are not this member's");
        }
        Ok(())
    }

    /// What protecting or unprotecting a message of the current epoch needs, for a caller
    /// that does it itself (with padding, or with its own sender lookup).
    pub(crate) fn message_keys(&mut self) -> MessageKeys<'_> {
        MessageKeys {
            context: &self.context,
            tree: &self.tree,
            signer: &self.signer,
            sender_data_secret: self.epoch.sender_data_secret(),
            secret_tree: &mut self.secret_tree,
        }
    }

    /// Copies of every private tree key held (tests check what a stolen state can open).
    #[cfg(test)]
    pub(crate) fn held_keys(&self) -> Vec<HpkeSecretKey> {
        self.keys.iter().map(|(_, k)| k.clone()).collect()
    }

    /// The shape of the current epoch's secret tree.
    pub(crate) fn secret_tree_size(&self) -> crate::mls::tree_math::TreeSize {
        self.secret_tree.size()
    }

    /// Forgets every group secret (a removed member): epoch secrets, path keys, the secret
    /// tree and resumption PSKs. The public parts stay so the state can still be described.
    pub(crate) fn erase_secrets(&mut self) {
        self.epoch = EpochSecrets::erased();
        self.keys = PathKeys::none(self.own_leaf());
        self.secret_tree = self
            .epoch
            .secret_tree(self.tree.size(), self.config.secret_tree);
        self.resumption_psks.clear();
        self.proposals.clear();
    }
}

/// The tree is written with its own length prefix; decoding it needs the whole vector.
fn read_tree(r: &mut Reader<'_>) -> Result<RatchetTree, GroupError> {
    let start = r.remaining();
    r.vector()?;
    let consumed = start.len() - r.remaining().len();
    Ok(RatchetTree::from_bytes(&start[..consumed])?)
}
