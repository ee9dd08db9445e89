//! `PublicMessage` (RFC 9420 §6.2): signed, membership-tagged, unencrypted handshake messages.

use super::FramingError;
use super::content::{
    AuthenticatedContent, ContentType, FramedContent, FramedContentAuthData, Sender, WireFormat,
};
use crate::mls::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use crate::mls::crypto::{SignaturePublicKey, SignatureSecretKey, mac, verify_mac};
use crate::mls::group_context::GroupContext;

/// A PublicMessage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicMessage {
    /// The content.
    pub content: FramedContent,
    /// Signature and, for commits, the confirmation tag.
    pub auth: FramedContentAuthData,
    /// `MAC(membership_key, AuthenticatedContentTBM)`; present exactly for member senders.
    pub membership_tag: Option<Vec<u8>>,
}

impl Encode for PublicMessage {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        self.content.encode(out)?;
        self.auth.encode(out)?;
        if let Some(tag) = &self.membership_tag {
            out.put_vector(tag)?;
        }
        Ok(())
    }
}

impl Decode for PublicMessage {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let content = FramedContent::decode(r)?;
        let auth = FramedContentAuthData::decode(content.content.content_type(), r)?;
        let membership_tag = match content.sender {
            Sender::Member(_) => Some(r.vector()?.to_vec()),
            _ => None,
        };
        Ok(Self {
            content,
            auth,
            membership_tag,
        })
    }
}

/// `AuthenticatedContentTBM = FramedContentTBS || FramedContentAuthData`.
fn to_be_maced(
    content: &FramedContent,
    auth: &FramedContentAuthData,
    group_context: &GroupContext,
) -> Result<Vec<u8>, CodecError> {
    let mut tbm = content.to_be_signed(WireFormat::PublicMessage, group_context)?;
    auth.encode(&mut tbm)?;
    Ok(tbm)
}

impl PublicMessage {
    /// Signs `content` and, for a member sender, adds the membership tag.
    ///
    /// `confirmation_tag` must be given exactly for commits.
    ///
    /// # Errors
    /// [`FramingError::ApplicationAsPublic`] for application data (RFC 9420 §6.2 forbids it),
    /// [`FramingError::WrongGroup`] when `content` is not for `group_context`,
    /// [`FramingError::ConfirmationTag`] for a misplaced or missing tag.
    pub fn protect(
        content: FramedContent,
        confirmation_tag: Option<Vec<u8>>,
        group_context: &GroupContext,
        signer: &SignatureSecretKey,
        membership_key: &[u8],
    ) -> Result<Self, FramingError> {
        let ty = content.content.content_type();
        if ty == ContentType::Application {
            return Err(FramingError::ApplicationAsPublic);
        }
        super::check_group(&content.group_id, content.epoch, group_context)?;
        let auth = FramedContentAuthData {
            signature: content.sign(WireFormat::PublicMessage, group_context, signer)?,
            confirmation_tag,
        };
        auth.check(ty)?;
        let membership_tag = match content.sender {
            Sender::Member(_) => Some(
                mac(
                    membership_key,
                    &to_be_maced(&content, &auth, group_context)?,
                )?
                .to_vec(),
            ),
            _ => None,
        };
        Ok(Self {
            content,
            auth,
            membership_tag,
        })
    }

    /// Checks group, epoch, membership tag (constant time) and signature, and returns the
    /// authenticated content. `sender_key` is the signature key of `self.content.sender`.
    ///
    /// # Errors
    /// [`FramingError::WrongGroup`], [`FramingError::ApplicationAsPublic`],
    /// [`FramingError::BadMembershipTag`], [`FramingError::BadSignature`],
    /// [`FramingError::ConfirmationTag`].
    pub fn unprotect(
        &self,
        group_context: &GroupContext,
        membership_key: &[u8],
        sender_key: &SignaturePublicKey,
    ) -> Result<AuthenticatedContent, FramingError> {
        let ty = self.content.content.content_type();
        if ty == ContentType::Application {
            return Err(FramingError::ApplicationAsPublic);
        }
        super::check_group(&self.content.group_id, self.content.epoch, group_context)?;
        self.auth.check(ty)?;
        match (&self.content.sender, &self.membership_tag) {
            (Sender::Member(_), Some(tag)) => {
                let tbm = to_be_maced(&self.content, &self.auth, group_context)?;
                verify_mac(membership_key, &tbm, tag)
                    .map_err(|_| FramingError::BadMembershipTag)?;
            }
            (Sender::Member(_), None) | (_, Some(_)) => {
                return Err(FramingError::BadMembershipTag);
            }
            (_, None) => {}
        }
        self.content.verify(
            WireFormat::PublicMessage,
            group_context,
            &self.auth.signature,
            sender_key,
        )?;
        Ok(AuthenticatedContent {
            wire_format: WireFormat::PublicMessage,
            content: self.content.clone(),
            auth: self.auth.clone(),
        })
    }
}
