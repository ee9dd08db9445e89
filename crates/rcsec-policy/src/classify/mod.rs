//! The sensitive-content classifier: finds secrets and personal data in alert text.
//!
//! Two cheap passes decide where the expensive work happens:
//!
//! 1. a SIMD multi-literal search (Aho-Corasick's packed Teddy searcher) for the anchors of
//!    every secret detector (token prefixes such as `ghp_` or `AKIA`, and credential keywords
//!    such as `password`); only the lines that contain an anchor are handed to that detector's
//!    regular expression, and keyword detectors only where an assignment could follow;
//! 2. a single scan for personal data that visits only the bytes where something could start
//!    (a vectorised mask per 64 bytes finds them): digit runs are split into groups and matched
//!    against the shapes of card numbers, US SSNs and phone numbers before any checksum runs,
//!    `@` starts an e-mail check and `CC00` starts an IBAN check.
//!
//! Benign log text (timestamps, UUIDs, hashes, host names) therefore costs two linear scans.
//! A [`Finding`] records what kind of thing was found, how sure the detector is and where it is;
//! it never stores the matched text.

mod anchors;
mod finding;
mod pii;
mod secrets;
mod text;

use std::ops::Range;

pub use finding::{Confidence, Finding, FindingKind, Sensitivity};

use secrets::SecretScanner;

/// What the classifier found in one text.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Classification {
    /// The highest sensitivity among the findings ([`Sensitivity::None`] when there are none).
    pub sensitivity: Sensitivity,
    /// Non-overlapping findings, ordered by start offset.
    pub findings: Vec<Finding>,
}

impl Classification {
    /// Whether anything sensitive was found.
    pub fn is_sensitive(&self) -> bool {
        self.sensitivity != Sensitivity::None
    }

    /// The findings of one kind.
    pub fn of_kind(&self, kind: FindingKind) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }
}

impl std::fmt::Debug for Classification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classification")
            .field("sensitivity", &self.sensitivity)
            .field("findings", &self.findings)
            .finish()
    }
}

/// Finds secrets and personal data in text; sync, sans-IO and cheap to share.
///
/// Build it once ([`Classifier::default`] compiles the detectors) and reuse it: `classify`
/// takes `&self` and the classifier is `Send + Sync`.
///
/// ```
/// use rcsec_policy::{Classifier, FindingKind, Sensitivity};
///
/// let classifier = Classifier::default();
/// let c = classifier.classify("db down; DATABASE_URL=postgres://app:s3cr3t-Pa55@db:5432/app");
/// assert_eq!(c.sensitivity, Sensitivity::High);
/// assert_eq!(c.findings[0].kind, FindingKind::UrlCredentials);
/// assert!(!format!("{c:?}").contains("s3cr3t"));
/// ```
#[derive(Debug)]
pub struct Classifier {
    secrets: SecretScanner,
}

impl Default for Classifier {
    fn default() -> Self {
        Self {
            secrets: SecretScanner::new(),
        }
    }
}

impl Classifier {
    /// Classifies `text`.
    ///
    /// Findings of the specific detectors win over generic ones where spans overlap (a GitHub
    /// token assigned to `token=` is reported once, as a GitHub token).
    pub fn classify(&self, text: &str) -> Classification {
        let mut raw = Vec::new();
        self.secrets.scan(text, &mut raw);
        pii::scan(text, &mut raw);
        let findings = resolve_overlaps(raw);
        let sensitivity = findings
            .iter()
            .map(|f| f.kind.sensitivity())
            .max()
            .unwrap_or(Sensitivity::None);
        Classification {
            sensitivity,
            findings,
        }
    }
}

/// The personal-data findings of the scan [`Classifier::classify`] uses and of its
/// byte-at-a-time specification, which must be equal (checked by the `classify_text` fuzz
/// target and the tests).
pub(crate) fn pii_fast_and_reference(text: &str) -> (Vec<Finding>, Vec<Finding>) {
    let (mut fast, mut reference) = (Vec::new(), Vec::new());
    pii::scan(text, &mut fast);
    pii::scan_reference(text, &mut reference);
    (fast, reference)
}

/// Orders findings by start and drops those overlapping a finding of higher precedence.
fn resolve_overlaps(mut raw: Vec<Finding>) -> Vec<Finding> {
    // Precedence: specific before generic, then more confident, then longer.
    raw.sort_by(|a, b| {
        a.kind
            .precedence()
            .cmp(&b.kind.precedence())
            .then(b.confidence.cmp(&a.confidence))
            .then((b.span.end - b.span.start).cmp(&(a.span.end - a.span.start)))
            .then(a.span.start.cmp(&b.span.start))
    });
    let mut kept: Vec<Finding> = Vec::with_capacity(raw.len());
    for finding in raw {
        if !kept.iter().any(|k| overlaps(&k.span, &finding.span)) {
            kept.push(finding);
        }
    }
    kept.sort_by_key(|f| f.span.start);
    kept
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

#[cfg(test)]
mod tests;
