//! Replays the committed fuzz seeds and any saved crash reproducers through the same library
//! functions the cargo-fuzz targets call, so both targets run under plain `cargo test`.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut seen = 0;
    for dir in [
        root.join("corpus").join(target),
        root.join("artifacts").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} panicked", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 10, "too few seeds for {target}: {seen}");
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
