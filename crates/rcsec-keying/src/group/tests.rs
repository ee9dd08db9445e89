//! Unit tests that need the group's internals: forged messages a member could build.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::time::Duration;

use rcsec_core::Timestamp;

use super::commit::CommitMessage;
use super::distribution::LABEL;
use super::*;
use crate::device::{Device, ValidatedKeyPackage};
use crate::mls::codec::{Decode, Encode};
use crate::mls::crypto::{decrypt_with_label, encrypt_with_label};
use crate::mls::framing::{
    Content, FramedContent, FramingError, MlsMessage, PrivateMessage, Sender,
};

const NOW: Timestamp = Timestamp::from_secs(1_800_000_000);

/// Alice (leaf 0) creates the group and adds Bob (1) and Mallory (2).
fn three() -> (Group, Group, Group) {
    let alice = Device::generate("alice").unwrap();
    let mut a = Group::create(b"team".to_vec(), &alice, GroupConfig::default()).unwrap();
    let bob = Device::generate("bob").unwrap();
    let mallory = Device::generate("mallory").unwrap();
    let kb = bob.key_package(NOW, Duration::from_secs(3600)).unwrap();
    let km = mallory.key_package(NOW, Duration::from_secs(3600)).unwrap();
    let out = a
        .add(&[
            ValidatedKeyPackage::validate(&kb.key_package, NOW).unwrap(),
            ValidatedKeyPackage::validate(&km.key_package, NOW).unwrap(),
        ])
        .unwrap();
    let welcome = out.welcome.unwrap();
    let b = Group::join(&welcome, kb, &bob, GroupConfig::default()).unwrap();
    let m = Group::join(&welcome, km, &mallory, GroupConfig::default()).unwrap();
    (a, b, m)
}

#[test]
fn a_member_cannot_impersonate_another_the_signature_stops_it() {
    let (_a, mut b, mut m) = three();
    // Mallory holds every ratchet of the epoch, so she can encrypt as Alice (leaf 0) and
    // pass the AEAD; only the signature binds the sender.
    let content = FramedContent {
        group_id: m.context.group_id.clone(),
        epoch: m.context.epoch,
        sender: Sender::Member(LeafIndex(0)),
        authenticated_data: Vec::new(),
        content: Content::Application(b"page the CEO".to_vec()),
    };
    let forged = PrivateMessage::protect(
        &content,
        None,
        &m.context,
        &m.signer,
        m.keys.sender_data_secret.expose_secret(),
        &mut m.secret_tree,
        0,
    )
    .unwrap();
    let bytes = MlsMessage::Private(forged).to_bytes().unwrap();
    assert_eq!(
        b.decrypt(&bytes).unwrap_err(),
        GroupError::Framing(FramingError::BadSignature)
    );
}

#[test]
fn a_re_signed_commit_is_rejected() {
    let (mut a, mut b, mut m) = three();
    let out = a.self_update().unwrap();
    let mut commit = CommitMessage::from_bytes(&out.commit).unwrap();
    let alice_key = m.roster.member(LeafIndex(0)).unwrap().signature_key;
    let authenticated = commit
        .message
        .unprotect(
            &m.context,
            m.keys.sender_data_secret.expose_secret(),
            &mut m.secret_tree,
            |_| Some(alice_key),
        )
        .unwrap();
    commit.message = PrivateMessage::protect(
        &authenticated.content,
        authenticated.auth.confirmation_tag.clone(),
        &m.context,
        &m.signer,
        m.keys.sender_data_secret.expose_secret(),
        &mut m.secret_tree,
        0,
    )
    .unwrap();
    assert_eq!(
        b.process_commit(&commit.to_bytes().unwrap()).unwrap_err(),
        GroupError::Framing(FramingError::BadSignature)
    );
}

#[test]
fn a_substituted_commit_secret_fails_the_confirmation_tag() {
    let (mut a, mut b, _m) = three();
    let out = a.self_update().unwrap();
    let mut commit = CommitMessage::from_bytes(&out.commit).unwrap();
    // Anyone can seal a secret of their choosing to Bob's public leaf key.
    let bob_key = b.roster.member(b.own_leaf).unwrap().encryption_key;
    let entry = commit
        .distribution
        .sealed
        .iter_mut()
        .find(|s| s.leaf == b.own_leaf)
        .unwrap();
    let (_, tentative) = {
        let mut probe = Group::from_bytes(b.to_bytes().unwrap().expose_secret()).unwrap();
        let effect = probe.process_commit(&out.commit).unwrap();
        (effect, probe.context.clone())
    };
    entry.ciphertext =
        encrypt_with_label(&bob_key, LABEL, &tentative.to_bytes().unwrap(), &[9; 32]).unwrap();
    assert_eq!(
        b.process_commit(&commit.to_bytes().unwrap()).unwrap_err(),
        GroupError::BadConfirmationTag
    );
    assert_eq!(b.epoch(), 1, "a rejected commit leaves the epoch unchanged");
}

#[test]
fn a_removed_device_can_open_no_copy_of_the_new_commit_secret() {
    let (mut a, mut b, m) = three();
    let mallory_leaf = m.own_leaf;
    let out = a.remove(&[mallory_leaf]).unwrap();
    let commit = CommitMessage::from_bytes(&out.commit).unwrap();
    assert!(
        commit
            .distribution
            .sealed
            .iter()
            .all(|s| s.leaf != mallory_leaf)
    );
    // Whatever the context, Mallory's leaf key opens none of the sealed copies.
    let mut probe = Group::from_bytes(b.to_bytes().unwrap().expose_secret()).unwrap();
    probe.process_commit(&out.commit).unwrap();
    let context = probe.context.to_bytes().unwrap();
    for sealed in &commit.distribution.sealed {
        assert!(decrypt_with_label(&m.leaf_secret, LABEL, &context, &sealed.ciphertext).is_err());
    }
    b.process_commit(&out.commit).unwrap();
    assert_eq!(b.epoch_authenticator(), a.epoch_authenticator());
}
