//! Persisting a member's group state: `"RCSG" || u16 version || body`.
//!
//! The outer shape (magic, version tag) is fixed; bodies change with the version and every
//! earlier version stays readable. The state holds secrets (the signing key, the tree's
//! private keys, the epoch secrets and the remaining ratchet secrets): it is returned in a
//! zeroizing buffer, and a store must keep it encrypted at rest.
//!
//! Version 1: settings, own leaf, signing seed, leaf HPKE key, removed flag, roster, group
//! context, interim transcript hash, four epoch secrets, secret tree. No past epochs.
//!
//! Version 2: version 1, then the retained past epochs (newest first), each its group
//! context, sender-data secret, the members' signature keys of that epoch and what remains
//! of its secret tree.
//!
//! Version 3 (TreeKEM): settings, own leaf, signing seed (the same offsets as before), the
//! removed flag, an origin byte (0: the epoch was derived on the ratchet tree; 1: it was
//! loaded from a version 1 or 2 state and its context still binds the roster hash), the RFC
//! 9420 member state (ratchet tree, context, interim transcript hash, epoch secrets, path
//! keys, secret tree, resumption PSKs; see `mls::state::persist`), then the past epochs as in
//! version 2.
//!
//! # Migrating versions 1 and 2
//! The roster becomes a ratchet tree with the same leaves and blank parents (see
//! `legacy`), the leaf key the member's only path key. The member keeps reading and
//! sending in its current epoch, and processes or makes the next commit under TreeKEM; that
//! first commit encrypts to every leaf of each copath subtree (the parents are blank), later
//! ones to O(log n) keys. What the old state did not keep cannot come back: of the epoch's
//! secrets only the init, sender-data, exporter and authenticator secrets were stored, so
//! until the next commit this member cannot send a Welcome or a PublicMessage commit of that
//! epoch (it sends neither: its commits are PrivateMessages and their Welcomes belong to the
//! next epoch). Every member must run this version before anyone commits: an older member
//! cannot read a TreeKEM commit.

use std::collections::VecDeque;

use rcsec_core::Secret;

use super::commit::state_config;
use super::legacy::{read_roster, roster_hash, roster_len};
use super::{Group, GroupConfig, GroupError, PastEpoch};
use crate::mls::codec::{Decode, Encode, Reader};
use crate::mls::crypto::{HpkeSecretKey, NH, SignaturePublicKey, SignatureSecretKey};
use crate::mls::group_context::GroupContext;
use crate::mls::key_schedule::EpochSecrets;
use crate::mls::secret_tree::SecretTree;
use crate::mls::state::{GroupState, StateParts};
use crate::mls::tree_math::LeafIndex;
use crate::mls::treekem::PathKeys;

const MAGIC: &[u8; 4] = b"RCSG";
/// The version [`Group::to_bytes`] writes.
const CURRENT_VERSION: u16 = 3;
/// Origin byte: the current epoch was derived on the ratchet tree.
const ORIGIN_TREE: u8 = 0;
/// Origin byte: the current epoch was loaded from a version 1 or 2 state.
const ORIGIN_ROSTER: u8 = 1;

