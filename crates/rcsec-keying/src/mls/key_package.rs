//! `LeafNode`, `Credential`, `Capabilities` and `KeyPackage` (RFC 9420 §5.3, §7.2, §10):
//! the codec for the member-describing structures that proposals, commits and welcomes carry.
//!
//! Only the wire format lives here; validating a leaf (lifetime, capabilities, signature)
//! belongs to the ratchet tree.

use super::codec::{CodecError, Decode, Encode, Reader, VarBytes, WriteExt};
use super::crypto::{CryptoError, NH, ref_hash};
use super::group_context::Extension;

/// A member's credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `basic` (1): an application-defined identity.
    Basic {
        /// The identity bytes.
        identity: Vec<u8>,
    },
    /// `x509` (2): a certificate chain, leaf first.
    X509 {
        /// DER certificates.
        certificates: Vec<VarBytes>,
    },
}

impl Encode for Credential {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        match self {
            Self::Basic { identity } => {
                out.extend_from_slice(&1u16.to_be_bytes());
                out.put_vector(identity)
            }
            Self::X509 { certificates } => {
                out.extend_from_slice(&2u16.to_be_bytes());
                out.put_vector_of(certificates)
            }
        }
    }
}

impl Decode for Credential {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        match r.u16()? {
            1 => Ok(Self::Basic {
                identity: r.vector()?.to_vec(),
            }),
            2 => Ok(Self::X509 {
                certificates: r.vector_of()?,
            }),
            value => Err(CodecError::UnknownValue {
                field: "credential_type",
                value: u64::from(value),
            }),
        }
    }
}

/// What a client supports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Protocol versions.
    pub versions: Vec<u16>,
    /// Cipher suites.
    pub cipher_suites: Vec<u16>,
    /// Extension types.
    pub extensions: Vec<u16>,
    /// Proposal types.
    pub proposals: Vec<u16>,
    /// Credential types.
    pub credentials: Vec<u16>,
}

impl Encode for Capabilities {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.put_vector_of(&self.versions)?;
        out.put_vector_of(&self.cipher_suites)?;
        out.put_vector_of(&self.extensions)?;
        out.put_vector_of(&self.proposals)?;
        out.put_vector_of(&self.credentials)
    }
}

impl Decode for Capabilities {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            versions: r.vector_of()?,
            cipher_suites: r.vector_of()?,
            extensions: r.vector_of()?,
            proposals: r.vector_of()?,
            credentials: r.vector_of()?,
        })
    }
}

/// Where a leaf node came from, with its source-specific field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafNodeSource {
    /// In a KeyPackage (1), valid between two UNIX times.
    KeyPackage {
        /// Not valid before (seconds).
        not_before: u64,
        /// Not valid after (seconds).
        not_after: u64,
    },
    /// In an Update proposal (2).
    Update,
    /// In a Commit's UpdatePath (3).
    Commit {
        /// Hash binding the leaf to its parent.
        parent_hash: Vec<u8>,
    },
}

/// A leaf of the ratchet tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafNode {
    /// HPKE public key.
    pub encryption_key: Vec<u8>,
    /// Signature public key.
    pub signature_key: Vec<u8>,
    /// Credential.
    pub credential: Credential,
    /// Capabilities.
    pub capabilities: Capabilities,
    /// Source and its field.
    pub source: LeafNodeSource,
    /// Leaf extensions.
    pub extensions: Vec<Extension>,
    /// Signature over the LeafNodeTBS.
    pub signature: Vec<u8>,
}

impl LeafNode {
    /// Appends every field but the signature (the body of `LeafNodeTBS`).
    pub(crate) fn encode_unsigned(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.put_vector(&self.encryption_key)?;
        out.put_vector(&self.signature_key)?;
        self.credential.encode(out)?;
        self.capabilities.encode(out)?;
        match &self.source {
            LeafNodeSource::KeyPackage {
                not_before,
                not_after,
            } => {
                out.push(1);
                out.extend_from_slice(&not_before.to_be_bytes());
                out.extend_from_slice(&not_after.to_be_bytes());
            }
            LeafNodeSource::Update => out.push(2),
            LeafNodeSource::Commit { parent_hash } => {
                out.push(3);
                out.put_vector(parent_hash)?;
            }
        }
        out.put_vector_of(&self.extensions)
    }
}

impl Encode for LeafNode {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        self.encode_unsigned(out)?;
        out.put_vector(&self.signature)
    }
}

impl Decode for LeafNode {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let encryption_key = r.vector()?.to_vec();
        let signature_key = r.vector()?.to_vec();
        let credential = Credential::decode(r)?;
        let capabilities = Capabilities::decode(r)?;
        let source = match r.u8()? {
            1 => LeafNodeSource::KeyPackage {
                not_before: r.u64()?,
                not_after: r.u64()?,
            },
            2 => LeafNodeSource::Update,
            3 => LeafNodeSource::Commit {
                parent_hash: r.vector()?.to_vec(),
            },
            value => {
                return Err(CodecError::UnknownValue {
                    field: "leaf_node_source",
                    value: u64::from(value),
                });
            }
        };
        Ok(Self {
            encryption_key,
            signature_key,
            credential,
            capabilities,
            source,
            extensions: r.vector_of()?,
            signature: r.vector()?.to_vec(),
        })
    }
}

/// A KeyPackage: how a client advertises itself to be added to groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPackage {
    /// Protocol version.
    pub version: u16,
    /// Cipher suite.
    pub cipher_suite: u16,
    /// HPKE public key the Welcome is encrypted to.
    pub init_key: Vec<u8>,
    /// The leaf the client will occupy.
    pub leaf_node: LeafNode,
    /// KeyPackage extensions.
    pub extensions: Vec<Extension>,
    /// Signature over the KeyPackageTBS.
    pub signature: Vec<u8>,
}

impl KeyPackage {
    /// `KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage)`.
    ///
    /// # Errors
    /// [`CryptoError::Encoding`] for an oversized package.
    pub fn reference(&self) -> Result<[u8; NH], CryptoError> {
        ref_hash(b"MLS 1.0 KeyPackage Reference", &self.to_bytes()?)
    }
}

impl KeyPackage {
    /// `KeyPackageTBS`: every field but the signature.
    pub(crate) fn to_be_signed(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.cipher_suite.to_be_bytes());
        out.put_vector(&self.init_key)?;
        self.leaf_node.encode(&mut out)?;
        out.put_vector_of(&self.extensions)?;
        Ok(out)
    }
}

impl Encode for KeyPackage {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.to_be_signed()?);
        out.put_vector(&self.signature)
    }
}

impl Decode for KeyPackage {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            version: r.u16()?,
            cipher_suite: r.u16()?,
            init_key: r.vector()?.to_vec(),
            leaf_node: LeafNode::decode(r)?,
            extensions: r.vector_of()?,
            signature: r.vector()?.to_vec(),
        })
    }
}
