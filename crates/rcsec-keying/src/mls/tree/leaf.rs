//! Leaf-node and KeyPackage validation (RFC 9420 §7.2, §7.3, §10.1): signatures over
//! `LeafNodeTBS` and `KeyPackageTBS`, lifetimes, and the key encodings a leaf must carry.
//!
//! A leaf that came from an Update or a Commit is signed together with the group id and its
//! leaf index, so it cannot be replayed into another group or position; a KeyPackage leaf is
//! signed alone (it predates the group) and carries a lifetime instead.

use super::super::codec::{CodecError, WriteExt};
use super::super::crypto::{
    CIPHER_SUITE, CryptoError, HpkePublicKey, SignaturePublicKey, SignatureSecretKey,
};
use super::super::group_context::PROTOCOL_VERSION;
use super::super::key_package::{KeyPackage, LeafNode, LeafNodeSource};
use super::super::tree_math::LeafIndex;

/// Why a leaf node or KeyPackage was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LeafError {
    /// The signature does not verify.
    #[error("invalid signature")]
    BadSignature,
    /// The signature or encryption key does not decode.
    #[error("invalid key")]
    BadKey,
    /// The KeyPackage lifetime does not cover the current time.
    #[error("outside its lifetime")]
    Lifetime,
    /// The leaf's source is not allowed where it appears.
    #[error("unexpected leaf node source")]
    Source,
    /// Version, cipher suite or capabilities do not fit the group.
    #[error("unsupported version, cipher suite or capability")]
    Unsupported,
    /// The structure could not be encoded.
    #[error("encoding failed: {0}")]
    Codec(#[from] CodecError),
}

/// The group binding of a leaf from an Update or Commit.
#[derive(Debug, Clone, Copy)]
pub struct LeafNodeContext<'a> {
    /// The group the leaf belongs to.
    pub group_id: &'a [u8],
    /// The leaf's position.
    pub leaf_index: LeafIndex,
}

impl LeafNode {
    /// `LeafNodeTBS`: the leaf without its signature plus, for Update and Commit leaves, the
    /// group binding (`context` is ignored for KeyPackage leaves).
    ///
    /// # Errors
    /// [`LeafError::Source`] when an Update or Commit leaf has no context.
    pub fn to_be_signed(&self, context: Option<LeafNodeContext<'_>>) -> Result<Vec<u8>, LeafError> {
        let mut out = Vec::new();
        self.encode_unsigned(&mut out)?;
        if !matches!(self.source, LeafNodeSource::KeyPackage { .. }) {
            let context = context.ok_or(LeafError::Source)?;
            out.put_vector(context.group_id)?;
            out.extend_from_slice(&context.leaf_index.0.to_be_bytes());
        }
        Ok(out)
    }

    /// Signs the leaf with `SignWithLabel(., "LeafNodeTBS", LeafNodeTBS)`.
    ///
    /// # Errors
    /// [`LeafError::Source`], [`LeafError::Codec`].
    pub fn sign(
        &mut self,
        signer: &SignatureSecretKey,
        context: Option<LeafNodeContext<'_>>,
    ) -> Result<(), LeafError> {
        let tbs = self.to_be_signed(context)?;
        self.signature = signer
            .sign_with_label("LeafNodeTBS", &tbs)
            .map_err(|_| LeafError::BadSignature)?
            .to_vec();
        Ok(())
    }

    /// The leaf's signature key.
    ///
    /// # Errors
    /// [`LeafError::BadKey`].
    pub fn signature_public_key(&self) -> Result<SignaturePublicKey, LeafError> {
        SignaturePublicKey::from_bytes(&self.signature_key).map_err(|_| LeafError::BadKey)
    }

    /// The leaf's HPKE key.
    ///
    /// # Errors
    /// [`LeafError::BadKey`].
    pub fn hpke_public_key(&self) -> Result<HpkePublicKey, LeafError> {
        HpkePublicKey::from_bytes(&self.encryption_key).map_err(|_| LeafError::BadKey)
    }

