//! [`GroupError`]: why a group operation failed.

use crate::device::KeyPackageError;
use crate::mls::codec::CodecError;
use crate::mls::crypto::CryptoError;
use crate::mls::framing::FramingError;
use crate::mls::key_schedule::KeyScheduleError;
use crate::mls::secret_tree::SecretTreeError;
use crate::mls::state::GroupError as StateError;
use crate::mls::tree::{LeafError, TreeError};
use crate::mls::treekem::TreeKemError;
use crate::mls::welcome::WelcomeError;

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

/// How a failure of the underlying RFC 9420 member reads to the on-call API while it
/// processes or makes a commit (the coarse, `Copy` variants above; reasons are static).
impl From<StateError> for GroupError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Welcome(w) => welcome_error(w),
            StateError::Framing(f) => Self::Framing(f),
            StateError::Tree(t) => t.into(),
            StateError::TreeKem(t) => treekem_error(t),
            StateError::Codec(c) => Self::Codec(c),
            StateError::Crypto(c) => Self::Crypto(c),
            StateError::KeySchedule(k) => Self::KeySchedule(k),
            StateError::Psk(_) | StateError::UnknownPsk => {
                Self::InvalidCommit("pre-shared keys are not supported")
            }
            StateError::NoTree => Self::InvalidWelcome("no ratchet tree"),
            StateError::NotInTree => Self::InvalidWelcome("key package not in the tree"),
            StateError::BadGroupInfoSignature => Self::InvalidWelcome("group info signature"),
            StateError::BadConfirmationTag => Self::BadConfirmationTag,
            StateError::UnknownProposal => Self::InvalidCommit("unknown proposal reference"),
            StateError::InvalidProposals(reason)
            | StateError::BadSender(reason)
            | StateError::Unexpected(reason)
            | StateError::Unsupported(reason) => Self::InvalidCommit(reason),
            StateError::InvalidLeaf { .. } => Self::InvalidCommit("invalid leaf"),
            StateError::InvalidKeyPackage(reason) => Self::KeyPackage(key_package_error(reason)),
            StateError::PathRequired => Self::InvalidCommit("missing path"),
            StateError::TooManyProposals => Self::InvalidCommit("too many proposals"),
            StateError::Removed => Self::Removed,
        }
    }
}

/// A failed join: tree and leaf problems are problems of the Welcome.
pub(super) fn join_error(e: StateError) -> GroupError {
    match e {
        StateError::Tree(TreeError::Codec(c)) => GroupError::Codec(c),
        StateError::Tree(_) => GroupError::InvalidWelcome("ratchet tree"),
        StateError::TreeKem(TreeKemError::Crypto(c)) => GroupError::Crypto(c),
        StateError::TreeKem(_) => GroupError::InvalidWelcome("path secret"),
        other => other.into(),
    }
}

fn welcome_error(e: WelcomeError) -> GroupError {
    match e {
        WelcomeError::NotForUs => GroupError::WelcomeNotForUs,
        WelcomeError::Codec(c) => GroupError::Codec(c),
        WelcomeError::Crypto(c) => GroupError::Crypto(c),
        WelcomeError::KeySchedule(k) => GroupError::KeySchedule(k),
        WelcomeError::BadConfirmationTag => GroupError::BadConfirmationTag,
        WelcomeError::UnsupportedSuite => GroupError::InvalidWelcome("cipher suite"),
        WelcomeError::UnknownPsk | WelcomeError::Psk(_) => {
            GroupError::InvalidWelcome("unsupported group secrets")
        }
        WelcomeError::UnknownSigner | WelcomeError::BadSignature => {
            GroupError::InvalidWelcome("group info signature")
        }
    }
}

impl From<TreeError> for GroupError {
    fn from(e: TreeError) -> Self {
        match e {
            TreeError::Codec(c) => Self::Codec(c),
            TreeError::Crypto(c) => Self::Crypto(c),
            TreeError::NoMember(_) => Self::InvalidMember,
            TreeError::TooLarge => Self::GroupFull,
            TreeError::Leaf { .. } => Self::InvalidCommit("invalid leaf"),
            TreeError::Structure(reason) => Self::InvalidCommit(reason),
            TreeError::ParentHash(_) => Self::InvalidCommit("tree is not parent-hash valid"),
        }
    }
}

fn treekem_error(e: TreeKemError) -> GroupError {
    match e {
        TreeKemError::Tree(t) => t.into(),
        TreeKemError::Crypto(c) => GroupError::Crypto(c),
        TreeKemError::Codec(c) => GroupError::Codec(c),
        TreeKemError::UnknownSender => GroupError::InvalidMember,
        TreeKemError::PathShape => GroupError::InvalidCommit("update path does not match the tree"),
        TreeKemError::Leaf(_) => GroupError::InvalidCommit("update path leaf"),
        TreeKemError::ParentHash => GroupError::InvalidCommit("update path parent hash"),
        TreeKemError::NoKey => GroupError::NoSecretForMember,
        TreeKemError::KeyMismatch => {
            GroupError::InvalidCommit("path secret does not match the path's keys")
        }
        TreeKemError::OwnPath => GroupError::InvalidCommit("own commit"),
    }
}

fn key_package_error(e: LeafError) -> KeyPackageError {
    match e {
        LeafError::BadSignature => KeyPackageError::BadSignature,
        LeafError::BadKey => KeyPackageError::InvalidKey,
        LeafError::Lifetime => KeyPackageError::Expired,
        LeafError::Source | LeafError::Unsupported => KeyPackageError::Unsupported,
        LeafError::Codec(c) => KeyPackageError::Codec(c),
    }
}
