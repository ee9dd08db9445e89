//! Replays the committed fuzz seeds and any saved crash reproducers through the same library
//! functions the cargo-fuzz targets call, so both targets run under plain `cargo test`.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

fn replay(target: &str, check: fn(&[u8])) {
    rcsec_core::fuzzing::replay_seeds(target, check);
}

#[test]
fn policy_toml_parse_seeds() {
    replay(
        "policy_toml_parse",
        rcsec_policy::fuzzing::policy_toml_parse,
    );
}

#[test]
fn classify_text_seeds() {
    replay("classify_text", rcsec_policy::fuzzing::classify_text);
}
