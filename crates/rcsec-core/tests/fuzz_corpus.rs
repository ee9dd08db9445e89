//! Replays the committed fuzz seeds and any saved crash reproducers through the same library
//! functions the cargo-fuzz targets call, so every parser runs under plain `cargo test`.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

#[test]
fn msisdn_parse_seeds() {
    rcsec_core::fuzzing::replay_seeds("msisdn_parse", rcsec_core::fuzzing::msisdn_parse);
}
