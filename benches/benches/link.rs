//! One-time link tokens and sealed payloads: ours beside the common alternatives.
//!
//! - `link_token_mint` / `link_token_verify`: rcsec-link (HMAC-SHA256, 48-byte binary token)
//!   beside `jsonwebtoken` (JWT HS256, RustCrypto backend) and `pasetors` (PASETO v4.local),
//!   all three carrying the same claims: a fresh random 128-bit link id, key id, recipient
//!   commitment, expiry, not-before and an IP-binding code. Every mint draws its link id from
//!   the OS RNG; every verify reads the system clock and checks tag/MAC, expiry and not-before
//!   (`rcsec-link`), then ours also checks the IP and recipient commitments (`+ip`,
//!   `+recipient` rows), which the peers carry but cannot check.
//!   The token lengths are printed once at start-up (`token length: ...`).
//! - `link_seal` / `link_open`: the STREAM-sealed payload (ring AES-256-GCM, 64 KiB records)
//!   at 1 MiB in memory and 64 MiB streamed through the `Write`/`Read` adapters into a sink
//!   (constant memory). The comparison point for these is `openssl speed -evp aes-256-gcm` on
//!   the same machine, run outside criterion.

#![allow(
    clippy::unwrap_used,
    reason = "a bench that cannot set up must stop loudly"
)]

use std::hint::black_box;
use std::io::{self, Write};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use pasetors::claims::{Claims as PasetoClaims, ClaimsValidationRules};
use pasetors::keys::SymmetricKey;
use pasetors::token::UntrustedToken;
use pasetors::version4::V4;
use pasetors::{Local, local};
use rcsec_benches::filler;
use rcsec_core::{Clock, Msisdn, SystemClock};
use rcsec_link::sealed::{OpeningReader, SealContext, SealingWriter, open_to_vec, seal_to_vec};
use rcsec_link::{
    IpPrefix, Keyring, KeyringPolicy, LinkId, MintRequest, OsRandom, PayloadKey, VerifyContext,
};

const TTL: Duration = Duration::from_secs(600);
const SECRET: [u8; 32] = [0x42; 32];

/// The JWT carries what our token carries.
#[derive(serde::Serialize, serde::Deserialize)]
struct JwtClaims {
    /// Link id, base64url.
    lid: String,
    /// Recipient commitment, base64url of 4 bytes.
    rcp: String,
    /// IP binding code.
    ipb: u8,
    exp: u64,
    nbf: u64,
}

fn jwt_claims(now_secs: u64) -> JwtClaims {
    let lid = LinkId::random(&OsRandom).unwrap();
    JwtClaims {
        lid: URL_SAFE_NO_PAD.encode(lid.as_bytes()),
        rcp: URL_SAFE_NO_PAD.encode([1, 2, 3, 4]),
        ipb: 24,
        exp: now_secs + TTL.as_secs(),
        nbf: now_secs,
    }
}

fn jwt_header() -> Header {
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("1".to_owned());
    h
}

fn jwt_validation() -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_nbf = true;
    v.set_required_spec_claims(&["exp", "nbf"]);
    v
}

fn paseto_claims() -> PasetoClaims {
    let lid = LinkId::random(&OsRandom).unwrap();
    let mut c = PasetoClaims::new_expires_in(&TTL).unwrap();
    c.token_identifier(&URL_SAFE_NO_PAD.encode(lid.as_bytes()))
        .unwrap();
    c.add_additional("rcp", URL_SAFE_NO_PAD.encode([1, 2, 3, 4]))
        .unwrap();
    c.add_additional("ipb", 24).unwrap();
    c.add_additional("kid", "1").unwrap();
    c
}

struct Fixture {
    ring: Keyring,
    alice: Msisdn,
    prefix: IpPrefix,
    jwt_enc: EncodingKey,
    jwt_dec: DecodingKey,
    paseto: SymmetricKey<V4>,
}

fn fixture() -> Fixture {
    let ring = Keyring::generate(KeyringPolicy::default(), SystemClock.now(), &OsRandom).unwrap();
    Fixture {
        ring,
        alice: Msisdn::parse("+15550109999").unwrap(),
        prefix: "203.0.113.0/24".parse().unwrap(),
        jwt_enc: EncodingKey::from_secret(&SECRET),
        jwt_dec: DecodingKey::from_secret(&SECRET),
        paseto: SymmetricKey::<V4>::from(&SECRET).unwrap(),
    }
}

fn ours_mint(f: &Fixture) -> String {
    let req = MintRequest::new(&f.alice, TTL).bind_ip(f.prefix);
    let minted = f.ring.mint(&req, SystemClock.now(), &OsRandom).unwrap();
    minted.token.as_str().to_owned()
}

fn jwt_mint(f: &Fixture) -> String {
    let now = SystemClock.now().as_secs();
    jsonwebtoken::encode(&jwt_header(), &jwt_claims(now), &f.jwt_enc).unwrap()
}

fn paseto_mint(f: &Fixture) -> String {
    local::encrypt(&f.paseto, &paseto_claims(), None, None).unwrap()
}

