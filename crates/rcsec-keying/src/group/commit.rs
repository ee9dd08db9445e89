//! Creating and processing commits: add, remove, self-update, and entering the next epoch.
//!
//! Every commit is an RFC 9420 commit with a TreeKEM `UpdatePath`, made and processed by
//! [`GroupState`]; this module adds what the on-call API promises on top: typed errors,
//! refusal of commits the on-call group never makes (external joins), the past-epoch window,
//! and closing the group for a removed device.

use std::fmt;

use super::{Group, GroupConfig, GroupError, PastEpoch};
use crate::device::{Device, ValidatedKeyPackage, capabilities};
use crate::hpke;
use crate::mls::codec::{Decode, Encode};
use crate::mls::crypto::CryptoError;
use crate::mls::framing::{ContentType, MlsMessage, Proposal, Sender, WireFormat};
use crate::mls::key_package::{LeafNode, LeafNodeSource};
use crate::mls::state::GroupState;
use crate::mls::tree::LeafNodeContext;
use crate::mls::tree_math::LeafIndex;

/// What a committer sends: the commit for the existing members and, when devices were added,
/// the Welcome for them.
pub struct CommitOutput {
    /// For every other current member: pass to [`Group::process_commit`].
    pub commit: Vec<u8>,
    /// For the added devices: pass to [`Group::join`].
    pub welcome: Option<Vec<u8>>,
}

impl fmt::Debug for CommitOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommitOutput")
            .field("commit_len", &self.commit.len())
            .field("welcome_len", &self.welcome.as_ref().map(Vec::len))
            .finish()
    }
}

/// What a processed commit changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommitEffect {
    /// The epoch now current (unchanged when this device was removed).
    pub epoch: u64,
    /// Who committed.
    pub committer: LeafIndex,
    /// Leaves that received new devices.
    pub added: Vec<LeafIndex>,
    /// Leaves whose devices were removed.
    pub removed: Vec<LeafIndex>,
    /// This device was removed: the group is now closed for it.
    pub removed_self: bool,
}

/// The settings of the underlying RFC 9420 member. Key-package lifetimes are not checked
/// when processing: the committer checked them when it added the package, and a receiver
/// that processes the commit later must not reach a different verdict (that would fork the
/// group).
pub(super) fn state_config(config: &GroupConfig) -> crate::mls::state::GroupConfig {
    crate::mls::state::GroupConfig {
        now: None,
        secret_tree: config.secret_tree(),
    }
}

