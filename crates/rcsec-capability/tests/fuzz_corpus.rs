//! Replays the committed fuzz seeds and any saved crash reproducers through the same library
//! functions the cargo-fuzz targets call, so every parser runs under plain `cargo test`.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

fn replay(target: &str, check: fn(&[u8])) {
    rcsec_core::fuzzing::replay_seeds(target, check);
}

#[test]
fn carrier_matrix_parse_seeds() {
    replay(
        "carrier_matrix_parse",
        rcsec_capability::fuzzing::carrier_matrix_parse,
    );
}