fn mint(c: &mut Criterion) {
    let f = fixture();
    println!(
        "token length: rcsec-link {}, jsonwebtoken-hs256 {}, pasetors-v4-local {}",
        ours_mint(&f).len(),
        jwt_mint(&f).len(),
        paseto_mint(&f).len()
    );
    let mut group = c.benchmark_group("link_token_mint");
    group.bench_function(BenchmarkId::new("rcsec-link", "5-claims"), |b| {
        b.iter(|| black_box(ours_mint(&f)));
    });
    group.bench_function(BenchmarkId::new("jsonwebtoken-hs256", "5-claims"), |b| {
        b.iter(|| black_box(jwt_mint(&f)));
    });
    group.bench_function(BenchmarkId::new("pasetors-v4-local", "5-claims"), |b| {
        b.iter(|| black_box(paseto_mint(&f)));
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    let f = fixture();
    // Like for like: the peers check their MAC, `exp` and `nbf`, so the first row verifies an
    // unbound token (tag, expiry, not-before). The next rows add what only ours can check.
    let unbound = f
        .ring
        .mint(
            &MintRequest::new(&f.alice, TTL),
            SystemClock.now(),
            &OsRandom,
        )
        .unwrap()
        .token
        .as_str()
        .to_owned();
    let bound = ours_mint(&f);
    let jwt = jwt_mint(&f);
    let paseto = paseto_mint(&f);
    let ip = "203.0.113.9".parse().unwrap();
    let validation = jwt_validation();
    let rules = ClaimsValidationRules::new();

    let mut group = c.benchmark_group("link_token_verify");
    group.bench_function(BenchmarkId::new("rcsec-link", "5-claims"), |b| {
        b.iter(|| {
            let ctx = VerifyContext::at(SystemClock.now());
            black_box(f.ring.verify(black_box(&unbound), &ctx).unwrap())
        });
    });
    // Plus the IP-prefix commitment: one more HMAC.
    group.bench_function(BenchmarkId::new("rcsec-link+ip", "5-claims"), |b| {
        b.iter(|| {
            let ctx = VerifyContext::at(SystemClock.now()).client_ip(ip);
            black_box(f.ring.verify(black_box(&bound), &ctx).unwrap())
        });
    });
    // Plus the recipient commitment: one more again.
    group.bench_function(
        BenchmarkId::new("rcsec-link+ip+recipient", "5-claims"),
        |b| {
            b.iter(|| {
                let ctx = VerifyContext::at(SystemClock.now())
                    .client_ip(ip)
                    .recipient(&f.alice);
                black_box(f.ring.verify(black_box(&bound), &ctx).unwrap())
            });
        },
    );
    group.bench_function(BenchmarkId::new("jsonwebtoken-hs256", "5-claims"), |b| {
        b.iter(|| {
            black_box(
                jsonwebtoken::decode::<JwtClaims>(black_box(&jwt), &f.jwt_dec, &validation)
                    .unwrap(),
            )
        });
    });
    group.bench_function(BenchmarkId::new("pasetors-v4-local", "5-claims"), |b| {
        b.iter(|| {
            let untrusted = UntrustedToken::<Local, V4>::try_from(black_box(&paseto)).unwrap();
            black_box(local::decrypt(&f.paseto, &untrusted, &rules, None, None).unwrap())
        });
    });
    group.finish();
}

fn bulk(c: &mut Criterion) {
    let key = PayloadKey::generate(&OsRandom).unwrap();
    let link = LinkId::random(&OsRandom).unwrap();
    let ctx = SealContext::new(&link, "application/gzip");

    // 1 MiB in memory: `seal_to_vec` / `open_to_vec`.
    let size = 1usize << 20;
    let plain = filler(size, 7);
    let sealed = seal_to_vec(&key, &ctx, &plain, &OsRandom).unwrap();
    let mut group = c.benchmark_group("link_seal");
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_with_input(BenchmarkId::new("rcsec-link", "1MiB"), &plain, |b, p| {
        b.iter(|| black_box(seal_to_vec(&key, &ctx, p, &OsRandom).unwrap()));
    });
    group.finish();
    let mut group = c.benchmark_group("link_open");
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_with_input(BenchmarkId::new("rcsec-link", "1MiB"), &sealed, |b, s| {
        b.iter(|| black_box(open_to_vec(&key, &ctx, s).unwrap()));
    });
    group.finish();

    // 64 MiB streamed through the `Write`/`Read` adapters into a sink: constant memory, as a
    // gateway or browser would process a large bundle.
    let size = 64usize << 20;
    let plain = filler(size, 7);
    let sealed = seal_to_vec(&key, &ctx, &plain, &OsRandom).unwrap();
    let mut group = c.benchmark_group("link_seal");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_with_input(
        BenchmarkId::new("rcsec-link-stream", "64MiB"),
        &plain,
        |b, p| {
            b.iter(|| {
                let mut w = SealingWriter::new(&key, &ctx, io::sink(), &OsRandom).unwrap();
                w.write_all(p).unwrap();
                w.finish().unwrap()
            });
        },
    );
    group.finish();
    let mut group = c.benchmark_group("link_open");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_with_input(
        BenchmarkId::new("rcsec-link-stream", "64MiB"),
        &sealed,
        |b, s| {
            b.iter(|| {
                let mut r = OpeningReader::new(&key, &ctx, &s[..]).unwrap();
                io::copy(&mut r, &mut io::sink()).unwrap()
            });
        },
    );
    group.finish();
}

criterion_group!(benches, mint, verify, bulk);
criterion_main!(benches);
