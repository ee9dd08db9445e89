//! Redaction: alert text with every finding replaced by a placeholder.

use crate::classify::Classification;

/// Returns `text` with every finding replaced by its [`crate::Finding::redacted_preview`]
/// (`[redacted github_token]`, `[redacted payment_card ****1881]`).
///
/// # Security
/// `classification` must come from classifying this very `text`. If any span does not fit
/// the text (out of range, not on a character boundary, overlapping), nothing of the text is
/// returned but `[redacted]`: a mismatch must never let a secret through.
///
/// ```
/// use rcsec_policy::{Classifier, redact};
///
/// let text = "login failed, password=hunter2!x for root";
/// let c = Classifier::default().classify(text);
/// assert_eq!(redact(text, &c), "login failed, password=[redacted credential_assignment] for root");
/// ```
pub fn redact(text: &str, classification: &Classification) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for finding in &classification.findings {
        let span = &finding.span;
        let fits = span.start >= at
            && span.start < span.end
            && text.is_char_boundary(span.start)
            && text.is_char_boundary(span.end)
            && span.end <= text.len();
        if !fits {
            return "[redacted]".to_owned();
        }
        out.push_str(&text[at..span.start]);
        out.push_str(&finding.redacted_preview());
        at = span.end;
    }
    out.push_str(&text[at..]);
    redact_repeats(out, text, classification)
}

/// Shortest finding text that is also removed wherever else it occurs verbatim.
const MIN_REPEAT_LEN: usize = 8;

/// A secret detected in one place must not survive verbatim in another place where its context
/// did not trigger a detector (the same password pasted twice, once without its keyword).
/// Found by the `classify_text` fuzz target; the reproducer is kept in
/// `fuzz/artifacts/classify_text/`.
fn redact_repeats(mut out: String, text: &str, classification: &Classification) -> String {
    let mut repeats: Vec<(&str, String)> = classification
        .findings
        .iter()
        .filter_map(|f| text.get(f.span.clone()).map(|s| (s, f.redacted_preview())))
        .filter(|(secret, _)| secret.len() >= MIN_REPEAT_LEN)
        .collect();
    // Longest first, so a secret containing a shorter one is replaced whole.
    repeats.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(b.0)));
    repeats.dedup_by(|a, b| a.0 == b.0);
    for (secret, preview) in repeats {
        if out.contains(secret) {
            out = out.replace(secret, &preview);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Classifier;

    #[test]
    fn every_finding_is_replaced() {
        let text = "card 4111 1111 1111 1111, key AKIAZ3MSJV4WYKHGQNMX, mail a@b.example";
        let c = Classifier::default().classify(text);
        let r = redact(text, &c);
        assert_eq!(
            r,
            "card [redacted payment_card ****1111], key [redacted aws_access_key_id], \
             mail [redacted email]"
        );
    }

    #[test]
    fn a_detected_secret_is_removed_where_it_repeats_without_context() {
        let text = "password=Xq7!vR2#kLm9 and later just Xq7!vR2#kLm9 again";
        let c = Classifier::default().classify(text);
        assert!(!c.findings.is_empty());
        let r = redact(text, &c);
        assert!(!r.contains("Xq7!vR2#kLm9"), "{r}");
    }

    #[test]
    fn mismatched_spans_fail_closed() {
        let c = Classifier::default().classify("token ghp_0123456789abcdefghijABCDEFGHIJ012345 x");
        assert!(!c.findings.is_empty());
        assert_eq!(redact("short", &c), "[redacted]");
        assert_eq!(
            redact("no findings", &Classification::default()),
            "no findings"
        );
    }
}
