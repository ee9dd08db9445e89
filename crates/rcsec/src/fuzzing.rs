//! Entry points for the cargo-fuzz targets in `fuzz/` (not a stable API).

use crate::ingest::{AlertmanagerDecoder, parse_rfc3339};

/// Decodes arbitrary bytes as an Alertmanager webhook body: never panics, and whatever
/// decodes has valid ids and at most [`crate::ingest::alertmanager::MAX_ALERTS`] alerts.
///
/// # Panics
/// When the property fails.
pub fn webhook_decode(data: &[u8]) {
    if let Ok(n) = AlertmanagerDecoder::default().decode(data) {
        assert!(n.alerts.len() <= crate::ingest::alertmanager::MAX_ALERTS);
        for alert in &n.alerts {
            assert!(!alert.id.as_str().is_empty());
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_rfc3339(text);
    }
}
