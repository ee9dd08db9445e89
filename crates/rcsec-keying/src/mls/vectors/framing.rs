//! `transcript-hashes`, `message-protection` and `welcome`.

use std::path::Path;

use rcsec_core::vectors::{VectorError, VectorReport};
use serde::Deserialize;

use super::{Check, ctx, expect, run_file, unhex};
use crate::mls::codec::{Decode, Encode};
use crate::mls::crypto::{
    HpkeSecretKey, SignaturePublicKey, SignatureSecretKey, hash_secret, verify_mac,
};
use crate::mls::framing::{
    AuthenticatedContent, Content, FramedContent, FramingError, MlsMessage, PrivateMessage,
    Proposal, PublicMessage, Sender,
};
use crate::mls::group_context::GroupContext;
use crate::mls::secret_tree::{SecretTree, SecretTreeConfig};
use crate::mls::transcript::TranscriptHashes;
use crate::mls::tree_math::{LeafIndex, TreeSize};

#[derive(Deserialize)]
struct TranscriptV {
    confirmation_key: String,
    authenticated_content: String,
    interim_transcript_hash_before: String,
    confirmed_transcript_hash_after: String,
    interim_transcript_hash_after: String,
}

/// Checks `transcript-hashes.json`: decodes the commit's `AuthenticatedContent` (and
/// re-encodes it byte-exact), derives both transcript hashes and checks the confirmation tag.
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_transcript_hashes(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, true, |v: &TranscriptV| -> Check {
        let bytes = unhex("authenticated_content", &v.authenticated_content)?;
        let content = AuthenticatedContent::from_bytes(&bytes).map_err(ctx("decode"))?;
        let again = content.to_bytes().map_err(ctx("encode"))?;
        expect(
            "re-encoded authenticated_content",
            &again,
            &v.authenticated_content,
        )?;
        let before = unhex("interim_before", &v.interim_transcript_hash_before)?;
        let hashes = TranscriptHashes::after_commit(&before, &content).map_err(ctx("hash"))?;
        expect(
            "confirmed",
            &hashes.confirmed,
            &v.confirmed_transcript_hash_after,
        )?;
        expect("interim", &hashes.interim, &v.interim_transcript_hash_after)?;
        let tag = content.auth.confirmation_tag.as_deref().unwrap_or_default();
        let key = unhex("confirmation_key", &v.confirmation_key)?;
        verify_mac(&key, &hashes.confirmed, tag).map_err(ctx("confirmation tag"))
    })
}

#[derive(Deserialize)]
struct ProtectionV {
    group_id: String,
    epoch: u64,
    tree_hash: String,
    confirmed_transcript_hash: String,
    signature_priv: String,
    signature_pub: String,
    encryption_secret: String,
    sender_data_secret: String,
    membership_key: String,
    proposal: String,
    proposal_priv: String,
    proposal_pub: String,
    commit: String,
    commit_priv: String,
    commit_pub: String,
    application: String,
    application_priv: String,
}

/// Everything one message-protection entry provides.
struct Protection {
    gc: GroupContext,
    signer: SignatureSecretKey,
    public: SignaturePublicKey,
    encryption_secret: Vec<u8>,
    sender_data_secret: Vec<u8>,
    membership_key: Vec<u8>,
}

/// The vector's sender: leaf 1 of a 2-leaf tree.
const SENDER: LeafIndex = LeafIndex(1);

impl Protection {
    fn tree(&self) -> Result<SecretTree, String> {
        let secret = hash_secret(&self.encryption_secret).map_err(ctx("encryption_secret"))?;
        let size = TreeSize::new(2).ok_or("tree size")?;
        Ok(SecretTree::new(secret, size, SecretTreeConfig::default()))
    }

    fn unprotect_private(&self, msg: &PrivateMessage) -> Result<AuthenticatedContent, String> {
        let mut tree = self.tree()?;
        let key = self.public;
        msg.unprotect(&self.gc, &self.sender_data_secret, &mut tree, |leaf| {
            (leaf == SENDER).then_some(key)
        })
        .map_err(ctx("unprotect private"))
    }

