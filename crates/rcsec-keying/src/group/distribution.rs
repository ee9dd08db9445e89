//! How a committer hands the new epoch's commit secret to the other members.
//!
//! Today: the committer draws a fresh 32-byte commit secret and seals it with HPKE
//! (`EncryptWithLabel`, label `"rcsec CommitSecret"`) to each remaining member's current leaf
//! encryption key, with the new epoch's group context as the HPKE context — O(n) seals per
//! commit, one open per receiver. Removed members get no copy, so they cannot derive the new
//! epoch; the committer's own leaf key is replaced in the same commit.
//!
//! This module is the only place that knows the scheme. TreeKEM (RFC 9420 §7.4–7.6) replaces
//! it by carrying encrypted path secrets in the commit's `UpdatePath` and returning the commit
//! secret from the tree; the commit wire format has a scheme tag for exactly that, and the
//! public [`super::Group`] API and the state's outer shape do not change.

use crate::mls::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use crate::mls::crypto::{
    HashSecret, HpkeCiphertext, HpkeSecretKey, decrypt_with_label, encrypt_with_label, hash_secret,
};
use crate::mls::tree_math::LeafIndex;

use super::GroupError;
use super::roster::Roster;

pub(crate) const LABEL: &str = "rcsec CommitSecret";

/// Scheme tag: the commit secret sealed to each member.
const SEALED_TO_EACH: u8 = 1;

/// One member's sealed copy of the commit secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SealedSecret {
    pub(crate) leaf: LeafIndex,
    pub(crate) ciphertext: HpkeCiphertext,
}

/// The commit secret, distributed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Distribution {
    pub(crate) sealed: Vec<SealedSecret>,
}

impl Distribution {
    /// Seals `commit_secret` to every member of `roster` except those in `skip` (the
    /// committer, who knows it, and joiners, who get a Welcome).
    pub(crate) fn seal(
        roster: &Roster,
        skip: &[LeafIndex],
        commit_secret: &[u8],
        new_context: &[u8],
    ) -> Result<Self, GroupError> {
        let mut sealed = Vec::with_capacity(roster.member_count());
        for (leaf, member) in roster.members() {
            if skip.contains(&leaf) {
                continue;
            }
            let ciphertext =
                encrypt_with_label(&member.encryption_key, LABEL, new_context, commit_secret)?;
            sealed.push(SealedSecret { leaf, ciphertext });
        }
        Ok(Self { sealed })
    }

    /// Opens the copy sealed to `leaf`.
    pub(crate) fn open(
        &self,
        leaf: LeafIndex,
        leaf_secret: &HpkeSecretKey,
        new_context: &[u8],
    ) -> Result<HashSecret, GroupError> {
        let entry = self
            .sealed
            .iter()
            .find(|s| s.leaf == leaf)
            .ok_or(GroupError::NoSecretForMember)?;
        let plain = decrypt_with_label(leaf_secret, LABEL, new_context, &entry.ciphertext)?;
        Ok(hash_secret(plain.expose_secret())?)
    }
}

impl Encode for SealedSecret {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.leaf.0.to_be_bytes());
        self.ciphertext.encode(out)
    }
}

impl Decode for SealedSecret {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            leaf: LeafIndex(r.u32()?),
            ciphertext: HpkeCiphertext::decode(r)?,
        })
    }
}

impl Encode for Distribution {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.push(SEALED_TO_EACH);
        out.put_vector_of(&self.sealed)
    }
}

impl Decode for Distribution {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8()? {
            SEALED_TO_EACH => Ok(Self {
                sealed: r.vector_of()?,
            }),
            value => Err(CodecError::UnknownValue {
                field: "commit secret distribution",
                value: u64::from(value),
            }),
        }
    }
}
