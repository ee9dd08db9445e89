//! [`GroupError`]: why a group operation failed.

use crate::device::KeyPackageError;
use crate::mls::codec::CodecError;
use crate::mls::crypto::CryptoError;
use crate::mls::framing::FramingError;
use crate::mls::key_schedule::KeyScheduleError;
use crate::mls::secret_tree::SecretTreeError;

/// Why a group operation failed. Never carries plaintext, keys or secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// Bytes that do not decode.
    #[error("malformed input: {0}")]
    Codec(#[from] CodecError),
    /// Protection or unprotection of a message failed (decryption, signature, replay, ...).
    #[error("message rejected: {0}")]
    Framing(#[from] FramingError),
    /// A cryptographic operation failed (opaque).
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// Key schedule derivation failed.
    #[error("{0}")]
    KeySchedule(#[from] KeyScheduleError),
    /// A key package in a commit or an add was refused.
    #[error("key package: {0}")]
    KeyPackage(#[from] KeyPackageError),
    /// The message belongs to another group.
    #[error("message is for another group")]
    WrongGroup,
    /// The message is from an epoch this member has not reached (process the commit first).
    #[error("message is from a future epoch")]
    FutureEpoch,
    /// The message is from an epoch older than the retained window.
    #[error("message is from an epoch no longer retained")]
    EpochTooOld,
    /// A handshake message was given where an application message was expected, or the
    /// reverse.
    #[error("unexpected message type")]
    UnexpectedMessage,
    /// The sender of a past-epoch message is no longer a member.
    #[error("sender is no longer a member")]
    FormerMember,
    /// This device was removed from the group; it can neither send nor read.
    #[error("this device is no longer a member of the group")]
    Removed,
    /// A commit names a leaf that holds no member, or removes its own committer.
    #[error("commit references an invalid member")]
    InvalidMember,
    /// A commit or operation is structurally invalid (e.g. nothing to commit).
    #[error("invalid commit: {0}")]
    InvalidCommit(&'static str),
    /// The commit carries no epoch secret for this member.
    #[error("commit carries no secret for this member")]
    NoSecretForMember,
    /// The confirmation tag did not match: the members disagree on the new epoch.
    #[error("invalid confirmation tag")]
    BadConfirmationTag,
    /// The Welcome is not addressed to the given key package.
    #[error("welcome is not for this key package")]
    WelcomeNotForUs,
    /// The Welcome's group information is inconsistent or unsigned.
    #[error("invalid welcome: {0}")]
    InvalidWelcome(&'static str),
    /// A stored state has an unknown version tag.
    #[error("unsupported group state version {0}")]
    UnsupportedStateVersion(u16),
    /// A stored state is inconsistent.
    #[error("corrupt group state: {0}")]
    CorruptState(&'static str),
    /// The group cannot grow further.
    #[error("group is full")]
    GroupFull,
    /// Too many messages in one epoch from this member.
    #[error("ratchet exhausted: {0}")]
    SecretTree(#[from] SecretTreeError),
}
