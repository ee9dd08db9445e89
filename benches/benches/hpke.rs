//! HPKE base mode (RFC 9180), DHKEM(X25519, HKDF-SHA256) + HKDF-SHA256 + AES-128-GCM: ours
//! beside rust-hpke, the `hpke` crate, on the same primitives (x25519/curve25519-dalek 5,
//! hkdf 0.13, aes-gcm 0.11), so the gap is the HPKE layer itself.
//!
//! - `hpke_base_setup_seal_open`: one message end to end, as a device envelope is used: sender
//!   setup (ephemeral key, encap, key schedule) + seal, then receiver setup (decap, key
//!   schedule) + open. Keys are made once, outside the loop.
//! - `hpke_base_setup_seal` and `hpke_base_setup_open`: each half alone, to show where a gap
//!   comes from.

#![allow(
    clippy::unwrap_used,
    reason = "a bench that cannot set up must stop loudly"
)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hpke::aead::AesGcm128;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Kem as _, OpModeR, OpModeS};
use rcsec_benches::filler;
use rcsec_keying::hpke::{self as ours, Aead};

const SIZES: [usize; 2] = [64, 1024];
const INFO: &[u8] = b"rcsec bench info";
const AAD: &[u8] = b"rcsec bench aad";

type PeerKem = X25519HkdfSha256;

fn peer_seal(
    pk: &<PeerKem as hpke::Kem>::PublicKey,
    pt: &[u8],
) -> (<PeerKem as hpke::Kem>::EncappedKey, Vec<u8>) {
    hpke::single_shot_seal::<AesGcm128, HkdfSha256, PeerKem>(&OpModeS::Base, pk, INFO, pt, AAD)
        .unwrap()
}

fn setup_seal_open(c: &mut Criterion) {
    let (sk, pk) = ours::derive_key_pair(&[1; 32]).unwrap();
    let (peer_sk, peer_pk) = PeerKem::derive_keypair(&[1; 32]);

    let mut group = c.benchmark_group("hpke_base_setup_seal_open");
    for size in SIZES {
        let pt = filler(size, 9);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("rcsec", size), &pt, |b, pt| {
            b.iter(|| {
                let (enc, ct) = ours::seal_base(Aead::Aes128Gcm, &pk, INFO, AAD, pt).unwrap();
                ours::open_base(Aead::Aes128Gcm, &enc, &sk, INFO, AAD, &ct).unwrap()
            });
        });
        group.bench_with_input(BenchmarkId::new("rust-hpke", size), &pt, |b, pt| {
            b.iter(|| {
                let (enc, ct) = peer_seal(&peer_pk, pt);
                hpke::single_shot_open::<AesGcm128, HkdfSha256, PeerKem>(
                    &OpModeR::Base,
                    &peer_sk,
                    &enc,
                    INFO,
                    &ct,
                    AAD,
                )
                .unwrap()
            });
        });
    }
    group.finish();
}

fn setup_seal(c: &mut Criterion) {
    let (_, pk) = ours::derive_key_pair(&[1; 32]).unwrap();
    let (_, peer_pk) = PeerKem::derive_keypair(&[1; 32]);

    let mut group = c.benchmark_group("hpke_base_setup_seal");
    for size in SIZES {
        let pt = filler(size, 9);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("rcsec", size), &pt, |b, pt| {
            b.iter(|| ours::seal_base(Aead::Aes128Gcm, &pk, INFO, AAD, pt).unwrap());
        });
        group.bench_with_input(BenchmarkId::new("rust-hpke", size), &pt, |b, pt| {
            b.iter(|| peer_seal(&peer_pk, pt));
        });
    }
    group.finish();
}

fn setup_open(c: &mut Criterion) {
    let (sk, pk) = ours::derive_key_pair(&[1; 32]).unwrap();
    let (peer_sk, peer_pk) = PeerKem::derive_keypair(&[1; 32]);

    let mut group = c.benchmark_group("hpke_base_setup_open");
    for size in SIZES {
        let pt = filler(size, 9);
        group.throughput(Throughput::Bytes(size as u64));
        let (enc, ct) = ours::seal_base(Aead::Aes128Gcm, &pk, INFO, AAD, &pt).unwrap();
        group.bench_function(BenchmarkId::new("rcsec", size), |b| {
            b.iter(|| {
                ours::open_base(Aead::Aes128Gcm, black_box(&enc), &sk, INFO, AAD, &ct).unwrap()
            });
        });
        let (peer_enc, peer_ct) = peer_seal(&peer_pk, &pt);
        group.bench_function(BenchmarkId::new("rust-hpke", size), |b| {
            b.iter(|| {
                hpke::single_shot_open::<AesGcm128, HkdfSha256, PeerKem>(
                    &OpModeR::Base,
                    &peer_sk,
                    black_box(&peer_enc),
                    INFO,
                    &peer_ct,
                    AAD,
                )
                .unwrap()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, setup_seal_open, setup_seal, setup_open);
criterion_main!(benches);
