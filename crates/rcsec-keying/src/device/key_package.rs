//! Signing and validating key packages and leaf nodes (RFC 9420 §7.2, §10.1).

use std::time::Duration;

use rcsec_core::Timestamp;

use super::KeyPackageError;
use crate::mls::codec::{CodecError, Encode, WriteExt};
use crate::mls::crypto::{CIPHER_SUITE, HpkePublicKey, SignaturePublicKey, SignatureSecretKey};
use crate::mls::group_context::PROTOCOL_VERSION;
use crate::mls::key_package::{Credential, KeyPackage, LeafNode, LeafNodeSource};
use crate::mls::tree_math::LeafIndex;

/// The longest lifetime a key package may claim: 30 days. A leaked init key is only useful
/// while its package is accepted, so the window is kept short; devices refresh packages.
pub const MAX_KEY_PACKAGE_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// Encodes `value` without its trailing signature, which must be empty (one zero byte).
fn without_signature(mut encoded: Vec<u8>) -> Result<Vec<u8>, CodecError> {
    match encoded.pop() {
        Some(0) => Ok(encoded),
        _ => Err(CodecError::Invalid("signature placeholder")),
    }
}

/// `LeafNodeTBS`: the leaf without its signature, plus the group id and leaf index for leaves
/// made by an update or commit (`group` is `None` exactly for key-package leaves).
pub(crate) fn leaf_signature_content(
    leaf: &LeafNode,
    group: Option<(&[u8], LeafIndex)>,
) -> Result<Vec<u8>, CodecError> {
    let unsigned = LeafNode {
        signature: Vec::new(),
        ..leaf.clone()
    };
    let mut out = without_signature(unsigned.to_bytes()?)?;
    if let Some((group_id, leaf_index)) = group {
        out.put_vector(group_id)?;
        out.extend_from_slice(&leaf_index.0.to_be_bytes());
    }
    Ok(out)
}

/// Signs `leaf` in place with `SignWithLabel(., "LeafNodeTBS", LeafNodeTBS)`.
pub(crate) fn sign_leaf(
    leaf: &mut LeafNode,
    signer: &SignatureSecretKey,
    group: Option<(&[u8], LeafIndex)>,
) -> Result<(), KeyPackageError> {
    let tbs = leaf_signature_content(leaf, group)?;
    leaf.signature = signer.sign_with_label("LeafNodeTBS", &tbs)?.to_vec();
    Ok(())
}

/// Checks a leaf node's signature under its own signature key.
pub(crate) fn verify_leaf_signature(
    leaf: &LeafNode,
    group: Option<(&[u8], LeafIndex)>,
) -> Result<SignaturePublicKey, KeyPackageError> {
    let key = SignaturePublicKey::from_bytes(&leaf.signature_key)
        .map_err(|_| KeyPackageError::InvalidKey)?;
    let tbs = leaf_signature_content(leaf, group)?;
    key.verify_with_label("LeafNodeTBS", &tbs, &leaf.signature)
        .map_err(|_| KeyPackageError::BadLeafSignature)?;
    Ok(key)
}

fn key_package_signature_content(kp: &KeyPackage) -> Result<Vec<u8>, CodecError> {
    let unsigned = KeyPackage {
        signature: Vec::new(),
        ..kp.clone()
    };
    without_signature(unsigned.to_bytes()?)
}

/// Signs `kp` in place with `SignWithLabel(., "KeyPackageTBS", KeyPackageTBS)`.
pub(crate) fn sign_key_package(
    kp: &mut KeyPackage,
    signer: &SignatureSecretKey,
) -> Result<(), KeyPackageError> {
    let tbs = key_package_signature_content(kp)?;
    kp.signature = signer.sign_with_label("KeyPackageTBS", &tbs)?.to_vec();
    Ok(())
}

/// A key package whose signatures, suite, keys and (when checked with a time) lifetime were
/// verified; the only form in which a package can be added to a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedKeyPackage {
    key_package: KeyPackage,
    signature_key: SignaturePublicKey,
    init_key: HpkePublicKey,
}

impl ValidatedKeyPackage {
    /// Validates `kp` at `now`: version, suite, basic credential, both signatures, distinct
    /// well-formed HPKE keys, and `not_before <= now <= not_after` with a lifetime of at
    /// most [`MAX_KEY_PACKAGE_LIFETIME`].
    ///
    /// # Errors
    /// The [`KeyPackageError`] naming the first failed check.
    pub fn validate(kp: &KeyPackage, now: Timestamp) -> Result<Self, KeyPackageError> {
        let validated = Self::verify_signatures(kp)?;
        let LeafNodeSource::KeyPackage {
            not_before,
            not_after,
        } = kp.leaf_node.source
        else {
            return Err(KeyPackageError::Unsupported);
        };
        if not_after <= not_before || not_after - not_before > MAX_KEY_PACKAGE_LIFETIME.as_secs() {
            return Err(KeyPackageError::Lifetime);
        }
        let now = now.as_secs();
        if now < not_before {
            return Err(KeyPackageError::NotYetValid);
        }
        if now > not_after {
            return Err(KeyPackageError::Expired);
        }
        Ok(validated)
    }

