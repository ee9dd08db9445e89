//! A commit removing one member (issue 14), created and processed, at 16, 64 and 128 members:
//! rcsec's TreeKEM beside OpenMLS, single-threaded, on the same scenario.
//!
//! Both groups are built the same way: the creator adds everyone else in one commit (so the
//! tree's parents are blank apart from the creator's path), and the member at leaf 1 joins
//! from the Welcome. "create" is the creator's commit removing the last member (with a
//! fresh path); "process" is leaf 1 processing that commit. Handshake messages are
//! PublicMessages on both sides. rcsec's create also moves the committer to the new epoch
//! (timed on a clone of the state); OpenMLS's stores a pending commit, cleared untimed.

use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage as OmlsKeyPackage, LeafNodeIndex,
    MlsGroup, MlsGroupCreateConfig, MlsGroupJoinConfig, MlsMessageBodyIn, MlsMessageIn,
    OpenMlsProvider, PURE_PLAINTEXT_WIRE_FORMAT_POLICY, ProcessedMessageContent, StagedWelcome,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use rcsec_core::Secret;
use rcsec_keying::hpke::generate_key_pair;
use rcsec_keying::mls::crypto::SignatureSecretKey;
use rcsec_keying::mls::framing::{MlsMessage, Proposal};
use rcsec_keying::mls::key_package::{
    Capabilities, Credential, KeyPackage, LeafNode, LeafNodeSource,
};
use rcsec_keying::mls::state::{GroupConfig, GroupState, JoinerKeys};

const SIZES: [u32; 3] = [16, 64, 128];
const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

fn none(_: &[u8]) -> Option<Secret<Vec<u8>>> {
    None
}

