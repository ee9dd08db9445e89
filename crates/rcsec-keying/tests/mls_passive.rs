//! A member following a group made by another implementation refuses what it must refuse,
//! with a typed error and without changing its state.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::Path;

use rcsec_core::Secret;
use rcsec_keying::mls::codec::{Decode, Encode};
use rcsec_keying::mls::crypto::{HpkeSecretKey, SignatureSecretKey};
use rcsec_keying::mls::framing::{Content, FramingError, MlsMessage, ProposalOrRef};
use rcsec_keying::mls::state::{GroupConfig, GroupError, GroupState, Handled, JoinerKeys};
use rcsec_keying::mls::welcome::WelcomeError;

fn entries() -> Vec<serde_json::Value> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/mls/passive-client-handling-commit.json");
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

fn bytes(v: &serde_json::Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn joiner(e: &serde_json::Value) -> JoinerKeys {
    let MlsMessage::KeyPackage(key_package) =
        MlsMessage::from_bytes(&bytes(&e["key_package"])).unwrap()
    else {
        panic!("not a key package")
    };
    JoinerKeys {
        key_package,
        init_key: HpkeSecretKey::from_bytes(&bytes(&e["init_priv"])).unwrap(),
        leaf_key: HpkeSecretKey::from_bytes(&bytes(&e["encryption_priv"])).unwrap(),
        signer: SignatureSecretKey::from_seed(&bytes(&e["signature_priv"])).unwrap(),
    }
}

fn welcome(e: &serde_json::Value) -> rcsec_keying::mls::welcome::Welcome {
    let MlsMessage::Welcome(w) = MlsMessage::from_bytes(&bytes(&e["welcome"])).unwrap() else {
        panic!("not a welcome")
    };
    w
}

fn psks(e: &serde_json::Value) -> Vec<(Vec<u8>, Vec<u8>)> {
    e["external_psks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (bytes(&p["psk_id"]), bytes(&p["psk"])))
        .collect()
}

fn join(e: &serde_json::Value) -> GroupState {
    let psks = psks(e);
    let external = move |id: &[u8]| {
        psks.iter()
            .find(|(i, _)| i.as_slice() == id)
            .map(|(_, s)| Secret::new(s.clone()))
    };
    GroupState::join(
        &welcome(e),
        joiner(e),
        None,
        &external,
        GroupConfig::default(),
    )
    .unwrap()
}

#[test]
fn a_welcome_for_someone_else_or_with_a_wrong_tree_is_refused() {
    let all = entries();
    let (a, b) = (&all[0], &all[1]);
    let none = |_: &[u8]| None;
    // A Welcome is not addressed to another key package (here: a's with an extra extension).
    let mut other = joiner(a);
    other
        .key_package
        .extensions
        .push(rcsec_keying::mls::group_context::Extension {
            extension_type: 0xff00,
            extension_data: vec![1],
        });
    let err =
        GroupState::join(&welcome(a), other, None, &none, GroupConfig::default()).unwrap_err();
    assert_eq!(err, GroupError::Welcome(WelcomeError::NotForUs));
    // A tree given out of band that is not the group's.
    let other_tree = join(b).tree().clone();
    let err = GroupState::join(
        &welcome(a),
        joiner(a),
        Some(other_tree),
        &none,
        GroupConfig::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, GroupError::Tree(_) | GroupError::Welcome(_)),
        "{err:?}"
    );
}

#[test]
fn commits_apply_once_and_tampering_changes_nothing() {
    let all = entries();
    let e = &all[0];
    let mut state = join(e);
    let none = |_: &[u8]| None;
    let psks = psks(e);
    let external = |id: &[u8]| {
        psks.iter()
            .find(|(i, _)| i.as_slice() == id)
            .map(|(_, s)| Secret::new(s.clone()))
    };
    let epoch0 = state.context().epoch;
    let auth0 = *state.epoch_authenticator();
    let commit = MlsMessage::from_bytes(&bytes(&e["epochs"][0]["commit"])).unwrap();

    // A flipped byte inside the commit: refused, state unchanged.
    let mut raw = commit.to_bytes().unwrap();
    let mid = raw.len() / 2;
    raw[mid] ^= 1;
    if let Ok(tampered) = MlsMessage::from_bytes(&raw) {
        assert!(state.handle(&tampered, &external).is_err());
    }
    assert_eq!(state.context().epoch, epoch0);
    assert_eq!(*state.epoch_authenticator(), auth0);

    // A commit naming a proposal that never arrived (only when it is a PublicMessage, whose
    // content we can edit; the membership tag then fails first, which is also a refusal).
    if let MlsMessage::Public(mut m) = commit.clone()
        && let Content::Commit(c) = &mut m.content.content
    {
        c.proposals.push(ProposalOrRef::Reference(vec![0; 32]));
        let err = state.handle(&MlsMessage::Public(m), &none).unwrap_err();
        assert!(
            matches!(
                err,
                GroupError::UnknownProposal | GroupError::Framing(FramingError::BadMembershipTag)
            ),
            "{err:?}"
        );
    }
    assert_eq!(state.context().epoch, epoch0);

    // The genuine commit applies, exactly once.
    assert_eq!(
        state.handle(&commit, &external).unwrap(),
        Handled::Commit { epoch: epoch0 + 1 }
    );
    assert_ne!(*state.epoch_authenticator(), auth0);
    let err = state.handle(&commit, &external).unwrap_err();
    assert!(matches!(err, GroupError::Framing(_)), "{err:?}");
    assert_eq!(state.context().epoch, epoch0 + 1);
    assert!(!format!("{state:?}").contains(&hex::encode(state.epoch_authenticator())));
}

#[test]
fn a_psk_commit_without_the_psk_is_refused_then_applies_with_it() {
    let mut found = false;
    for e in entries() {
        let mut state = join(&e);
        let psks = psks(&e);
        let external = |id: &[u8]| {
            psks.iter()
                .find(|(i, _)| i.as_slice() == id)
                .map(|(_, s)| Secret::new(s.clone()))
        };
        let none = |_: &[u8]| None;
        for epoch in e["epochs"].as_array().unwrap() {
            for p in epoch["proposals"].as_array().unwrap() {
                let msg = MlsMessage::from_bytes(&bytes(p)).unwrap();
                state.handle(&msg, &external).unwrap();
            }
            let commit = MlsMessage::from_bytes(&bytes(&epoch["commit"])).unwrap();
            let before = state.context().epoch;
            match state.handle(&commit, &none) {
                Ok(_) => continue,
                Err(err) => {
                    assert_eq!(err, GroupError::UnknownPsk);
                    assert_eq!(state.context().epoch, before);
                    state.handle(&commit, &external).unwrap();
                    found = true;
                }
            }
        }
    }
    assert!(found, "no official commit injects an external PSK");
}
