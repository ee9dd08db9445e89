//! The on-call team's group session: devices share MLS-style epochs and exchange
//! RFC 9420 `PrivateMessage`s with per-sender ratchets.
//!
//! The orchestrator is a member like the team's phones. It creates the group, adds each
//! enrolled device from its validated key package (the device joins from an HPKE-sealed
//! Welcome), removes devices that are lost or leave the rotation, and sends each alert with
//! [`Group::encrypt`]; every device decrypts with [`Group::decrypt`].
//!
//! ```
//! use std::time::Duration;
//! use rcsec_core::Timestamp;
//! use rcsec_keying::device::{Device, ValidatedKeyPackage};
//! use rcsec_keying::group::{Group, GroupConfig};
//!
//! let now = Timestamp::from_secs(1_800_000_000);
//! let orchestrator = Device::generate("rcsec/orchestrator")?;
//! let mut team = Group::create(b"oncall-payments".to_vec(), &orchestrator, GroupConfig::default())?;
//!
//! let phone = Device::generate("alice/phone")?;
//! let bundle = phone.key_package(now, Duration::from_secs(7 * 86400))?;
//! let validated = ValidatedKeyPackage::validate(&bundle.key_package, now)?;
//! let added = team.add(&[validated])?;
//! let welcome = added.welcome.ok_or("no welcome")?;
//! let mut alice = Group::join(&welcome, bundle, &phone, GroupConfig::default())?;
//!
//! let wire = team.encrypt(b"P1 payments-db: replication lag 45s")?;
//! let got = alice.decrypt(&wire)?;
//! assert_eq!(got.data(), b"P1 payments-db: replication lag 45s");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Epochs and the key schedule
//! Every commit (add, remove, self-update) starts a new epoch whose secrets follow the
//! RFC 9420 key schedule ([`crate::mls::key_schedule`]): the previous epoch's `init_secret`,
//! a fresh commit secret and the new group context (which binds the membership and the
//! transcript of all commits) give the joiner, welcome, encryption, sender-data, exporter and
//! confirmation secrets. Each commit carries a confirmation tag that every receiver checks,
//! so members who disagree about the epoch stop instead of silently diverging.
//!
//! # Membership: TreeKEM on the RFC 9420 ratchet tree
//! Underneath, each member is an RFC 9420 member ([`crate::mls::state::GroupState`]): the
//! group keeps the ratchet tree, and every commit (add, remove, self-update) carries an
//! `UpdatePath`. The committer draws fresh path secrets for each node on its filtered direct
//! path and encrypts each to the resolution of that node's copath child, so a commit costs
//! O(log n) HPKE encryptions on a populated tree (up to one per member on a tree whose
//! parents are blank, as right after the creator adds everyone) and processing costs one
//! HPKE decryption. What that means:
//!
//! - *Removal*: the removed leaf is blanked with its direct path before the path secrets are
//!   encrypted, so no ciphertext is addressed to any key it holds; a removed device cannot
//!   derive later epochs, even from a saved copy of its state (tested).
//! - *Post-compromise security*: a self-update replaces the member's leaf key and every
//!   parent key on its path; an attacker holding the old state can open nothing of the new
//!   epoch (tested: the old leaf key opens no ciphertext of the commit).
//! - *Interoperability*: commits, Welcomes (the ratchet tree travels inline in the
//!   GroupInfo's `ratchet_tree` extension), key packages and application messages are RFC
//!   9420 messages; OpenMLS processes this group's commits (tests/mls_openmls.rs). Commits
//!   are sent as PrivateMessages so the delivery service does not see who is added or
//!   removed; PublicMessage commits from other implementations are accepted too. Commits by
//!   external joiners are refused: the on-call group grows only through its members' adds.
//! - *Cost*: the bench `group_commit_remove` measures a commit removing one member of a
//!   fully populated tree at 16, 64 and 128 members beside OpenMLS.
//!
//! # Application messages and forward secrecy
//! Each member sends under its own ratchet in the epoch's secret tree; a key is deleted as
//! soon as it is used, and a receiver keeps at most [`GroupConfig::out_of_order_tolerance`]
//! keys of skipped generations and refuses jumps beyond
//! [`GroupConfig::max_forward_distance`]. A replay finds its key gone and fails. Every
//! message is signed with the sender's Ed25519 key over the RFC 9420 `FramedContentTBS`, and
//! the signature is always verified. Late messages from the last
//! [`GroupConfig::past_epochs`] epochs still decrypt (default 2, see there for why).
//!
//! # State
//! [`Group::to_bytes`] writes the whole member state (including secrets: keep it encrypted at
//! rest) under a magic and version tag; [`Group::from_bytes`] reads the current and every
//! earlier version. A state written before TreeKEM (versions 1 and 2) loads as a ratchet tree
//! whose parents are blank, so the member keeps reading its current epoch; see
//! [`Group::from_bytes`] for what such a member can and cannot do until the next commit.

pub(crate) mod commit;
mod config;
mod error;
mod legacy;
mod message;
mod state;
mod welcome;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::fmt;

pub use commit::{CommitEffect, CommitOutput};
pub use config::GroupConfig;
pub use error::GroupError;
pub use message::ApplicationMessage;

