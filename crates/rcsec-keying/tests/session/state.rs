//! Persisting group state.

use rcsec_keying::group::{Group, GroupConfig, GroupError};

use super::common::team;

#[test]
fn a_reloaded_member_continues_mid_stream() {
    let mut g = team(3, GroupConfig::default());
    let wires: Vec<_> = (0..4u8).map(|i| g[0].encrypt(&[i; 3]).unwrap()).collect();
    g[1].decrypt(&wires[3]).unwrap();
    let saved = g[1].to_bytes().unwrap();
    let mut b = Group::from_bytes(saved.expose_secret()).unwrap();
    assert_eq!(b.epoch(), g[1].epoch());
    assert_eq!(b.epoch_authenticator(), g[1].epoch_authenticator());
    assert_eq!(b.own_leaf(), g[1].own_leaf());
    // Skipped keys survive the round trip; consumed ones stay consumed.
    assert_eq!(b.decrypt(&wires[1]).unwrap().data(), [1; 3]);
    assert!(b.decrypt(&wires[3]).is_err());
    // The reloaded member sends and processes commits like the original.
    let wire = b.encrypt(b"from reloaded").unwrap();
    assert_eq!(g[2].decrypt(&wire).unwrap().data(), b"from reloaded");
    let out = g[0].self_update().unwrap();
    b.process_commit(&out.commit).unwrap();
    g[2].process_commit(&out.commit).unwrap();
    assert_eq!(b.epoch_authenticator(), g[0].epoch_authenticator());
    let out = b.self_update().unwrap();
    g[0].process_commit(&out.commit).unwrap();
    assert_eq!(b.epoch_authenticator(), g[0].epoch_authenticator());
}

