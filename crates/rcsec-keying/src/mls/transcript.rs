//! Transcript hashes (RFC 9420 §8.2): the confirmed hash binds every commit, the interim
//! hash adds the commit's confirmation tag.
//!
//! ```text
//! confirmed_n = Hash(interim_{n-1} || wire_format || FramedContent || V(signature))
//! interim_n   = Hash(confirmed_n || V(confirmation_tag))
//! ```

use super::codec::{CodecError, Encode, WriteExt};
use super::crypto::{NH, hash};
use super::framing::{AuthenticatedContent, FramingError};

/// The confirmed and interim transcript hashes after a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptHashes {
    /// Input to the next epoch's group context and confirmation tag.
    pub confirmed: [u8; NH],
    /// Input to the next commit's confirmed hash.
    pub interim: [u8; NH],
}

/// `confirmed = Hash(interim_before || ConfirmedTranscriptHashInput)`.
///
/// # Errors
/// [`CodecError`] for oversized content.
pub fn confirmed_transcript_hash(
    interim_before: &[u8],
    commit: &AuthenticatedContent,
) -> Result<[u8; NH], CodecError> {
    let mut input = interim_before.to_vec();
    commit.wire_format.encode(&mut input)?;
    commit.content.encode(&mut input)?;
    input.put_vector(&commit.auth.signature)?;
    Ok(hash(&input))
}

/// `interim = Hash(confirmed || V(confirmation_tag))`.
///
/// # Errors
/// [`CodecError`] for an oversized tag.
pub fn interim_transcript_hash(
    confirmed: &[u8],
    confirmation_tag: &[u8],
) -> Result<[u8; NH], CodecError> {
    let mut input = confirmed.to_vec();
    input.put_vector(confirmation_tag)?;
    Ok(hash(&input))
}

impl TranscriptHashes {
    /// Both hashes after `commit`, which must carry a confirmation tag.
    ///
    /// # Errors
    /// [`FramingError::ConfirmationTag`] for content without a tag; [`FramingError::Codec`].
    pub fn after_commit(
        interim_before: &[u8],
        commit: &AuthenticatedContent,
    ) -> Result<Self, FramingError> {
        let tag = commit
            .auth
            .confirmation_tag
            .as_ref()
            .ok_or(FramingError::ConfirmationTag)?;
        let confirmed = confirmed_transcript_hash(interim_before, commit)?;
        let interim = interim_transcript_hash(&confirmed, tag)?;
        Ok(Self { confirmed, interim })
    }
}
