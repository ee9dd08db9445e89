//! [`Device`]: the long-term signing identity, and the key packages it publishes.

use std::fmt;
use std::time::Duration;

use rcsec_core::Timestamp;

use super::KeyPackageError;
use super::key_package::{MAX_KEY_PACKAGE_LIFETIME, sign_key_package, sign_leaf};
use super::link::DeviceAuthorization;
use crate::hpke;
use crate::mls::crypto::{CIPHER_SUITE, HpkeSecretKey, SignaturePublicKey, SignatureSecretKey};
use crate::mls::group_context::PROTOCOL_VERSION;
use crate::mls::key_package::{Capabilities, Credential, KeyPackage, LeafNode, LeafNodeSource};

/// One enrolled device: an identity (a basic credential, e.g. `"alice/phone-2"`) and the
/// Ed25519 key it signs with in every group.
#[derive(Clone)]
pub struct Device {
    identity: Vec<u8>,
    signer: SignatureSecretKey,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("identity_len", &self.identity.len())
            .field("signature_key", &self.signer.public_key())
            .finish_non_exhaustive()
    }
}

impl Device {
    /// A device with a fresh signing key.
    ///
    /// # Errors
    /// [`KeyPackageError::Crypto`] when the OS random number generator fails.
    pub fn generate(identity: impl Into<Vec<u8>>) -> Result<Self, KeyPackageError> {
        Ok(Self::from_signer(identity, SignatureSecretKey::generate()?))
    }

    /// A device around an existing signing key (for example one loaded from a key store).
    pub fn from_signer(identity: impl Into<Vec<u8>>, signer: SignatureSecretKey) -> Self {
        Self {
            identity: identity.into(),
            signer,
        }
    }

    /// The identity bytes of the device's credential.
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    /// The device's public signature key.
    pub fn signature_key(&self) -> SignaturePublicKey {
        self.signer.public_key()
    }

    /// The device's signing key.
    pub fn signer(&self) -> &SignatureSecretKey {
        &self.signer
    }

    /// The credential groups see for this device.
    pub(crate) fn credential(&self) -> Credential {
        Credential::Basic {
            identity: self.identity.clone(),
        }
    }

    /// A fresh key package valid from `now` for `lifetime`, with its secret keys.
    ///
    /// Key packages are single use: each Welcome consumes one (its init key), so publish
    /// several and replace them as groups use them up.
    ///
    /// # Errors
    /// [`KeyPackageError::Lifetime`] for a zero lifetime or one above
    /// [`MAX_KEY_PACKAGE_LIFETIME`]; [`KeyPackageError::Crypto`] when key generation fails.
    pub fn key_package(
        &self,
        now: Timestamp,
        lifetime: Duration,
    ) -> Result<KeyPackageBundle, KeyPackageError> {
        if lifetime.is_zero() || lifetime > MAX_KEY_PACKAGE_LIFETIME {
            return Err(KeyPackageError::Lifetime);
        }
        let (init_key, init_public) = hpke::generate_key_pair().map_err(crypto)?;
        let (leaf_key, leaf_public) = hpke::generate_key_pair().map_err(crypto)?;
        let not_before = now.as_secs();
        let mut leaf_node = LeafNode {
            encryption_key: leaf_public.as_bytes().to_vec(),
            signature_key: self.signature_key().as_bytes().to_vec(),
            credential: self.credential(),
            capabilities: capabilities(),
            source: LeafNodeSource::KeyPackage {
                not_before,
                not_after: not_before.saturating_add(lifetime.as_secs()),
            },
            extensions: Vec::new(),
            signature: Vec::new(),
        };
        sign_leaf(&mut leaf_node, &self.signer, None)?;
        let mut key_package = KeyPackage {
            version: PROTOCOL_VERSION,
            cipher_suite: CIPHER_SUITE,
            init_key: init_public.as_bytes().to_vec(),
            leaf_node,
            extensions: Vec::new(),
            signature: Vec::new(),
        };
        sign_key_package(&mut key_package, &self.signer)?;
        Ok(KeyPackageBundle {
            key_package,
            init_key,
            leaf_key,
        })
    }

    /// Authorizes the device with `subject` signature key and `subject_identity` to join this
    /// device's account, from `now` for `lifetime` (see [`super::link`]).
    ///
    /// # Errors
    /// [`super::LinkError::Crypto`] when signing fails.
    pub fn authorize(
        &self,
        subject: SignaturePublicKey,
        subject_identity: impl Into<Vec<u8>>,
        now: Timestamp,
        lifetime: Duration,
    ) -> Result<DeviceAuthorization, super::LinkError> {
        DeviceAuthorization::sign(
            &self.signer,
            subject,
            subject_identity.into(),
            now,
            now.saturating_add(lifetime),
        )
    }
}

fn crypto(e: hpke::HpkeError) -> KeyPackageError {
    KeyPackageError::Crypto(e.into())
}

/// What this implementation supports: MLS 1.0, suite 1, basic credentials.
pub(crate) fn capabilities() -> Capabilities {
    Capabilities {
        versions: vec![PROTOCOL_VERSION],
        cipher_suites: vec![CIPHER_SUITE],
        extensions: Vec::new(),
        proposals: Vec::new(),
        credentials: vec![1],
    }
}

/// A key package with the secret halves of its init and leaf keys, kept by the device until a
/// Welcome consumes it.
pub struct KeyPackageBundle {
    /// The public key package to publish.
    pub key_package: KeyPackage,
    pub(crate) init_key: HpkeSecretKey,
    pub(crate) leaf_key: HpkeSecretKey,
}

impl fmt::Debug for KeyPackageBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPackageBundle")
            .field("lifetime", &self.key_package.leaf_node.source)
            .finish_non_exhaustive()
    }
}
