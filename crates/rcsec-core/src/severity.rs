//! Alert severities and the labels people actually write for them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// How urgent an alert is, from `P0` (wake someone now) to `P3` (informational).
///
/// Ordering follows urgency: `P0 < P1`, so `severity <= Severity::P1` reads "P1 or worse".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Severity {
    /// Critical: someone is paged now; only verified end-to-end encrypted routes may carry it.
    P0,
    /// High: needs attention within the hour.
    P1,
    /// Medium: next business hours; subject to quiet hours.
    P2,
    /// Low or informational; subject to quiet hours.
    P3,
}

impl Severity {
    /// All severities, most urgent first.
    pub const ALL: [Self; 4] = [Self::P0, Self::P1, Self::P2, Self::P3];

    /// The canonical lowercase label: `p0` … `p3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::P0 => "p0",
            Self::P1 => "p1",
            Self::P2 => "p2",
            Self::P3 => "p3",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::P0 => "P0",
            Self::P1 => "P1",
            Self::P2 => "P2",
            Self::P3 => "P3",
        })
    }
}

/// A severity label that the mapping table does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SeverityError {
    /// The label (normalised, at most 32 characters kept) has no entry in the table.
    #[error("unknown severity label {0:?}")]
    Unknown(String),
}

impl FromStr for Severity {
    type Err = SeverityError;

    /// Parses with the default table ([`SeverityMap::default`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SeverityMap::default().parse(s)
    }
}

/// The built-in table. `sevN` follows the incident-management convention where SEV1 is the
/// worst, while `pN` is taken literally; a user who means otherwise overrides entries.
const DEFAULT_LABELS: &[(&str, Severity)] = &[
    ("p0", Severity::P0),
    ("p1", Severity::P1),
    ("p2", Severity::P2),
    ("p3", Severity::P3),
    ("p4", Severity::P3),
    ("sev0", Severity::P0),
    ("sev1", Severity::P0),
    ("sev2", Severity::P1),
    ("sev3", Severity::P2),
    ("sev4", Severity::P3),
    ("sev5", Severity::P3),
    ("critical", Severity::P0),
    ("crit", Severity::P0),
    ("fatal", Severity::P0),
    ("emergency", Severity::P0),
    ("emerg", Severity::P0),
    ("disaster", Severity::P0),
    ("page", Severity::P0),
    ("error", Severity::P1),
    ("err", Severity::P1),
    ("major", Severity::P1),
    ("high", Severity::P1),
    ("warning", Severity::P2),
    ("warn", Severity::P2),
    ("minor", Severity::P2),
    ("medium", Severity::P2),
    ("average", Severity::P2),
    ("info", Severity::P3),
    ("informational", Severity::P3),
    ("notice", Severity::P3),
    ("low", Severity::P3),
    ("ticket", Severity::P3),
    ("debug", Severity::P3),
    ("none", Severity::P3),
];

/// Maps free-form severity labels (`critical`, `SEV-1`, `warning`, `p2`) to [`Severity`].
///
/// Labels are matched case-insensitively with spaces, dashes and underscores removed, so
/// `SEV-1`, `sev_1` and `Sev 1` are one label. The table is explicit and inspectable; teams
/// whose conventions differ override entries rather than fork the parser:
///
/// ```
/// use rcsec_core::{Severity, SeverityMap};
///
/// let map = SeverityMap::default().with("ticket", Severity::P2).with("sev1", Severity::P1);
/// assert_eq!(map.parse("Ticket")?, Severity::P2);
/// assert_eq!(map.parse("SEV-1")?, Severity::P1);
/// # Ok::<(), rcsec_core::SeverityError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityMap {
    labels: BTreeMap<String, Severity>,
}

impl Default for SeverityMap {
    fn default() -> Self {
        Self {
            labels: DEFAULT_LABELS
                .iter()
                .map(|(label, sev)| ((*label).to_owned(), *sev))
                .collect(),
        }
    }
}

impl SeverityMap {
    /// A table with no entries, for teams that want to list every label themselves.
    pub fn empty() -> Self {
        Self {
            labels: BTreeMap::new(),
        }
    }

    /// Adds or replaces the entry for `label` (normalised as in [`SeverityMap::parse`]).
    #[must_use]
    pub fn with(mut self, label: &str, severity: Severity) -> Self {
        self.insert(label, severity);
        self
    }

    /// Adds or replaces the entry for `label` in place.
    pub fn insert(&mut self, label: &str, severity: Severity) {
        self.labels.insert(normalise(label), severity);
    }

    /// Looks a label up.
    ///
    /// # Errors
    /// [`SeverityError::Unknown`] when the label has no entry.
    pub fn parse(&self, label: &str) -> Result<Severity, SeverityError> {
        let key = normalise(label);
        self.labels.get(&key).copied().ok_or_else(|| {
            let shown: String = key.chars().take(32).collect();
            SeverityError::Unknown(shown)
        })
    }

    /// Looks a label up, using `fallback` for unknown labels.
    ///
    /// Pick the fallback deliberately: an unknown label treated as `P0` is routed only over
    /// end-to-end encrypted paths (fails closed), while `P3` may be held for quiet hours.
    pub fn parse_or(&self, label: &str, fallback: Severity) -> Severity {
        self.parse(label).unwrap_or(fallback)
    }

    /// Iterates over the table in label order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, Severity)> {
        self.labels
            .iter()
            .map(|(label, sev)| (label.as_str(), *sev))
    }
}

fn normalise(label: &str) -> String {
    label
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_labels_map_as_documented() {
        let map = SeverityMap::default();
        for (label, expected) in [
            ("critical", Severity::P0),
            ("CRITICAL", Severity::P0),
            ("error", Severity::P1),
            ("warning", Severity::P2),
            ("info", Severity::P3),
            ("p0", Severity::P0),
            ("P1", Severity::P1),
            ("p2", Severity::P2),
            ("p3", Severity::P3),
            ("sev1", Severity::P0),
            ("SEV-2", Severity::P1),
            ("sev_3", Severity::P2),
            ("Sev 4", Severity::P3),
            ("page", Severity::P0),
        ] {
            assert_eq!(map.parse(label), Ok(expected), "{label}");
        }
    }

    #[test]
    fn unknown_labels_are_errors_or_fallbacks() {
        let map = SeverityMap::default();
        assert_eq!(
            map.parse("purple"),
            Err(SeverityError::Unknown("purple".into()))
        );
        assert_eq!(map.parse_or("purple", Severity::P0), Severity::P0);
        assert!(SeverityMap::empty().parse("critical").is_err());
        let long = "x".repeat(500);
        let SeverityError::Unknown(shown) = map.parse(&long).unwrap_err();
        assert_eq!(shown.len(), 32);
    }

    #[test]
    fn overrides_replace_defaults() {
        let map = SeverityMap::default()
            .with("Warning", Severity::P1)
            .with("sev-1", Severity::P1);
        assert_eq!(map.parse("warning"), Ok(Severity::P1));
        assert_eq!(map.parse("SEV1"), Ok(Severity::P1));
        assert_eq!(map.parse("critical"), Ok(Severity::P0));
        assert!(
            map.entries()
                .any(|(l, s)| l == "warning" && s == Severity::P1)
        );
    }

    #[test]
    fn ordering_is_urgency() {
        assert!(Severity::P0 < Severity::P1 && Severity::P2 < Severity::P3);
        assert_eq!("P2".parse::<Severity>(), Ok(Severity::P2));
        assert_eq!(Severity::P0.to_string(), "P0");
        assert_eq!(Severity::P3.as_str(), "p3");
    }
}
