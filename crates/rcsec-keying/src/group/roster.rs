//! The member list: one optional leaf node per leaf index.
//!
//! This is the leaf level of the RFC 9420 ratchet tree without the parent nodes: with the
//! commit secret sealed to each member ([`super::distribution`]) there is nothing to keep in
//! parent nodes. Its hash stands in the group context's `tree_hash`, so every member's view
//! of who is in the group is bound into the key schedule and a Welcome can be checked
//! against it. When TreeKEM lands, this becomes the full tree and the hash the tree hash.

use std::fmt;

use crate::device::verify_leaf_signature;
use crate::mls::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use crate::mls::crypto::{CryptoError, HpkePublicKey, NH, SignaturePublicKey, ref_hash};
use crate::mls::key_package::{Credential, LeafNode, LeafNodeSource};
use crate::mls::tree_math::{LeafIndex, TreeSize};

use super::GroupError;

/// One member's public state.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) leaf: LeafNode,
    pub(crate) signature_key: SignaturePublicKey,
    pub(crate) encryption_key: HpkePublicKey,
}

impl fmt::Debug for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Member")
            .field("signature_key", &self.signature_key)
            .finish_non_exhaustive()
    }
}

impl Member {
    /// Parses the keys of `leaf` (signatures are checked by the caller, which knows where the
    /// leaf came from).
    pub(crate) fn from_leaf(leaf: LeafNode) -> Result<Self, GroupError> {
        let signature_key = SignaturePublicKey::from_bytes(&leaf.signature_key)
            .map_err(|_| CryptoError::InvalidKey)?;
        let encryption_key =
            HpkePublicKey::from_bytes(&leaf.encryption_key).map_err(|_| CryptoError::InvalidKey)?;
        Ok(Self {
            leaf,
            signature_key,
            encryption_key,
        })
    }

    pub(crate) fn identity(&self) -> &[u8] {
        match &self.leaf.credential {
            Credential::Basic { identity } => identity,
            Credential::X509 { .. } => &[],
        }
    }
}

/// The members by leaf index; `None` is a blank leaf left by a removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Roster {
    leaves: Vec<Option<Member>>,
}

impl Roster {
    pub(crate) fn new(first: Member) -> Self {
        Self {
            leaves: vec![Some(first)],
        }
    }

    pub(crate) fn member(&self, leaf: LeafIndex) -> Option<&Member> {
        self.leaves.get(leaf.0 as usize).and_then(Option::as_ref)
    }

    pub(crate) fn members(&self) -> impl Iterator<Item = (LeafIndex, &Member)> {
        self.leaves.iter().enumerate().filter_map(|(i, m)| {
            let leaf = LeafIndex(u32::try_from(i).ok()?);
            m.as_ref().map(|m| (leaf, m))
        })
    }

    /// Each leaf's signature key, blanks as `None` (kept with a past epoch).
    pub(crate) fn signature_keys(&self) -> Vec<Option<SignaturePublicKey>> {
        self.leaves
            .iter()
            .map(|m| m.as_ref().map(|m| m.signature_key))
            .collect()
    }

    pub(crate) fn member_count(&self) -> usize {
        self.leaves.iter().filter(|m| m.is_some()).count()
    }

    /// The secret tree's shape: one leaf per slot, blanks included.
    pub(crate) fn tree_size(&self) -> Result<TreeSize, GroupError> {
        u32::try_from(self.leaves.len())
            .ok()
            .and_then(TreeSize::new)
            .ok_or(GroupError::CorruptState("empty roster"))
    }

    /// Puts `member` in the leftmost blank leaf, or a new one (RFC 9420 §12.1.1).
    pub(crate) fn add(&mut self, member: Member) -> Result<LeafIndex, GroupError> {
        if self
            .members()
            .any(|(_, m)| m.signature_key == member.signature_key)
        {
            return Err(GroupError::InvalidCommit("device is already a member"));
        }
        let slot = match self.leaves.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                if self.leaves.len() >= 1 << 30 {
                    return Err(GroupError::GroupFull);
                }
                self.leaves.push(None);
                self.leaves.len() - 1
            }
        };
        self.leaves[slot] = Some(member);
        Ok(LeafIndex(
            u32::try_from(slot).map_err(|_| GroupError::GroupFull)?,
        ))
    }

    /// Blanks `leaf` and drops trailing blanks (RFC 9420 §12.1.3).
    pub(crate) fn remove(&mut self, leaf: LeafIndex) -> Result<(), GroupError> {
        let slot = self
            .leaves
            .get_mut(leaf.0 as usize)
            .filter(|m| m.is_some())
            .ok_or(GroupError::InvalidMember)?;
        *slot = None;
        while matches!(self.leaves.last(), Some(None)) {
            self.leaves.pop();
        }
        Ok(())
    }

    pub(crate) fn replace(&mut self, leaf: LeafIndex, member: Member) -> Result<(), GroupError> {
        let slot = self
            .leaves
            .get_mut(leaf.0 as usize)
            .filter(|m| m.is_some())
            .ok_or(GroupError::InvalidMember)?;
        *slot = Some(member);
        Ok(())
    }

    /// `RefHash("rcsec 1.0 roster", leaves)`: binds the membership into the group context.
    pub(crate) fn hash(&self) -> Result<[u8; NH], GroupError> {
        Ok(ref_hash(b"rcsec 1.0 roster", &self.to_bytes()?)?)
    }

    /// Checks every leaf's signature, as a joiner must before trusting a roster it was sent.
    pub(crate) fn verify_leaves(&self, group_id: &[u8]) -> Result<(), GroupError> {
        for (leaf, member) in self.members() {
            let group = match member.leaf.source {
                LeafNodeSource::KeyPackage { .. } => None,
                _ => Some((group_id, leaf)),
            };
            verify_leaf_signature(&member.leaf, group)?;
        }
        Ok(())
    }
}

impl Encode for Roster {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let mut body = Vec::new();
        for slot in &self.leaves {
            body.put_optional(slot.as_ref().map(|m| &m.leaf))?;
        }
        out.put_vector(&body)
    }
}

impl Decode for Roster {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let mut body = Reader::new(r.vector()?);
        let mut leaves = Vec::new();
        while !body.is_empty() {
            let leaf: Option<LeafNode> = body.optional()?;
            leaves.push(
                leaf.map(Member::from_leaf)
                    .transpose()
                    .map_err(|_| CodecError::Invalid("roster key"))?,
            );
        }
        if !matches!(leaves.last(), Some(Some(_))) {
            return Err(CodecError::Invalid("roster"));
        }
        Ok(Self { leaves })
    }
}
