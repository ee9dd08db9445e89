//! The group lifecycle and application messages.

use std::time::Duration;

use rcsec_keying::device::{Device, ValidatedKeyPackage};
use rcsec_keying::group::{Group, GroupConfig, GroupError};
use rcsec_keying::mls::codec::{Decode, Encode};
use rcsec_keying::mls::framing::{FramingError, MlsMessage};
use rcsec_keying::mls::secret_tree::SecretTreeError;
use rcsec_keying::mls::tree_math::LeafIndex;

use super::common::{NOW, deliver, team};

const ALERT: &[u8] = b"P1 payments-db replication lag 45s";

fn consumed() -> GroupError {
    GroupError::Framing(FramingError::SecretTree(SecretTreeError::Consumed))
}

#[test]
fn every_member_reads_every_other_member() {
    let mut g = team(4, GroupConfig::default());
    let auth = *g[0].epoch_authenticator();
    assert!(
        g.iter()
            .all(|m| *m.epoch_authenticator() == auth && m.epoch() == 1)
    );
    for from in 0..4 {
        let wire = g[from].encrypt(ALERT).unwrap();
        for to in (0..4).filter(|t| *t != from) {
            let got = g[to].decrypt(&wire).unwrap();
            assert_eq!(got.data(), ALERT);
            assert_eq!(got.sender(), LeafIndex(from as u32));
            assert_eq!(got.epoch(), 1);
        }
    }
    let names: Vec<_> = g[2].members().into_iter().map(|m| m.identity).collect();
    assert_eq!(names[0], b"orchestrator");
    assert_eq!(names[3], b"device-3");
}

#[test]
fn adding_later_welcomes_the_new_device_and_moves_everyone_on() {
    let mut g = team(3, GroupConfig::default());
    let dave = Device::generate("dave").unwrap();
    let bundle = dave.key_package(NOW, Duration::from_secs(600)).unwrap();
    let kp = ValidatedKeyPackage::validate(&bundle.key_package, NOW).unwrap();
    let out = g[1].add(std::slice::from_ref(&kp)).unwrap();
    deliver(&mut g, 1, &out.commit);
    let welcome = out.welcome.unwrap();
    // The Welcome is only for Dave's key package.
    let eve = Device::generate("eve").unwrap();
    let other = eve.key_package(NOW, Duration::from_secs(600)).unwrap();
    assert_eq!(
        Group::join(&welcome, other, &eve, GroupConfig::default()).unwrap_err(),
        GroupError::WelcomeNotForUs
    );
    let mut d = Group::join(&welcome, bundle, &dave, GroupConfig::default()).unwrap();
    assert_eq!(d.epoch(), 2);
    assert_eq!(d.epoch_authenticator(), g[0].epoch_authenticator());
    let wire = d.encrypt(ALERT).unwrap();
    for m in &mut g {
        assert_eq!(m.decrypt(&wire).unwrap().sender_identity(), b"dave");
    }
    // Adding the same device twice is refused.
    assert!(matches!(g[0].add(&[kp]), Err(GroupError::InvalidCommit(_))));
    assert!(matches!(g[0].add(&[]), Err(GroupError::InvalidCommit(_))));
}

#[test]
fn a_removed_device_is_locked_out_of_everything_after() {
    let mut g = team(3, GroupConfig::default());
    let mut removed = g.pop().unwrap();
    let before = removed.to_bytes().unwrap();
    let out = g[0].remove(&[LeafIndex(2)]).unwrap();
    g[1].process_commit(&out.commit).unwrap();
    assert_eq!(g[1].members().len(), 2);

    let effect = removed.process_commit(&out.commit).unwrap();
    assert!(effect.removed_self && removed.is_removed());
    assert_eq!(
        removed.decrypt(b"anything").unwrap_err(),
        GroupError::Removed
    );
    assert_eq!(removed.encrypt(ALERT).unwrap_err(), GroupError::Removed);

    // Even a copy of its state from before the removal reads nothing sent after it: the
    // new epoch's secrets were never sealed to it.
    let after = g[0].encrypt(ALERT).unwrap();
    let mut snapshot = Group::from_bytes(before.expose_secret()).unwrap();
    assert_eq!(
        snapshot.decrypt(&after).unwrap_err(),
        GroupError::FutureEpoch
    );
    let mut forged = MlsMessage::from_bytes(&after).unwrap();
    if let MlsMessage::Private(m) = &mut forged {
        m.epoch = snapshot.epoch();
    }
    assert!(snapshot.decrypt(&forged.to_bytes().unwrap()).is_err());
    // And later epochs are further out of reach.
    let next = g[1].self_update().unwrap();
    g[0].process_commit(&next.commit).unwrap();
    assert_eq!(
        snapshot.process_commit(&next.commit).unwrap_err(),
        GroupError::FutureEpoch
    );
    let wire = g[0].encrypt(ALERT).unwrap();
    assert_eq!(g[1].decrypt(&wire).unwrap().data(), ALERT);

    // Removing yourself, a blank leaf, or nothing is refused.
    assert_eq!(
        g[0].remove(&[LeafIndex(0)]).unwrap_err(),
        GroupError::InvalidMember
    );
    assert_eq!(
        g[0].remove(&[LeafIndex(2)]).unwrap_err(),
        GroupError::InvalidMember
    );
    assert!(matches!(
        g[0].remove(&[]),
        Err(GroupError::InvalidCommit(_))
    ));
}

