//! Per-category opt-in records, consulted before non-essential messages.
//!
//! **Essential** messages are incident pages, P0 and P1: a responder on call has agreed to be
//! woken by them as part of the job, and withholding them could cause harm. Everything else —
//! P2/P3 notices, digests, maintenance announcements, anything marketing-like — is
//! **non-essential** and is sent only to recipients who opted in to its category under terms
//! the policy accepts.

use std::collections::BTreeMap;

use rcsec_core::{Severity, Timestamp};

/// Whether a message of this severity is essential (sent without opt-in).
pub fn is_essential(severity: Severity) -> bool {
    severity <= Severity::P1
}

/// One recipient's opt-in to one category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    /// The message category (`maintenance`, `digest`, …), lowercased.
    pub category: String,
    /// When the recipient opted in.
    pub granted_at: Timestamp,
    /// The version of the terms shown when they opted in.
    pub terms_version: String,
    /// When they withdrew, if they did.
    pub withdrawn_at: Option<Timestamp>,
}

impl ConsentRecord {
    /// In force: not withdrawn, and given under `terms_version` when one is required.
    pub fn in_force(&self, terms_version: Option<&str>) -> bool {
        self.withdrawn_at.is_none() && terms_version.is_none_or(|v| v == self.terms_version)
    }
}

/// One recipient's consent records, one per category.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsentLedger {
    records: BTreeMap<String, ConsentRecord>,
}

impl ConsentLedger {
    /// An empty ledger: no opt-ins.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an opt-in to `category` at `at` under `terms_version`, replacing an earlier one.
    pub fn grant(&mut self, category: &str, at: Timestamp, terms_version: &str) {
        let category = normalise(category);
        self.records.insert(
            category.clone(),
            ConsentRecord {
                category,
                granted_at: at,
                terms_version: terms_version.trim().to_owned(),
                withdrawn_at: None,
            },
        );
    }

    /// Records a withdrawal; returns whether there was an opt-in in force to withdraw.
    pub fn withdraw(&mut self, category: &str, at: Timestamp) -> bool {
        match self.records.get_mut(&normalise(category)) {
            Some(r) if r.withdrawn_at.is_none() => {
                r.withdrawn_at = Some(at);
                true
            }
            _ => false,
        }
    }

    /// The record for `category`, in force or not.
    pub fn record(&self, category: &str) -> Option<&ConsentRecord> {
        self.records.get(&normalise(category))
    }

    /// Every record, in force or not, by category (what persisting a responder needs: the
    /// ledger is rebuilt from them with [`ConsentLedger::grant`] and
    /// [`ConsentLedger::withdraw`]).
    pub fn records(&self) -> impl Iterator<Item = &ConsentRecord> {
        self.records.values()
    }

    /// Whether a message of `severity` and `category` may be sent: essential messages always,
    /// others only with an opt-in in force (under `terms_version` when given).
    pub fn permits(&self, severity: Severity, category: &str, terms_version: Option<&str>) -> bool {
        is_essential(severity)
            || self
                .record(category)
                .is_some_and(|r| r.in_force(terms_version))
    }
}

fn normalise(category: &str) -> String {
    category.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essential_pages_need_no_opt_in() {
        let ledger = ConsentLedger::new();
        assert!(ledger.permits(Severity::P0, "incident", None));
        assert!(ledger.permits(Severity::P1, "incident", Some("v2")));
        assert!(!ledger.permits(Severity::P2, "maintenance", None));
        assert!(!ledger.permits(Severity::P3, "digest", None));
    }

    #[test]
    fn opt_in_terms_and_withdrawal() {
        let mut ledger = ConsentLedger::new();
        ledger.grant("Digest", Timestamp::from_secs(10), "v1");
        assert!(ledger.permits(Severity::P3, "digest", None));
        assert!(ledger.permits(Severity::P3, "digest", Some("v1")));
        assert!(
            !ledger.permits(Severity::P3, "digest", Some("v2")),
            "old terms"
        );
        assert!(
            !ledger.permits(Severity::P3, "maintenance", None),
            "other category"
        );
        assert!(ledger.withdraw("digest", Timestamp::from_secs(20)));
        assert!(!ledger.withdraw("digest", Timestamp::from_secs(21)));
        assert!(!ledger.permits(Severity::P3, "digest", None));
        let r = ledger.record("digest").map(|r| r.withdrawn_at);
        assert_eq!(r, Some(Some(Timestamp::from_secs(20))));
        ledger.grant("digest", Timestamp::from_secs(30), "v2");
        assert!(ledger.permits(Severity::P2, "digest", Some("v2")));
    }
}
