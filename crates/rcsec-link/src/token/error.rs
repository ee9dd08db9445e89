//! Why a link was refused: the typed reasons and their stable codes.

use std::fmt;

/// Every reason a link can be refused, across token verification and the store.
///
/// [`RejectReason::reason_code`] is a stable, lowercase identifier that the CLI prints and the
/// gateway may show; it never carries detail about the token or the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// Not a token of a supported format.
    Malformed,
    /// The key id names no key this keyring can verify with (never existed, or retired).
    UnknownKey,
    /// The authentication tag does not match: forged or tampered.
    BadSignature,
    /// The token's validity window has ended.
    Expired,
    /// The token's validity window has not started.
    NotYetValid,
    /// The recipient, client address or device differs from the one the link was bound to.
    BindingMismatch,
    /// The store has no use left for this link.
    Consumed,
    /// The link (or its whole alert) was revoked, or its record is gone.
    Revoked,
}

impl RejectReason {
    /// All reasons, in the order above.
    pub const ALL: [Self; 8] = [
        Self::Malformed,
        Self::UnknownKey,
        Self::BadSignature,
        Self::Expired,
        Self::NotYetValid,
        Self::BindingMismatch,
        Self::Consumed,
        Self::Revoked,
    ];

    /// The stable reason code: `malformed`, `unknown_key`, `bad_signature`, `expired`,
    /// `not_yet_valid`, `binding_mismatch`, `consumed` or `revoked`.
    pub const fn reason_code(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::BindingMismatch => "binding_mismatch",
            Self::Consumed => "consumed",
            Self::Revoked => "revoked",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason_code())
    }
}

/// Why a token failed stateless verification (no store was consulted).
///
/// Deliberately detail-free: a tag mismatch says nothing about which bytes differed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Wrong length, alphabet, version or field encoding.
    #[error("malformed token")]
    Malformed,
    /// No usable key with the token's key id.
    #[error("unknown key id")]
    UnknownKey,
    /// The tag does not authenticate the token.
    #[error("bad token signature")]
    BadSignature,
    /// Past the token's expiry.
    #[error("token expired")]
    Expired,
    /// Before the token's not-before time.
    #[error("token not yet valid")]
    NotYetValid,
    /// The presented recipient or client address is not the one the token is bound to.
    #[error("token binding mismatch")]
    BindingMismatch,
}

impl VerifyError {
    /// The matching [`RejectReason`].
    pub const fn reason(self) -> RejectReason {
        match self {
            Self::Malformed => RejectReason::Malformed,
            Self::UnknownKey => RejectReason::UnknownKey,
            Self::BadSignature => RejectReason::BadSignature,
            Self::Expired => RejectReason::Expired,
            Self::NotYetValid => RejectReason::NotYetValid,
            Self::BindingMismatch => RejectReason::BindingMismatch,
        }
    }

    /// Shorthand for `self.reason().reason_code()`.
    pub const fn reason_code(self) -> &'static str {
        self.reason().reason_code()
    }
}

/// Why a token could not be minted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MintError {
    /// The TTL is zero or longer than the keyring's `max_ttl`.
    #[error("token ttl is zero or longer than the keyring allows")]
    TtlOutOfRange,
    /// The expiry does not fit the token's 32-bit seconds field (after 2106).
    #[error("token expiry is out of range")]
    ExpiryOutOfRange,
    /// The keyring's active key has no key material (a corrupt keyring).
    #[error("keyring has no usable active key")]
    NoActiveKey,
    /// Re-minting for another key needs the recipient's number, which was not given.
    #[error("recipient required to re-mint under the current key")]
    RecipientRequired,
    /// The random source failed.
    #[error(transparent)]
    Random(#[from] crate::RandomError),
}