impl Group {
    /// The complete member state, for a store. Contains secrets: encrypt it at rest.
    ///
    /// # Errors
    /// [`GroupError::Codec`] (cannot happen for states within the encoding limits).
    pub fn to_bytes(&self) -> Result<Secret<Vec<u8>>, GroupError> {
        // Reserve up front so the buffer holding secrets is not reallocated (and copied).
        // Per leaf: its node and a parent (~0.4 KiB), ratchet state in the current and each
        // past epoch (~0.2 KiB each).
        let leaves = self.state.tree().leaf_count() as usize;
        let per_leaf = 1024 + 256 * usize::from(self.config.past_epochs);
        let mut state = Secret::new(Vec::with_capacity(16384 + per_leaf * leaves));
        let out = state.expose_secret_mut();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&CURRENT_VERSION.to_be_bytes());
        let c = &self.config;
        out.extend_from_slice(&c.out_of_order_tolerance.to_be_bytes());
        out.extend_from_slice(&c.max_forward_distance.to_be_bytes());
        out.extend_from_slice(&c.past_epochs.to_be_bytes());
        out.extend_from_slice(&c.padding_block.to_be_bytes());
        out.extend_from_slice(&self.own_leaf().0.to_be_bytes());
        out.extend_from_slice(self.state.signer().to_seed().expose_secret());
        out.push(u8::from(self.removed));
        out.push(if self.legacy_epoch {
            ORIGIN_ROSTER
        } else {
            ORIGIN_TREE
        });
        self.state.write_state(out)?;
        let count = u16::try_from(self.past.len()).map_err(|_| GroupError::CorruptState("past"))?;
        out.extend_from_slice(&count.to_be_bytes());
        for past in &self.past {
            past.context.encode(out)?;
            out.extend_from_slice(past.sender_data_secret.expose_secret());
            out.extend_from_slice(
                &u32::try_from(past.signature_keys.len())
                    .map_err(|_| GroupError::CorruptState("past"))?
                    .to_be_bytes(),
            );
            for key in &past.signature_keys {
                match key {
                    Some(key) => {
                        out.push(1);
                        out.extend_from_slice(key.as_bytes());
                    }
                    None => out.push(0),
                }
            }
            past.secret_tree.write_state(out)?;
        }
        Ok(state)
    }

    /// Reads a state written by [`Group::to_bytes`] of this or any earlier version.
    ///
    /// A state written before TreeKEM (versions 1 and 2) loads as a ratchet tree with the
    /// stored members as leaves and every parent blank, which is a valid TreeKEM tree; the
    /// member keeps reading and sending in its current epoch and makes or processes the next
    /// commit under TreeKEM. Every member must run this version before anyone commits: an
    /// older member cannot read a TreeKEM commit.
    ///
    /// # Errors
    /// [`GroupError::UnsupportedStateVersion`] for an unknown version;
    /// [`GroupError::Codec`] for truncated or malformed bytes;
    /// [`GroupError::CorruptState`] for a wrong magic or parts that do not fit together
    /// (keys that are not this member's, a tree of the wrong shape, a context that does not
    /// match the tree).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GroupError> {
        let mut r = Reader::new(bytes);
        if r.array::<4>()? != *MAGIC {
            return Err(GroupError::CorruptState("not a group state"));
        }
        let version = r.u16()?;
        let group = match version {
            1 | 2 => read_legacy(&mut r, version)?,
            3 => read_current(&mut r)?,
            other => return Err(GroupError::UnsupportedStateVersion(other)),
        };
        r.finish()?;
        Ok(group)
    }
}

/// The fields every version starts with.
struct Head {
    config: GroupConfig,
    own_leaf: LeafIndex,
    signer: SignatureSecretKey,
}

fn read_head(r: &mut Reader<'_>) -> Result<Head, GroupError> {
    let config = GroupConfig {
        out_of_order_tolerance: r.u32()?,
        max_forward_distance: r.u32()?,
        past_epochs: r.u16()?,
        padding_block: r.u32()?,
    };
    let own_leaf = LeafIndex(r.u32()?);
    let signer = SignatureSecretKey::from_seed(Secret::new(r.array::<32>()?).expose_secret())?;
    Ok(Head {
        config,
        own_leaf,
        signer,
    })
}

fn read_flag(r: &mut Reader<'_>, what: &'static str) -> Result<bool, GroupError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(GroupError::CorruptState(what)),
    }
}

fn read_current(r: &mut Reader<'_>) -> Result<Group, GroupError> {
    let head = read_head(r)?;
    let removed = read_flag(r, "removed flag")?;
    let legacy_epoch = match r.u8()? {
        ORIGIN_TREE => false,
        ORIGIN_ROSTER => true,
        _ => return Err(GroupError::CorruptState("origin")),
    };
    let state = GroupState::read_state(r, head.own_leaf, head.signer, state_config(&head.config))?;
    let past = read_past(r, &head.config)?;
    let group = Group {
        config: head.config,
        state,
        past,
        removed,
        legacy_epoch,
    };
    group.check_consistency()?;
    Ok(group)
}

