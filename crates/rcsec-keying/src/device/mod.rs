//! Devices: an Ed25519 identity, HPKE keys, signed expiring key packages and device linking.
//!
//! A [`Device`] is one enrolled phone or service instance. It signs with an Ed25519 key (its
//! identity inside every group) and publishes a [`KeyPackageBundle`]: an RFC 9420 `KeyPackage`
//! carrying a one-time X25519 HPKE *init key* (what a Welcome is sealed to) and a leaf
//! encryption key, both signed, and valid only for a bounded lifetime. Anyone adding the
//! device to a group first turns the public part into a [`ValidatedKeyPackage`], which is the
//! only thing [`crate::group::Group::add`] accepts, so an unsigned, expired or malformed
//! package cannot reach a group.
//!
//! Linking ([`link`]): an already enrolled device vouches for a new one with a short-lived
//! [`DeviceAuthorization`]; a [`ChainVerifier`] walks the chain from a trusted root, checks
//! every signature, every validity window and the revocation list, and only then admits the
//! new device's key package.
//!
//! # Security
//! Secret keys are zeroized on drop and never printed; `Debug` shows public facts only (key
//! fingerprints are not secrets, identities are shown as lengths because they may name a
//! person).

mod error;
mod identity;
mod key_package;
pub mod link;

pub use error::KeyPackageError;
pub use identity::{Device, KeyPackageBundle};
pub use key_package::{MAX_KEY_PACKAGE_LIFETIME, ValidatedKeyPackage};
pub use link::{ChainVerifier, DeviceAuthorization, DeviceChain, LinkError};

pub(crate) use identity::capabilities;