#[test]
fn a_self_update_heals_a_compromised_member() {
    let mut g = team(3, GroupConfig::default());
    // The attacker copies device 1's complete state.
    let stolen = g[1].to_bytes().unwrap();
    let out = g[1].self_update().unwrap();
    deliver(&mut g, 1, &out.commit);
    assert!(g.iter().all(|m| m.epoch() == 2));
    let mut attacker = Group::from_bytes(stolen.expose_secret()).unwrap();
    // The update's commit secret was sealed to the others, not to the old leaf key.
    assert!(attacker.process_commit(&out.commit).is_err());
    let wire = g[0].encrypt(ALERT).unwrap();
    assert_eq!(
        attacker.decrypt(&wire).unwrap_err(),
        GroupError::FutureEpoch
    );
    // The next commit by someone else is sealed to device 1's new key; the attacker still
    // has only the old one.
    let out = g[2].self_update().unwrap();
    deliver(&mut g, 2, &out.commit);
    let wire = g[0].encrypt(ALERT).unwrap();
    assert_eq!(g[1].decrypt(&wire).unwrap().data(), ALERT);
}

#[test]
fn out_of_order_messages_decrypt_and_replays_do_not() {
    let mut g = team(2, GroupConfig::default());
    let wires: Vec<_> = (0..5u8).map(|i| g[0].encrypt(&[i; 10]).unwrap()).collect();
    for i in [4usize, 1, 3, 0, 2] {
        assert_eq!(g[1].decrypt(&wires[i]).unwrap().data(), [i as u8; 10]);
    }
    for wire in &wires {
        assert_eq!(g[1].decrypt(wire).unwrap_err(), consumed());
    }
}

#[test]
fn the_out_of_order_window_and_forward_jump_are_bounded() {
    let config = GroupConfig {
        out_of_order_tolerance: 2,
        max_forward_distance: 5,
        ..GroupConfig::default()
    };
    let mut g = team(2, config);
    let wires: Vec<_> = (0..8u8).map(|i| g[0].encrypt(&[i]).unwrap()).collect();
    assert_eq!(
        g[1].decrypt(&wires[6]).unwrap_err(),
        GroupError::Framing(FramingError::SecretTree(SecretTreeError::TooFarAhead))
    );
    g[1].decrypt(&wires[5]).unwrap();
    // Generations 0..=4 were skipped; only the newest two (3, 4) are kept.
    g[1].decrypt(&wires[3]).unwrap();
    g[1].decrypt(&wires[4]).unwrap();
    assert_eq!(g[1].decrypt(&wires[2]).unwrap_err(), consumed());
    assert_eq!(g[1].decrypt(&wires[0]).unwrap_err(), consumed());
    g[1].decrypt(&wires[7]).unwrap();
}

#[test]
fn late_messages_from_recent_epochs_decrypt() {
    let mut g = team(3, GroupConfig::default());
    let old = g[0].encrypt(ALERT).unwrap();
    let older = g[0].encrypt(b"earlier").unwrap();
    for committer in [1usize, 2] {
        let out = g[committer].self_update().unwrap();
        deliver(&mut g, committer, &out.commit);
    }
    assert_eq!(g[1].epoch(), 3);
    // Two epochs back is inside the default window.
    let got = g[1].decrypt(&old).unwrap();
    assert_eq!((got.epoch(), got.data()), (1, ALERT));
    // A third commit pushes epoch 1 out.
    let out = g[2].self_update().unwrap();
    deliver(&mut g, 2, &out.commit);
    assert_eq!(g[1].decrypt(&older).unwrap_err(), GroupError::EpochTooOld);
    // With no retained epochs, one commit is enough to lose a late message.
    let mut strict = team(
        2,
        GroupConfig {
            past_epochs: 0,
            ..GroupConfig::default()
        },
    );
    let late = strict[0].encrypt(ALERT).unwrap();
    let out = strict[0].self_update().unwrap();
    strict[1].process_commit(&out.commit).unwrap();
    assert_eq!(
        strict[1].decrypt(&late).unwrap_err(),
        GroupError::EpochTooOld
    );
}

