//! Deduplication by fingerprint: Alertmanager re-sends a firing group every `repeat_interval`;
//! a repeat inside the window must not page anyone again.

use std::collections::HashMap;
use std::time::Duration;

use rcsec_core::{AlertId, Timestamp};

/// Remembers when each alert last paged.
#[derive(Debug, Default)]
pub(crate) struct Dedup {
    last_paged: HashMap<AlertId, Timestamp>,
}

impl Dedup {
    /// Whether a firing notification for `alert` at `now` is a repeat inside `window`; if it is
    /// not, records `now` as its page time.
    pub(crate) fn is_repeat(&mut self, alert: &AlertId, now: Timestamp, window: Duration) -> bool {
        match self.last_paged.get(alert) {
            Some(at) if now < at.saturating_add(window) => true,
            _ => {
                self.last_paged.insert(alert.clone(), now);
                false
            }
        }
    }

    /// Forgets `alert` (it resolved): the next firing pages again.
    pub(crate) fn clear(&mut self, alert: &AlertId) {
        self.last_paged.remove(alert);
    }

    /// When `alert` last paged, if it is remembered.
    pub(crate) fn last_paged(&self, alert: &AlertId) -> Option<Timestamp> {
        self.last_paged.get(alert).copied()
    }

    /// Remembers that `alert` paged at `at` (recovering durable state).
    pub(crate) fn restore(&mut self, alert: AlertId, at: Timestamp) {
        self.last_paged.insert(alert, at);
    }

    /// Drops entries older than `window`.
    pub(crate) fn sweep(&mut self, now: Timestamp, window: Duration) {
        self.last_paged
            .retain(|_, at| now < at.saturating_add(window));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_inside_the_window_only() {
        let mut d = Dedup::default();
        let a = AlertId::new("a").unwrap();
        let w = Duration::from_secs(600);
        let t = Timestamp::from_secs(1_000);
        assert!(!d.is_repeat(&a, t, w));
        assert!(d.is_repeat(&a, t.saturating_add(Duration::from_secs(599)), w));
        assert!(!d.is_repeat(&a, t.saturating_add(Duration::from_secs(600)), w));
        d.clear(&a);
        assert!(!d.is_repeat(&a, t.saturating_add(Duration::from_secs(601)), w));
        d.sweep(t.saturating_add(Duration::from_secs(5_000)), w);
        assert!(d.last_paged.is_empty());
    }
}
