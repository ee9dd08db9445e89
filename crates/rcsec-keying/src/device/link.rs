//! Device linking: a signature chain of short-lived authorizations from a trusted root.
//!
//! A person's first device (or an operator's enrollment key) is a *root* the verifier trusts.
//! To enroll a new phone, an enrolled device signs a [`DeviceAuthorization`] naming the new
//! device's signature key and identity, valid for minutes; the new device presents the chain
//! (root → … → itself) together with its key package, and [`ChainVerifier::admit`] checks:
//!
//! - the chain starts at a root and each authorization is signed by the previous subject;
//! - every authorization is inside its validity window at `now`, and no window is longer than
//!   the verifier's maximum (so a leaked authorization soon becomes useless);
//! - no key on the chain is revoked (revoking a device also stops everything it vouched for);
//! - the chain ends at the key package's signature key and credential identity, and the key
//!   package itself validates.
//!
//! Chains are checked when a device is *admitted*; membership afterwards is governed by the
//! group (remove the device, which locks it out of later epochs).

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use rcsec_core::Timestamp;

use super::{KeyPackageError, ValidatedKeyPackage};
use crate::mls::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use crate::mls::crypto::{CryptoError, SignaturePublicKey, SignatureSecretKey};
use crate::mls::key_package::{Credential, KeyPackage};

/// The label authorizations are signed under (after the `"MLS 1.0 "` prefix), so they can
/// never be confused with any MLS structure.
const LABEL: &str = "rcsec DeviceAuthorizationTBS";

/// Why a chain or an admission was refused; `index` is the position in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The chain is longer than the verifier allows.
    #[error("authorization chain too long")]
    TooLong,
    /// The first issuer is not a trusted root (or an empty chain for a non-root key).
    #[error("chain does not start at a trusted root")]
    UntrustedRoot,
    /// An authorization is not issued by the previous subject.
    #[error("authorization {index} is not issued by the previous device")]
    Broken {
        /// Position in the chain.
        index: usize,
    },
    /// An authorization's signature did not verify.
    #[error("authorization {index} has an invalid signature")]
    BadSignature {
        /// Position in the chain.
        index: usize,
    },
    /// An authorization is not valid yet.
    #[error("authorization {index} is not yet valid")]
    NotYetValid {
        /// Position in the chain.
        index: usize,
    },
    /// An authorization has expired.
    #[error("authorization {index} has expired")]
    Expired {
        /// Position in the chain.
        index: usize,
    },
    /// An authorization's validity window is empty or longer than allowed.
    #[error("authorization {index} has a validity window out of bounds")]
    Lifetime {
        /// Position in the chain.
        index: usize,
    },
    /// A key on the chain is revoked.
    #[error("authorization {index} involves a revoked device")]
    Revoked {
        /// Position in the chain (the root itself is index 0).
        index: usize,
    },
    /// The chain does not end at the key package's signature key and identity.
    #[error("chain does not end at the presented device")]
    Mismatch,
    /// The key package itself is invalid.
    #[error("key package: {0}")]
    KeyPackage(#[from] KeyPackageError),
    /// Malformed encoding.
    #[error("malformed authorization: {0}")]
    Codec(#[from] CodecError),
    /// Signing failed (opaque).
    #[error("{0}")]
    Crypto(#[from] CryptoError),
}

/// One link: `issuer` vouches that `subject` (with `subject_identity`) is a device of the
/// same account, between `not_before` and `not_after`.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceAuthorization {
    /// The vouching device's signature key.
    pub issuer: SignaturePublicKey,
    /// The new device's signature key.
    pub subject: SignaturePublicKey,
    /// The new device's credential identity.
    pub subject_identity: Vec<u8>,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// Ed25519 over the fields above, by the issuer.
    pub signature: Vec<u8>,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .field("subject_identity_len", &self.subject_identity.len())
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl DeviceAuthorization {
    fn to_be_signed(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(96 + self.subject_identity.len());
        out.extend_from_slice(self.issuer.as_bytes());
        out.extend_from_slice(self.subject.as_bytes());
        out.put_vector(&self.subject_identity)?;
        out.extend_from_slice(&self.not_before.as_millis().to_be_bytes());
        out.extend_from_slice(&self.not_after.as_millis().to_be_bytes());
        Ok(out)
    }

    /// An authorization signed by `issuer`.
    ///
    /// # Errors
    /// [`LinkError::Codec`] for an oversized identity, [`LinkError::Crypto`].
    pub fn sign(
        issuer: &SignatureSecretKey,
        subject: SignaturePublicKey,
        subject_identity: Vec<u8>,
        not_before: Timestamp,
        not_after: Timestamp,
    ) -> Result<Self, LinkError> {
        let mut auth = Self {
            issuer: issuer.public_key(),
            subject,
            subject_identity,
            not_before,
            not_after,
            signature: Vec::new(),
        };
        auth.signature = issuer
            .sign_with_label(LABEL, &auth.to_be_signed()?)?
            .to_vec();
        Ok(auth)
    }

    fn verify_signature(&self) -> Result<(), CryptoError> {
        let tbs = self.to_be_signed().map_err(CryptoError::from)?;
        self.issuer.verify_with_label(LABEL, &tbs, &self.signature)
    }
}

impl Encode for DeviceAuthorization {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.to_be_signed()?);
        out.put_vector(&self.signature)
    }
}

