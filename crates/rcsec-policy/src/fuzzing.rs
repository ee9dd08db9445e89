//! Entry points for the cargo-fuzz targets in `fuzz/` (not a stable API).
//!
//! Each function states the property its target checks; `tests/fuzz_corpus.rs` replays the
//! committed seeds through the same functions, so `cargo test` exercises them without a fuzzer.

use std::sync::LazyLock;

use crate::{Classifier, Policy, redact};

/// Built once per process: compiling the detectors costs far more than one input.
static CLASSIFIER: LazyLock<Classifier> = LazyLock::new(Classifier::default);

/// Parses arbitrary bytes as a policy file; never panics, every error carries a position
/// inside the input, and every accepted policy renders an SMS text with its link.
///
/// # Panics
/// When the property fails: that is the bug the fuzzer is looking for.
pub fn policy_toml_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Policy::from_toml(text) {
        Ok(policy) => {
            let sms = policy.sms_text(rcsec_core::Severity::P0, "https://l.example/x");
            assert!(
                sms.contains("https://l.example/x"),
                "sms text must carry the link"
            );
        }
        Err(err) => {
            let (line, column) = err.location();
            assert!(line >= 1 && column >= 1, "positions are 1-based");
            assert!(
                line <= text.lines().count().max(1) + 1,
                "line inside the input"
            );
        }
    }
}

/// Classifies arbitrary bytes (as lossy UTF-8); never panics, findings are ordered,
/// non-overlapping, on character boundaries, redaction removes every finding's text, and the
/// personal-data scan that jumps between candidate bytes finds exactly what its
/// byte-at-a-time specification finds.
///
/// # Panics
/// When the property fails: that is the bug the fuzzer is looking for.
pub fn classify_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (fast, reference) = crate::classify::pii_fast_and_reference(&text);
    assert!(
        fast == reference,
        "the fast personal-data scan must equal its specification"
    );
    let classification = CLASSIFIER.classify(&text);
    let mut end = 0;
    for f in &classification.findings {
        assert!(
            f.span.start >= end && f.span.start < f.span.end,
            "ordered, disjoint"
        );
        assert!(text.is_char_boundary(f.span.start) && text.is_char_boundary(f.span.end));
        end = f.span.end;
    }
    let redacted = redact(&text, &classification);
    for f in &classification.findings {
        let secret = &text[f.span.clone()];
        if secret.len() >= 8 {
            assert!(!redacted.contains(secret), "redaction must remove findings");
        }
    }
}
