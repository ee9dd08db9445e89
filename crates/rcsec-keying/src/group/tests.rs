//! Unit tests that need the group's internals: forged messages a member could build, and
//! what the TreeKEM path of a commit does and does not let a given key open.

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use std::time::Duration;

use rcsec_core::Timestamp;

use super::*;
use crate::device::{Device, ValidatedKeyPackage};
use crate::mls::codec::{Decode, Encode};
use crate::mls::crypto::{HpkePublicKey, HpkeSecretKey, decrypt_with_label, encrypt_with_label};
use crate::mls::framing::{
    AuthenticatedContent, Content, FramedContent, FramingError, MlsMessage, PrivateMessage, Sender,
    UpdatePath,
};

const NOW: Timestamp = Timestamp::from_secs(1_800_000_000);
const PATH_LABEL: &str = "UpdatePathNode";

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

fn copy(g: &Group) -> Group {
    Group::from_bytes(g.to_bytes().unwrap().expose_secret()).unwrap()
}

/// Decrypts and verifies a commit as `reader` would, on a copy (so `reader` is untouched).
fn open_commit(reader: &Group, commit: &[u8]) -> AuthenticatedContent {
    let mut copy = copy(reader);
    let MlsMessage::Private(m) = MlsMessage::from_bytes(commit).unwrap() else {
        panic!("commits are PrivateMessages");
    };
    let keys = copy.state.message_keys();
    let tree = keys.tree;
    m.unprotect(
        keys.context,
        keys.sender_data_secret,
        keys.secret_tree,
        |leaf| signature_key(tree, leaf),
    )
    .unwrap()
}

fn path(content: &mut AuthenticatedContent) -> &mut UpdatePath {
    let Content::Commit(commit) = &mut content.content.content else {
        panic!("not a commit");
    };
    commit.path.as_mut().unwrap()
}

/// The context the committer encrypted path secrets under: `before`'s, at the next epoch,
/// with the tree hash of `after` (a member that has processed the commit).
fn provisional_context(before: &Group, after: &Group) -> Vec<u8> {
    GroupContext {
        epoch: before.epoch() + 1,
        tree_hash: after.state.tree().tree_hash().unwrap().to_vec(),
        ..before.state.context().clone()
    }
    .to_bytes()
    .unwrap()
}

/// How many of the path's ciphertexts any of `keys` opens.
fn opened_by(path: &UpdatePath, keys: &[HpkeSecretKey], context: &[u8]) -> usize {
    path.nodes
        .iter()
        .flat_map(|n| &n.encrypted_path_secret)
        .filter(|ct| {
            keys.iter()
                .any(|k| decrypt_with_label(k, PATH_LABEL, context, ct).is_ok())
        })
        .count()
}

