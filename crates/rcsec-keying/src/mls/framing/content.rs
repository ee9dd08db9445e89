//! `FramedContent`, its authentication data and the signed `FramedContentTBS`
//! (RFC 9420 §6, §6.1).

use std::fmt;

use super::FramingError;
use super::proposal::{Commit, Proposal};
use crate::mls::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use crate::mls::crypto::{SignaturePublicKey, SignatureSecretKey};
use crate::mls::group_context::{GroupContext, PROTOCOL_VERSION};
use crate::mls::tree_math::LeafIndex;

/// How a message is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFormat {
    /// `mls_public_message` (1).
    PublicMessage,
    /// `mls_private_message` (2).
    PrivateMessage,
    /// `mls_welcome` (3).
    Welcome,
    /// `mls_group_info` (4).
    GroupInfo,
    /// `mls_key_package` (5).
    KeyPackage,
}

impl WireFormat {
    /// The registered code point.
    pub fn code(self) -> u16 {
        match self {
            Self::PublicMessage => 1,
            Self::PrivateMessage => 2,
            Self::Welcome => 3,
            Self::GroupInfo => 4,
            Self::KeyPackage => 5,
        }
    }
}

impl Encode for WireFormat {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.code().to_be_bytes());
        Ok(())
    }
}

impl Decode for WireFormat {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(match r.u16()? {
            1 => Self::PublicMessage,
            2 => Self::PrivateMessage,
            3 => Self::Welcome,
            4 => Self::GroupInfo,
            5 => Self::KeyPackage,
            value => {
                return Err(CodecError::UnknownValue {
                    field: "wire_format",
                    value: u64::from(value),
                });
            }
        })
    }
}

/// The kind of content a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// Application data (1).
    Application,
    /// A proposal (2).
    Proposal,
    /// A commit (3).
    Commit,
}

impl ContentType {
    /// The registered code point.
    pub fn code(self) -> u8 {
        match self {
            Self::Application => 1,
            Self::Proposal => 2,
            Self::Commit => 3,
        }
    }

    /// The content type with this code point.
    ///
    /// # Errors
    /// [`CodecError::UnknownValue`].
    pub fn from_code(code: u8) -> Result<Self, CodecError> {
        match code {
            1 => Ok(Self::Application),
            2 => Ok(Self::Proposal),
            3 => Ok(Self::Commit),
            value => Err(CodecError::UnknownValue {
                field: "content_type",
                value: u64::from(value),
            }),
        }
    }
}

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// A member, by leaf (1).
    Member(LeafIndex),
    /// An external sender, by index into the external senders extension (2).
    External(u32),
    /// A prospective member proposing its own addition (3).
    NewMemberProposal,
    /// A new member joining by external commit (4).
    NewMemberCommit,
}

impl Encode for Sender {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        match self {
            Self::Member(leaf) => {
                out.push(1);
                out.extend_from_slice(&leaf.0.to_be_bytes());
            }
            Self::External(index) => {
                out.push(2);
                out.extend_from_slice(&index.to_be_bytes());
            }
            Self::NewMemberProposal => out.push(3),
            Self::NewMemberCommit => out.push(4),
        }
        Ok(())
    }
}

impl Decode for Sender {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(match r.u8()? {
            1 => Self::Member(LeafIndex(r.u32()?)),
            2 => Self::External(r.u32()?),
            3 => Self::NewMemberProposal,
            4 => Self::NewMemberCommit,
            value => {
                return Err(CodecError::UnknownValue {
                    field: "sender_type",
                    value: u64::from(value),
                });
            }
        })
    }
}

/// The body of a message.
#[derive(Clone, PartialEq, Eq)]
pub enum Content {
    /// Application data.
    Application(Vec<u8>),
    /// A proposal.
    Proposal(Proposal),
    /// A commit (boxed: it is much larger than the other variants).
    Commit(Box<Commit>),
}

impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Application(data) => write!(f, "Application({} bytes)", data.len()),
            Self::Proposal(p) => f.debug_tuple("Proposal").field(p).finish(),
            Self::Commit(c) => f.debug_tuple("Commit").field(c).finish(),
        }
    }
}

impl Content {
    /// The content type of this body.
    pub fn content_type(&self) -> ContentType {
        match self {
            Self::Application(_) => ContentType::Application,
            Self::Proposal(_) => ContentType::Proposal,
            Self::Commit(_) => ContentType::Commit,
        }
    }

    /// Encodes the body alone (without the content type byte).
    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        match self {
            Self::Application(data) => out.put_vector(data),
            Self::Proposal(p) => p.encode(out),
            Self::Commit(c) => c.encode(out),
        }
    }

    /// Decodes a body of the given type.
    pub(crate) fn decode_body(ty: ContentType, r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(match ty {
            ContentType::Application => Self::Application(r.vector()?.to_vec()),
            ContentType::Proposal => Self::Proposal(Proposal::decode(r)?),
            ContentType::Commit => Self::Commit(Box::new(Commit::decode(r)?)),
        })
    }
}

