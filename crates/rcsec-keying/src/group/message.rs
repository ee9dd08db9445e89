//! Application messages: RFC 9420 `PrivateMessage`s under the sender's ratchet.

use std::fmt;

use rcsec_core::Secret;
use zeroize::Zeroize;

use super::{Group, GroupError, signature_key};
use crate::mls::codec::{Decode, Encode};
use crate::mls::framing::{
    Content, ContentType, FramedContent, FramingError, MlsMessage, PrivateMessage, Sender,
};
use crate::mls::key_package::Credential;
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
        let padding = self.config.padding_for(plaintext.len());
        let own_leaf = self.own_leaf();
        let keys = self.state.message_keys();
        let mut content = FramedContent {
            group_id: keys.context.group_id.clone(),
            epoch: keys.context.epoch,
            sender: Sender::Member(own_leaf),
            authenticated_data: authenticated_data.to_vec(),
            content: Content::Application(plaintext.to_vec()),
        };
        let result = PrivateMessage::protect(
            &content,
            None,
            keys.context,
            keys.signer,
            keys.sender_data_secret,
            keys.secret_tree,
            padding,
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
        if message.group_id.as_slice() != self.group_id() {
            return Err(GroupError::WrongGroup);
        }
        if message.content_type != ContentType::Application {
            return Err(GroupError::UnexpectedMessage);
        }
        let current_epoch = self.epoch();
        let keys = self.state.message_keys();
        let tree = keys.tree;
        let authenticated = if message.epoch == current_epoch {
            message.unprotect(
                keys.context,
                keys.sender_data_secret,
                keys.secret_tree,
                |leaf| signature_key(tree, leaf),
            )?
        } else if message.epoch > current_epoch {
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
                        // Only senders still in the group with the same key: a removed
                        // device cannot keep talking through an old epoch.
                        let then = keys.get(leaf.0 as usize).copied().flatten()?;
                        let now = signature_key(tree, leaf)?;
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
        let sender_identity = match self.state.tree().leaf(sender).map(|l| &l.credential) {
            Some(Credential::Basic { identity }) => identity.clone(),
            _ => Vec::new(),
        };
        Ok(ApplicationMessage {
            sender,
            sender_identity,
            epoch: message.epoch,
            data,
        })
    }
}