impl Decode for DeviceAuthorization {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let key = |bytes: [u8; 32]| {
            SignaturePublicKey::from_bytes(&bytes).map_err(|_| CodecError::Invalid("device key"))
        };
        Ok(Self {
            issuer: key(r.array()?)?,
            subject: key(r.array()?)?,
            subject_identity: r.vector()?.to_vec(),
            not_before: Timestamp::from_millis(r.u64()?),
            not_after: Timestamp::from_millis(r.u64()?),
            signature: r.vector()?.to_vec(),
        })
    }
}

/// A chain of authorizations from a root to a device, root first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceChain(pub Vec<DeviceAuthorization>);

impl Encode for DeviceChain {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.put_vector_of(&self.0)
    }
}

impl Decode for DeviceChain {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self(r.vector_of()?))
    }
}

/// Checks device chains against trusted roots, a revocation list and lifetime bounds.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    roots: BTreeSet<[u8; 32]>,
    revoked: BTreeSet<[u8; 32]>,
    max_lifetime: Duration,
    max_depth: usize,
}

impl ChainVerifier {
    /// Default bound on one authorization's validity window: 15 minutes, long enough to scan
    /// a QR code and finish enrollment, short enough that a leaked one is soon worthless.
    pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(15 * 60);
    /// Default bound on chain length.
    pub const DEFAULT_MAX_DEPTH: usize = 4;

    /// A verifier trusting `roots`, with the default bounds and nothing revoked.
    pub fn new(roots: impl IntoIterator<Item = SignaturePublicKey>) -> Self {
        Self {
            roots: roots.into_iter().map(|k| *k.as_bytes()).collect(),
            revoked: BTreeSet::new(),
            max_lifetime: Self::DEFAULT_MAX_LIFETIME,
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }

    /// Sets the longest validity window an authorization may have.
    #[must_use]
    pub fn with_max_lifetime(mut self, max_lifetime: Duration) -> Self {
        self.max_lifetime = max_lifetime;
        self
    }

    /// Sets the longest chain accepted.
    #[must_use]
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Revokes a device key: chains through it (issuer or subject) fail from now on.
    pub fn revoke(&mut self, key: SignaturePublicKey) {
        self.revoked.insert(*key.as_bytes());
    }

    fn is_revoked(&self, key: &SignaturePublicKey) -> bool {
        self.revoked.contains(key.as_bytes())
    }

    /// Verifies `chain` at `now` and returns the key and identity it ends at; an empty chain
    /// names no device and is refused (a root presents itself through [`ChainVerifier::admit`]).
    ///
    /// # Errors
    /// The [`LinkError`] naming the first failed check, in chain order.
    pub fn verify(
        &self,
        chain: &DeviceChain,
        now: Timestamp,
    ) -> Result<(SignaturePublicKey, Vec<u8>), LinkError> {
        let links = &chain.0;
        if links.len() > self.max_depth {
            return Err(LinkError::TooLong);
        }
        let first = links.first().ok_or(LinkError::UntrustedRoot)?;
        if !self.roots.contains(first.issuer.as_bytes()) {
            return Err(LinkError::UntrustedRoot);
        }
        for (index, link) in links.iter().enumerate() {
            if index > 0 && link.issuer != links[index - 1].subject {
                return Err(LinkError::Broken { index });
            }
            link.verify_signature()
                .map_err(|_| LinkError::BadSignature { index })?;
            let window = link.not_after.saturating_duration_since(link.not_before);
            if window.is_zero() || window > self.max_lifetime {
                return Err(LinkError::Lifetime { index });
            }
            if now < link.not_before {
                return Err(LinkError::NotYetValid { index });
            }
            if now > link.not_after {
                return Err(LinkError::Expired { index });
            }
            if self.is_revoked(&link.issuer) || self.is_revoked(&link.subject) {
                return Err(LinkError::Revoked { index });
            }
        }
        let last = links.last().ok_or(LinkError::UntrustedRoot)?;
        Ok((last.subject, last.subject_identity.clone()))
    }

    /// Admits a device: validates its key package at `now` and checks that `chain` links it
    /// to a root. A root device itself presents an empty chain.
    ///
    /// # Errors
    /// [`LinkError::KeyPackage`] for an invalid package, [`LinkError::Mismatch`] when the
    /// chain names another key or identity, or any error of [`ChainVerifier::verify`].
    pub fn admit(
        &self,
        key_package: &KeyPackage,
        chain: &DeviceChain,
        now: Timestamp,
    ) -> Result<ValidatedKeyPackage, LinkError> {
        let validated = ValidatedKeyPackage::validate(key_package, now)?;
        let key = validated.signature_key();
        if chain.0.is_empty() {
            if !self.roots.contains(key.as_bytes()) {
                return Err(LinkError::UntrustedRoot);
            }
            if self.is_revoked(&key) {
                return Err(LinkError::Revoked { index: 0 });
            }
            return Ok(validated);
        }
        let (subject, identity) = self.verify(chain, now)?;
        let Credential::Basic {
            identity: presented,
        } = &key_package.leaf_node.credential
        else {
            return Err(LinkError::Mismatch);
        };
        if subject != key || identity != *presented {
            return Err(LinkError::Mismatch);
        }
        Ok(validated)
    }
}
