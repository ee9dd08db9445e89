//! Entry points for the cargo-fuzz targets in `fuzz/` (not a stable API).
//!
//! `tests/fuzz_corpus.rs` replays the committed seeds through the same functions.

use rcsec_core::Timestamp;

use crate::capability::{Capability, E2ee, Reach, Source};
use crate::carrier::CarrierMatrix;
use crate::hints::{Carrier, ClientHints, ClientVersion, Region};

/// Parses arbitrary bytes as a carrier matrix. Never panics; every error points inside the
/// input; an accepted matrix never strengthens a capability.
///
/// # Panics
/// When the property fails: that is the bug the fuzzer is looking for.
pub fn carrier_matrix_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match CarrierMatrix::parse(text) {
        Err(err) => {
            let (line, column) = err.position();
            let lines = text.split('\n').count();
            assert!(
                line >= 1 && line <= lines,
                "line {line} outside 1..={lines}"
            );
            let line_len = text
                .split('\n')
                .nth(line - 1)
                .map_or(0, |l| l.chars().count());
            assert!(
                column >= 1 && column <= line_len + 1,
                "column {column} outside line"
            );
        }
        Ok(matrix) => {
            let version = ClientVersion::parse("1.0").ok();
            for reach in [Reach::Rcs, Reach::SmsOnly] {
                for e2ee in [E2ee::Verified, E2ee::Unverified, E2ee::Unknown] {
                    let mut hints = ClientHints::client("google-messages");
                    if let Some(v) = version {
                        hints = hints.with_version(v);
                    }
                    let mut carrier = Carrier::new("acme");
                    if let Ok(region) = Region::parse("DE") {
                        carrier = carrier.with_region(region);
                    }
                    let cap = Capability::new(reach, e2ee, Source::Provider, Timestamp::EPOCH)
                        .with_carrier(carrier)
                        .with_client(hints);
                    let (out, _) = matrix.apply(cap.clone());
                    assert!(
                        !out.is_verified_e2ee() || cap.is_verified_e2ee(),
                        "strengthened"
                    );
                    assert!(out.reach() == cap.reach() || out.reach() == Reach::SmsOnly);
                    assert!(out.e2ee() == cap.e2ee() || out.e2ee() != E2ee::Verified);
                }
            }
        }
    }
}
