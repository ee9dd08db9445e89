//! The group session (issue 13) beside OpenMLS 0.9 with its RustCrypto provider, and the
//! floor an MLS application message cannot go below: one Ed25519 signature and one
//! AES-128-GCM seal (encrypt), one verification and one open (decrypt), of the same size.
//!
//! Groups (ids `BenchmarkId::new(implementation, parameter)`):
//! - `group_app_encrypt`, `group_app_decrypt`, `group_app_roundtrip`: an application message
//!   of 100 B or 1 KiB in groups of 2, 16 and 128 (`n16/1024B`), bytes in and bytes out on
//!   both sides. Every key is deleted after use and every signature checked, in both.
//! - `group_commit_remove_create`, `group_commit_remove_process`: the creator removes one
//!   member from a group of 16, 64 or 128 on a tree where every parent node is populated (a
//!   member under each pair of leaves has committed a self-update, on both sides), as in the
//!   issue's measurement: the commit's TreeKEM path encrypts to one key per copath node.
//!   OpenMLS runs single-threaded (its rayon pool is pinned to one thread); its handshake
//!   messages are PublicMessages so one staged commit can be processed repeatedly. Ours are
//!   PrivateMessages (the on-call group hides membership changes from the delivery
//!   service), one more AEAD layer on our side; ours is timed on a state loaded untimed.

use std::hint::black_box;
use std::time::Duration;

use aes_gcm::Aes128Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use openmls::prelude::tls_codec::{Deserialize, Serialize};
use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage, LeafNodeIndex, LeafNodeParameters,
    MIXED_PLAINTEXT_WIRE_FORMAT_POLICY, MlsGroup, MlsGroupCreateConfig, MlsGroupJoinConfig,
    MlsMessageBodyIn, MlsMessageIn, MlsMessageOut, PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
    ProcessedMessageContent, ProtocolMessage, StagedWelcome, WireFormatPolicy,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use rcsec_core::Timestamp;
use rcsec_keying::device::{Device, ValidatedKeyPackage};
use rcsec_keying::group::{Group, GroupConfig};
use rcsec_keying::mls::tree_math::LeafIndex;

const SIZES: [usize; 2] = [100, 1024];
const APP_GROUPS: [usize; 3] = [2, 16, 128];
const COMMIT_GROUPS: [usize; 3] = [16, 64, 128];
const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

fn fail(what: &str, e: impl std::fmt::Debug) -> ! {
    panic!("{what}: {e:?}")
}

// ---------------------------------------------------------------------------------------
// Ours.

/// The creator (leaf 0) with `n - 1` devices added in one commit; the devices at the leaves
/// in `joined` join from the Welcome (the others' Welcomes are not needed for these
/// measurements). Returns the creator, then the joined members in leaf order.
fn ours(n: usize, joined: &[usize]) -> Vec<Group> {
    let now = Timestamp::from_secs(1_800_000_000);
    let creator = Device::generate("orchestrator").unwrap_or_else(|e| fail("device", e));
    let mut first = Group::create(b"bench".to_vec(), &creator, GroupConfig::default())
        .unwrap_or_else(|e| fail("create", e));
    let devices: Vec<_> = (1..n)
        .map(|i| Device::generate(format!("d{i}")).unwrap_or_else(|e| fail("device", e)))
        .collect();
    let bundles: Vec<_> = devices
        .iter()
        .map(|d| {
            d.key_package(now, Duration::from_secs(3600))
                .unwrap_or_else(|e| fail("key package", e))
        })
        .collect();
    let validated: Vec<_> = bundles
        .iter()
        .map(|b| {
            ValidatedKeyPackage::validate(&b.key_package, now)
                .unwrap_or_else(|e| fail("validate", e))
        })
        .collect();
    let welcome = first
        .add(&validated)
        .unwrap_or_else(|e| fail("add", e))
        .welcome
        .unwrap_or_else(|| fail("welcome", ()));
    let mut members = vec![first];
    for (i, (device, bundle)) in devices.iter().zip(bundles).enumerate() {
        if joined.contains(&(i + 1)) {
            members.push(
                Group::join(&welcome, bundle, device, GroupConfig::default())
                    .unwrap_or_else(|e| fail("join", e)),
            );
        }
    }
    members
}

/// The creator and the member at leaf 1.
fn ours_pair(n: usize) -> (Group, Group) {
    let mut members = ours(n, &[1]);
    let second = members.pop().unwrap_or_else(|| fail("member", ()));
    let first = members.pop().unwrap_or_else(|| fail("creator", ()));
    (first, second)
}

