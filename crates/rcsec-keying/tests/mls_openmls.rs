//! Interop with OpenMLS, an independent RFC 9420 implementation (issue #14): an OpenMLS member
//! creates a group and adds an rcsec member (and an OpenMLS one) through a Welcome; they
//! exchange application messages both ways; OpenMLS removes the third member and rcsec
//! follows the commit; then rcsec commits a self-update that OpenMLS processes. After every
//! epoch both sides must hold the same epoch authenticator.
//!
//! The same through the on-call API ([`rcsec_keying::group::Group`]): an OpenMLS member is
//! added by the orchestrator, joins from its Welcome, exchanges alerts and acks, processes the
//! orchestrator's `remove` and `self_update` commits, and commits a self-update the on-call
//! members process.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::time::Duration;

use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage as OmlsKeyPackage,
    LeafNodeParameters, Lifetime, MIXED_CIPHERTEXT_WIRE_FORMAT_POLICY, MlsGroup,
    MlsGroupCreateConfig, MlsGroupJoinConfig, MlsMessageBodyIn, MlsMessageIn, MlsMessageOut,
    OpenMlsProvider, PURE_CIPHERTEXT_WIRE_FORMAT_POLICY, ProcessedMessageContent, ProtocolVersion,
    StagedWelcome, tls_codec::Deserialize as _, tls_codec::Serialize as _,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use rcsec_core::{Secret, Timestamp};
use rcsec_keying::device::{Device, ValidatedKeyPackage};
use rcsec_keying::group::{Group, GroupConfig as TeamConfig};
use rcsec_keying::hpke::generate_key_pair;
use rcsec_keying::mls::codec::{Decode, Encode};
use rcsec_keying::mls::crypto::SignatureSecretKey;
use rcsec_keying::mls::framing::MlsMessage;
use rcsec_keying::mls::key_package::{
    Capabilities, Credential, KeyPackage, LeafNode, LeafNodeSource,
};
use rcsec_keying::mls::state::{GroupConfig, GroupState, Handled, JoinerKeys};

const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