    /// Unprotects the given PrivateMessage, checks the body, then protects the same content
    /// afresh and unprotects that too.
    fn check_private(&self, given_hex: &str, body_hex: &str) -> Check {
        let given = unhex("private message", given_hex)?;
        let msg = MlsMessage::from_bytes(&given).map_err(ctx("decode private"))?;
        expect(
            "re-encoded private",
            &msg.to_bytes().map_err(ctx("encode"))?,
            given_hex,
        )?;
        let MlsMessage::Private(msg) = msg else {
            return Err("not a private message".into());
        };
        let got = self.unprotect_private(&msg)?;
        expect_body(&got.content.content, body_hex)?;
        if got.content.sender != Sender::Member(SENDER) {
            return Err("wrong sender".into());
        }
        let mut sender_tree = self.tree()?;
        let fresh = PrivateMessage::protect(
            &got.content,
            got.auth.confirmation_tag.clone(),
            &self.gc,
            &self.signer,
            &self.sender_data_secret,
            &mut sender_tree,
            8,
        )
        .map_err(ctx("protect private"))?;
        let wire = MlsMessage::Private(fresh)
            .to_bytes()
            .map_err(ctx("encode"))?;
        let Ok(MlsMessage::Private(back)) = MlsMessage::from_bytes(&wire) else {
            return Err("fresh private message does not decode".into());
        };
        let again = self.unprotect_private(&back)?;
        if again != got {
            return Err("fresh private message unprotects to different content".into());
        }
        Ok(())
    }

    /// Unprotects the given PublicMessage, checks the body, then protects afresh.
    fn check_public(&self, given_hex: &str, body_hex: &str) -> Check {
        let given = unhex("public message", given_hex)?;
        let msg = MlsMessage::from_bytes(&given).map_err(ctx("decode public"))?;
        expect(
            "re-encoded public",
            &msg.to_bytes().map_err(ctx("encode"))?,
            given_hex,
        )?;
        let MlsMessage::Public(msg) = msg else {
            return Err("not a public message".into());
        };
        let got = msg
            .unprotect(&self.gc, &self.membership_key, &self.public)
            .map_err(ctx("unprotect public"))?;
        expect_body(&got.content.content, body_hex)?;
        let fresh = PublicMessage::protect(
            got.content.clone(),
            got.auth.confirmation_tag.clone(),
            &self.gc,
            &self.signer,
            &self.membership_key,
        )
        .map_err(ctx("protect public"))?;
        let again = fresh
            .unprotect(&self.gc, &self.membership_key, &self.public)
            .map_err(ctx("unprotect fresh public"))?;
        if again != got {
            return Err("fresh public message unprotects to different content".into());
        }
        let mut wrong_key = self.membership_key.clone();
        wrong_key[0] ^= 1;
        if fresh.unprotect(&self.gc, &wrong_key, &self.public).is_ok() {
            return Err("public message accepted under a wrong membership key".into());
        }
        Ok(())
    }
}

fn expect_body(content: &Content, body_hex: &str) -> Check {
    let mut body = Vec::new();
    content.encode_body(&mut body).map_err(ctx("encode body"))?;
    match content {
        // The vector gives raw application bytes, not the V(data) encoding.
        Content::Application(data) => expect("application data", data, body_hex),
        _ => expect("content", &body, body_hex),
    }
}

