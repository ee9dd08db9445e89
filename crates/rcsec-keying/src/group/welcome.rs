//! Welcomes (RFC 9420 §12.4.3): how an added device learns the epoch and the roster.
//!
//! The `GroupSecrets` (the joiner secret) are sealed with HPKE to the device's key-package
//! init key; the signed `GroupInfo` (group context, confirmation tag, and the roster in a
//! private-use extension) is encrypted under the welcome key. The joiner checks the GroupInfo
//! signature against the roster, the roster against the context's hash, every leaf signature,
//! and the confirmation tag against its own key schedule before it trusts anything.

use rcsec_core::Secret;
use subtle::ConstantTimeEq;

use super::roster::Roster;
use super::{EpochKeys, Group, GroupConfig, GroupError, NO_PSK};
use crate::device::{Device, KeyPackageBundle, ValidatedKeyPackage};
use crate::mls::codec::{Decode, Encode, WriteExt};
use crate::mls::crypto::{
    AeadKey, CIPHER_SUITE, NK, NN, SignatureSecretKey, decrypt_with_label, encrypt_with_label,
    expand_with_label,
};
use crate::mls::framing::MlsMessage;
use crate::mls::group_context::{Extension, GroupContext};
use crate::mls::key_schedule::{JoinerSecret, KeySchedule};
use crate::mls::transcript::interim_transcript_hash;
use crate::mls::tree_math::LeafIndex;
use crate::mls::welcome::{EncryptedGroupSecrets, GroupInfo, GroupSecrets, Welcome};

/// Private-use GroupInfo extension (RFC 9420 §17.3 reserves 0xF000–0xFFFF) carrying the
/// roster; TreeKEM will use the standard `ratchet_tree` extension instead.
const ROSTER_EXTENSION: u16 = 0xF0A0;

fn welcome_key(joiner: &JoinerSecret) -> Result<AeadKey, GroupError> {
    let secret = joiner.welcome_secret(&NO_PSK)?;
    let s = secret.expose_secret();
    Ok(AeadKey::new(
        expand_with_label::<NK>(s, "key", &[])?,
        expand_with_label::<NN>(s, "nonce", &[])?,
    ))
}

/// Builds the Welcome for `joiners` into the epoch of `context`.
pub(super) fn create(
    joiner: &JoinerSecret,
    context: &GroupContext,
    roster: &Roster,
    confirmation_tag: &[u8],
    signer: &SignatureSecretKey,
    signer_leaf: LeafIndex,
    joiners: &[ValidatedKeyPackage],
) -> Result<Vec<u8>, GroupError> {
    let mut info = GroupInfo {
        group_context: context.clone(),
        extensions: vec![Extension {
            extension_type: ROSTER_EXTENSION,
            extension_data: roster.to_bytes()?,
        }],
        confirmation_tag: confirmation_tag.to_vec(),
        signer: signer_leaf,
        signature: Vec::new(),
    };
    info.sign(signer)?;
    let encrypted_group_info = welcome_key(joiner)?.seal(&[], &info.to_bytes()?)?;

    // GroupSecrets: the joiner secret, no path secret, no PSKs.
    let mut group_secrets = Secret::new(Vec::with_capacity(40));
    let buf = group_secrets.expose_secret_mut();
    buf.put_vector(joiner.expose_secret())?;
    buf.push(0);
    buf.put_vector(&[])?;

    let mut secrets = Vec::with_capacity(joiners.len());
    for kp in joiners {
        secrets.push(EncryptedGroupSecrets {
            new_member: kp.key_package().reference()?.to_vec(),
            encrypted_group_secrets: encrypt_with_label(
                kp.init_key(),
                "Welcome",
                &encrypted_group_info,
                group_secrets.expose_secret(),
            )?,
        });
    }
    Ok(MlsMessage::Welcome(Welcome {
        cipher_suite: CIPHER_SUITE,
        secrets,
        encrypted_group_info,
    })
    .to_bytes()?)
}

