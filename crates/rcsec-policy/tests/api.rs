//! Public-API tests of rcsec-policy: the classifier on known formats and on benign logs, the
//! policy file format and its errors, every default rule of the decision engine, overrides,
//! and what actually gets sent on each route.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

#[path = "api/benign_logs.rs"]
mod benign_logs;
#[path = "api/classifier.rs"]
mod classifier;
#[path = "api/decisions.rs"]
mod decisions;
#[path = "api/overrides.rs"]
mod overrides;
#[path = "api/policy_file.rs"]
mod policy_file;
#[path = "api/rendering.rs"]
mod rendering;

/// One classifier for all tests: compiling the detectors is the slow part of a debug build.
fn classifier() -> &'static rcsec_policy::Classifier {
    static CLASSIFIER: std::sync::LazyLock<rcsec_policy::Classifier> =
        std::sync::LazyLock::new(rcsec_policy::Classifier::default);
    &CLASSIFIER
}
