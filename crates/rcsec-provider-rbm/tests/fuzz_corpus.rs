//! Replays the committed fuzz seeds (and saved reproducers) of the RBM webhook decoder through
//! the same function the cargo-fuzz target calls.

#[test]
fn rbm_webhook_decode_seeds() {
    let n = rcsec_core::fuzzing::replay_seeds(
        "rbm_webhook_decode",
        rcsec_provider_rbm::fuzzing::rbm_webhook_decode,
    );
    assert!(n >= 10, "expected the committed seeds, found {n}");
}