/// Checks `message-protection.json` in both directions: unprotects every given Private- and
/// PublicMessage, protects the same content afresh and unprotects that, and checks that
/// application data cannot be protected as a PublicMessage.
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_message_protection(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, true, |v: &ProtectionV| -> Check {
        let signer = SignatureSecretKey::from_seed(&unhex("signature_priv", &v.signature_priv)?)
            .map_err(ctx("signature_priv"))?;
        let public = SignaturePublicKey::from_bytes(&unhex("signature_pub", &v.signature_pub)?)
            .map_err(ctx("signature_pub"))?;
        if signer.public_key() != public {
            return Err("signature_pub does not match signature_priv".into());
        }
        let p = Protection {
            gc: GroupContext::new(
                unhex("group_id", &v.group_id)?,
                v.epoch,
                unhex("tree_hash", &v.tree_hash)?,
                unhex("confirmed_transcript_hash", &v.confirmed_transcript_hash)?,
            ),
            signer,
            public,
            encryption_secret: unhex("encryption_secret", &v.encryption_secret)?,
            sender_data_secret: unhex("sender_data_secret", &v.sender_data_secret)?,
            membership_key: unhex("membership_key", &v.membership_key)?,
        };
        p.check_private(&v.proposal_priv, &v.proposal)
            .map_err(ctx("proposal"))?;
        p.check_private(&v.commit_priv, &v.commit)
            .map_err(ctx("commit"))?;
        p.check_private(&v.application_priv, &v.application)
            .map_err(ctx("application"))?;
        p.check_public(&v.proposal_pub, &v.proposal)
            .map_err(ctx("proposal"))?;
        p.check_public(&v.commit_pub, &v.commit)
            .map_err(ctx("commit"))?;

        let app = FramedContent {
            group_id: p.gc.group_id.clone(),
            epoch: p.gc.epoch,
            sender: Sender::Member(SENDER),
            authenticated_data: Vec::new(),
            content: Content::Application(unhex("application", &v.application)?),
        };
        match PublicMessage::protect(app, None, &p.gc, &p.signer, &p.membership_key) {
            Err(FramingError::ApplicationAsPublic) => {}
            other => return Err(format!("application as public message: {other:?}")),
        }
        // The raw proposal must decode as the Proposal it names (a Remove in the vectors).
        Proposal::from_bytes(&unhex("proposal", &v.proposal)?).map_err(ctx("proposal"))?;
        Ok(())
    })
}

#[derive(Deserialize)]
struct WelcomeV {
    init_priv: String,
    signer_pub: String,
    key_package: String,
    welcome: String,
}

/// Checks `welcome.json`: finds the KeyPackage's entry, decrypts the GroupSecrets, derives
/// the welcome secret, decrypts and verifies the GroupInfo and checks its confirmation tag;
/// then checks that a tampered Welcome is rejected.
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_welcome(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, true, |v: &WelcomeV| -> Check {
        let kp_bytes = unhex("key_package", &v.key_package)?;
        let MlsMessage::KeyPackage(kp) = MlsMessage::from_bytes(&kp_bytes).map_err(ctx("kp"))?
        else {
            return Err("key_package is not a KeyPackage message".into());
        };
        let w_bytes = unhex("welcome", &v.welcome)?;
        let msg = MlsMessage::from_bytes(&w_bytes).map_err(ctx("welcome"))?;
        expect(
            "re-encoded welcome",
            &msg.to_bytes().map_err(ctx("encode"))?,
            &v.welcome,
        )?;
        let MlsMessage::Welcome(welcome) = msg else {
            return Err("welcome is not a Welcome message".into());
        };
        let init = HpkeSecretKey::from_bytes(&unhex("init_priv", &v.init_priv)?)
            .map_err(ctx("init_priv"))?;
        if init.public_key().as_bytes().as_slice() != kp.init_key.as_slice() {
            return Err("init_priv does not match the key package".into());
        }
        let signer = SignaturePublicKey::from_bytes(&unhex("signer_pub", &v.signer_pub)?)
            .map_err(ctx("signer_pub"))?;
        let joined = welcome
            .join(&kp, &init, |_| None, |_| Some(signer))
            .map_err(ctx("join"))?;
        if joined.group_info.group_context.cipher_suite != 1 {
            return Err("group info suite".into());
        }
        let mut tampered = welcome;
        if let Some(b) = tampered.encrypted_group_info.last_mut() {
            *b ^= 1;
        }
        if tampered
            .join(&kp, &init, |_| None, |_| Some(signer))
            .is_ok()
        {
            return Err("tampered welcome accepted".into());
        }
        Ok(())
    })
}
