//! Security events alertd records itself, on the pipeline's audit chain.
//!
//! The pipeline audits what it does with alerts; forged webhooks never reach it, yet an
//! attacker probing the webhook (or a misconfigured client token after a rotation) is exactly
//! what an auditor needs to see. These events go to the same sink and key as the pipeline's,
//! so they are hash-chained with them and the recipient is the same pseudonym.

use std::sync::{Arc, Mutex, PoisonError};

use rcsec::audit::{AuditSink, EventKind, Pseudonymizer};
use rcsec::core::{Clock, Msisdn, Timestamp};

/// Unauthenticated rejections audited per minute at most. Anyone can send a request with a
/// bad signature, so without a cap the audit log (durable, never pruned) would be a disk the
/// internet can fill; the `/metrics` counter keeps the full count.
pub(crate) const UNAUTHENTICATED_PER_MINUTE: u32 = 60;

/// Appends alertd's own events.
pub(crate) struct AuditTrail {
    sink: Arc<dyn AuditSink>,
    pseudonymizer: Pseudonymizer,
    clock: Arc<dyn Clock>,
    /// (start of the current minute, unauthenticated events audited in it).
    window: Mutex<(Timestamp, u32)>,
}

impl std::fmt::Debug for AuditTrail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditTrail").finish_non_exhaustive()
    }
}

impl AuditTrail {
    pub(crate) fn new(
        sink: Arc<dyn AuditSink>,
        pseudonymizer: Pseudonymizer,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            sink,
            pseudonymizer,
            clock,
            window: Mutex::new((Timestamp::from_secs(0), 0)),
        }
    }

    /// Whether one more unauthenticated event fits this minute's budget.
    fn admit_unauthenticated(&self, now: Timestamp) -> bool {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if now.as_millis().saturating_sub(window.0.as_millis()) >= 60_000 {
            *window = (now, 0);
        }
        if window.1 >= UNAUTHENTICATED_PER_MINUTE {
            return false;
        }
        window.1 += 1;
        true
    }

    /// Records that `provider`'s webhook refused a request as forged, for `reason` (a fixed
    /// code). `sender` is given only when an authenticated envelope named it (a postback that
    /// failed its own MAC inside a validly signed event); it is stored as its pseudonym.
    ///
    /// Returns whether the event was recorded: unauthenticated ones (no `sender`) beyond
    /// [`UNAUTHENTICATED_PER_MINUTE`] are not. A failing sink is logged, not returned: the
    /// request is refused either way, and the counter in `/metrics` still records it.
    pub(crate) async fn webhook_rejected(
        &self,
        provider: &str,
        reason: &str,
        sender: Option<&Msisdn>,
    ) -> bool {
        let now = self.clock.now();
        if sender.is_none() && !self.admit_unauthenticated(now) {
            return false;
        }
        let mut event = self
            .pseudonymizer
            .event(EventKind::WebhookRejected, now)
            .provider(provider)
            .reason(reason)
            .outcome("refused");
        if let Some(sender) = sender {
            event = event.recipient(sender);
        }
        let appended = match event.build() {
            Ok(pending) => self
                .sink
                .append(vec![pending])
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(error) = appended {
            tracing::error!(%error, provider, reason, "audit of a rejected webhook failed");
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use std::time::Duration;

    use rcsec::audit::{AuditKey, MemoryAuditSink};
    use rcsec::core::{ManualClock, Secret};

    use super::*;

    /// The events in the sink's log, as JSON.
    fn events(sink: &MemoryAuditSink) -> Vec<serde_json::Value> {
        String::from_utf8(sink.log_bytes().unwrap())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["type"] == "event")
            .collect()
    }

    fn trail() -> (AuditTrail, Arc<MemoryAuditSink>, ManualClock, Pseudonymizer) {
        let sink = Arc::new(MemoryAuditSink::new());
        let clock = ManualClock::new(Timestamp::from_secs(1_800_000_000));
        let p = Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([3; 32])));
        let trail = AuditTrail::new(sink.clone(), p.clone(), Arc::new(clock.clone()));
        (trail, sink, clock, p)
    }

    #[tokio::test]
    async fn a_refused_postback_is_audited_under_the_senders_pseudonym() {
        let (trail, sink, _, p) = trail();
        let sender = Msisdn::parse("+447700900102").unwrap();
        assert!(
            trail
                .webhook_rejected("rbm", "postback_bad_tag", Some(&sender))
                .await
        );
        let events = events(&sink);
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e["kind"], "webhook_rejected");
        assert_eq!(e["reason"], "postback_bad_tag");
        assert_eq!(e["provider"], "rbm");
        let pseudonym = p.pseudonymize(&sender);
        let hex: String = pseudonym
            .value()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(e["recipient"], hex.as_str());
        let line = String::from_utf8(sink.log_bytes().unwrap()).unwrap();
        assert!(!line.contains("7700900102"), "raw number in the audit log");
    }

    #[tokio::test]
    async fn unauthenticated_rejections_are_capped_per_minute() {
        let (trail, sink, clock, _) = trail();
        for _ in 0..UNAUTHENTICATED_PER_MINUTE {
            assert!(trail.webhook_rejected("rbm", "bad_signature", None).await);
        }
        assert!(!trail.webhook_rejected("rbm", "bad_signature", None).await);
        // Authenticated ones are never capped: they name a real recipient.
        let sender = Msisdn::parse("+447700900102").unwrap();
        assert!(
            trail
                .webhook_rejected("rbm", "postback_bad_tag", Some(&sender))
                .await
        );
        clock.advance(Duration::from_secs(61));
        assert!(trail.webhook_rejected("rbm", "bad_signature", None).await);
        assert_eq!(events(&sink).len(), UNAUTHENTICATED_PER_MINUTE as usize + 2);
    }
}