    /// Verifies the leaf's signature under its own signature key.
    ///
    /// # Errors
    /// [`LeafError::BadKey`], [`LeafError::BadSignature`], [`LeafError::Source`].
    pub fn verify_signature(&self, context: Option<LeafNodeContext<'_>>) -> Result<(), LeafError> {
        let key = self.signature_public_key()?;
        let tbs = self.to_be_signed(context)?;
        key.verify_with_label("LeafNodeTBS", &tbs, &self.signature)
            .map_err(|e| match e {
                CryptoError::Encoding(c) => LeafError::Codec(c),
                _ => LeafError::BadSignature,
            })
    }

    /// Full validation of a leaf as it enters or sits in a tree (§7.3): keys decode, the
    /// signature verifies, the source is `expected` and, for KeyPackage leaves with `now`
    /// given (UNIX seconds), the lifetime covers it. The capabilities must list suite 1 and
    /// `mls10` when they list any (an empty list means the defaults).
    ///
    /// # Errors
    /// The first [`LeafError`] found.
    pub fn validate(
        &self,
        expected: LeafSourceKind,
        context: Option<LeafNodeContext<'_>>,
        now: Option<u64>,
    ) -> Result<(), LeafError> {
        let kind = LeafSourceKind::of(&self.source);
        if expected != LeafSourceKind::Any && kind != expected {
            return Err(LeafError::Source);
        }
        self.hpke_public_key()?;
        self.verify_signature(context)?;
        if let (
            LeafNodeSource::KeyPackage {
                not_before,
                not_after,
            },
            Some(now),
        ) = (&self.source, now)
            && !(*not_before <= now && now <= *not_after)
        {
            return Err(LeafError::Lifetime);
        }
        let caps = &self.capabilities;
        if !caps.cipher_suites.is_empty() && !caps.cipher_suites.contains(&CIPHER_SUITE) {
            return Err(LeafError::Unsupported);
        }
        if !caps.versions.is_empty() && !caps.versions.contains(&PROTOCOL_VERSION) {
            return Err(LeafError::Unsupported);
        }
        Ok(())
    }
}

/// Which source a leaf must have where it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafSourceKind {
    /// A KeyPackage leaf (Add proposals, Welcome).
    KeyPackage,
    /// An Update proposal's leaf.
    Update,
    /// A Commit's UpdatePath leaf.
    Commit,
    /// Any source (leaves already in a tree).
    Any,
}

impl LeafSourceKind {
    fn of(source: &LeafNodeSource) -> Self {
        match source {
            LeafNodeSource::KeyPackage { .. } => Self::KeyPackage,
            LeafNodeSource::Update => Self::Update,
            LeafNodeSource::Commit { .. } => Self::Commit,
        }
    }
}

impl KeyPackage {
    /// Signs the package with `SignWithLabel(., "KeyPackageTBS", KeyPackageTBS)`; the leaf
    /// must already be signed (it is part of what this signature covers).
    ///
    /// # Errors
    /// [`LeafError::Codec`] for oversized fields.
    pub fn sign(&mut self, signer: &SignatureSecretKey) -> Result<(), LeafError> {
        self.signature = signer
            .sign_with_label("KeyPackageTBS", &self.to_be_signed()?)
            .map_err(|_| LeafError::BadSignature)?
            .to_vec();
        Ok(())
    }

    /// Validates a KeyPackage before adding its owner (§10.1): version and suite, the
    /// package signature under the leaf's signature key, the leaf itself (KeyPackage source,
    /// lifetime when `now` is given), and an init key distinct from the leaf's key.
    ///
    /// # Errors
    /// The first [`LeafError`] found.
    pub fn validate(&self, now: Option<u64>) -> Result<(), LeafError> {
        if self.version != PROTOCOL_VERSION || self.cipher_suite != CIPHER_SUITE {
            return Err(LeafError::Unsupported);
        }
        HpkePublicKey::from_bytes(&self.init_key).map_err(|_| LeafError::BadKey)?;
        if self.init_key == self.leaf_node.encryption_key {
            return Err(LeafError::BadKey);
        }
        self.leaf_node
            .validate(LeafSourceKind::KeyPackage, None, now)?;
        let key = self.leaf_node.signature_public_key()?;
        key.verify_with_label("KeyPackageTBS", &self.to_be_signed()?, &self.signature)
            .map_err(|_| LeafError::BadSignature)
    }
}