fn read_legacy(r: &mut Reader<'_>, version: u16) -> Result<Group, GroupError> {
    let head = read_head(r)?;
    let leaf_secret = HpkeSecretKey::from_bytes(Secret::new(r.array::<32>()?).expose_secret())
        .map_err(|_| GroupError::CorruptState("leaf key"))?;
    let removed = read_flag(r, "removed flag")?;
    let tree = read_roster(r)?;
    let context = GroupContext::decode(r)?;
    let interim_transcript_hash = r.vector()?.to_vec();
    let mut secret = || -> Result<_, GroupError> { Ok(Secret::new(r.array::<NH>()?)) };
    let epoch = EpochSecrets::from_legacy(secret()?, secret()?, secret()?, secret()?);
    let config = state_config(&head.config);
    let secret_tree = SecretTree::read_state(r, config.secret_tree)?;
    let past = if version >= 2 {
        read_past(r, &head.config)?
    } else {
        VecDeque::new()
    };
    let keys = if removed {
        PathKeys::none(head.own_leaf)
    } else {
        PathKeys::new(head.own_leaf, leaf_secret)
    };
    let mut state = GroupState::from_parts(StateParts {
        config,
        context,
        tree,
        keys,
        signer: head.signer,
        epoch,
        secret_tree,
        interim_transcript_hash,
    });
    if removed {
        state.erase_secrets();
    }
    let group = Group {
        config: head.config,
        state,
        past,
        removed,
        legacy_epoch: true,
    };
    group.check_consistency()?;
    Ok(group)
}

fn read_past(r: &mut Reader<'_>, config: &GroupConfig) -> Result<VecDeque<PastEpoch>, GroupError> {
    let count = r.u16()?;
    if count > config.past_epochs {
        return Err(GroupError::CorruptState("more past epochs than configured"));
    }
    let mut past = VecDeque::with_capacity(usize::from(count));
    for _ in 0..count {
        let context = GroupContext::decode(r)?;
        let sender_data_secret = Secret::new(r.array::<NH>()?);
        let leaves = r.u32()?;
        if leaves as usize > r.remaining().len() {
            return Err(crate::mls::codec::CodecError::Truncated.into());
        }
        let mut signature_keys = Vec::with_capacity(leaves as usize);
        for _ in 0..leaves {
            signature_keys.push(match r.u8()? {
                0 => None,
                1 => Some(
                    SignaturePublicKey::from_bytes(&r.array::<32>()?)
                        .map_err(|_| GroupError::CorruptState("past signature key"))?,
                ),
                _ => return Err(GroupError::CorruptState("past signature key")),
            });
        }
        let secret_tree = SecretTree::read_state(r, config.secret_tree())?;
        if secret_tree.size().leaves() as usize != signature_keys.len() {
            return Err(GroupError::CorruptState("past epoch shape"));
        }
        past.push_back(PastEpoch {
            context,
            sender_data_secret,
            secret_tree,
            signature_keys,
        });
    }
    Ok(past)
}

impl Group {
    /// The invariants a loaded state must satisfy before it is used.
    fn check_consistency(&self) -> Result<(), GroupError> {
        let tree = self.state.tree();
        let bound = if self.legacy_epoch {
            roster_hash(tree)?
        } else {
            tree.tree_hash()?
        };
        if bound.as_slice() != self.state.context().tree_hash.as_slice() {
            return Err(GroupError::CorruptState("tree does not match the context"));
        }
        if self.removed {
            return Ok(());
        }
        let leaves = self.state.secret_tree_size().leaves();
        let expected = if self.legacy_epoch {
            roster_len(tree)
        } else {
            tree.leaf_count()
        };
        if leaves != expected {
            return Err(GroupError::CorruptState("secret tree shape"));
        }
        self.state
            .check_own_keys()
            .map_err(GroupError::CorruptState)
    }
}