fn none(_: &[u8]) -> Option<Secret<Vec<u8>>> {
    None
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An OpenMLS client: provider (key store), signer and credential.
struct Omls {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
}

fn omls(name: &str) -> Omls {
    let provider = OpenMlsRustCrypto::default();
    let signer = SignatureKeyPair::new(SUITE.signature_algorithm()).unwrap();
    signer.store(provider.storage()).unwrap();
    let credential = CredentialWithKey {
        credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
        signature_key: signer.to_public_vec().into(),
    };
    Omls {
        provider,
        signer,
        credential,
    }
}

/// The rcsec client's KeyPackage, built and signed by rcsec.
fn rcsec_client(name: &str) -> JoinerKeys {
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
            extensions: Vec::new(),
            proposals: Vec::new(),
            credentials: vec![1],
        },
        source: LeafNodeSource::KeyPackage {
            not_before: now() - 3600,
            not_after: now() + 7 * 24 * 3600,
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

/// OpenMLS bytes -> rcsec message.
fn to_rcsec(out: &MlsMessageOut) -> MlsMessage {
    MlsMessage::from_bytes(&out.to_bytes().unwrap()).unwrap()
}

/// rcsec message -> OpenMLS input.
fn to_omls(msg: &MlsMessage) -> MlsMessageIn {
    MlsMessageIn::tls_deserialize_exact(msg.to_bytes().unwrap()).unwrap()
}

/// OpenMLS processes a handshake or application message; commits are merged.
fn omls_process(group: &mut MlsGroup, client: &Omls, msg: MlsMessageIn) -> Option<Vec<u8>> {
    let processed = group
        .process_message(&client.provider, msg.try_into_protocol_message().unwrap())
        .unwrap();
    match processed.into_content() {
        ProcessedMessageContent::ApplicationMessage(m) => Some(m.into_bytes()),
        ProcessedMessageContent::StagedCommitMessage(commit) => {
            group
                .merge_staged_commit(&client.provider, *commit)
                .unwrap();
            None
        }
        _ => None,
    }
}

#[test]
fn rcsec_joins_follows_and_commits_in_an_openmls_group() {
    let alice = omls("alice");
    let charlie = omls("charlie");
    let config = MlsGroupCreateConfig::builder()
        .ciphersuite(SUITE)
        .use_ratchet_tree_extension(true)
        .wire_format_policy(MIXED_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .build();
    let mut alice_group = MlsGroup::new(
        &alice.provider,
        &alice.signer,
        &config,
        alice.credential.clone(),
    )
    .unwrap();

    // rcsec's KeyPackage goes through OpenMLS's own validation.
    let bob_keys = rcsec_client("bob");
    let MlsMessageBodyIn::KeyPackage(bob_kp_in) = MlsMessageIn::tls_deserialize_exact(
        MlsMessage::KeyPackage(bob_keys.key_package.clone())
            .to_bytes()
            .unwrap(),
    )
    .unwrap()
    .extract() else {
        panic!("not a key package")
    };
    let bob_kp: OmlsKeyPackage = bob_kp_in
        .validate(alice.provider.crypto(), ProtocolVersion::Mls10)
        .unwrap();
    let charlie_kp = OmlsKeyPackage::builder()
        .build(
            SUITE,
            &charlie.provider,
            &charlie.signer,
            charlie.credential.clone(),
        )
        .unwrap();

    let (_commit, welcome, _) = alice_group
        .add_members(
            &alice.provider,
            &alice.signer,
            &[bob_kp, charlie_kp.key_package().clone()],
        )
        .unwrap();
    alice_group.merge_pending_commit(&alice.provider).unwrap();

    let MlsMessage::Welcome(rcsec_welcome) = to_rcsec(&welcome) else {
        panic!("not a welcome")
    };
    let mut bob = GroupState::join(
        &rcsec_welcome,
        bob_keys,
        None,
        &none,
        GroupConfig {
            now: Some(now()),
            ..GroupConfig::default()
        },
    )
    .unwrap();
    assert_eq!(
        alice_group.epoch_authenticator().as_slice(),
        bob.epoch_authenticator()
    );
    let MlsMessageBodyIn::Welcome(w) = MlsMessageIn::from(welcome).extract() else {
        panic!("not a welcome")
    };
    let join_config = MlsGroupJoinConfig::builder()
        .wire_format_policy(MIXED_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(true)
        .build();
    let mut charlie_group =
        StagedWelcome::new_from_welcome(&charlie.provider, &join_config, w, None)
            .unwrap()
            .into_group(&charlie.provider)
            .unwrap();

    // Application messages both ways.
    let out = alice_group
        .create_message(&alice.provider, &alice.signer, b"disk full on db-1")
        .unwrap();
    assert_eq!(
        bob.handle(&to_rcsec(&out), &none).unwrap(),
        Handled::Application(b"disk full on db-1".to_vec())
    );
    let reply = bob.encrypt_application(b"ack, on it").unwrap();
    assert_eq!(
        omls_process(&mut alice_group, &alice, to_omls(&reply)),
        Some(b"ack, on it".to_vec())
    );
    assert_eq!(
        omls_process(&mut charlie_group, &charlie, to_omls(&reply)),
        Some(b"ack, on it".to_vec())
    );

    // OpenMLS removes charlie; rcsec follows the (encrypted) commit.
    let charlie_leaf = charlie_group.own_leaf_index();
    let (remove, _, _) = alice_group
        .remove_members(&alice.provider, &alice.signer, &[charlie_leaf])
        .unwrap();
    alice_group.merge_pending_commit(&alice.provider).unwrap();
    assert!(matches!(
        bob.handle(&to_rcsec(&remove), &none).unwrap(),
        Handled::Commit { .. }
    ));
    assert_eq!(
        alice_group.epoch_authenticator().as_slice(),
        bob.epoch_authenticator()
    );
    assert_eq!(bob.tree().members().count(), 2);

    // rcsec commits a self-update (fresh TreeKEM path); OpenMLS processes it.
    let out = bob.commit(Vec::new(), &none).unwrap();
    assert_eq!(
        omls_process(&mut alice_group, &alice, to_omls(&out.commit)),
        None
    );
    assert_eq!(
        alice_group.epoch_authenticator().as_slice(),
        bob.epoch_authenticator()
    );
    assert_eq!(alice_group.epoch().as_u64(), bob.context().epoch);

    // And the new epoch carries traffic.
    let out = alice_group
        .create_message(&alice.provider, &alice.signer, b"resolved")
        .unwrap();
    assert_eq!(
        bob.handle(&to_rcsec(&out), &none).unwrap(),
        Handled::Application(b"resolved".to_vec())
    );
}

/// Bytes of the on-call API -> OpenMLS input.
fn wire_to_omls(bytes: &[u8]) -> MlsMessageIn {
    MlsMessageIn::tls_deserialize_exact(bytes).unwrap()
}

#[test]
fn an_openmls_member_follows_the_on_call_group() {
    let now = Timestamp::from_secs(now());
    let week = Duration::from_secs(7 * 24 * 3600);
    let orchestrator = Device::generate("orchestrator").unwrap();
    let mut team = Group::create(b"oncall".to_vec(), &orchestrator, TeamConfig::default()).unwrap();

    // The OpenMLS member's KeyPackage passes the on-call group's own validation.
    let dave = omls("dave");
    let dave_kp = OmlsKeyPackage::builder()
        .key_package_lifetime(Lifetime::new(week.as_secs()))
        .build(SUITE, &dave.provider, &dave.signer, dave.credential.clone())
        .unwrap();
    let dave_kp =
        KeyPackage::from_bytes(&dave_kp.key_package().tls_serialize_detached().unwrap()).unwrap();
    let phone = Device::generate("phone").unwrap();
    let phone_bundle = phone.key_package(now, week).unwrap();
    let out = team
        .add(&[
            ValidatedKeyPackage::validate(&phone_bundle.key_package, now).unwrap(),
            ValidatedKeyPackage::validate(&dave_kp, now).unwrap(),
        ])
        .unwrap();
    let welcome = out.welcome.unwrap();
    let mut phone_group =
        Group::join(&welcome, phone_bundle, &phone, TeamConfig::default()).unwrap();
    let MlsMessageBodyIn::Welcome(w) = wire_to_omls(&welcome).extract() else {
        panic!("not a welcome")
    };
    let join_config = MlsGroupJoinConfig::builder()
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(true)
        .build();
    let mut dave_group = StagedWelcome::new_from_welcome(&dave.provider, &join_config, w, None)
        .unwrap()
        .into_group(&dave.provider)
        .unwrap();
    assert_eq!(
        dave_group.epoch_authenticator().as_slice(),
        team.epoch_authenticator()
    );

    // An alert out, an ack back (padded PrivateMessages both ways).
    let alert = team
        .encrypt(b"P1 payments-db: replication lag 45s")
        .unwrap();
    assert_eq!(
        omls_process(&mut dave_group, &dave, wire_to_omls(&alert)),
        Some(b"P1 payments-db: replication lag 45s".to_vec())
    );
    let ack = dave_group
        .create_message(&dave.provider, &dave.signer, b"ack")
        .unwrap()
        .to_bytes()
        .unwrap();
    assert_eq!(team.decrypt(&ack).unwrap().data(), b"ack");
    assert_eq!(
        phone_group.decrypt(&ack).unwrap().sender_identity(),
        b"dave"
    );

    // The orchestrator removes the phone; OpenMLS follows the TreeKEM commit.
    let out = team.remove(&[phone_group.own_leaf()]).unwrap();
    assert_eq!(
        omls_process(&mut dave_group, &dave, wire_to_omls(&out.commit)),
        None
    );
    assert!(
        phone_group
            .process_commit(&out.commit)
            .unwrap()
            .removed_self
    );
    assert_eq!(dave_group.members().count(), 2);
    assert_eq!(
        dave_group.epoch_authenticator().as_slice(),
        team.epoch_authenticator()
    );

    // The orchestrator's self-update, then OpenMLS's, each processed by the other side.
    let out = team.self_update().unwrap();
    omls_process(&mut dave_group, &dave, wire_to_omls(&out.commit));
    assert_eq!(
        dave_group.epoch_authenticator().as_slice(),
        team.epoch_authenticator()
    );
    let (commit, _, _) = dave_group
        .self_update(&dave.provider, &dave.signer, LeafNodeParameters::default())
        .unwrap()
        .into_contents();
    dave_group.merge_pending_commit(&dave.provider).unwrap();
    let effect = team.process_commit(&commit.to_bytes().unwrap()).unwrap();
    assert_eq!(effect.committer.0, dave_group.own_leaf_index().u32());
    assert_eq!(
        dave_group.epoch_authenticator().as_slice(),
        team.epoch_authenticator()
    );
    let alert = team.encrypt(b"resolved").unwrap();
    assert_eq!(
        omls_process(&mut dave_group, &dave, wire_to_omls(&alert)),
        Some(b"resolved".to_vec())
    );
}
