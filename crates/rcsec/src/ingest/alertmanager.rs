//! Prometheus Alertmanager webhook (payload version 4) → [`Alert`]s.
//!
//! Alertmanager signs nothing, so the daemon authenticates the request (bearer token or mTLS)
//! before calling [`AlertmanagerDecoder::decode`]. Unknown fields are ignored: newer
//! Alertmanager versions add some (`notification_reason`, `routeLabels`). Status is taken per
//! alert, because a group can be `firing` while one of its alerts is `resolved`.

use std::collections::BTreeMap;

use rcsec_core::{AlertId, Redacted, Severity, SeverityMap};
use sha2::{Digest, Sha256};

use super::rfc3339::parse_rfc3339;
use crate::alert::{Alert, AlertStatus};

/// More alerts than this in one notification is refused as malformed (Alertmanager's own
/// `max_alerts` truncation should have applied long before).
pub const MAX_ALERTS: usize = 1_000;
/// Labels or annotations per alert.
const MAX_PAIRS: usize = 256;
/// Bytes in one label or annotation value.
const MAX_VALUE_LEN: usize = 64 * 1024;

/// Why a webhook body was refused. The daemon answers these with a 4xx, so Alertmanager does
/// not retry a body that can never succeed.
///
/// No variant quotes the body: alert text may contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// Not JSON, or JSON of the wrong shape.
    #[error(
        "webhook body is not a valid Alertmanager payload ({category} error at line {line}, column {column})"
    )]
    Json {
        /// `syntax`, `data` (wrong shape or type) or `eof` (truncated).
        category: &'static str,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// `version` is not `"4"`.
    #[error("unsupported webhook payload version (expected \"4\")")]
    UnsupportedVersion,
    /// An alert's `status` is neither `firing` nor `resolved`.
    #[error("alert {index} has an invalid status")]
    InvalidStatus {
        /// Index in `alerts[]`.
        index: usize,
    },
    /// An alert's fingerprint is not a usable identifier.
    #[error("alert {index} has an invalid fingerprint")]
    InvalidFingerprint {
        /// Index in `alerts[]`.
        index: usize,
    },
    /// `startsAt` or `endsAt` is not RFC 3339.
    #[error("alert {index} has an invalid {field} timestamp")]
    InvalidTimestamp {
        /// Index in `alerts[]`.
        index: usize,
        /// `startsAt` or `endsAt`.
        field: &'static str,
    },
    /// Too many alerts, labels or annotations, or an oversized value.
    #[error("webhook payload exceeds a size limit ({what})")]
    TooLarge {
        /// Which limit.
        what: &'static str,
    },
}

impl From<serde_json::Error> for WebhookError {
    fn from(e: serde_json::Error) -> Self {
        use serde_json::error::Category;
        let category = match e.classify() {
            Category::Io | Category::Syntax => "syntax",
            Category::Data => "data",
            Category::Eof => "eof",
        };
        // serde_json's message can quote the offending value; keep only its position.
        Self::Json {
            category,
            line: e.line(),
            column: e.column(),
        }
    }
}

#[derive(serde::Deserialize)]
struct WireNotification {
    version: String,
    #[serde(rename = "groupKey", default)]
    group_key: String,
    #[serde(rename = "truncatedAlerts", default)]
    truncated_alerts: u64,
    status: String,
    #[serde(default)]
    receiver: String,
    #[serde(rename = "externalURL", default)]
    external_url: String,
    alerts: Vec<WireAlert>,
}

#[derive(serde::Deserialize)]
struct WireAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt", default)]
    starts_at: Option<String>,
    #[serde(rename = "endsAt", default)]
    ends_at: Option<String>,
    #[serde(rename = "generatorURL", default)]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
}

/// One decoded notification: the group's metadata and its alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertmanagerNotification {
    /// The receiver name from Alertmanager's config.
    pub receiver: String,
    /// Alertmanager's group key (used to de-duplicate repeated notifications of a group).
    pub group_key: String,
    /// The group's status. Informational only; act on each alert's own status.
    pub group_status: AlertStatus,
    /// How many alerts Alertmanager left out because of `max_alerts`.
    pub truncated_alerts: u64,
    /// Alertmanager's external URL, if it was a valid http(s) URL.
    pub external_url: Option<url::Url>,
    /// The alerts, each with its own status.
    pub alerts: Vec<Alert>,
}

/// Decodes Alertmanager webhook bodies with a configurable severity mapping.
#[derive(Debug, Clone)]
pub struct AlertmanagerDecoder {
    severities: SeverityMap,
    unknown_severity: Severity,
    severity_label: String,
}

impl Default for AlertmanagerDecoder {
    /// The default severity table, the `severity` label, and `P0` for a missing or unknown
    /// label: an alert we cannot rank is routed as strictly as the most urgent one (only
    /// end-to-end encrypted paths may carry its text), which fails closed.
    fn default() -> Self {
        Self {
            severities: SeverityMap::default(),
            unknown_severity: Severity::P0,
            severity_label: "severity".to_owned(),
        }
    }
}

