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
