//! Entry points for the cargo-fuzz targets in `fuzz/` (not a stable API).
//!
//! Each function states the property its target checks; `tests/fuzz_corpus.rs` replays the
//! committed seeds through the same functions, so `cargo test` exercises every parser without
//! a fuzzer.

use crate::{DefaultRegion, Msisdn};

/// Parses arbitrary bytes as a number; never panics, and every accepted number is a fixed
/// point of normalisation whose masked form hides all but two digits.
///
/// # Panics
/// When the property fails: that is the bug the fuzzer is looking for.
pub fn msisdn_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = [
        Msisdn::parse(text),
        Msisdn::parse_with_region(text, DefaultRegion::UK),
    ];
    for number in parsed.into_iter().flatten() {
        let again = Msisdn::parse(number.expose_e164());
        assert_eq!(
            again.as_ref(),
            Ok(&number),
            "normalised form must re-parse to itself"
        );
        let masked = number.to_string();
        let shown = masked.chars().filter(char::is_ascii_digit).count();
        assert_eq!(shown, 2, "masked form must show exactly two digits");
    }
}

/// The committed seeds and saved reproducers of fuzz target `target`:
/// `fuzz/corpus/<target>/*` and `fuzz/artifacts/<target>/*`, in a stable order.
///
/// # Panics
/// When a folder cannot be listed for a reason other than not existing: these are tests.
#[cfg(feature = "test-utils")]
#[allow(
    clippy::expect_used,
    reason = "test support: failing loudly is the point"
)]
pub fn seed_paths(target: &str) -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut paths = Vec::new();
    for dir in [
        root.join("corpus").join(target),
        root.join("artifacts").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            paths.push(entry.expect("list fuzz seeds").path());
        }
    }
    paths.sort();
    paths
}

/// Replays every seed of fuzz target `target` through `check` (the same function the
/// cargo-fuzz target calls) and returns how many ran, so `cargo test` exercises every parser
/// without a fuzzer.
///
/// # Panics
/// When there is no seed, or `check` panics on one (the message names the file).
#[cfg(feature = "test-utils")]
#[allow(
    clippy::expect_used,
    reason = "test support: failing loudly is the point"
)]
pub fn replay_seeds(target: &str, check: fn(&[u8])) -> usize {
    let paths = seed_paths(target);
    assert!(!paths.is_empty(), "no seeds found for fuzz target {target}");
    for path in &paths {
        let data = std::fs::read(path).expect("read fuzz seed");
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "fuzz seed {} panicked", path.display());
    }
    paths.len()
}
