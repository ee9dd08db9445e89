//! PrivateMessage protect + unprotect of application data (RFC 9420 §6.3), beside its floor:
//! the raw primitives every such message needs at least once (one Ed25519 sign and verify,
//! one AES-128-GCM seal and open of the same size). The gap is the framing and the key
//! derivations (sender-data key, ratchet step, reuse guard).

use aes_gcm::Aes128Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use rcsec_core::Secret;
use rcsec_keying::mls::crypto::SignatureSecretKey;
use rcsec_keying::mls::framing::{Content, FramedContent, PrivateMessage, Sender};
use rcsec_keying::mls::group_context::GroupContext;
use rcsec_keying::mls::secret_tree::{SecretTree, SecretTreeConfig};
use rcsec_keying::mls::tree_math::{LeafIndex, TreeSize};

const SIZES: [usize; 2] = [100, 1024];

fn tree() -> SecretTree {
    let size = TreeSize::new(8).unwrap_or_else(|| unreachable!("8 leaves is a valid tree"));
    SecretTree::new(Secret::new([7; 32]), size, SecretTreeConfig::default())
}

fn private_message(c: &mut Criterion) {
    let mut group = c.benchmark_group("mls_private_message_protect_unprotect");
    let gc = GroupContext::new(b"rcsec bench group".to_vec(), 42, vec![1; 32], vec![2; 32]);
    let signer = SignatureSecretKey::from_seed(&[3; 32]).unwrap_or_else(|_| unreachable!());
    let public = signer.public_key();
    let sender_data_secret = [4u8; 32];
    for size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        let content = FramedContent {
            group_id: gc.group_id.clone(),
            epoch: gc.epoch,
            sender: Sender::Member(LeafIndex(3)),
            authenticated_data: Vec::new(),
            content: Content::Application(vec![0x5a; size]),
        };
        let (mut sender_tree, mut receiver_tree) = (tree(), tree());
        group.bench_with_input(BenchmarkId::new("rcsec", size), &content, |b, content| {
            b.iter(|| {
                let msg = PrivateMessage::protect(
                    content,
                    None,
                    &gc,
                    &signer,
                    &sender_data_secret,
                    &mut sender_tree,
                    0,
                )
                .unwrap_or_else(|e| panic!("protect: {e}"));
                msg.unprotect(&gc, &sender_data_secret, &mut receiver_tree, |_| {
                    Some(public)
                })
                .unwrap_or_else(|e| panic!("unprotect: {e}"))
            });
        });

        let key = SigningKey::from_bytes(&[3; 32]);
        let verifying = key.verifying_key();
        let aead = Aes128Gcm::new_from_slice(&[5; 16]).unwrap_or_else(|_| unreachable!());
        let nonce = [6u8; 12].into();
        let data = vec![0x5a; size];
        group.bench_with_input(BenchmarkId::new("floor", size), &data, |b, data| {
            b.iter(|| {
                let signature = key.sign(data);
                verifying
                    .verify_strict(data, &signature)
                    .unwrap_or_else(|e| panic!("verify: {e}"));
                let ct = aead
                    .encrypt(
                        &nonce,
                        Payload {
                            msg: data,
                            aad: b"aad",
                        },
                    )
                    .unwrap_or_else(|e| panic!("seal: {e}"));
                aead.decrypt(
                    &nonce,
                    Payload {
                        msg: &ct,
                        aad: b"aad",
                    },
                )
                .unwrap_or_else(|e| panic!("open: {e}"))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, private_message);
criterion_main!(benches);
