//! Message framing (RFC 9420 §6): [`FramedContent`], [`PublicMessage`], [`PrivateMessage`]
//! and the [`MlsMessage`] envelope.
//!
//! Protecting signs the content over `FramedContentTBS` (bound to the [`GroupContext`]); a
//! PublicMessage adds a membership tag, a PrivateMessage encrypts under the sender's ratchet
//! and hides the sender under the sender-data key. Unprotecting checks group and epoch first,
//! then the MAC or AEAD, then the signature, and returns an [`AuthenticatedContent`].

mod content;
mod message;
mod private;
mod proposal;
mod public;

pub use content::{
    AuthenticatedContent, Content, ContentType, FramedContent, FramedContentAuthData, Sender,
    WireFormat,
};
pub use message::MlsMessage;
pub use private::{PrivateMessage, ReuseGuard, SenderData, sender_data_key};
pub use proposal::{Commit, Proposal, ProposalOrRef, UpdatePath, UpdatePathNode};
pub use public::PublicMessage;

use super::codec::CodecError;
use super::crypto::CryptoError;
use super::group_context::GroupContext;
use super::secret_tree::SecretTreeError;

/// Why a message could not be protected or unprotected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// The message is malformed.
    #[error("malformed message: {0}")]
    Codec(#[from] CodecError),
    /// A cryptographic operation failed (opaque).
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    /// No key for the sender's generation (replay, too far ahead, unknown leaf).
    #[error("no key: {0}")]
    SecretTree(#[from] SecretTreeError),
    /// The message is for another group or epoch.
    #[error("message is for another group or epoch")]
    WrongGroup,
    /// Application data must not be sent as a PublicMessage.
    #[error("application data cannot be a public message")]
    ApplicationAsPublic,
    /// Only members can send PrivateMessages.
    #[error("sender is not a member")]
    NotAMember,
    /// No signature key is known for the sender.
    #[error("unknown sender")]
    UnknownSender,
    /// The confirmation tag is missing on a commit or present on another type.
    #[error("confirmation tag presence does not match content type")]
    ConfirmationTag,
    /// The membership tag is missing or wrong.
    #[error("invalid membership tag")]
    BadMembershipTag,
    /// The signature did not verify.
    #[error("invalid signature")]
    BadSignature,
    /// Padding contained non-zero bytes.
    #[error("non-zero padding")]
    Padding,
}

/// Checks that a message's group id and epoch are the context's.
fn check_group(
    group_id: &[u8],
    epoch: u64,
    group_context: &GroupContext,
) -> Result<(), FramingError> {
    if group_id == group_context.group_id.as_slice() && epoch == group_context.epoch {
        Ok(())
    } else {
        Err(FramingError::WrongGroup)
    }
}
