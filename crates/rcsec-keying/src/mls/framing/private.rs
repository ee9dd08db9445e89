//! `PrivateMessage` (RFC 9420 §6.3): content encrypted under the secret tree, sender identity
//! encrypted under the sender-data secret, nonces guarded against reuse.

use std::fmt;

use rcsec_core::Secret;

use super::FramingError;
use super::content::{
    AuthenticatedContent, Content, ContentType, FramedContent, FramedContentAuthData, Sender,
    WireFormat,
};
use crate::mls::codec::{CodecError, Decode, Encode, MAX_VECTOR_LEN, Reader, WriteExt};
use crate::mls::crypto::{
    AeadKey, CryptoError, NH, NK, NN, SignaturePublicKey, SignatureSecretKey, expand_with_label,
};
use crate::mls::group_context::GroupContext;
use crate::mls::secret_tree::{RatchetType, SecretTree};
use crate::mls::tree_math::LeafIndex;

/// A PrivateMessage as it travels.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateMessage {
    /// The group.
    pub group_id: Vec<u8>,
    /// The epoch.
    pub epoch: u64,
    /// The (unencrypted) content type.
    pub content_type: ContentType,
    /// Additional authenticated, unencrypted data.
    pub authenticated_data: Vec<u8>,
    /// `SenderData` encrypted under the sender-data key.
    pub encrypted_sender_data: Vec<u8>,
    /// `PrivateMessageContent` encrypted under the sender's ratchet key.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for PrivateMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateMessage")
            .field("epoch", &self.epoch)
            .field("content_type", &self.content_type)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

impl Encode for PrivateMessage {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.put_vector(&self.group_id)?;
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.push(self.content_type.code());
        out.put_vector(&self.authenticated_data)?;
        out.put_vector(&self.encrypted_sender_data)?;
        out.put_vector(&self.ciphertext)
    }
}

impl Decode for PrivateMessage {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            group_id: r.vector()?.to_vec(),
            epoch: r.u64()?,
            content_type: ContentType::from_code(r.u8()?)?,
            authenticated_data: r.vector()?.to_vec(),
            encrypted_sender_data: r.vector()?.to_vec(),
            ciphertext: r.vector()?.to_vec(),
        })
    }
}

/// The 4 random bytes XORed into the first bytes of the content nonce, so that two senders
/// (or a sender that lost state) reusing a generation still do not reuse a nonce.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ReuseGuard([u8; 4]);

impl fmt::Debug for ReuseGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuseGuard(..)")
    }
}

impl ReuseGuard {
    /// A fresh guard from the OS random number generator.
    ///
    /// # Errors
    /// [`CryptoError::Random`].
    pub fn random() -> Result<Self, CryptoError> {
        let mut guard = [0u8; 4];
        getrandom::fill(&mut guard).map_err(|_| CryptoError::Random)?;
        Ok(Self(guard))
    }

    /// `nonce` with its first four bytes XORed with the guard.
    pub fn apply(self, nonce: &[u8; NN]) -> [u8; NN] {
        let mut out = *nonce;
        for (n, g) in out.iter_mut().zip(self.0) {
            *n ^= g;
        }
        out
    }
}

/// `SenderData`: who sent the message and which key and nonce they used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderData {
    /// The sender's leaf.
    pub leaf_index: LeafIndex,
    /// The ratchet generation used.
    pub generation: u32,
    /// The reuse guard applied to the nonce.
    pub reuse_guard: ReuseGuard,
}

impl SenderData {
    fn to_bytes(self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..4].copy_from_slice(&self.leaf_index.0.to_be_bytes());
        out[4..8].copy_from_slice(&self.generation.to_be_bytes());
        out[8..].copy_from_slice(&self.reuse_guard.0);
        out
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(bytes);
        let data = Self {
            leaf_index: LeafIndex(r.u32()?),
            generation: r.u32()?,
            reuse_guard: ReuseGuard(r.array()?),
        };
        r.finish()?;
        Ok(data)
    }
}

/// The sender-data key and nonce for a content ciphertext: `ExpandWithLabel(sender_data_secret,
/// "key"/"nonce", sample, Nk/Nn)` with `sample` the first `Nh` bytes of the ciphertext.
///
/// # Errors
/// [`CryptoError::InvalidLength`] for a sender-data secret that is not a valid PRK.
pub fn sender_data_key(
    sender_data_secret: &[u8],
    ciphertext: &[u8],
) -> Result<AeadKey, CryptoError> {
    let sample = &ciphertext[..ciphertext.len().min(NH)];
    Ok(AeadKey::new(
        expand_with_label::<NK>(sender_data_secret, "key", sample)?,
        expand_with_label::<NN>(sender_data_secret, "nonce", sample)?,
    ))
}

fn ratchet_type(ty: ContentType) -> RatchetType {
    match ty {
        ContentType::Application => RatchetType::Application,
        ContentType::Proposal | ContentType::Commit => RatchetType::Handshake,
    }
}

/// `PrivateContentAAD` / `SenderDataAAD`: group, epoch, type and (for content) the
/// authenticated data.
fn aad(
    group_id: &[u8],
    epoch: u64,
    ty: ContentType,
    authenticated_data: Option<&[u8]>,
) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    out.put_vector(group_id)?;
    out.extend_from_slice(&epoch.to_be_bytes());
    out.push(ty.code());
    if let Some(data) = authenticated_data {
        out.put_vector(data)?;
    }
    Ok(out)
}

