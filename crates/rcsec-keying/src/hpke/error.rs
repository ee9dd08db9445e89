//! The one error type of the HPKE module.

/// Why an HPKE operation did not complete.
///
/// Variants about the *shape* of the input (key and encapsulation lengths, psk consistency,
/// export length) say what was wrong, since the caller controls and can fix them. Variants about
/// the *cryptography* ([`HpkeError::OpenFailed`], [`HpkeError::ZeroSharedSecret`]) are
/// deliberately opaque: they carry no detail that could help an attacker tell a wrong key from a
/// tampered ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HpkeError {
    /// A private or public key is not 32 bytes (X25519).
    #[error("wrong key length: expected {expected} bytes, got {actual}")]
    KeyLength {
        /// The length this suite requires.
        expected: usize,
        /// The length that was given.
        actual: usize,
    },
    /// The encapsulated key (`enc`) is not a 32-byte X25519 public key.
    #[error("malformed encapsulated key")]
    BadEncapsulation,
    /// An X25519 exchange produced the all-zero shared secret: the peer's public key is a
    /// low-order point (RFC 9180 §7.1.4 requires aborting).
    #[error("diffie-hellman produced the all-zero shared secret")]
    ZeroSharedSecret,
    /// Authenticated decryption failed: wrong key, wrong psk or sender, or tampered input.
    #[error("decryption failed")]
    OpenFailed,
    /// The AEAD refused to encrypt (the plaintext or aad exceeds AES-GCM's limits).
    #[error("encryption failed")]
    SealFailed,
    /// The context has used every sequence number it may (RFC 9180 `MessageLimitReachedError`).
    #[error("message limit reached: sequence number exhausted")]
    MessageLimitReached,
    /// An export asked for more bytes than HKDF-SHA256 can produce (255 * 32).
    #[error("export length {requested} exceeds the maximum of {max} bytes")]
    ExportTooLong {
        /// The length asked for.
        requested: usize,
        /// The largest length this KDF allows.
        max: usize,
    },
    /// The context was set up with the export-only AEAD, which cannot seal or open.
    #[error("export-only aead cannot seal or open")]
    ExportOnly,
    /// A psk was given without a psk id, or the other way round.
    #[error("inconsistent psk inputs: psk and psk id must both be given or both be empty")]
    InconsistentPsk,
    /// A psk mode was selected without a psk.
    #[error("missing required psk input")]
    MissingPsk,
    /// A psk was given in a mode that does not use one.
    #[error("psk input provided when not needed")]
    UnexpectedPsk,
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Rng,
    /// A step that cannot fail did; this is a bug in this crate, never caused by input.
    #[error("internal error")]
    Internal,
}