use crate::device::Device;
use crate::mls::crypto::{HashSecret, SignaturePublicKey};
use crate::mls::group_context::GroupContext;
use crate::mls::key_package::Credential;
use crate::mls::secret_tree::SecretTree;
use crate::mls::state::GroupState;
use crate::mls::tree::RatchetTree;
use crate::mls::tree_math::LeafIndex;

/// A member as others see it.
#[derive(Clone, PartialEq, Eq)]
pub struct GroupMember {
    /// The member's leaf (its sender index in messages).
    pub leaf: LeafIndex,
    /// The credential identity.
    pub identity: Vec<u8>,
    /// The member's signature key.
    pub signature_key: SignaturePublicKey,
}

impl fmt::Debug for GroupMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupMember")
            .field("leaf", &self.leaf)
            .field("identity_len", &self.identity.len())
            .field("signature_key", &self.signature_key)
            .finish()
    }
}

/// What a past epoch keeps so late application messages still decrypt.
struct PastEpoch {
    context: GroupContext,
    sender_data_secret: HashSecret,
    secret_tree: SecretTree,
    /// Each leaf's signature key in that epoch (blanks as `None`), one per secret-tree leaf.
    signature_keys: Vec<Option<SignaturePublicKey>>,
}

impl PastEpoch {
    fn new(
        context: GroupContext,
        sender_data_secret: &[u8; 32],
        secret_tree: SecretTree,
        tree: &RatchetTree,
    ) -> Self {
        let signature_keys = (0..secret_tree.size().leaves())
            .map(|i| signature_key(tree, LeafIndex(i)))
            .collect();
        Self {
            context,
            sender_data_secret: HashSecret::new(*sender_data_secret),
            secret_tree,
            signature_keys,
        }
    }
}

/// The signature key of the member at `leaf`, if any.
fn signature_key(tree: &RatchetTree, leaf: LeafIndex) -> Option<SignaturePublicKey> {
    SignaturePublicKey::from_bytes(&tree.leaf(leaf)?.signature_key).ok()
}

/// One member's view of a group. See the [module documentation](self).
pub struct Group {
    config: GroupConfig,
    state: GroupState,
    past: VecDeque<PastEpoch>,
    removed: bool,
    /// The current epoch was loaded from a pre-TreeKEM state (its context binds the roster
    /// hash); cleared by the next commit.
    legacy_epoch: bool,
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("epoch", &self.state.context().epoch)
            .field("own_leaf", &self.state.own_leaf())
            .field("members", &self.state.tree().members().count())
            .field("past_epochs", &self.past.len())
            .field("removed", &self.removed)
            .finish_non_exhaustive()
    }
}

impl Group {
    /// The group id.
    pub fn group_id(&self) -> &[u8] {
        &self.state.context().group_id
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.state.context().epoch
    }

    /// This member's leaf.
    pub fn own_leaf(&self) -> LeafIndex {
        self.state.own_leaf()
    }

    /// The settings in force.
    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// Whether this device was removed (then it can neither send nor read).
    pub fn is_removed(&self) -> bool {
        self.removed
    }

    /// The current members, by leaf.
    pub fn members(&self) -> Vec<GroupMember> {
        self.state
            .tree()
            .members()
            .filter_map(|(leaf, node)| {
                Some(GroupMember {
                    leaf,
                    identity: match &node.credential {
                        Credential::Basic { identity } => identity.clone(),
                        Credential::X509 { .. } => Vec::new(),
                    },
                    signature_key: SignaturePublicKey::from_bytes(&node.signature_key).ok()?,
                })
            })
            .collect()
    }

    /// The member holding `signature_key`, if any (to find the leaf to remove).
    pub fn find_member(&self, signature_key: &SignaturePublicKey) -> Option<LeafIndex> {
        self.state
            .tree()
            .members()
            .find(|(_, node)| node.signature_key.as_slice() == signature_key.as_bytes().as_slice())
            .map(|(leaf, _)| leaf)
    }

    /// The epoch authenticator (RFC 9420 §8.7): equal at every member of the same epoch, for
    /// out-of-band comparison (a short fingerprint on each phone).
    pub fn epoch_authenticator(&self) -> &[u8; 32] {
        self.state.epoch_authenticator()
    }

    /// `MLS-Exporter(label, context, length)` of the current epoch, for keys of protocols
    /// layered on the group.
    ///
    /// # Errors
    /// [`GroupError::KeySchedule`] for lengths HKDF cannot produce.
    pub fn export_secret(
        &self,
        label: &str,
        context: &[u8],
        length: u16,
    ) -> Result<rcsec_core::Secret<Vec<u8>>, GroupError> {
        Ok(self.state.epoch_secrets().export(label, context, length)?)
    }

    fn ensure_member(&self) -> Result<(), GroupError> {
        if self.removed {
            Err(GroupError::Removed)
        } else {
            Ok(())
        }
    }
}

impl Group {
    /// Creates a group with `device` as its only member (leaf 0) at epoch 0.
    ///
    /// # Errors
    /// [`GroupError::Crypto`] when key generation fails; [`GroupError::Codec`] for a group id
    /// over the vector limit.
    pub fn create(
        group_id: Vec<u8>,
        device: &Device,
        config: GroupConfig,
    ) -> Result<Self, GroupError> {
        commit::create(group_id, device, config)
    }
}
