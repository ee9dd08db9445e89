//! Replays the committed fuzz seeds and any saved crash reproducers through the same library
//! functions the cargo-fuzz targets call, so every decoder runs under plain `cargo test`.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::PathBuf;

fn seeds(target: &str) -> Vec<PathBuf> {
    rcsec_core::fuzzing::seed_paths(target)
}

fn replay(target: &str, check: fn(&[u8])) {
    rcsec_core::fuzzing::replay_seeds(target, check);
}

#[test]
fn hpke_open_seeds() {
    replay("hpke_open", rcsec_keying::fuzzing::hpke_open);
}

/// The corpus must reach past the AEAD check, or the fuzzer would start from failures only.
#[test]
fn hpke_open_seeds_include_messages_that_open() {
    use rcsec_keying::hpke::{self, Aead};
    let (sk, _) = hpke::derive_key_pair(hpke::fuzzing::RECIPIENT_IKM).unwrap();
    let opened = seeds("hpke_open")
        .iter()
        .map(|path| std::fs::read(path).unwrap())
        .filter(|data| {
            let (enc, ct) = data.split_at(data.len().min(32));
            [Aead::Aes128Gcm, Aead::Aes256Gcm]
                .into_iter()
                .any(|aead| hpke::open_base(aead, enc, &sk, b"rcsec fuzz", b"", ct).is_ok())
        })
        .count();
    assert!(opened >= 5, "only {opened} seeds open");
}

#[test]
fn mls_framing_decode_seeds() {
    replay(
        "mls_framing_decode",
        rcsec_keying::fuzzing::mls_framing_decode,
    );
}

/// Most seeds are real messages from the official vectors, so the fuzzer starts past the
/// decoder; a few are deliberately malformed.
#[test]
fn mls_framing_decode_seeds_include_valid_messages() {
    use rcsec_keying::mls::codec::Decode;
    use rcsec_keying::mls::framing::MlsMessage;
    let decoded = seeds("mls_framing_decode")
        .iter()
        .filter(|path| MlsMessage::from_bytes(&std::fs::read(path).unwrap()).is_ok())
        .count();
    assert!(decoded >= 20, "only {decoded} seeds decode");
}

#[test]
fn mls_tree_decode_seeds() {
    replay("mls_tree_decode", rcsec_keying::fuzzing::mls_tree_decode);
}

/// Most seeds are official trees, so the fuzzer starts inside the validator.
#[test]
fn mls_tree_decode_seeds_include_valid_trees() {
    use rcsec_keying::mls::tree::RatchetTree;
    let decoded = seeds("mls_tree_decode")
        .iter()
        .filter(|path| RatchetTree::from_bytes(&std::fs::read(path).unwrap()).is_ok())
        .count();
    assert!(decoded >= 30, "only {decoded} seeds decode");
}