/// The content of a message with its group binding, before authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramedContent {
    /// The group.
    pub group_id: Vec<u8>,
    /// The epoch.
    pub epoch: u64,
    /// The sender.
    pub sender: Sender,
    /// Additional authenticated, unencrypted data.
    pub authenticated_data: Vec<u8>,
    /// The body.
    pub content: Content,
}

impl Encode for FramedContent {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.put_vector(&self.group_id)?;
        out.extend_from_slice(&self.epoch.to_be_bytes());
        self.sender.encode(out)?;
        out.put_vector(&self.authenticated_data)?;
        out.push(self.content.content_type().code());
        self.content.encode_body(out)
    }
}

impl Decode for FramedContent {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let group_id = r.vector()?.to_vec();
        let epoch = r.u64()?;
        let sender = Sender::decode(r)?;
        let authenticated_data = r.vector()?.to_vec();
        let ty = ContentType::from_code(r.u8()?)?;
        Ok(Self {
            group_id,
            epoch,
            sender,
            authenticated_data,
            content: Content::decode_body(ty, r)?,
        })
    }
}

impl FramedContent {
    /// `FramedContentTBS`: what the sender signs.
    ///
    /// # Errors
    /// [`CodecError`] for oversized fields.
    pub fn to_be_signed(
        &self,
        wire_format: WireFormat,
        group_context: &GroupContext,
    ) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::new();
        out.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
        wire_format.encode(&mut out)?;
        self.encode(&mut out)?;
        if matches!(self.sender, Sender::Member(_) | Sender::NewMemberCommit) {
            group_context.encode(&mut out)?;
        }
        Ok(out)
    }

    /// Signs with `SignWithLabel(., "FramedContentTBS", FramedContentTBS)`.
    ///
    /// # Errors
    /// [`FramingError`] for oversized fields.
    pub fn sign(
        &self,
        wire_format: WireFormat,
        group_context: &GroupContext,
        signer: &SignatureSecretKey,
    ) -> Result<Vec<u8>, FramingError> {
        let tbs = self.to_be_signed(wire_format, group_context)?;
        Ok(signer.sign_with_label("FramedContentTBS", &tbs)?.to_vec())
    }

    /// Verifies a signature made by [`FramedContent::sign`].
    ///
    /// # Errors
    /// [`FramingError::BadSignature`].
    pub fn verify(
        &self,
        wire_format: WireFormat,
        group_context: &GroupContext,
        signature: &[u8],
        key: &SignaturePublicKey,
    ) -> Result<(), FramingError> {
        let tbs = self.to_be_signed(wire_format, group_context)?;
        key.verify_with_label("FramedContentTBS", &tbs, signature)
            .map_err(|_| FramingError::BadSignature)
    }
}

/// `FramedContentAuthData`: the signature and, for commits, the confirmation tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramedContentAuthData {
    /// The sender's signature over `FramedContentTBS`.
    pub signature: Vec<u8>,
    /// `MAC(confirmation_key, confirmed_transcript_hash)`; present exactly for commits.
    pub confirmation_tag: Option<Vec<u8>>,
}

impl FramedContentAuthData {
    /// Appends the encoding.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.put_vector(&self.signature)?;
        if let Some(tag) = &self.confirmation_tag {
            out.put_vector(tag)?;
        }
        Ok(())
    }

    /// Reads auth data for content of type `ty`.
    pub(crate) fn decode(ty: ContentType, r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let signature = r.vector()?.to_vec();
        let confirmation_tag = match ty {
            ContentType::Commit => Some(r.vector()?.to_vec()),
            _ => None,
        };
        Ok(Self {
            signature,
            confirmation_tag,
        })
    }

    /// Checks that a confirmation tag is present exactly when `ty` is a commit.
    pub(crate) fn check(&self, ty: ContentType) -> Result<(), FramingError> {
        if self.confirmation_tag.is_some() == (ty == ContentType::Commit) {
            Ok(())
        } else {
            Err(FramingError::ConfirmationTag)
        }
    }
}

/// `AuthenticatedContent`: content, how it was framed, and its authentication. This is what
/// both framings unprotect to and what the transcript hash consumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedContent {
    /// The framing the content arrived in.
    pub wire_format: WireFormat,
    /// The content.
    pub content: FramedContent,
    /// Signature and confirmation tag.
    pub auth: FramedContentAuthData,
}

impl Encode for AuthenticatedContent {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        self.wire_format.encode(out)?;
        self.content.encode(out)?;
        self.auth.encode(out)
    }
}

impl Decode for AuthenticatedContent {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let wire_format = WireFormat::decode(r)?;
        let content = FramedContent::decode(r)?;
        let auth = FramedContentAuthData::decode(content.content.content_type(), r)?;
        Ok(Self {
            wire_format,
            content,
            auth,
        })
    }
}