pub(super) fn create(
    group_id: Vec<u8>,
    device: &Device,
    config: GroupConfig,
) -> Result<Group, GroupError> {
    let (leaf_key, leaf_public) = hpke::generate_key_pair().map_err(CryptoError::from)?;
    let mut leaf = LeafNode {
        encryption_key: leaf_public.as_bytes().to_vec(),
        signature_key: device.signature_key().as_bytes().to_vec(),
        credential: device.credential(),
        capabilities: capabilities(),
        // The creator's leaf sits in a one-leaf tree: no path, so an empty parent hash.
        source: LeafNodeSource::Commit {
            parent_hash: Vec::new(),
        },
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    leaf.sign(
        device.signer(),
        Some(LeafNodeContext {
            group_id: &group_id,
            leaf_index: LeafIndex(0),
        }),
    )
    .map_err(|_| GroupError::InvalidCommit("creator leaf"))?;
    let state = GroupState::create(
        group_id,
        leaf,
        leaf_key,
        device.signer().clone(),
        Vec::new(),
        state_config(&config),
    )?;
    Ok(Group {
        config,
        state,
        past: Default::default(),
        removed: false,
        legacy_epoch: false,
    })
}

impl Group {
    /// Adds devices from validated key packages in one commit.
    ///
    /// This member moves to the new epoch at once; send [`CommitOutput::commit`] to the
    /// other members and [`CommitOutput::welcome`] to the new devices.
    ///
    /// # Errors
    /// [`GroupError::InvalidCommit`] for an empty list or a device already in the group;
    /// [`GroupError::GroupFull`]; [`GroupError::Removed`].
    pub fn add(&mut self, devices: &[ValidatedKeyPackage]) -> Result<CommitOutput, GroupError> {
        if devices.is_empty() {
            return Err(GroupError::InvalidCommit("nothing to add"));
        }
        for (i, kp) in devices.iter().enumerate() {
            let key = kp.signature_key();
            let twice = devices[..i].iter().any(|d| d.signature_key() == key);
            if twice || self.find_member(&key).is_some() {
                return Err(GroupError::InvalidCommit("device is already a member"));
            }
        }
        let proposals = devices
            .iter()
            .map(|kp| Proposal::Add(Box::new(kp.key_package().clone())))
            .collect();
        self.commit(proposals)
    }

    /// Removes the devices at `leaves` in one commit; they get no secret of the new epoch.
    ///
    /// # Errors
    /// [`GroupError::InvalidMember`] for a blank leaf or this member's own leaf;
    /// [`GroupError::InvalidCommit`] for an empty list; [`GroupError::Removed`].
    pub fn remove(&mut self, leaves: &[LeafIndex]) -> Result<CommitOutput, GroupError> {
        if leaves.is_empty() {
            return Err(GroupError::InvalidCommit("nothing to remove"));
        }
        let tree = self.state.tree();
        for (i, leaf) in leaves.iter().enumerate() {
            if *leaf == self.own_leaf() || tree.leaf(*leaf).is_none() || leaves[..i].contains(leaf)
            {
                return Err(GroupError::InvalidMember);
            }
        }
        let proposals = leaves
            .iter()
            .map(|leaf| Proposal::Remove { removed: leaf.0 })
            .collect();
        self.commit(proposals)
    }

    /// Refreshes this member's leaf key and every key on its path to the root and starts a
    /// new epoch: post-compromise security for this device (an attacker holding its old
    /// state cannot read the new epoch).
    ///
    /// # Errors
    /// [`GroupError::Removed`]; crypto and encoding failures.
    pub fn self_update(&mut self) -> Result<CommitOutput, GroupError> {
        self.commit(Vec::new())
    }

    fn commit(&mut self, proposals: Vec<Proposal>) -> Result<CommitOutput, GroupError> {
        self.ensure_member()?;
        let (output, applied) =
            self.state
                .commit_as(proposals, &|_| None, WireFormat::PrivateMessage)?;
        let commit = output.commit.to_bytes()?;
        let welcome = output
            .welcome
            .map(|w| MlsMessage::Welcome(w).to_bytes())
            .transpose()?;
        if let Some(retired) = applied.retired {
            self.retire(retired);
        }
        Ok(CommitOutput { commit, welcome })
    }

    /// Processes a commit from another member and moves to its epoch.
    ///
    /// Checks, in order: the encoding, group and epoch, that the committer is a member,
    /// decryption and the committer's signature, the proposals (key package signatures,
    /// members that exist), the UpdatePath (leaf signature, parent hashes, the path secret
    /// against every announced key), and the confirmation tag. Nothing changes unless every
    /// check passes; once it has been processed, a commit cannot be processed again.
    ///
    /// # Errors
    /// [`GroupError::Codec`], [`GroupError::UnexpectedMessage`], [`GroupError::WrongGroup`],
    /// [`GroupError::FutureEpoch`], [`GroupError::EpochTooOld`], [`GroupError::Framing`]
    /// (decryption, signature, replay), [`GroupError::InvalidCommit`],
    /// [`GroupError::InvalidMember`], [`GroupError::KeyPackage`],
    /// [`GroupError::NoSecretForMember`], [`GroupError::Crypto`],
    /// [`GroupError::BadConfirmationTag`], [`GroupError::Removed`].
    pub fn process_commit(&mut self, bytes: &[u8]) -> Result<CommitEffect, GroupError> {
        self.ensure_member()?;
        let message = MlsMessage::from_bytes(bytes)?;
        let (group_id, epoch, content_type) = match &message {
            MlsMessage::Private(m) => (&m.group_id, m.epoch, m.content_type),
            MlsMessage::Public(m) => {
                // External commits (new members committing themselves in) are not part of
                // the on-call group: it grows only through its members' adds.
                if !matches!(m.content.sender, Sender::Member(_)) {
                    return Err(GroupError::InvalidCommit("committer is not a member"));
                }
                (
                    &m.content.group_id,
                    m.content.epoch,
                    m.content.content.content_type(),
                )
            }
            _ => return Err(GroupError::UnexpectedMessage),
        };
        if group_id.as_slice() != self.group_id() {
            return Err(GroupError::WrongGroup);
        }
        if content_type != ContentType::Commit {
            return Err(GroupError::UnexpectedMessage);
        }
        if epoch > self.epoch() {
            return Err(GroupError::FutureEpoch);
        }
        if epoch < self.epoch() {
            return Err(GroupError::EpochTooOld);
        }
        let applied = self.state.handle_commit(&message)?;
        let committer = applied
            .committer
            .ok_or(GroupError::InvalidCommit("committer is not a member"))?;
        let mut effect = CommitEffect {
            epoch: self.epoch(),
            committer,
            added: applied.added,
            removed: applied.removed,
            removed_self: false,
        };
        match applied.retired {
            Some(retired) => {
                self.retire(retired);
                effect.epoch = self.epoch();
            }
            None => {
                effect.removed_self = true;
                self.close();
            }
        }
        Ok(effect)
    }

    /// Keeps the epoch a commit ended in the past-epoch window, newest first.
    fn retire(&mut self, retired: crate::mls::state::RetiredEpoch) {
        self.legacy_epoch = false;
        if self.config.past_epochs == 0 {
            return;
        }
        self.past.push_front(PastEpoch::new(
            retired.context,
            retired.epoch.sender_data_secret(),
            retired.secret_tree,
            &retired.tree,
        ));
        self.past.truncate(usize::from(self.config.past_epochs));
    }

    /// Forgets every group secret after this device was removed.
    fn close(&mut self) {
        self.removed = true;
        self.past.clear();
        self.state.erase_secrets();
    }
}