#[test]
fn a_removed_sender_cannot_use_a_past_epoch() {
    let mut g = team(3, GroupConfig::default());
    let from_leaver = g[2].encrypt(b"sent just before removal").unwrap();
    let out = g[0].remove(&[LeafIndex(2)]).unwrap();
    g[1].process_commit(&out.commit).unwrap();
    assert_eq!(
        g[1].decrypt(&from_leaver).unwrap_err(),
        GroupError::FormerMember
    );
}

#[test]
fn tampering_is_caught_at_each_layer() {
    let mut g = team(2, GroupConfig::default());
    let wire = g[0].encrypt(ALERT).unwrap();
    let MlsMessage::Private(msg) = MlsMessage::from_bytes(&wire).unwrap() else {
        panic!("not a private message");
    };
    let mut check = |edit: &dyn Fn(&mut rcsec_keying::mls::framing::PrivateMessage),
                     want: GroupError| {
        let mut m = msg.clone();
        edit(&mut m);
        let bytes = MlsMessage::Private(m).to_bytes().unwrap();
        assert_eq!(g[1].decrypt(&bytes).unwrap_err(), want);
    };
    let decrypt = GroupError::Framing(FramingError::Crypto(
        rcsec_keying::mls::crypto::CryptoError::Decrypt,
    ));
    check(&|m| m.ciphertext[40] ^= 1, decrypt);
    check(&|m| m.encrypted_sender_data[3] ^= 1, decrypt);
    check(&|m| m.authenticated_data = b"routing".to_vec(), decrypt);
    check(
        &|m| m.group_id = b"other-team".to_vec(),
        GroupError::WrongGroup,
    );
    check(&|m| m.epoch += 1, GroupError::FutureEpoch);
    check(&|m| m.epoch = 0, GroupError::EpochTooOld);
    // The untouched message still decrypts: forged copies burned no key.
    assert_eq!(g[1].decrypt(&wire).unwrap().data(), ALERT);
    // Truncated and garbage input are typed errors.
    for cut in [0, 1, 5, wire.len() / 2, wire.len() - 1] {
        assert!(matches!(
            g[1].decrypt(&wire[..cut]),
            Err(GroupError::Codec(_))
        ));
    }

    // Commits (RFC 9420 PrivateMessages): flipping a byte of the encrypted sender data, of
    // the encrypted commit with its TreeKEM path (the AEAD tag), or the protocol version.
    let out = g[0].self_update().unwrap();
    let mut bad = out.commit.clone();
    bad[40] ^= 1;
    assert!(matches!(
        g[1].process_commit(&bad),
        Err(GroupError::Framing(_))
    ));
    let mut bad = out.commit.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(g[1].process_commit(&bad).unwrap_err(), decrypt);
    let mut bad = out.commit.clone();
    bad[1] = 9;
    assert!(matches!(
        g[1].process_commit(&bad),
        Err(GroupError::Codec(_))
    ));
    // An application message is not a commit, and the reverse.
    assert_eq!(
        g[1].process_commit(&wire).unwrap_err(),
        GroupError::UnexpectedMessage
    );
    assert_eq!(
        g[1].decrypt(&out.commit).unwrap_err(),
        GroupError::UnexpectedMessage
    );
    g[1].process_commit(&out.commit).unwrap();
    assert_eq!(
        g[1].process_commit(&out.commit).unwrap_err(),
        GroupError::EpochTooOld
    );

    // Welcomes: a flipped byte in the encrypted group info.
    let dave = Device::generate("dave").unwrap();
    let bundle = dave.key_package(NOW, Duration::from_secs(600)).unwrap();
    let kp = ValidatedKeyPackage::validate(&bundle.key_package, NOW).unwrap();
    let out = g[0].add(&[kp]).unwrap();
    let mut welcome = out.welcome.unwrap();
    let last = welcome.len() - 1;
    welcome[last] ^= 1;
    assert!(matches!(
        Group::join(&welcome, bundle, &dave, GroupConfig::default()),
        Err(GroupError::Crypto(_))
    ));
}

