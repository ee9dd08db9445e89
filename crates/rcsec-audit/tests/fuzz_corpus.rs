//! Replays the committed fuzz seeds and any saved crash reproducers through the same library
//! functions the cargo-fuzz targets call, so every parser runs under plain `cargo test`.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    rcsec_core::fuzzing::replay_seeds(target, check)
}

#[test]
fn audit_line_decode_seeds() {
    replay("audit_line_decode", rcsec_audit::fuzzing::audit_line_decode);
}

#[test]
fn the_seeds_include_lines_that_decode() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/audit_line_decode");
    let decoded = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .filter(|data| rcsec_audit::line::decode_line(data).is_ok())
        .count();
    assert!(decoded >= 5, "only {decoded} seeds are valid lines");
}

#[test]
fn single_byte_mutations_of_valid_seeds_keep_the_property() {
    // A cheap, deterministic stand-in for the fuzzer: every one-byte change of every valid
    // seed either fails to decode or re-encodes to exactly itself.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/audit_line_decode");
    let mut mutated = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let seed = std::fs::read(entry.unwrap().path()).unwrap();
        if rcsec_audit::line::decode_line(&seed).is_err() {
            continue;
        }
        for i in 0..seed.len() {
            for b in [b'0', b'9', b'a', b'"', b'\\', b',', b'}', 0xff] {
                let mut m = seed.clone();
                m[i] = b;
                rcsec_audit::fuzzing::audit_line_decode(&m);
                mutated += 1;
            }
        }
    }
    assert!(mutated > 1000);
}