#[test]
fn a_member_cannot_impersonate_another_the_signature_stops_it() {
    let (_a, mut b, mut m) = three();
    // Mallory holds every ratchet of the epoch, so she can encrypt as Alice (leaf 0) and
    // pass the AEAD; only the signature binds the sender.
    let keys = m.state.message_keys();
    let content = FramedContent {
        group_id: keys.context.group_id.clone(),
        epoch: keys.context.epoch,
        sender: Sender::Member(LeafIndex(0)),
        authenticated_data: Vec::new(),
        content: Content::Application(b"page the CEO".to_vec()),
    };
    let forged = PrivateMessage::protect(
        &content,
        None,
        keys.context,
        keys.signer,
        keys.sender_data_secret,
        keys.secret_tree,
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
    let content = open_commit(&m, &out.commit);
    let keys = m.state.message_keys();
    let resigned = PrivateMessage::protect(
        &content.content,
        content.auth.confirmation_tag.clone(),
        keys.context,
        keys.signer,
        keys.sender_data_secret,
        keys.secret_tree,
        0,
    )
    .unwrap();
    let bytes = MlsMessage::Private(resigned).to_bytes().unwrap();
    assert_eq!(
        b.process_commit(&bytes).unwrap_err(),
        GroupError::Framing(FramingError::BadSignature)
    );
    b.process_commit(&out.commit).unwrap();
}

#[test]
fn a_committer_cannot_hand_one_member_a_different_path_secret() {
    let (mut a, mut b, _m) = three();
    let mut alice_before = copy(&a);
    let out = a.self_update().unwrap();
    let mut content = open_commit(&b, &out.commit);
    // Alice re-encrypts Bob's copy (first node, first resolution entry: his leaf) to a
    // secret of her choosing, under the right context, and signs the result herself.
    let context = provisional_context(&b, &a);
    let bob_leaf = b.state.tree().leaf(b.own_leaf()).unwrap();
    let bob_key = HpkePublicKey::from_bytes(&bob_leaf.encryption_key).unwrap();
    path(&mut content).nodes[0].encrypted_path_secret[0] =
        encrypt_with_label(&bob_key, PATH_LABEL, &context, &[7; 32]).unwrap();
    let keys = alice_before.state.message_keys();
    let forged = PrivateMessage::protect(
        &content.content,
        content.auth.confirmation_tag.clone(),
        keys.context,
        keys.signer,
        keys.sender_data_secret,
        keys.secret_tree,
        0,
    )
    .unwrap();
    let bytes = MlsMessage::Private(forged).to_bytes().unwrap();
    assert_eq!(
        b.process_commit(&bytes).unwrap_err(),
        GroupError::InvalidCommit("path secret does not match the path's keys")
    );
    assert_eq!(b.epoch(), 1, "a rejected commit leaves the epoch unchanged");
    // The forged copy burned no key: the genuine commit still processes.
    b.process_commit(&out.commit).unwrap();
    assert_eq!(b.epoch_authenticator(), a.epoch_authenticator());
}

#[test]
fn a_removed_device_can_open_nothing_of_the_removing_commit() {
    let (mut a, mut b, m) = three();
    let mallory_keys = m.state.held_keys();
    assert!(!mallory_keys.is_empty());
    let out = a.remove(&[m.own_leaf()]).unwrap();
    let mut content = open_commit(&b, &out.commit);
    let context = provisional_context(&b, &a);
    let bob_keys = b.state.held_keys();
    let path = path(&mut content);
    // Bob can open his copy; Mallory's leaf and parent keys open none.
    assert_eq!(opened_by(path, &bob_keys, &context), 1);
    assert_eq!(opened_by(path, &mallory_keys, &context), 0);
    b.process_commit(&out.commit).unwrap();
    assert_eq!(b.epoch_authenticator(), a.epoch_authenticator());
}

#[test]
fn a_self_update_replaces_every_key_on_the_committers_path() {
    let (mut a, mut b, mut m) = three();
    let stolen = b.state.held_keys();
    let before: Vec<_> = a
        .state
        .tree()
        .direct_path(b.own_leaf())
        .into_iter()
        .map(|n| a.state.tree().node(n).map(|n| n.encryption_key().to_vec()))
        .collect();
    assert!(before.iter().all(Option::is_some), "a populated path");
    let out = b.self_update().unwrap();
    a.process_commit(&out.commit).unwrap();
    m.process_commit(&out.commit).unwrap();
    let tree = a.state.tree();
    for (node, old) in tree.direct_path(b.own_leaf()).into_iter().zip(&before) {
        let new = tree.node(node).unwrap().encryption_key();
        assert_ne!(Some(new), old.as_deref(), "node {node:?} kept its key");
    }
    // Post-compromise: the next commit by someone else is encrypted to Bob's new keys;
    // none of the keys an attacker copied from Bob before his update opens any of it.
    let a_before = copy(&a);
    let out = a.self_update().unwrap();
    let mut content = open_commit(&m, &out.commit);
    let context = provisional_context(&a_before, &a);
    let path = path(&mut content);
    assert_eq!(opened_by(path, &b.state.held_keys(), &context), 1);
    assert_eq!(opened_by(path, &stolen, &context), 0);
}
