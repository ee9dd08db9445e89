//! Application messages: RFC 9420 `PrivateMessage`s under the sender's ratchet.

use std::fmt;

use rcsec_core::Secret;
use zeroize::Zeroize;

use super::{Group, GroupError};
use crate::mls::codec::{Decode, Encode};
use crate::mls::framing::{
    Content, ContentType, FramedContent, FramingError, MlsMessage, PrivateMessage, Sender,
};
use crate::mls::tree_math::LeafIndex;

/// A decrypted, authenticated application message.
pub struct ApplicationMessage {
    sender: LeafIndex,
    sender_identity: Vec<u8>,
    epoch: u64,
    data: Secret<Vec<u8>>,
}

impl fmt::Debug for ApplicationMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationMessage")
            .field("sender", &self.sender)
            .field("epoch", &self.epoch)
            .field("len", &self.data.expose_secret().len())
            .finish_non_exhaustive()
    }
}

impl ApplicationMessage {
    /// The sender's leaf.
    pub fn sender(&self) -> LeafIndex {
        self.sender
    }

    /// The sender's credential identity (its signature was verified).
    pub fn sender_identity(&self) -> &[u8] {
        &self.sender_identity
    }

    /// The epoch the message was sent in.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The plaintext.
    pub fn data(&self) -> &[u8] {
        self.data.expose_secret()
    }

    /// The plaintext, still zeroized on drop.
    pub fn into_data(self) -> Secret<Vec<u8>> {
        self.data
    }
}

impl Group {
    /// Signs and encrypts `plaintext` as an application message of the current epoch; the
    /// result is an RFC 9420 `MLSMessage` for every other member.
    ///
    /// The ratchet key used is deleted at once.
    ///
    /// # Errors
    /// [`GroupError::Removed`]; [`GroupError::Framing`] when the sender's ratchet is exhausted
    /// or the message exceeds the encoding limits.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, GroupError> {
        self.encrypt_with_aad(plaintext, &[])
    }

    /// [`Group::encrypt`] with `authenticated_data` sent in the clear but authenticated (for
    /// routing hints; never put alert content there).
    ///
    /// # Errors
    /// As [`Group::encrypt`].
    pub fn encrypt_with_aad(
        &mut self,
        plaintext: &[u8],
        authenticated_data: &[u8],
    ) -> Result<Vec<u8>, GroupError> {
        self.ensure_member()?;
        let mut content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(self.own_leaf),
            authenticated_data: authenticated_data.to_vec(),
            content: Content::Application(plaintext.to_vec()),
        };
        let result = PrivateMessage::protect(
            &content,
            None,
            &self.context,
            &self.signer,
            self.keys.sender_data_secret.expose_secret(),
            &mut self.secret_tree,
            self.config.padding_for(plaintext.len()),
        );
        if let Content::Application(data) = &mut content.content {
            data.zeroize();
        }
        Ok(MlsMessage::Private(result?).to_bytes()?)
    }

    /// Decrypts and authenticates an application message of the current epoch or of one of
    /// the retained past epochs.
    ///
    /// The key is consumed: decrypting the same message twice fails.
    ///
    /// # Errors
    /// [`GroupError::Codec`]; [`GroupError::UnexpectedMessage`] for a commit or another wire
    /// format; [`GroupError::WrongGroup`]; [`GroupError::FutureEpoch`];
    /// [`GroupError::EpochTooOld`]; [`GroupError::FormerMember`] for a past-epoch message
    /// from a device no longer in the group; [`GroupError::Framing`] for a failed
    /// decryption or signature, a replay, or a generation beyond the forward limit or
    /// outside the out-of-order window; [`GroupError::Removed`].
    pub fn decrypt(&mut self, bytes: &[u8]) -> Result<ApplicationMessage, GroupError> {
        self.ensure_member()?;
        let MlsMessage::Private(message) = MlsMessage::from_bytes(bytes)? else {
            return Err(GroupError::UnexpectedMessage);
        };
        if message.group_id != self.context.group_id {
            return Err(GroupError::WrongGroup);
        }
        if message.content_type != ContentType::Application {
            return Err(GroupError::UnexpectedMessage);
        }
        let roster = &self.roster;
        let authenticated = if message.epoch == self.context.epoch {
            message.unprotect(
                &self.context,
                self.keys.sender_data_secret.expose_secret(),
                &mut self.secret_tree,
                |leaf| roster.member(leaf).map(|m| m.signature_key),
            )?
        } else if message.epoch > self.context.epoch {
            return Err(GroupError::FutureEpoch);
        } else {
            let past = self
                .past
                .iter_mut()
                .find(|p| p.context.epoch == message.epoch)
                .ok_or(GroupError::EpochTooOld)?;
            let keys = &past.signature_keys;
            message
                .unprotect(
                    &past.context,
                    past.sender_data_secret.expose_secret(),
                    &mut past.secret_tree,
                    |leaf| {
                        let then = keys.get(leaf.0 as usize).copied().flatten()?;
                        let now = roster.member(leaf)?.signature_key;
                        (then == now).then_some(then)
                    },
                )
                .map_err(|e| match e {
                    FramingError::UnknownSender => GroupError::FormerMember,
                    e => GroupError::Framing(e),
                })?
        };
        let Sender::Member(sender) = authenticated.content.sender else {
            return Err(GroupError::UnexpectedMessage);
        };
        let Content::Application(data) = authenticated.content.content else {
            return Err(GroupError::UnexpectedMessage);
        };
        let data = Secret::new(data);
        let sender_identity = roster
            .member(sender)
            .map(|m| m.identity().to_vec())
            .unwrap_or_default();
        Ok(ApplicationMessage {
            sender,
            sender_identity,
            epoch: message.epoch,
            data,
        })
    }
}
