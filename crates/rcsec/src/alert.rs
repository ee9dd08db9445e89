//! The normalised alert: what every source (Alertmanager, an API call) is translated into.

use std::collections::BTreeMap;
use std::fmt;

use rcsec_core::{AlertId, Redacted, Severity, Timestamp};

/// Whether an alert is still firing.
///
/// Tracked per alert, not per notification: an Alertmanager group can be `firing` while one of
/// its alerts is already `resolved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The condition holds; responders are paged.
    Firing,
    /// The condition cleared; outstanding links are revoked and a short follow-up is sent.
    Resolved,
}

impl AlertStatus {
    /// `firing` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Resolved => "resolved",
        }
    }
}

/// A file that travels with an alert (a log bundle, a heap dump, a config diff).
///
/// Artifacts never travel inline: each is sealed client-side and delivered as a one-time link.
#[derive(Clone, PartialEq, Eq)]
pub struct Artifact {
    /// File name offered on download, e.g. `checkout-5xx.log`.
    pub name: String,
    /// MIME type, e.g. `text/plain`; bound into the ciphertext's associated data.
    pub content_type: String,
    /// The content. Sensitive: formatting prints only its length.
    pub data: Redacted<Vec<u8>>,
}

impl Artifact {
    /// An artifact with the given name, type and content.
    pub fn new(name: impl Into<String>, content_type: impl Into<String>, data: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            content_type: content_type.into(),
            data: Redacted::new("artifact", data),
        }
    }
}

impl fmt::Debug for Artifact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Artifact")
            .field("content_type", &self.content_type)
            .field("len", &self.data.expose().len())
            .finish_non_exhaustive()
    }
}

/// One alert, normalised.
///
/// The free text (`summary`, `details`) and label values may contain anything an engineer or
/// an exporter put there — including credentials — so they are wrapped in [`Redacted`] and are
/// classified before any route is chosen. `Debug` shows ids, status and severity only.
#[derive(Clone, PartialEq, Eq)]
pub struct Alert {
    /// Stable identity (Alertmanager's fingerprint): deduplication, links, tickets and the
    /// audit log key on it.
    pub id: AlertId,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// Urgency, from the `severity` label through a [`rcsec_core::SeverityMap`].
    pub severity: Severity,
    /// Short name, e.g. the `alertname` label (`HighErrorRate`).
    pub title: Redacted<String>,
    /// One-line summary (the `summary` annotation).
    pub summary: Redacted<String>,
    /// Longer text (the `description` annotation); may be empty.
    pub details: Redacted<String>,
    /// All labels, for routing rules (team, service, region).
    pub labels: BTreeMap<String, String>,
    /// When the condition started, if the source said.
    pub starts_at: Option<Timestamp>,
    /// When it ended, for resolved alerts.
    pub ends_at: Option<Timestamp>,
    /// Link back to the source (Prometheus graph), if any.
    pub source_url: Option<url::Url>,
    /// Files to deliver as one-time links.
    pub artifacts: Vec<Artifact>,
}

impl Alert {
    /// A firing alert with a title and a one-line summary, and nothing else (no details,
    /// labels, times, source link or artifacts); set those fields directly.
    ///
    /// ```
    /// use rcsec::core::{AlertId, Severity};
    /// use rcsec::{Alert, AlertStatus};
    ///
    /// let alert = Alert::firing(AlertId::new("c4a1b2d3")?, Severity::P1, "DiskFull", "db-1 at 97%");
    /// assert_eq!(alert.status, AlertStatus::Firing);
    /// assert_eq!(alert.text_for_classification(), "DiskFull\ndb-1 at 97%");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn firing(
        id: AlertId,
        severity: Severity,
        title: impl Into<String>,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            id,
            status: AlertStatus::Firing,
            severity,
            title: Redacted::new("title", title.into()),
            summary: Redacted::new("summary", summary.into()),
            details: Redacted::new("details", String::new()),
            labels: BTreeMap::new(),
            starts_at: None,
            ends_at: None,
            source_url: None,
            artifacts: Vec::new(),
        }
    }

    /// The label `name`, if present.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }

    /// All free text that the classifier must see before routing: title, summary, details.
    pub fn text_for_classification(&self) -> String {
        let mut text = String::with_capacity(
            self.title.expose().len()
                + self.summary.expose().len()
                + self.details.expose().len()
                + 2,
        );
        for part in [
            self.title.expose(),
            self.summary.expose(),
            self.details.expose(),
        ] {
            if !part.is_empty() {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(part);
            }
        }
        text
    }
}

impl fmt::Debug for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Alert")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("severity", &self.severity)
            .field("labels", &self.labels.len())
            .field("artifacts", &self.artifacts.len())
            .finish_non_exhaustive()
    }
}