#[test]
fn nothing_secret_reaches_debug_or_errors() {
    let canary = b"CANARY-7f3a9c-hunter2";
    let mut g = team(2, GroupConfig::default());
    let wire = g[0].encrypt(canary).unwrap();
    let got = g[1].decrypt(&wire).unwrap();
    let state = g[0].to_bytes().unwrap();
    let auth_hex = hex::encode(g[0].epoch_authenticator());
    let canary_str = std::str::from_utf8(canary).unwrap();
    let mut texts = vec![
        format!("{:?}", g[0]),
        format!("{got:?}"),
        format!("{state:?}"),
        format!("{:?}", g[0].self_update().unwrap()),
        format!("{:?}", g[0].members()),
    ];
    let replay = g[1].decrypt(&wire).unwrap_err();
    texts.push(format!("{replay} {replay:?}"));
    let device = Device::generate("alice").unwrap();
    let seed_hex = hex::encode(device.signer().to_seed().expose_secret());
    let bundle = device.key_package(NOW, Duration::from_secs(60)).unwrap();
    texts.push(format!("{device:?} {bundle:?}"));
    for text in &texts {
        assert!(!text.contains(canary_str), "{text}");
        assert!(!text.contains(&auth_hex), "{text}");
        assert!(!text.contains(&seed_hex), "{text}");
        assert!(!text.contains("alice"), "{text}");
    }
    // The plaintext is where it should be, and nowhere on the wire.
    assert_eq!(got.data(), canary);
    assert!(!wire.windows(canary.len()).any(|w| w == canary));
}

/// Every member of `g` (except skipped ones) can read a message from `from`.
fn all_read(g: &mut [Group], from: usize) {
    let wire = g[from].encrypt(ALERT).unwrap();
    for (i, m) in g.iter_mut().enumerate() {
        if i != from {
            assert_eq!(m.decrypt(&wire).unwrap().data(), ALERT, "member {i}");
        }
    }
}

#[test]
fn a_nine_member_tree_removes_and_updates_at_every_member() {
    // Nine leaves need a 16-leaf tree: paths of four parent levels.
    let mut g = team(9, GroupConfig::default());
    // Everyone updates once, so every parent node is populated (no blank shortcuts).
    for committer in 1..9 {
        let out = g[committer].self_update().unwrap();
        deliver(&mut g, committer, &out.commit);
    }
    let auth = *g[0].epoch_authenticator();
    assert!(g.iter().all(|m| *m.epoch_authenticator() == auth));

    // A member in the middle removes one from the other half of the tree.
    let out = g[3].remove(&[LeafIndex(6)]).unwrap();
    let mut removed = g.remove(6);
    let effect = removed.process_commit(&out.commit).unwrap();
    assert!(effect.removed_self);
    for (i, m) in g.iter_mut().enumerate() {
        if i != 3 {
            let effect = m.process_commit(&out.commit).unwrap();
            assert_eq!(
                (effect.committer, effect.removed.as_slice()),
                (LeafIndex(3), &[LeafIndex(6)][..])
            );
        }
    }
    assert!(g.iter().all(|m| m.members().len() == 8 && m.epoch() == 10));
    all_read(&mut g, 0);

    // The last leaf updates; everyone (including the remover) processes it.
    let out = g[7].self_update().unwrap();
    deliver(&mut g, 7, &out.commit);
    let auth = *g[7].epoch_authenticator();
    assert!(g.iter().all(|m| *m.epoch_authenticator() == auth));
    all_read(&mut g, 7);
    all_read(&mut g, 2);

    // A new device takes the blank leaf (unmerged below populated parents) and reads too.
    let dave = Device::generate("dave").unwrap();
    let bundle = dave.key_package(NOW, Duration::from_secs(600)).unwrap();
    let kp = ValidatedKeyPackage::validate(&bundle.key_package, NOW).unwrap();
    let out = g[5].add(&[kp]).unwrap();
    deliver(&mut g, 5, &out.commit);
    let d = Group::join(&out.welcome.unwrap(), bundle, &dave, GroupConfig::default()).unwrap();
    assert_eq!(d.own_leaf(), LeafIndex(6));
    g.push(d);
    let out = g[8].self_update().unwrap();
    deliver(&mut g, 8, &out.commit);
    all_read(&mut g, 8);
    all_read(&mut g, 1);
}
