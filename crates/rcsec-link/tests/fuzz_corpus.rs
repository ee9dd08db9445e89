//! Replays the committed fuzz seeds and any saved crash reproducers through the same library
//! function the cargo-fuzz target calls.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::Path;

use rcsec_core::Timestamp;
use rcsec_link::VerifyContext;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    rcsec_core::fuzzing::replay_seeds(target, check)
}

#[test]
fn link_token_decode_seeds() {
    assert!(replay("link_token_decode", rcsec_link::fuzzing::link_token_decode) >= 10);
}

/// The corpus holds real tokens of the fuzzing keyring, so the fuzzer starts past decode.
#[test]
fn corpus_contains_the_sample_tokens() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/link_token_decode");
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    let samples = rcsec_link::fuzzing::sample_tokens();
    assert_eq!(samples.len(), 4);
    for sample in samples {
        assert!(
            seeds.iter().any(|s| s == sample.as_bytes()),
            "missing seed {sample}"
        );
    }
}

#[test]
fn sample_tokens_verify_as_described() {
    let ring = rcsec_link::Keyring::generate(
        rcsec_link::KeyringPolicy::default(),
        Timestamp::EPOCH,
        &rcsec_link::OsRandom,
    )
    .unwrap();
    // A different keyring refuses them all.
    for t in rcsec_link::fuzzing::sample_tokens() {
        let now = Timestamp::from_secs(1_800_000_400);
        assert_eq!(
            ring.verify(&t, &VerifyContext::at(now))
                .unwrap_err()
                .reason_code(),
            "bad_signature"
        );
    }
}
