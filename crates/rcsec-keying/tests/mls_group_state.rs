//! Three members run a full RFC 9420 group on TreeKEM: create, add through Welcomes, remove,
//! self-update, application messages both ways; every member agrees on every epoch.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use rcsec_core::Secret;
use rcsec_keying::hpke::generate_key_pair;
use rcsec_keying::mls::crypto::SignatureSecretKey;
use rcsec_keying::mls::framing::{MlsMessage, Proposal};
use rcsec_keying::mls::key_package::{
    Capabilities, Credential, KeyPackage, LeafNode, LeafNodeSource,
};
use rcsec_keying::mls::psk::{PreSharedKeyId, Psk};
use rcsec_keying::mls::state::{GroupConfig, GroupError, GroupState, Handled, JoinerKeys};

fn none(_: &[u8]) -> Option<Secret<Vec<u8>>> {
    None
}

/// A client's KeyPackage and private keys.
fn client(name: &str) -> JoinerKeys {
    let signer = SignatureSecretKey::generate().unwrap();
    let (leaf_key, leaf_pub) = generate_key_pair().unwrap();
    let (init_key, init_pub) = generate_key_pair().unwrap();
    let mut leaf = LeafNode {
        encryption_key: leaf_pub.as_bytes().to_vec(),
        signature_key: signer.public_key().as_bytes().to_vec(),
        credential: Credential::Basic {
            identity: name.as_bytes().to_vec(),
        },
        capabilities: Capabilities {
            versions: vec![1],
            cipher_suites: vec![1],
            ..Capabilities::default()
        },
        source: LeafNodeSource::KeyPackage {
            not_before: 0,
            not_after: u64::MAX,
        },
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    leaf.sign(&signer, None).unwrap();
    let mut key_package = KeyPackage {
        version: 1,
        cipher_suite: 1,
        init_key: init_pub.as_bytes().to_vec(),
        leaf_node: leaf,
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    key_package.sign(&signer).unwrap();
    JoinerKeys {
        key_package,
        init_key,
        leaf_key,
        signer,
    }
}

fn create(name: &str) -> GroupState {
    let c = client(name);
    GroupState::create(
        b"on-call db".to_vec(),
        c.key_package.leaf_node,
        c.leaf_key,
        c.signer,
        Vec::new(),
        GroupConfig {
            now: Some(1_700_000_000),
            ..GroupConfig::default()
        },
    )
    .unwrap()
}

fn join(welcome: &MlsMessage, keys: JoinerKeys) -> GroupState {
    let MlsMessage::Welcome(w) = welcome else {
        panic!("not a welcome")
    };
    GroupState::join(w, keys, None, &none, GroupConfig::default()).unwrap()
}

#[test]
fn three_members_follow_every_epoch() {
    let mut alice = create("alice");
    let bob_keys = client("bob");
    let bob_kp = bob_keys.key_package.clone();
    let out = alice
        .commit(vec![Proposal::Add(Box::new(bob_kp.clone()))], &none)
        .unwrap();
    let mut bob = join(&MlsMessage::Welcome(out.welcome.unwrap()), bob_keys);
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
    assert_eq!(bob.context().epoch, 1);

    // Adding bob again is refused: his keys are already in the group.
    let err = alice
        .commit(vec![Proposal::Add(Box::new(bob_kp))], &none)
        .unwrap_err();
    assert!(matches!(err, GroupError::InvalidProposals(_)), "{err:?}");

    // Bob adds carol; alice follows the commit, carol joins.
    let carol_keys = client("carol");
    let out = bob
        .commit(
            vec![Proposal::Add(Box::new(carol_keys.key_package.clone()))],
            &none,
        )
        .unwrap();
    assert_eq!(
        alice.handle(&out.commit, &none).unwrap(),
        Handled::Commit { epoch: 2 }
    );
    let mut carol = join(&MlsMessage::Welcome(out.welcome.unwrap()), carol_keys);
    for s in [&alice, &carol] {
        assert_eq!(s.epoch_authenticator(), bob.epoch_authenticator());
        assert_eq!(s.tree(), bob.tree());
    }

    // Application messages both ways.
    let msg = carol.encrypt_application(b"ack INC-7").unwrap();
    assert_eq!(
        alice.handle(&msg, &none).unwrap(),
        Handled::Application(b"ack INC-7".to_vec())
    );
    assert_eq!(
        bob.handle(&msg, &none).unwrap(),
        Handled::Application(b"ack INC-7".to_vec())
    );
    let msg = alice.encrypt_application(b"escalating").unwrap();
    assert_eq!(
        carol.handle(&msg, &none).unwrap(),
        Handled::Application(b"escalating".to_vec())
    );

    // Carol removes alice: bob follows, alice learns she is out and cannot follow.
    let alice_leaf = alice.own_leaf().0;
    let out = carol
        .commit(
            vec![Proposal::Remove {
                removed: alice_leaf,
            }],
            &none,
        )
        .unwrap();
    assert!(out.welcome.is_none());
    bob.handle(&out.commit, &none).unwrap();
    assert_eq!(
        alice.handle(&out.commit, &none).unwrap_err(),
        GroupError::Removed
    );
    assert_eq!(bob.epoch_authenticator(), carol.epoch_authenticator());
    assert_ne!(alice.epoch_authenticator(), carol.epoch_authenticator());

    // Bob self-updates (empty commit, fresh path); carol follows.
    let before = *carol.epoch_authenticator();
    let out = bob.commit(Vec::new(), &none).unwrap();
    carol.handle(&out.commit, &none).unwrap();
    assert_eq!(bob.epoch_authenticator(), carol.epoch_authenticator());
    assert_ne!(before, *carol.epoch_authenticator());

    // A commit replayed into the next epoch is refused.
    assert!(carol.handle(&out.commit, &none).is_err());
}

#[test]
fn psk_commits_need_the_psk_on_both_sides() {
    let mut alice = create("alice");
    let bob_keys = client("bob");
    let out = alice
        .commit(
            vec![Proposal::Add(Box::new(bob_keys.key_package.clone()))],
            &none,
        )
        .unwrap();
    let mut bob = join(&MlsMessage::Welcome(out.welcome.unwrap()), bob_keys);
    let id = PreSharedKeyId {
        psk: Psk::External {
            psk_id: b"pager-duty".to_vec(),
        },
        psk_nonce: vec![7; 32],
    };
    let psk = |id: &[u8]| (id == b"pager-duty").then(|| Secret::new(vec![42; 32]));
    assert_eq!(
        alice
            .commit(vec![Proposal::PreSharedKey(id.clone())], &none)
            .unwrap_err(),
        GroupError::UnknownPsk
    );
    let out = alice
        .commit(vec![Proposal::PreSharedKey(id)], &psk)
        .unwrap();
    assert_eq!(
        bob.handle(&out.commit, &none).unwrap_err(),
        GroupError::UnknownPsk
    );
    bob.handle(&out.commit, &psk).unwrap();
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
}

#[test]
fn an_expired_key_package_cannot_be_added() {
    let mut alice = create("alice");
    let mut late = client("late");
    late.key_package.leaf_node.source = LeafNodeSource::KeyPackage {
        not_before: 0,
        not_after: 1,
    };
    late.key_package.leaf_node.sign(&late.signer, None).unwrap();
    late.key_package.sign(&late.signer).unwrap();
    let err = alice
        .commit(vec![Proposal::Add(Box::new(late.key_package))], &none)
        .unwrap_err();
    assert!(matches!(err, GroupError::InvalidKeyPackage(_)), "{err:?}");
    assert_eq!(alice.context().epoch, 0);
}
