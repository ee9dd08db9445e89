//! `Proposal`, `ProposalOrRef`, `Commit` and `UpdatePath` (RFC 9420 §12): the codec for
//! handshake bodies, so framing can find where a body ends and its signature begins.

use crate::mls::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use crate::mls::crypto::HpkeCiphertext;
use crate::mls::group_context::Extension;
use crate::mls::key_package::{KeyPackage, LeafNode};
use crate::mls::psk::PreSharedKeyId;

/// A proposed change to the group.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Proposal {
    /// Add a member (1).
    Add(Box<KeyPackage>),
    /// Update the sender's leaf (2).
    Update(Box<LeafNode>),
    /// Remove the member at a leaf (3).
    Remove {
        /// The leaf index removed.
        removed: u32,
    },
    /// Inject a PSK (4).
    PreSharedKey(PreSharedKeyId),
    /// Re-initialise the group (5).
    ReInit {
        /// New group id.
        group_id: Vec<u8>,
        /// New version.
        version: u16,
        /// New cipher suite.
        cipher_suite: u16,
        /// New extensions.
        extensions: Vec<Extension>,
    },
    /// External join (6).
    ExternalInit {
        /// HPKE encapsulation to the external key.
        kem_output: Vec<u8>,
    },
    /// Replace the group context extensions (7).
    GroupContextExtensions(Vec<Extension>),
}

impl Encode for Proposal {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        match self {
            Self::Add(kp) => {
                out.extend_from_slice(&1u16.to_be_bytes());
                kp.encode(out)
            }
            Self::Update(leaf) => {
                out.extend_from_slice(&2u16.to_be_bytes());
                leaf.encode(out)
            }
            Self::Remove { removed } => {
                out.extend_from_slice(&3u16.to_be_bytes());
                out.extend_from_slice(&removed.to_be_bytes());
                Ok(())
            }
            Self::PreSharedKey(id) => {
                out.extend_from_slice(&4u16.to_be_bytes());
                id.encode(out)
            }
            Self::ReInit {
                group_id,
                version,
                cipher_suite,
                extensions,
            } => {
                out.extend_from_slice(&5u16.to_be_bytes());
                out.put_vector(group_id)?;
                out.extend_from_slice(&version.to_be_bytes());
                out.extend_from_slice(&cipher_suite.to_be_bytes());
                out.put_vector_of(extensions)
            }
            Self::ExternalInit { kem_output } => {
                out.extend_from_slice(&6u16.to_be_bytes());
                out.put_vector(kem_output)
            }
            Self::GroupContextExtensions(extensions) => {
                out.extend_from_slice(&7u16.to_be_bytes());
                out.put_vector_of(extensions)
            }
        }
    }
}

impl Decode for Proposal {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(match r.u16()? {
            1 => Self::Add(Box::new(KeyPackage::decode(r)?)),
            2 => Self::Update(Box::new(LeafNode::decode(r)?)),
            3 => Self::Remove { removed: r.u32()? },
            4 => Self::PreSharedKey(PreSharedKeyId::decode(r)?),
            5 => Self::ReInit {
                group_id: r.vector()?.to_vec(),
                version: r.u16()?,
                cipher_suite: r.u16()?,
                extensions: r.vector_of()?,
            },
            6 => Self::ExternalInit {
                kem_output: r.vector()?.to_vec(),
            },
            7 => Self::GroupContextExtensions(r.vector_of()?),
            value => {
                return Err(CodecError::UnknownValue {
                    field: "proposal_type",
                    value: u64::from(value),
                });
            }
        })
    }
}

/// A proposal inline or by reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProposalOrRef {
    /// The proposal itself (1).
    Proposal(Proposal),
    /// A `ProposalRef` to one sent earlier (2).
    Reference(Vec<u8>),
}

impl Encode for ProposalOrRef {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        match self {
            Self::Proposal(p) => {
                out.push(1);
                p.encode(out)
            }
            Self::Reference(r) => {
                out.push(2);
                out.put_vector(r)
            }
        }
    }
}

impl Decode for ProposalOrRef {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u8()? {
            1 => Ok(Self::Proposal(Proposal::decode(r)?)),
            2 => Ok(Self::Reference(r.vector()?.to_vec())),
            value => Err(CodecError::UnknownValue {
                field: "proposal_or_ref_type",
                value: u64::from(value),
            }),
        }
    }
}

/// One node of an UpdatePath: a new public key and the path secret encrypted to the
/// resolution of its copath child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatePathNode {
    /// New HPKE public key of the node.
    pub encryption_key: Vec<u8>,
    /// The path secret, once per resolution member.
    pub encrypted_path_secret: Vec<HpkeCiphertext>,
}

impl Encode for UpdatePathNode {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.put_vector(&self.encryption_key)?;
        out.put_vector_of(&self.encrypted_path_secret)
    }
}

impl Decode for UpdatePathNode {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            encryption_key: r.vector()?.to_vec(),
            encrypted_path_secret: r.vector_of()?,
        })
    }
}

/// The committer's new leaf and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatePath {
    /// The committer's new leaf.
    pub leaf_node: LeafNode,
    /// One entry per filtered direct-path node.
    pub nodes: Vec<UpdatePathNode>,
}

impl Encode for UpdatePath {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        self.leaf_node.encode(out)?;
        out.put_vector_of(&self.nodes)
    }
}

impl Decode for UpdatePath {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            leaf_node: LeafNode::decode(r)?,
            nodes: r.vector_of()?,
        })
    }
}

/// A Commit: the proposals it applies and an optional path update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Proposals, inline or by reference.
    pub proposals: Vec<ProposalOrRef>,
    /// The committer's path, if any.
    pub path: Option<UpdatePath>,
}

impl Encode for Commit {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.put_vector_of(&self.proposals)?;
        out.put_optional(self.path.as_ref())
    }
}

impl Decode for Commit {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            proposals: r.vector_of()?,
            path: r.optional()?,
        })
    }
}