    /// Every check of [`ValidatedKeyPackage::validate`] except the lifetime.
    ///
    /// Members processing a commit use this: the committer checked the lifetime when it
    /// added the package, and a receiver that processes the commit later must not reach a
    /// different verdict than the others (that would fork the group).
    ///
    /// # Errors
    /// As [`ValidatedKeyPackage::validate`], without the time-based ones.
    pub(crate) fn verify_signatures(kp: &KeyPackage) -> Result<Self, KeyPackageError> {
        if kp.version != PROTOCOL_VERSION {
            return Err(KeyPackageError::UnsupportedVersion);
        }
        if kp.cipher_suite != CIPHER_SUITE {
            return Err(KeyPackageError::UnsupportedSuite);
        }
        let leaf = &kp.leaf_node;
        if !matches!(leaf.credential, Credential::Basic { .. })
            || !matches!(leaf.source, LeafNodeSource::KeyPackage { .. })
        {
            return Err(KeyPackageError::Unsupported);
        }
        let signature_key = verify_leaf_signature(leaf, None)?;
        let tbs = key_package_signature_content(kp)?;
        signature_key
            .verify_with_label("KeyPackageTBS", &tbs, &kp.signature)
            .map_err(|_| KeyPackageError::BadSignature)?;
        let init_key =
            HpkePublicKey::from_bytes(&kp.init_key).map_err(|_| KeyPackageError::InvalidKey)?;
        HpkePublicKey::from_bytes(&leaf.encryption_key).map_err(|_| KeyPackageError::InvalidKey)?;
        if kp.init_key == leaf.encryption_key {
            return Err(KeyPackageError::KeyReuse);
        }
        Ok(Self {
            key_package: kp.clone(),
            signature_key,
            init_key,
        })
    }

    /// The validated key package.
    pub fn key_package(&self) -> &KeyPackage {
        &self.key_package
    }

    /// The device's signature key.
    pub fn signature_key(&self) -> SignaturePublicKey {
        self.signature_key
    }

    /// The credential identity.
    pub fn identity(&self) -> &[u8] {
        match &self.key_package.leaf_node.credential {
            Credential::Basic { identity } => identity,
            Credential::X509 { .. } => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use crate::device::Device;

    fn resign(kp: &mut KeyPackage, device: &Device) {
        sign_leaf(&mut kp.leaf_node, device.signer(), None).unwrap();
        sign_key_package(kp, device.signer()).unwrap();
    }

    #[test]
    fn structural_checks_run_after_signatures_verify() {
        let now = Timestamp::from_secs(1_000_000);
        let device = Device::generate("d").unwrap();
        let bundle = device.key_package(now, Duration::from_secs(60)).unwrap();

        let mut kp = bundle.key_package.clone();
        kp.init_key = kp.leaf_node.encryption_key.clone();
        resign(&mut kp, &device);
        assert_eq!(
            ValidatedKeyPackage::validate(&kp, now),
            Err(KeyPackageError::KeyReuse)
        );

        let mut kp = bundle.key_package.clone();
        kp.cipher_suite = 2;
        resign(&mut kp, &device);
        assert_eq!(
            ValidatedKeyPackage::validate(&kp, now),
            Err(KeyPackageError::UnsupportedSuite)
        );

        let mut kp = bundle.key_package.clone();
        kp.version = 2;
        assert_eq!(
            ValidatedKeyPackage::validate(&kp, now),
            Err(KeyPackageError::UnsupportedVersion)
        );

        let mut kp = bundle.key_package.clone();
        kp.leaf_node.source = LeafNodeSource::KeyPackage {
            not_before: 0,
            not_after: u64::MAX,
        };
        resign(&mut kp, &device);
        assert_eq!(
            ValidatedKeyPackage::validate(&kp, now),
            Err(KeyPackageError::Lifetime)
        );

        let mut kp = bundle.key_package.clone();
        kp.leaf_node.source = LeafNodeSource::Update;
        resign(&mut kp, &device);
        assert_eq!(
            ValidatedKeyPackage::validate(&kp, now),
            Err(KeyPackageError::Unsupported)
        );

        let mut kp = bundle.key_package;
        kp.init_key = vec![0; 31];
        resign(&mut kp, &device);
        assert_eq!(
            ValidatedKeyPackage::validate(&kp, now),
            Err(KeyPackageError::InvalidKey)
        );
    }
}
