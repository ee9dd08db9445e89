//! Audit helpers: every step goes through here, and a failing sink fails the step.

use rcsec_audit::{EventBuilder, EventKind, PendingEvent};
use rcsec_core::Timestamp;

use super::{Orchestrator, OrchestratorError};

impl Orchestrator {
    /// Starts an event at `now`.
    pub(crate) fn event(&self, kind: EventKind, now: Timestamp) -> EventBuilder<'_> {
        self.pseudonymizer.event(kind, now)
    }

    /// Builds and appends one event.
    pub(crate) async fn record(&self, event: EventBuilder<'_>) -> Result<(), OrchestratorError> {
        let pending = event.build()?;
        self.audit_sink.append(vec![pending]).await?;
        Ok(())
    }

    /// Appends the events of one step as one batch (one durable write), if there are any.
    pub(crate) async fn record_all(
        &self,
        events: Vec<PendingEvent>,
    ) -> Result<(), OrchestratorError> {
        if !events.is_empty() {
            self.audit_sink.append(events).await?;
        }
        Ok(())
    }
}
