//! Replays the committed fuzz seeds (and saved reproducers) of this crate's decoders through
//! the same functions the cargo-fuzz targets call.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

fn replay(target: &str, check: fn(&[u8])) {
    rcsec_core::fuzzing::replay_seeds(target, check);
}

#[test]
fn webhook_decode_seeds() {
    replay("webhook_decode", rcsec::fuzzing::webhook_decode);
}
