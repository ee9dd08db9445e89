//! Why a key package was refused.

use crate::mls::codec::CodecError;
use crate::mls::crypto::CryptoError;

/// Why a key package could not be created or validated.
///
/// Deliberately coarse: a caller learns which check failed, never key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyPackageError {
    /// Not MLS 1.0.
    #[error("unsupported protocol version")]
    UnsupportedVersion,
    /// Not cipher suite 1.
    #[error("unsupported cipher suite")]
    UnsupportedSuite,
    /// Not a basic credential, or the leaf was not made for a key package.
    #[error("unsupported credential or leaf source")]
    Unsupported,
    /// The lifetime starts in the future.
    #[error("key package not yet valid")]
    NotYetValid,
    /// The lifetime has ended.
    #[error("key package expired")]
    Expired,
    /// The lifetime is longer than [`super::MAX_KEY_PACKAGE_LIFETIME`] or zero.
    #[error("key package lifetime out of bounds")]
    Lifetime,
    /// The leaf node's signature did not verify.
    #[error("invalid leaf node signature")]
    BadLeafSignature,
    /// The key package's signature did not verify.
    #[error("invalid key package signature")]
    BadSignature,
    /// A public key is malformed (wrong length, low order).
    #[error("invalid public key")]
    InvalidKey,
    /// The init key equals the leaf encryption key (RFC 9420 §10.1 forbids it).
    #[error("init key reused as encryption key")]
    KeyReuse,
    /// The key package does not encode.
    #[error("malformed key package: {0}")]
    Codec(#[from] CodecError),
    /// Key generation or signing failed (opaque).
    #[error("{0}")]
    Crypto(#[from] CryptoError),
}
