//! Replays the committed fuzz seeds (and saved reproducers) of this crate's decoders through
//! the same functions the cargo-fuzz targets call.

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
    assert!(seen > 0, "no seeds found for {target}");
}

#[test]
fn webhook_decode_seeds() {
    replay("webhook_decode", rcsec::fuzzing::webhook_decode);
}