impl AlertmanagerDecoder {
    /// Uses `map` to read severity labels.
    #[must_use]
    pub fn with_severity_map(mut self, map: SeverityMap) -> Self {
        self.severities = map;
        self
    }

    /// Severity for alerts whose label is missing or unknown.
    #[must_use]
    pub fn with_unknown_severity(mut self, severity: Severity) -> Self {
        self.unknown_severity = severity;
        self
    }

    /// Reads severity from label `name` instead of `severity`.
    #[must_use]
    pub fn with_severity_label(mut self, name: impl Into<String>) -> Self {
        self.severity_label = name.into();
        self
    }

    /// Decodes one webhook body.
    ///
    /// # Errors
    /// [`WebhookError`] for malformed JSON, a payload version other than 4, invalid statuses,
    /// fingerprints or timestamps, and payloads over the size limits.
    pub fn decode(&self, body: &[u8]) -> Result<AlertmanagerNotification, WebhookError> {
        let wire: WireNotification = serde_json::from_slice(body)?;
        if wire.version != "4" {
            return Err(WebhookError::UnsupportedVersion);
        }
        if wire.alerts.len() > MAX_ALERTS {
            return Err(WebhookError::TooLarge { what: "alerts" });
        }
        let group_status =
            parse_status(&wire.status).ok_or(WebhookError::InvalidStatus { index: 0 })?;
        let alerts = wire
            .alerts
            .into_iter()
            .enumerate()
            .map(|(index, alert)| self.decode_alert(index, alert))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AlertmanagerNotification {
            receiver: wire.receiver,
            group_key: wire.group_key,
            group_status,
            truncated_alerts: wire.truncated_alerts,
            external_url: http_url(&wire.external_url),
            alerts,
        })
    }

    fn decode_alert(&self, index: usize, wire: WireAlert) -> Result<Alert, WebhookError> {
        let status = parse_status(&wire.status).ok_or(WebhookError::InvalidStatus { index })?;
        check_pairs(&wire.labels, "labels")?;
        check_pairs(&wire.annotations, "annotations")?;
        let id = match wire.fingerprint.as_deref().filter(|f| !f.is_empty()) {
            Some(f) => AlertId::new(f).map_err(|_| WebhookError::InvalidFingerprint { index })?,
            None => fingerprint_of(&wire.labels)
                .map_err(|_| WebhookError::InvalidFingerprint { index })?,
        };
        let timestamp = |raw: Option<&str>, field| match raw.filter(|s| !s.is_empty()) {
            Some(raw) => {
                parse_rfc3339(raw).map_err(|_| WebhookError::InvalidTimestamp { index, field })
            }
            None => Ok(None),
        };
        let starts_at = timestamp(wire.starts_at.as_deref(), "startsAt")?;
        let ends_at = timestamp(wire.ends_at.as_deref(), "endsAt")?;
        let severity = wire
            .labels
            .get(&self.severity_label)
            .map_or(self.unknown_severity, |label| {
                self.severities.parse_or(label, self.unknown_severity)
            });

        let mut annotations = wire.annotations;
        let title = wire
            .labels
            .get("alertname")
            .cloned()
            .unwrap_or_else(|| "alert".to_owned());
        let summary = annotations
            .remove("summary")
            .or_else(|| annotations.remove("message"))
            .unwrap_or_default();
        let details = annotations.remove("description").unwrap_or_default();
        Ok(Alert {
            id,
            status,
            severity,
            title: Redacted::new("title", title),
            summary: Redacted::new("summary", summary),
            details: Redacted::new("details", details),
            labels: wire.labels,
            starts_at,
            ends_at,
            source_url: wire.generator_url.as_deref().and_then(http_url),
            artifacts: Vec::new(),
        })
    }
}

fn parse_status(s: &str) -> Option<AlertStatus> {
    match s {
        "firing" => Some(AlertStatus::Firing),
        "resolved" => Some(AlertStatus::Resolved),
        _ => None,
    }
}

fn check_pairs(pairs: &BTreeMap<String, String>, what: &'static str) -> Result<(), WebhookError> {
    if pairs.len() > MAX_PAIRS
        || pairs
            .iter()
            .any(|(k, v)| k.len() > 1024 || v.len() > MAX_VALUE_LEN)
    {
        return Err(WebhookError::TooLarge { what });
    }
    Ok(())
}

/// Alertmanager-style fingerprint for sources that send none: a hash of the sorted label set,
/// 16 hex digits, stable for the same labels.
fn fingerprint_of(labels: &BTreeMap<String, String>) -> Result<AlertId, rcsec_core::IdError> {
    let mut hasher = Sha256::new();
    for (name, value) in labels {
        hasher.update(name.as_bytes());
        hasher.update([0xff]);
        hasher.update(value.as_bytes());
        hasher.update([0xff]);
    }
    let digest = hasher.finalize();
    AlertId::new(hex::encode(&digest[..8]))
}

fn http_url(raw: &str) -> Option<url::Url> {
    url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

#[cfg(test)]
mod tests;