impl PrivateMessage {
    /// Signs and encrypts `content` from a member, using the next key of its ratchet in
    /// `secret_tree` and a fresh reuse guard; `padding` zero bytes hide the length.
    ///
    /// `confirmation_tag` must be given exactly for commits.
    ///
    /// # Errors
    /// [`FramingError::NotAMember`] unless the sender is a member; [`FramingError::WrongGroup`];
    /// [`FramingError::ConfirmationTag`]; [`FramingError::SecretTree`] (e.g. exhausted ratchet);
    /// [`FramingError::Codec`] when the padded message exceeds the vector limit.
    #[allow(
        clippy::too_many_arguments,
        reason = "each input is a distinct protocol value"
    )]
    pub fn protect(
        content: &FramedContent,
        confirmation_tag: Option<Vec<u8>>,
        group_context: &GroupContext,
        signer: &SignatureSecretKey,
        sender_data_secret: &[u8],
        secret_tree: &mut SecretTree,
        padding: usize,
    ) -> Result<Self, FramingError> {
        let Sender::Member(leaf) = content.sender else {
            return Err(FramingError::NotAMember);
        };
        super::check_group(&content.group_id, content.epoch, group_context)?;
        let ty = content.content.content_type();
        let auth = FramedContentAuthData {
            signature: content.sign(WireFormat::PrivateMessage, group_context, signer)?,
            confirmation_tag,
        };
        auth.check(ty)?;
        if padding > MAX_VECTOR_LEN {
            return Err(CodecError::LengthOverLimit.into());
        }
        let mut plaintext = Secret::new(Vec::new());
        let buf = plaintext.expose_secret_mut();
        content.content.encode_body(buf)?;
        auth.encode(buf)?;
        buf.resize(buf.len().saturating_add(padding), 0);

        let (generation, key) = secret_tree.next_key(leaf, ratchet_type(ty))?;
        let reuse_guard = ReuseGuard::random()?;
        let content_aad = aad(
            &content.group_id,
            content.epoch,
            ty,
            Some(&content.authenticated_data),
        )?;
        let ciphertext = key.seal_with_nonce(
            &reuse_guard.apply(key.nonce()),
            &content_aad,
            plaintext.expose_secret(),
        )?;

        let sender_data = SenderData {
            leaf_index: leaf,
            generation,
            reuse_guard,
        };
        let sd_key = sender_data_key(sender_data_secret, &ciphertext)?;
        let sd_aad = aad(&content.group_id, content.epoch, ty, None)?;
        let encrypted_sender_data = sd_key.seal(&sd_aad, &sender_data.to_bytes())?;
        Ok(Self {
            group_id: content.group_id.clone(),
            epoch: content.epoch,
            content_type: ty,
            authenticated_data: content.authenticated_data.clone(),
            encrypted_sender_data,
            ciphertext,
        })
    }

    /// Decrypts the sender data, takes the sender's key for that generation from
    /// `secret_tree`, decrypts and parses the content, checks the padding and verifies the
    /// signature with the key `sender_key` returns for the sender's leaf.
    ///
    /// The ratchet advances only when decryption succeeds, so forged messages cannot burn
    /// keys; a replayed message fails because its key was already consumed.
    ///
    /// # Errors
    /// [`FramingError::WrongGroup`], [`FramingError::Crypto`] (opaque decryption failure),
    /// [`FramingError::SecretTree`] (replay, too far ahead, unknown leaf),
    /// [`FramingError::UnknownSender`], [`FramingError::Padding`],
    /// [`FramingError::BadSignature`], [`FramingError::Codec`].
    pub fn unprotect(
        &self,
        group_context: &GroupContext,
        sender_data_secret: &[u8],
        secret_tree: &mut SecretTree,
        sender_key: impl FnOnce(LeafIndex) -> Option<SignaturePublicKey>,
    ) -> Result<AuthenticatedContent, FramingError> {
        super::check_group(&self.group_id, self.epoch, group_context)?;
        let ty = self.content_type;
        let sd_key = sender_data_key(sender_data_secret, &self.ciphertext)?;
        let sd_aad = aad(&self.group_id, self.epoch, ty, None)?;
        let sd_plain = sd_key.open(&sd_aad, &self.encrypted_sender_data)?;
        let sender_data = SenderData::from_bytes(sd_plain.expose_secret())?;
        let leaf = sender_data.leaf_index;

        let rtype = ratchet_type(ty);
        let mut ratchet = secret_tree.ratchet(leaf, rtype)?.clone();
        let key = ratchet.key(sender_data.generation)?;
        let content_aad = aad(
            &self.group_id,
            self.epoch,
            ty,
            Some(&self.authenticated_data),
        )?;
        let plaintext = key.open_with_nonce(
            &sender_data.reuse_guard.apply(key.nonce()),
            &content_aad,
            &self.ciphertext,
        )?;
        secret_tree.set_ratchet(leaf, rtype, ratchet)?;

        let mut r = Reader::new(plaintext.expose_secret());
        let body = Content::decode_body(ty, &mut r)?;
        let auth = FramedContentAuthData::decode(ty, &mut r)?;
        if r.remaining().iter().any(|b| *b != 0) {
            return Err(FramingError::Padding);
        }
        let content = FramedContent {
            group_id: self.group_id.clone(),
            epoch: self.epoch,
            sender: Sender::Member(leaf),
            authenticated_data: self.authenticated_data.clone(),
            content: body,
        };
        let key = sender_key(leaf).ok_or(FramingError::UnknownSender)?;
        content.verify(
            WireFormat::PrivateMessage,
            group_context,
            &auth.signature,
            &key,
        )?;
        Ok(AuthenticatedContent {
            wire_format: WireFormat::PrivateMessage,
            content,
            auth,
        })
    }
}
