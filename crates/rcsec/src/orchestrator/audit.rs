//! Audit helpers: every step goes through here, and a failing sink fails the step.

use rcsec_audit::{EventBuilder, EventKind};
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
}