/// Every member except the first commits a self-update in turn and everyone processes it,
/// so each pair of leaves has a populated parent path (ours, as [`populate`] for OpenMLS).
fn populate_ours(members: &mut [Group]) {
    for committer in 1..members.len() {
        let out = members[committer]
            .self_update()
            .unwrap_or_else(|e| fail("self update", e));
        for (i, m) in members.iter_mut().enumerate() {
            if i != committer {
                m.process_commit(&out.commit)
                    .unwrap_or_else(|e| fail("process", e));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// OpenMLS.

struct Peer {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
}

fn credential(name: &str) -> (SignatureKeyPair, CredentialWithKey) {
    let signer = SignatureKeyPair::new(SUITE.signature_algorithm())
        .unwrap_or_else(|e| fail("openmls signer", e));
    let credential = CredentialWithKey {
        credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
        signature_key: signer.public().into(),
    };
    (signer, credential)
}

impl Peer {
    fn new(name: &str) -> Self {
        let provider = OpenMlsRustCrypto::default();
        let (signer, credential) = credential(name);
        signer
            .store(openmls::prelude::OpenMlsProvider::storage(&provider))
            .unwrap_or_else(|e| fail("openmls store", e));
        Self {
            provider,
            signer,
            credential,
        }
    }

    fn key_package(&self) -> KeyPackage {
        KeyPackage::builder()
            .build(SUITE, &self.provider, &self.signer, self.credential.clone())
            .unwrap_or_else(|e| fail("openmls key package", e))
            .key_package()
            .clone()
    }
}

fn to_protocol(out: &MlsMessageOut) -> ProtocolMessage {
    let bytes = out
        .tls_serialize_detached()
        .unwrap_or_else(|e| fail("serialize", e));
    MlsMessageIn::tls_deserialize_exact(bytes)
        .unwrap_or_else(|e| fail("deserialize", e))
        .try_into_protocol_message()
        .unwrap_or_else(|e| fail("protocol message", e))
}

/// An OpenMLS group of `n`: peer 0 created it and added everyone; the members in `joined`
/// (leaf indices) joined from the Welcome. Returns the peers and groups of the joined
/// members, creator first.
fn openmls_group(n: usize, joined: &[usize], policy: WireFormatPolicy) -> Vec<(Peer, MlsGroup)> {
    let create = MlsGroupCreateConfig::builder()
        .ciphersuite(SUITE)
        .wire_format_policy(policy)
        .use_ratchet_tree_extension(true)
        .build();
    let join = MlsGroupJoinConfig::builder()
        .wire_format_policy(policy)
        .use_ratchet_tree_extension(true)
        .build();
    let creator = Peer::new("p0");
    let mut group = MlsGroup::new(
        &creator.provider,
        &creator.signer,
        &create,
        creator.credential.clone(),
    )
    .unwrap_or_else(|e| fail("openmls create", e));
    // Members that will join get their own provider; the rest share one.
    let others = OpenMlsRustCrypto::default();
    let mut peers: Vec<Option<Peer>> = (1..n)
        .map(|i| joined.contains(&i).then(|| Peer::new(&format!("p{i}"))))
        .collect();
    let key_packages: Vec<KeyPackage> = (1..n)
        .map(|i| match &peers[i - 1] {
            Some(p) => p.key_package(),
            None => {
                // Members that never join: their key material can live with the others.
                let (signer, credential) = credential(&format!("p{i}"));
                KeyPackage::builder()
                    .build(SUITE, &others, &signer, credential)
                    .unwrap_or_else(|e| fail("openmls key package", e))
                    .key_package()
                    .clone()
            }
        })
        .collect();
    let (_, welcome, _) = group
        .add_members(&creator.provider, &creator.signer, &key_packages)
        .unwrap_or_else(|e| fail("openmls add", e));
    group
        .merge_pending_commit(&creator.provider)
        .unwrap_or_else(|e| fail("openmls merge", e));
    let bytes = welcome
        .tls_serialize_detached()
        .unwrap_or_else(|e| fail("serialize", e));
    let MlsMessageBodyIn::Welcome(welcome) = MlsMessageIn::tls_deserialize_exact(bytes)
        .unwrap_or_else(|e| fail("deserialize", e))
        .extract()
    else {
        fail("openmls welcome", ());
    };
    let mut members = vec![(creator, group)];
    for i in 1..n {
        if let Some(peer) = peers[i - 1].take() {
            let g = StagedWelcome::new_from_welcome(&peer.provider, &join, welcome.clone(), None)
                .unwrap_or_else(|e| fail("openmls staged welcome", e))
                .into_group(&peer.provider)
                .unwrap_or_else(|e| fail("openmls join", e));
            members.push((peer, g));
        }
    }
    members
}

/// Every member in `members` except the first commits a self-update in turn and everyone
/// processes it, so each pair of leaves has a populated parent path.
fn populate(members: &mut [(Peer, MlsGroup)]) {
    for committer in 1..members.len() {
        let (commit, _, _) = {
            let (peer, group) = &mut members[committer];
            let bundle = group
                .self_update(&peer.provider, &peer.signer, LeafNodeParameters::default())
                .unwrap_or_else(|e| fail("openmls self update", e));
            group
                .merge_pending_commit(&peer.provider)
                .unwrap_or_else(|e| fail("openmls merge", e));
            bundle.into_contents()
        };
        for (i, (peer, group)) in members.iter_mut().enumerate() {
            if i == committer {
                continue;
            }
            let processed = group
                .process_message(&peer.provider, to_protocol(&commit))
                .unwrap_or_else(|e| fail("openmls process", e));
            let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content()
            else {
                fail("openmls commit", ());
            };
            group
                .merge_staged_commit(&peer.provider, *staged)
                .unwrap_or_else(|e| fail("openmls merge staged", e));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Application messages.

fn param(n: usize, size: usize) -> String {
    format!("n{n}/{size}B")
}

fn app_messages(c: &mut Criterion) {
    pin_rayon();
    // Fresh groups for each operation: senders measured alone run thousands of generations
    // ahead of their receivers, beyond both implementations' forward-jump limit.
    let setups = || -> Vec<_> {
        APP_GROUPS
            .iter()
            .map(|&n| {
                (
                    n,
                    ours_pair(n),
                    openmls_group(n, &[1], PURE_CIPHERTEXT_WIRE_FORMAT_POLICY),
                )
            })
            .collect()
    };
    let mut enc = c.benchmark_group("group_app_encrypt");
    for (n, (a, _), peers) in &mut setups() {
        for size in SIZES {
            let msg = vec![0x5a; size];
            enc.throughput(Throughput::Bytes(size as u64));
            enc.bench_function(BenchmarkId::new("rcsec", param(*n, size)), |b| {
                b.iter(|| {
                    a.encrypt(black_box(&msg))
                        .unwrap_or_else(|e| fail("encrypt", e))
                });
            });
            let (peer, group) = &mut peers[0];
            enc.bench_function(BenchmarkId::new("openmls", param(*n, size)), |b| {
                b.iter(|| {
                    group
                        .create_message(&peer.provider, &peer.signer, black_box(&msg))
                        .unwrap_or_else(|e| fail("openmls encrypt", e))
                        .tls_serialize_detached()
                        .unwrap_or_else(|e| fail("serialize", e))
                });
            });
        }
    }
    floor_encrypt(&mut enc);
    enc.finish();

    let mut dec = c.benchmark_group("group_app_decrypt");
    for (n, (a, b_group), peers) in &mut setups() {
        for size in SIZES {
            let msg = vec![0x5a; size];
            dec.throughput(Throughput::Bytes(size as u64));
            dec.bench_function(BenchmarkId::new("rcsec", param(*n, size)), |b| {
                b.iter_batched(
                    || a.encrypt(&msg).unwrap_or_else(|e| fail("encrypt", e)),
                    |wire| {
                        b_group
                            .decrypt(&wire)
                            .unwrap_or_else(|e| fail("decrypt", e))
                    },
                    BatchSize::SmallInput,
                );
            });
            let (sender, receiver) = peers.split_at_mut(1);
            let (sp, sg) = &mut sender[0];
            let (rp, rg) = &mut receiver[0];
            dec.bench_function(BenchmarkId::new("openmls", param(*n, size)), |b| {
                b.iter_batched(
                    || {
                        sg.create_message(&sp.provider, &sp.signer, &msg)
                            .unwrap_or_else(|e| fail("openmls encrypt", e))
                            .tls_serialize_detached()
                            .unwrap_or_else(|e| fail("serialize", e))
                    },
                    |wire| openmls_decrypt(rg, rp, &wire),
                    BatchSize::SmallInput,
                );
            });
        }
    }
    floor_decrypt(&mut dec);
    dec.finish();

    let mut both = c.benchmark_group("group_app_roundtrip");
    for (n, (a, b_group), peers) in &mut setups() {
        for size in SIZES {
            let msg = vec![0x5a; size];
            both.throughput(Throughput::Bytes(size as u64));
            both.bench_function(BenchmarkId::new("rcsec", param(*n, size)), |b| {
                b.iter(|| {
                    let wire = a
                        .encrypt(black_box(&msg))
                        .unwrap_or_else(|e| fail("encrypt", e));
                    b_group
                        .decrypt(&wire)
                        .unwrap_or_else(|e| fail("decrypt", e))
                });
            });
            let (sender, receiver) = peers.split_at_mut(1);
            let (sp, sg) = &mut sender[0];
            let (rp, rg) = &mut receiver[0];
            both.bench_function(BenchmarkId::new("openmls", param(*n, size)), |b| {
                b.iter(|| {
                    let wire = sg
                        .create_message(&sp.provider, &sp.signer, black_box(&msg))
                        .unwrap_or_else(|e| fail("openmls encrypt", e))
                        .tls_serialize_detached()
                        .unwrap_or_else(|e| fail("serialize", e));
                    openmls_decrypt(rg, rp, &wire)
                });
            });
        }
    }
    floor_roundtrip(&mut both);
    both.finish();
}

fn openmls_decrypt(group: &mut MlsGroup, peer: &Peer, wire: &[u8]) -> Vec<u8> {
    let message = MlsMessageIn::tls_deserialize_exact(wire)
        .unwrap_or_else(|e| fail("deserialize", e))
        .try_into_protocol_message()
        .unwrap_or_else(|e| fail("protocol message", e));
    let processed = group
        .process_message(&peer.provider, message)
        .unwrap_or_else(|e| fail("openmls decrypt", e));
    match processed.into_content() {
        ProcessedMessageContent::ApplicationMessage(m) => m.into_bytes(),
        _ => fail("openmls application message", ()),
    }
}

// ---------------------------------------------------------------------------------------
// The floor, per size; the parameter names it as for a group of any size.

struct Floor {
    key: SigningKey,
    aead: Aes128Gcm,
}

impl Floor {
    fn new() -> Self {
        Self {
            key: SigningKey::from_bytes(&[3; 32]),
            aead: Aes128Gcm::new_from_slice(&[5; 16]).unwrap_or_else(|e| fail("aes key", e)),
        }
    }

    fn seal(&self, data: &[u8]) -> (ed25519_dalek::Signature, Vec<u8>) {
        let signature = self.key.sign(data);
        let ct = self
            .aead
            .encrypt(
                &[6u8; 12].into(),
                Payload {
                    msg: data,
                    aad: b"aad",
                },
            )
            .unwrap_or_else(|e| fail("seal", e));
        (signature, ct)
    }

    fn open(&self, data: &[u8], signature: &ed25519_dalek::Signature, ct: &[u8]) -> Vec<u8> {
        self.key
            .verifying_key()
            .verify_strict(data, signature)
            .unwrap_or_else(|e| fail("verify", e));
        self.aead
            .decrypt(
                &[6u8; 12].into(),
                Payload {
                    msg: ct,
                    aad: b"aad",
                },
            )
            .unwrap_or_else(|e| fail("open", e))
    }
}

fn floor_encrypt(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let floor = Floor::new();
    for n in APP_GROUPS {
        for size in SIZES {
            let data = vec![0x5a; size];
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_function(BenchmarkId::new("floor", param(n, size)), |b| {
                b.iter(|| floor.seal(black_box(&data)));
            });
        }
    }
}

fn floor_decrypt(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let floor = Floor::new();
    for n in APP_GROUPS {
        for size in SIZES {
            let data = vec![0x5a; size];
            let (signature, ct) = floor.seal(&data);
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_function(BenchmarkId::new("floor", param(n, size)), |b| {
                b.iter(|| floor.open(black_box(&data), &signature, &ct));
            });
        }
    }
}

fn floor_roundtrip(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let floor = Floor::new();
    for n in APP_GROUPS {
        for size in SIZES {
            let data = vec![0x5a; size];
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_function(BenchmarkId::new("floor", param(n, size)), |b| {
                b.iter(|| {
                    let (signature, ct) = floor.seal(black_box(&data));
                    floor.open(&data, &signature, &ct)
                });
            });
        }
    }
}

// ---------------------------------------------------------------------------------------
// Commits removing one member.

fn commits(c: &mut Criterion) {
    pin_rayon();
    let mut setups = Vec::new();
    for n in COMMIT_GROUPS {
        // Both sides: the creator, the measured receiver (leaf 1) and one committer under
        // every other pair of leaves, each of whom commits a self-update: every parent node
        // is populated, so each path secret is encrypted to one key per copath node.
        let joined: Vec<usize> = std::iter::once(1).chain((2..n).step_by(2)).collect();
        let mut members = ours(n, &joined);
        populate_ours(&mut members);
        let (a, b) = (&members[0], &members[1]);
        let removed = LeafIndex(u32::try_from(n / 2).unwrap_or_else(|e| fail("leaf", e)));
        let a_state = a.to_bytes().unwrap_or_else(|e| fail("save", e));
        let b_state = b.to_bytes().unwrap_or_else(|e| fail("save", e));
        let commit = {
            let mut a =
                Group::from_bytes(a_state.expose_secret()).unwrap_or_else(|e| fail("load", e));
            a.remove(&[removed])
                .unwrap_or_else(|e| fail("remove", e))
                .commit
        };
        let mut peers = openmls_group(n, &joined, MIXED_PLAINTEXT_WIRE_FORMAT_POLICY);
        populate(&mut peers);
        let removed_node = LeafNodeIndex::new(removed.0);
        let openmls_commit = {
            let (peer, group) = &mut peers[0];
            let (commit, _, _) = group
                .remove_members(&peer.provider, &peer.signer, &[removed_node])
                .unwrap_or_else(|e| fail("openmls remove", e));
            group
                .clear_pending_commit(openmls::prelude::OpenMlsProvider::storage(&peer.provider))
                .unwrap_or_else(|e| fail("openmls clear", e));
            commit
        };
        setups.push((
            n,
            removed,
            a_state,
            b_state,
            commit,
            peers,
            removed_node,
            openmls_commit,
        ));
    }

    let mut create = c.benchmark_group("group_commit_remove_create");
    for (n, removed, a_state, _, _, peers, removed_node, _) in &mut setups {
        create.bench_function(BenchmarkId::new("rcsec", *n), |b| {
            b.iter_batched(
                || Group::from_bytes(a_state.expose_secret()).unwrap_or_else(|e| fail("load", e)),
                |mut g| {
                    let out = g.remove(&[*removed]).unwrap_or_else(|e| fail("remove", e));
                    (g, out)
                },
                BatchSize::SmallInput,
            );
        });
        let (peer, group) = &mut peers[0];
        create.bench_function(BenchmarkId::new("openmls", *n), |b| {
            b.iter(|| {
                let out = group
                    .remove_members(&peer.provider, &peer.signer, &[*removed_node])
                    .unwrap_or_else(|e| fail("openmls remove", e));
                group
                    .clear_pending_commit(openmls::prelude::OpenMlsProvider::storage(
                        &peer.provider,
                    ))
                    .unwrap_or_else(|e| fail("openmls clear", e));
                out
            });
        });
    }
    create.finish();

    let mut process = c.benchmark_group("group_commit_remove_process");
    for (n, _, _, b_state, commit, peers, _, openmls_commit) in &mut setups {
        process.bench_function(BenchmarkId::new("rcsec", *n), |b| {
            b.iter_batched(
                || Group::from_bytes(b_state.expose_secret()).unwrap_or_else(|e| fail("load", e)),
                |mut g| {
                    let effect = g
                        .process_commit(commit)
                        .unwrap_or_else(|e| fail("process", e));
                    (g, effect)
                },
                BatchSize::SmallInput,
            );
        });
        let (peer, group) = &mut peers[1];
        process.bench_function(BenchmarkId::new("openmls", *n), |b| {
            b.iter_batched(
                || to_protocol(openmls_commit),
                |message| {
                    group
                        .process_message(&peer.provider, message)
                        .unwrap_or_else(|e| fail("openmls process", e))
                },
                BatchSize::SmallInput,
            );
        });
    }
    process.finish();
}

/// OpenMLS parallelizes tree work with rayon; the issue measures it on one thread.
fn pin_rayon() {
    // Fails only if the pool already exists, which is then the one-thread pool from before.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global();
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = app_messages, commits
}
criterion_main!(benches);