#[test]
fn damaged_states_are_refused_with_typed_errors() {
    let g = team(2, GroupConfig::default());
    let saved = g[1].to_bytes().unwrap();
    let bytes = saved.expose_secret();
    assert!(matches!(
        Group::from_bytes(b"no"),
        Err(GroupError::Codec(_))
    ));
    assert!(matches!(
        Group::from_bytes(b"XXXX\x00\x01"),
        Err(GroupError::CorruptState(_))
    ));
    let mut future = bytes.clone();
    future[4..6].copy_from_slice(&99u16.to_be_bytes());
    assert_eq!(
        Group::from_bytes(&future).unwrap_err(),
        GroupError::UnsupportedStateVersion(99)
    );
    for cut in (0..bytes.len()).step_by(7) {
        assert!(Group::from_bytes(&bytes[..cut]).is_err());
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(Group::from_bytes(&trailing).is_err());
    // Another member's signing seed (offset: magic 4, version 2, config 14, leaf 4).
    let mut swapped = bytes.clone();
    swapped[24] ^= 1;
    assert_eq!(
        Group::from_bytes(&swapped).unwrap_err(),
        GroupError::CorruptState("keys are not this member's")
    );
}

/// A two-member group saved by the version-1 writer (commit 8ea3bc7, "rcsec-keying: devices,
/// key packages, device linking and the group session", by an ignored test since removed),
/// with one message Bob has not read yet. Throwaway test keys only.
const V1_ALICE: &[u8] = include_bytes!("../fixtures/group_state_v1_alice.bin");
const V1_BOB: &[u8] = include_bytes!("../fixtures/group_state_v1_bob.bin");
const V1_MESSAGE: &[u8] = include_bytes!("../fixtures/group_state_v1_message.bin");
const V1_PLAINTEXT: &[u8] = b"written by the v1 state format";

#[test]
fn state_written_by_version_1_still_loads_and_works() {
    assert_eq!(&V1_BOB[..6], b"RCSG\x00\x01");
    let mut alice = Group::from_bytes(V1_ALICE).unwrap();
    let mut bob = Group::from_bytes(V1_BOB).unwrap();
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
    assert_eq!(bob.config(), &GroupConfig::default());
    assert_eq!(bob.decrypt(V1_MESSAGE).unwrap().data(), V1_PLAINTEXT);
    let wire = alice.encrypt(b"after reload").unwrap();
    assert_eq!(bob.decrypt(&wire).unwrap().data(), b"after reload");
    let out = bob.self_update().unwrap();
    alice.process_commit(&out.commit).unwrap();
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
    // Saved again, it round-trips in the current format.
    let again = Group::from_bytes(bob.to_bytes().unwrap().expose_secret()).unwrap();
    assert_eq!(again.epoch_authenticator(), alice.epoch_authenticator());
}

#[test]
fn the_past_epoch_window_survives_a_reload() {
    let mut g = team(3, GroupConfig::default());
    let late = g[0].encrypt(b"sent before the update").unwrap();
    let out = g[1].self_update().unwrap();
    g[0].process_commit(&out.commit).unwrap();
    g[2].process_commit(&out.commit).unwrap();
    let saved = g[2].to_bytes().unwrap();
    assert_eq!(&saved.expose_secret()[..6], b"RCSG\x00\x03");
    let mut reloaded = Group::from_bytes(saved.expose_secret()).unwrap();
    let got = reloaded.decrypt(&late).unwrap();
    assert_eq!(
        (got.epoch(), got.data()),
        (1, &b"sent before the update"[..])
    );
    assert!(reloaded.decrypt(&late).is_err());
}

#[test]
fn a_version_3_state_round_trips_byte_for_byte() {
    let mut g = team(5, GroupConfig::default());
    let out = g[2].self_update().unwrap();
    for i in [0, 1, 3, 4] {
        g[i].process_commit(&out.commit).unwrap();
    }
    let late = g[0].encrypt(b"late").unwrap();
    let out = g[4]
        .remove(&[rcsec_keying::mls::tree_math::LeafIndex(1)])
        .unwrap();
    for i in [0, 2, 3] {
        g[i].process_commit(&out.commit).unwrap();
    }
    let saved = g[3].to_bytes().unwrap();
    assert_eq!(&saved.expose_secret()[..6], b"RCSG\x00\x03");
    let mut loaded = Group::from_bytes(saved.expose_secret()).unwrap();
    assert_eq!(
        loaded.to_bytes().unwrap().expose_secret(),
        saved.expose_secret()
    );
    assert_eq!(loaded.members(), g[3].members());
    // Tree keys, epoch and past epochs all came back.
    assert_eq!(loaded.decrypt(&late).unwrap().data(), b"late");
    let out = g[0].self_update().unwrap();
    loaded.process_commit(&out.commit).unwrap();
    assert_eq!(loaded.epoch_authenticator(), g[0].epoch_authenticator());
    let out = loaded.self_update().unwrap();
    g[0].process_commit(&out.commit).unwrap();
    assert_eq!(loaded.epoch_authenticator(), g[0].epoch_authenticator());
}

#[test]
fn a_version_1_state_saved_again_before_any_commit_still_loads() {
    // The epoch loaded from version 1 still binds the roster hash; version 3 records that.
    let bob = Group::from_bytes(V1_BOB).unwrap();
    let saved = bob.to_bytes().unwrap();
    assert_eq!(&saved.expose_secret()[..6], b"RCSG\x00\x03");
    let mut bob = Group::from_bytes(saved.expose_secret()).unwrap();
    assert_eq!(bob.decrypt(V1_MESSAGE).unwrap().data(), V1_PLAINTEXT);
    let mut alice = Group::from_bytes(V1_ALICE).unwrap();
    let out = alice.self_update().unwrap();
    bob.process_commit(&out.commit).unwrap();
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
    // The origin byte (after magic 4, version 2, config 14, leaf 4, seed 32, removed 1) is
    // checked: claiming a tree-derived epoch fails the context's hash.
    let mut claimed = saved.expose_secret().clone();
    claimed[57] = 0;
    assert_eq!(
        Group::from_bytes(&claimed).unwrap_err(),
        GroupError::CorruptState("tree does not match the context")
    );
    claimed[57] = 7;
    assert_eq!(
        Group::from_bytes(&claimed).unwrap_err(),
        GroupError::CorruptState("origin")
    );
}

#[test]
fn a_removed_members_state_reloads_closed() {
    let mut g = team(3, GroupConfig::default());
    let out = g[0]
        .remove(&[rcsec_keying::mls::tree_math::LeafIndex(2)])
        .unwrap();
    let effect = g[2].process_commit(&out.commit).unwrap();
    assert!(effect.removed_self);
    let saved = g[2].to_bytes().unwrap();
    let mut reloaded = Group::from_bytes(saved.expose_secret()).unwrap();
    assert!(reloaded.is_removed());
    assert_eq!(reloaded.epoch(), 1);
    let wire = g[0].encrypt(b"after").unwrap();
    assert_eq!(reloaded.decrypt(&wire).unwrap_err(), GroupError::Removed);
    assert_eq!(reloaded.self_update().unwrap_err(), GroupError::Removed);
}