impl Group {
    /// Joins a group from a Welcome sealed to `bundle`'s key package, as `device` (whose
    /// signing key made the package).
    ///
    /// # Errors
    /// [`GroupError::WelcomeNotForUs`] when no entry is sealed to this key package;
    /// [`GroupError::Crypto`] when it does not decrypt; [`GroupError::InvalidWelcome`] for an
    /// unsigned or inconsistent GroupInfo or roster; [`GroupError::KeyPackage`] for a roster
    /// leaf whose signature fails; [`GroupError::BadConfirmationTag`];
    /// [`GroupError::Codec`] for malformed bytes.
    pub fn join(
        welcome: &[u8],
        bundle: KeyPackageBundle,
        device: &Device,
        config: GroupConfig,
    ) -> Result<Self, GroupError> {
        let MlsMessage::Welcome(welcome) = MlsMessage::from_bytes(welcome)? else {
            return Err(GroupError::UnexpectedMessage);
        };
        if welcome.cipher_suite != CIPHER_SUITE {
            return Err(GroupError::InvalidWelcome("cipher suite"));
        }
        let reference = bundle.key_package.reference()?;
        let entry = welcome
            .secrets
            .iter()
            .find(|s| s.new_member.as_slice() == reference.as_slice())
            .ok_or(GroupError::WelcomeNotForUs)?;
        let plain = decrypt_with_label(
            &bundle.init_key,
            "Welcome",
            &welcome.encrypted_group_info,
            &entry.encrypted_group_secrets,
        )?;
        let group_secrets = GroupSecrets::from_bytes(plain.expose_secret())?;
        if !group_secrets.psks.is_empty() || group_secrets.path_secret.is_some() {
            return Err(GroupError::InvalidWelcome("unsupported group secrets"));
        }
        let joiner = &group_secrets.joiner_secret;
        let info_plain = welcome_key(joiner)?.open(&[], &welcome.encrypted_group_info)?;
        let info = GroupInfo::from_bytes(info_plain.expose_secret())?;
        let context = info.group_context.clone();
        if context.cipher_suite != CIPHER_SUITE {
            return Err(GroupError::InvalidWelcome("cipher suite"));
        }
        let roster_bytes = info
            .extensions
            .iter()
            .find(|e| e.extension_type == ROSTER_EXTENSION)
            .ok_or(GroupError::InvalidWelcome("no roster"))?;
        let roster = Roster::from_bytes(&roster_bytes.extension_data)?;
        if roster.hash()?.as_slice() != context.tree_hash.as_slice() {
            return Err(GroupError::InvalidWelcome(
                "roster does not match the group context",
            ));
        }
        let signer = roster
            .member(info.signer)
            .ok_or(GroupError::InvalidWelcome("unknown signer"))?;
        info.verify(&signer.signature_key)
            .map_err(|_| GroupError::InvalidWelcome("group info signature"))?;
        roster.verify_leaves(&context.group_id)?;

        let (_, secrets) = KeySchedule::join(joiner, &NO_PSK, &context)?;
        let tag = secrets.confirmation_tag(&context.confirmed_transcript_hash)?;
        if !bool::from(tag.as_slice().ct_eq(info.confirmation_tag.as_slice())) {
            return Err(GroupError::BadConfirmationTag);
        }
        let own_leaf = roster
            .members()
            .find(|(_, m)| m.leaf == bundle.key_package.leaf_node)
            .map(|(leaf, _)| leaf)
            .ok_or(GroupError::InvalidWelcome("key package not in the roster"))?;
        if device.signature_key().as_bytes().as_slice()
            != bundle.key_package.leaf_node.signature_key.as_slice()
        {
            return Err(GroupError::InvalidWelcome(
                "key package is another device's",
            ));
        }
        let interim =
            interim_transcript_hash(&context.confirmed_transcript_hash, &info.confirmation_tag)?;
        let secret_tree = secrets.secret_tree(roster.tree_size()?, config.secret_tree());
        Ok(Self {
            config,
            own_leaf,
            signer: device.signer().clone(),
            leaf_secret: bundle.leaf_key,
            keys: EpochKeys::from_secrets(&secrets)?,
            roster,
            context,
            interim_transcript_hash: interim.to_vec(),
            secret_tree,
            past: Default::default(),
            removed: false,
        })
    }
}