fn rcsec_client(i: u32) -> JoinerKeys {
    let signer = SignatureSecretKey::generate().unwrap_or_else(|e| panic!("{e}"));
    let (leaf_key, leaf_pub) = generate_key_pair().unwrap_or_else(|e| panic!("{e}"));
    let (init_key, init_pub) = generate_key_pair().unwrap_or_else(|e| panic!("{e}"));
    let mut leaf = LeafNode {
        encryption_key: leaf_pub.as_bytes().to_vec(),
        signature_key: signer.public_key().as_bytes().to_vec(),
        credential: Credential::Basic {
            identity: format!("member-{i}").into_bytes(),
        },
        capabilities: Capabilities {
            versions: vec![1],
            cipher_suites: vec![1],
            credentials: vec![1],
            ..Capabilities::default()
        },
        source: LeafNodeSource::KeyPackage {
            not_before: 0,
            not_after: u64::MAX,
        },
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    leaf.sign(&signer, None).unwrap_or_else(|e| panic!("{e}"));
    let mut key_package = KeyPackage {
        version: 1,
        cipher_suite: 1,
        init_key: init_pub.as_bytes().to_vec(),
        leaf_node: leaf,
        extensions: Vec::new(),
        signature: Vec::new(),
    };
    key_package.sign(&signer).unwrap_or_else(|e| panic!("{e}"));
    JoinerKeys {
        key_package,
        init_key,
        leaf_key,
        signer,
    }
}

/// rcsec: the creator and the member at leaf 1 of an `n`-member group.
fn rcsec_group(n: u32) -> (GroupState, GroupState) {
    let creator = rcsec_client(0);
    let mut alice = GroupState::create(
        b"bench".to_vec(),
        creator.key_package.leaf_node,
        creator.leaf_key,
        creator.signer,
        Vec::new(),
        GroupConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut members: Vec<JoinerKeys> = (1..n).map(rcsec_client).collect();
    let adds = members
        .iter()
        .map(|m| Proposal::Add(Box::new(m.key_package.clone())))
        .collect();
    let out = alice.commit(adds, &none).unwrap_or_else(|e| panic!("{e}"));
    let welcome = out.welcome.unwrap_or_else(|| panic!("no welcome"));
    let bob = GroupState::join(
        &welcome,
        members.remove(0),
        None,
        &none,
        GroupConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (alice, bob)
}

struct Omls {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
}

fn omls_client(i: u32) -> Omls {
    let provider = OpenMlsRustCrypto::default();
    let signer =
        SignatureKeyPair::new(SUITE.signature_algorithm()).unwrap_or_else(|e| panic!("{e:?}"));
    signer
        .store(provider.storage())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let credential = CredentialWithKey {
        credential: BasicCredential::new(format!("member-{i}").into_bytes()).into(),
        signature_key: signer.to_public_vec().into(),
    };
    Omls {
        provider,
        signer,
        credential,
    }
}

/// OpenMLS: the creator and the member at leaf 1 of an `n`-member group.
fn omls_group(n: u32) -> ((Omls, MlsGroup), (Omls, MlsGroup)) {
    let alice = omls_client(0);
    let config = MlsGroupCreateConfig::builder()
        .ciphersuite(SUITE)
        .use_ratchet_tree_extension(true)
        .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .build();
    let mut alice_group = MlsGroup::new(
        &alice.provider,
        &alice.signer,
        &config,
        alice.credential.clone(),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let mut members: Vec<Omls> = (1..n).map(omls_client).collect();
    let kps: Vec<OmlsKeyPackage> = members
        .iter()
        .map(|m| {
            OmlsKeyPackage::builder()
                .build(SUITE, &m.provider, &m.signer, m.credential.clone())
                .unwrap_or_else(|e| panic!("{e:?}"))
                .key_package()
                .clone()
        })
        .collect();
    let (_, welcome, _) = alice_group
        .add_members(&alice.provider, &alice.signer, &kps)
        .unwrap_or_else(|e| panic!("{e:?}"));
    alice_group
        .merge_pending_commit(&alice.provider)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let MlsMessageBodyIn::Welcome(w) = MlsMessageIn::from(welcome).extract() else {
        panic!("not a welcome")
    };
    let bob = members.remove(0);
    let join = MlsGroupJoinConfig::builder()
        .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(true)
        .build();
    let bob_group = StagedWelcome::new_from_welcome(&bob.provider, &join, w, None)
        .and_then(|s| s.into_group(&bob.provider))
        .unwrap_or_else(|e| panic!("{e:?}"));
    ((alice, alice_group), (bob, bob_group))
}

fn commit_remove_one(c: &mut Criterion) {
    let mut create = c.benchmark_group("mls_commit_remove_one_create");
    create
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    let mut fixtures = Vec::new();
    for n in SIZES {
        let (alice, bob) = rcsec_group(n);
        let ((oa, mut oa_group), (ob, ob_group)) = omls_group(n);
        create.bench_with_input(BenchmarkId::new("rcsec", n), &n, |b, n| {
            b.iter_batched(
                || alice.clone(),
                |mut a| {
                    a.commit(vec![Proposal::Remove { removed: n - 1 }], &none)
                        .unwrap_or_else(|e| panic!("{e}"))
                },
                BatchSize::SmallInput,
            );
        });
        create.bench_with_input(BenchmarkId::new("openmls", n), &n, |b, n| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    let out = oa_group
                        .remove_members(&oa.provider, &oa.signer, &[LeafNodeIndex::new(n - 1)])
                        .unwrap_or_else(|e| panic!("{e:?}"));
                    total += start.elapsed();
                    drop(out);
                    oa_group
                        .clear_pending_commit(oa.provider.storage())
                        .unwrap_or_else(|e| panic!("{e:?}"));
                }
                total
            });
        });
        let rcsec_commit = alice
            .clone()
            .commit(vec![Proposal::Remove { removed: n - 1 }], &none)
            .unwrap_or_else(|e| panic!("{e}"))
            .commit;
        let (omls_commit, _, _) = oa_group
            .remove_members(&oa.provider, &oa.signer, &[LeafNodeIndex::new(n - 1)])
            .unwrap_or_else(|e| panic!("{e:?}"));
        fixtures.push((
            n,
            bob,
            rcsec_commit,
            ob,
            ob_group,
            MlsMessageIn::from(omls_commit),
        ));
    }
    create.finish();

    let mut process = c.benchmark_group("mls_commit_remove_one_process");
    process
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    for (n, bob, commit, ob, mut ob_group, omls_commit) in fixtures {
        process.bench_with_input(
            BenchmarkId::new("rcsec", n),
            &commit,
            |b, commit: &MlsMessage| {
                b.iter_batched(
                    || bob.clone(),
                    |mut s| s.handle(commit, &none).unwrap_or_else(|e| panic!("{e}")),
                    BatchSize::SmallInput,
                );
            },
        );
        process.bench_with_input(BenchmarkId::new("openmls", n), &omls_commit, |b, msg| {
            b.iter(|| {
                let processed = ob_group
                    .process_message(
                        &ob.provider,
                        msg.clone()
                            .try_into_protocol_message()
                            .unwrap_or_else(|e| panic!("{e:?}")),
                    )
                    .unwrap_or_else(|e| panic!("{e:?}"));
                assert!(matches!(
                    processed.into_content(),
                    ProcessedMessageContent::StagedCommitMessage(_)
                ));
            });
        });
    }
    process.finish();
}

criterion_group!(benches, commit_remove_one);
criterion_main!(benches);
