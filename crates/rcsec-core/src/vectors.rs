//! The shape of a conformance-vector run, shared by every crate that checks official vectors
//! (HPKE and MLS in `rcsec-keying`, RFC 9162 Merkle proofs in `rcsec-audit`) and by
//! `rcsec vectors`, which prints it.
//!
//! A skipped entry is never a pass: it is listed with its reason, so a report cannot look
//! green by silently ignoring what it does not support.

use std::fmt;

/// One entry that did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorFailure {
    /// Position of the entry in its file (0-based).
    pub index: usize,
    /// What differed, e.g. `"shared_secret mismatch"`. Test vectors are public, so expected
    /// values may appear here; live secrets never pass through this type.
    pub reason: String,
}

/// One entry that was not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorSkip {
    /// Position of the entry in its file (0-based).
    pub index: usize,
    /// Why it was not run, e.g. `"cipher suite 3 not implemented"`.
    pub reason: String,
}

/// The outcome of running every entry of one vector file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VectorReport {
    /// Entries that passed every check.
    pub passed: usize,
    /// Entries that failed at least one check.
    pub failed: Vec<VectorFailure>,
    /// Entries not run.
    pub skipped: Vec<VectorSkip>,
}

impl VectorReport {
    /// Records entry `index` as passed.
    pub fn pass(&mut self, index: usize) {
        let _ = index;
        self.passed += 1;
    }

    /// Records entry `index` as failed.
    pub fn fail(&mut self, index: usize, reason: impl Into<String>) {
        self.failed.push(VectorFailure {
            index,
            reason: reason.into(),
        });
    }

    /// Records entry `index` as skipped.
    pub fn skip(&mut self, index: usize, reason: impl Into<String>) {
        self.skipped.push(VectorSkip {
            index,
            reason: reason.into(),
        });
    }

    /// Records the result of checking entry `index`.
    pub fn record<E: fmt::Display>(&mut self, index: usize, outcome: Result<(), E>) {
        match outcome {
            Ok(()) => self.pass(index),
            Err(e) => self.fail(index, e.to_string()),
        }
    }

    /// Merges another report (e.g. one per file of a folder) into this one.
    pub fn absorb(&mut self, other: Self) {
        self.passed += other.passed;
        self.failed.extend(other.failed);
        self.skipped.extend(other.skipped);
    }

    /// True when nothing failed and at least one entry passed.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty() && self.passed > 0
    }

    /// The closing line of the CLI contract: `N passed, M failed`.
    pub fn summary_line(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed.len())
    }
}

/// A vector file that could not be read or understood at all (as opposed to an entry that
/// failed its checks).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VectorError {
    /// The file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not in the expected upstream format.
    #[error("{path} is not a valid vector file: {reason}")]
    Format {
        /// The path as given.
        path: String,
        /// What was wrong.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_never_count_as_passes() {
        let mut r = VectorReport::default();
        r.skip(0, "suite 2");
        assert!(!r.is_success());
        assert_eq!(r.summary_line(), "0 passed, 0 failed");
        r.record::<String>(1, Ok(()));
        r.record(2, Err("key mismatch"));
        assert_eq!(r.summary_line(), "1 passed, 1 failed");
        assert!(!r.is_success());
        let mut total = VectorReport::default();
        total.pass(0);
        total.absorb(r);
        assert_eq!(
            (total.passed, total.failed.len(), total.skipped.len()),
            (2, 1, 1)
        );
    }
}
