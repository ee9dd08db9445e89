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
//! # Membership distribution: O(n), honestly
//! RFC 9420 hands the commit secret to the group through TreeKEM: the committer encrypts
//! path secrets to O(log n) subtree keys. This crate does **not** implement TreeKEM yet.
//! Instead the committer seals the fresh commit secret with HPKE to each remaining member's
//! leaf key ([`distribution`]). What that means:
//!
//! - *Security*: the same guarantees for the properties this crate claims. A removed device
//!   gets no copy and cannot derive later epochs (tested); forward secrecy comes from the key
//!   schedule and the ratchets, unchanged; post-compromise security comes from self-updates:
//!   the updating member gets a new leaf key and a fresh commit secret the attacker cannot
//!   open. The difference is healing granularity: TreeKEM also refreshes the subtree keys
//!   on the committer's path, which here do not exist.
//! - *Cost*: a commit costs one HPKE seal per member (≈ 60 µs each, so ≈ 1 ms at 16 members
//!   and ≈ 8 ms at 128) where TreeKEM needs about log2(n); processing costs one HPKE open
//!   either way. Commits are rare in an on-call team (roster changes, rotations), alerts are
//!   not, so this trade is acceptable for now; the bench `group_commit_remove` shows the gap
//!   beside OpenMLS.
//! - *Wire format*: commits are RFC 9420 `PrivateMessage`s whose `Commit` carries the
//!   committer's new leaf in an `UpdatePath` without path nodes, followed by the sealed
//!   secrets under a scheme tag. They do not interoperate with other MLS implementations;
//!   application messages, key packages and Welcomes follow RFC 9420.
//!
//! Full TreeKEM is the named next step ("Full MLS"). It replaces [`distribution`] and
//! [`roster`] underneath; [`Group`]'s methods, their byte-level inputs and outputs, and the
//! state's outer shape (magic and version tag) stay as they are.
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
//! earlier version.

pub(crate) mod commit;
mod config;
pub mod distribution;
mod error;
mod message;
pub mod roster;
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
use crate::mls::crypto::{HashSecret, HpkeSecretKey, SignaturePublicKey, SignatureSecretKey};
use crate::mls::group_context::GroupContext;
use crate::mls::secret_tree::SecretTree;
use crate::mls::tree_math::LeafIndex;
use roster::Roster;

/// The all-zero `psk_secret` of an epoch without pre-shared keys (RFC 9420 §8.4).
const NO_PSK: [u8; 32] = [0; 32];

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

/// Secrets of the current epoch that outlive its derivation (the rest are erased at once).
struct EpochKeys {
    init_secret: HashSecret,
    sender_data_secret: HashSecret,
    exporter_secret: HashSecret,
    epoch_authenticator: HashSecret,
}

/// What a past epoch keeps so late application messages still decrypt.
struct PastEpoch {
    context: GroupContext,
    sender_data_secret: HashSecret,
    secret_tree: SecretTree,
    signature_keys: Vec<Option<SignaturePublicKey>>,
}

/// One member's view of a group. See the [module documentation](self).
pub struct Group {
    config: GroupConfig,
    own_leaf: LeafIndex,
    signer: SignatureSecretKey,
    leaf_secret: HpkeSecretKey,
    roster: Roster,
    context: GroupContext,
    interim_transcript_hash: Vec<u8>,
    keys: EpochKeys,
    secret_tree: SecretTree,
    past: VecDeque<PastEpoch>,
    removed: bool,
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("epoch", &self.context.epoch)
            .field("own_leaf", &self.own_leaf)
            .field("members", &self.roster.member_count())
            .field("past_epochs", &self.past.len())
            .field("removed", &self.removed)
            .finish_non_exhaustive()
    }
}

impl Group {
    /// The group id.
    pub fn group_id(&self) -> &[u8] {
        &self.context.group_id
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.context.epoch
    }

    /// This member's leaf.
    pub fn own_leaf(&self) -> LeafIndex {
        self.own_leaf
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
        self.roster
            .members()
            .map(|(leaf, m)| GroupMember {
                leaf,
                identity: m.identity().to_vec(),
                signature_key: m.signature_key,
            })
            .collect()
    }

    /// The member holding `signature_key`, if any (to find the leaf to remove).
    pub fn find_member(&self, signature_key: &SignaturePublicKey) -> Option<LeafIndex> {
        self.roster
            .members()
            .find(|(_, m)| &m.signature_key == signature_key)
            .map(|(leaf, _)| leaf)
    }

    /// The epoch authenticator (RFC 9420 §8.7): equal at every member of the same epoch, for
    /// out-of-band comparison (a short fingerprint on each phone).
    pub fn epoch_authenticator(&self) -> &[u8; 32] {
        self.keys.epoch_authenticator.expose_secret()
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
        use crate::mls::crypto::{derive_secret, expand_with_label_vec, hash};
        let derived = derive_secret(self.keys.exporter_secret.expose_secret(), label)?;
        Ok(expand_with_label_vec(
            derived.expose_secret(),
            "exported",
            &hash(context),
            length,
        )?)
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
