//! Persisting a member's group state: `"RCSG" || u16 version || body`.
//!
//! The outer shape (magic, version tag) is fixed; bodies change with the version and every
//! earlier version stays readable. The state holds secrets (the signing key, the leaf key,
//! the epoch secrets and the remaining ratchet secrets): it is returned in a zeroizing
//! buffer, and a store must keep it encrypted at rest.
//!
//! Version 1: settings, own leaf, signing seed, leaf HPKE key, removed flag, roster, group
//! context, interim transcript hash, epoch secrets, secret tree. Past epochs were not kept:
//! a reloaded member lost its late-message window.
//!
//! Version 2: version 1, then the retained past epochs (newest first), each its group
//! context, sender-data secret, the members' signature keys of that epoch and what remains
//! of its secret tree. A version-1 state loads with an empty window.

use rcsec_core::Secret;

use super::roster::Roster;
use super::{EpochKeys, Group, GroupConfig, GroupError, PastEpoch};
use crate::mls::codec::{Decode, Encode, Reader, WriteExt};
use crate::mls::crypto::{HpkeSecretKey, NH, SignaturePublicKey, SignatureSecretKey};
use crate::mls::group_context::GroupContext;
use crate::mls::secret_tree::SecretTree;
use crate::mls::tree_math::LeafIndex;

const MAGIC: &[u8; 4] = b"RCSG";
/// The version [`Group::to_bytes`] writes.
const CURRENT_VERSION: u16 = 2;

impl Group {
    /// The complete member state, for a store. Contains secrets: encrypt it at rest.
    ///
    /// # Errors
    /// [`GroupError::Codec`] (cannot happen for states within the encoding limits).
    pub fn to_bytes(&self) -> Result<Secret<Vec<u8>>, GroupError> {
        // Reserve up front so the buffer holding secrets is not reallocated (and copied).
        let mut state = Secret::new(Vec::with_capacity(8192 + 512 * self.roster.member_count()));
        let out = state.expose_secret_mut();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&CURRENT_VERSION.to_be_bytes());
        let c = &self.config;
        out.extend_from_slice(&c.out_of_order_tolerance.to_be_bytes());
        out.extend_from_slice(&c.max_forward_distance.to_be_bytes());
        out.extend_from_slice(&c.past_epochs.to_be_bytes());
        out.extend_from_slice(&c.padding_block.to_be_bytes());
        out.extend_from_slice(&self.own_leaf.0.to_be_bytes());
        out.extend_from_slice(self.signer.to_seed().expose_secret());
        out.extend_from_slice(self.leaf_secret.to_bytes().expose_secret());
        out.push(u8::from(self.removed));
        self.roster.encode(out)?;
        self.context.encode(out)?;
        out.put_vector(&self.interim_transcript_hash)?;
        for secret in [
            &self.keys.init_secret,
            &self.keys.sender_data_secret,
            &self.keys.exporter_secret,
            &self.keys.epoch_authenticator,
        ] {
            out.extend_from_slice(secret.expose_secret());
        }
        self.secret_tree.write_state(out)?;
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
    /// # Errors
    /// [`GroupError::UnsupportedStateVersion`] for an unknown version or magic;
    /// [`GroupError::Codec`] for truncated or malformed bytes;
    /// [`GroupError::CorruptState`] when the parts do not fit together (keys that are not
    /// this member's, a tree of the wrong shape, a context that does not match the roster).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, GroupError> {
        let mut r = Reader::new(bytes);
        if r.array::<4>()? != *MAGIC {
            return Err(GroupError::CorruptState("not a group state"));
        }
        let version = r.u16()?;
        let group = match version {
            1 => read_body(&mut r, 1)?,
            2 => read_body(&mut r, 2)?,
            other => return Err(GroupError::UnsupportedStateVersion(other)),
        };
        r.finish()?;
        Ok(group)
    }
}

fn read_body(r: &mut Reader<'_>, version: u16) -> Result<Group, GroupError> {
    let config = GroupConfig {
        out_of_order_tolerance: r.u32()?,
        max_forward_distance: r.u32()?,
        past_epochs: r.u16()?,
        padding_block: r.u32()?,
    };
    let own_leaf = LeafIndex(r.u32()?);
    let signer = SignatureSecretKey::from_seed(Secret::new(r.array::<32>()?).expose_secret())?;
    let leaf_secret = HpkeSecretKey::from_bytes(Secret::new(r.array::<32>()?).expose_secret())
        .map_err(|_| GroupError::CorruptState("leaf key"))?;
    let removed = match r.u8()? {
        0 => false,
        1 => true,
        _ => return Err(GroupError::CorruptState("removed flag")),
    };
    let roster = Roster::decode(r)?;
    let context = GroupContext::decode(r)?;
    let interim_transcript_hash = r.vector()?.to_vec();
    let mut secret = || -> Result<_, GroupError> { Ok(Secret::new(r.array::<NH>()?)) };
    let keys = EpochKeys {
        init_secret: secret()?,
        sender_data_secret: secret()?,
        exporter_secret: secret()?,
        epoch_authenticator: secret()?,
    };
    let secret_tree = SecretTree::read_state(r, config.secret_tree())?;
    let past = if version >= 2 {
        read_past(r, &config)?
    } else {
        Default::default()
    };
    let group = Group {
        config,
        own_leaf,
        signer,
        leaf_secret,
        roster,
        context,
        interim_transcript_hash,
        keys,
        secret_tree,
        past,
        removed,
    };
    group.check_consistency()?;
    Ok(group)
}

fn read_past(
    r: &mut Reader<'_>,
    config: &GroupConfig,
) -> Result<std::collections::VecDeque<PastEpoch>, GroupError> {
    let count = r.u16()?;
    if count > config.past_epochs {
        return Err(GroupError::CorruptState("more past epochs than configured"));
    }
    let mut past = std::collections::VecDeque::with_capacity(usize::from(count));
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
        if self.secret_tree.size() != self.roster.tree_size()? {
            return Err(GroupError::CorruptState("secret tree shape"));
        }
        if self.roster.hash()?.as_slice() != self.context.tree_hash.as_slice() {
            return Err(GroupError::CorruptState(
                "roster does not match the context",
            ));
        }
        if !self.removed {
            let own = self
                .roster
                .member(self.own_leaf)
                .ok_or(GroupError::CorruptState("own leaf"))?;
            if own.signature_key != self.signer.public_key()
                || own.encryption_key != self.leaf_secret.public_key()
            {
                return Err(GroupError::CorruptState("keys are not this member's"));
            }
        }
        Ok(())
    }
}
