//! Writing one pipeline step as one unit: its audit events and its outbox changes.
//!
//! Every step of the pipeline writes twice: the audit events that describe it, and the outbox
//! change it makes (new messages stored, or the outcomes of sends settled). The audit events
//! must be durable before the step is reported done, and a decision must be audited before
//! its message is stored. With two independent stores that costs two durable writes per step,
//! in that order ([`SplitJournal`], the default). A backend that keeps both in one
//! transactional store can write both in one transaction ([`StepJournal`] is that optional
//! capability; `rcsec_store_sqlite::SqliteJournal` implements it): half the commits (fsyncs
//! with SQLite's `synchronous = FULL`), and no window in which a settled message lacks its
//! audit line, because either both are written or neither is.
//!
//! Give the orchestrator a journal with
//! [`OrchestratorBuilder::journal`](crate::OrchestratorBuilder::journal) instead of separate
//! `.outbox()` and `.audit()` stores.

#[cfg(any(test, feature = "test-utils"))]
#[doc(hidden)]
pub mod conformance;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rcsec_audit::{AuditSink, PendingEvent, SinkError};
use rcsec_core::Timestamp;

use crate::message::OutboundMessage;
use crate::outbox::{Claim, Outbox, OutboxError, Settlement};

/// Why a step could not be written. Nothing of it was written by an atomic journal; a
/// [`SplitJournal`] may have written the audit events of a step whose outbox change failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The audit part failed (or, in one transaction, the store failed while writing it).
    #[error("audit sink failed")]
    Audit(#[source] SinkError),
    /// The outbox part failed (or, in one transaction, the store failed while writing it).
    #[error("outbox failed")]
    Outbox(#[source] OutboxError),
}

/// The audit sink and outbox of a pipeline, written one step at a time.
///
/// # Contract
/// - [`StepJournal::record_and_enqueue`] has the effect of [`AuditSink::append`] of the events
///   followed by [`Outbox::enqueue_claimed`] of the messages, on the stores returned by
///   [`StepJournal::audit_sink`] and [`StepJournal::outbox`].
/// - [`StepJournal::settle_and_record`] has the effect of [`Outbox::settle`] followed by an
///   append of the events of the settlements that applied (`Ok`), in order.
/// - An implementation that claims atomicity writes each call in one transaction: after an
///   error or a crash, either all of it is durable or none of it.
///
/// `rcsec::journal_tests!(constructor)` (feature `test-utils`) checks the effects.
#[async_trait]
pub trait StepJournal: Send + Sync + fmt::Debug + 'static {
    /// The outbox this journal writes to (used directly for everything else).
    fn outbox(&self) -> Arc<dyn Outbox>;

    /// The audit sink this journal appends to (used directly for everything else).
    fn audit_sink(&self) -> Arc<dyn AuditSink>;

    /// Appends `events`, then stores `messages`, handing back the claim of each new message
    /// as [`Outbox::enqueue_claimed`] does.
    ///
    /// # Errors
    /// [`JournalError`] naming the part that failed.
    async fn record_and_enqueue(
        &self,
        events: Vec<PendingEvent>,
        messages: &[OutboundMessage],
        now: Timestamp,
        lease: Duration,
    ) -> Result<Vec<Option<Claim>>, JournalError>;

    /// Settles each outcome as [`Outbox::settle`] does and appends the event paired with each
    /// settlement that applied. A settlement that was refused (stale, terminal, unknown) has
    /// its event dropped: whoever owns the message records it.
    ///
    /// # Errors
    /// [`JournalError`] naming the part that failed.
    async fn settle_and_record(
        &self,
        outcomes: Vec<(Settlement, Option<PendingEvent>)>,
        now: Timestamp,
    ) -> Result<Vec<Result<(), OutboxError>>, JournalError>;
}

/// A [`StepJournal`] over two independent stores: each call is two writes, the audit events
/// first when they describe a decision (so nothing is stored unaudited), after the settlement
/// when they describe its outcome (so a refused settlement is not audited). Not atomic: a
/// failure between the two leaves the first written and is reported as an error.
#[derive(Debug, Clone)]
pub struct SplitJournal {
    outbox: Arc<dyn Outbox>,
    audit: Arc<dyn AuditSink>,
}

impl SplitJournal {
    /// The journal over `outbox` and `audit`.
    pub fn new(outbox: Arc<dyn Outbox>, audit: Arc<dyn AuditSink>) -> Self {
        Self { outbox, audit }
    }
}

#[async_trait]
impl StepJournal for SplitJournal {
    fn outbox(&self) -> Arc<dyn Outbox> {
        Arc::clone(&self.outbox)
    }

    fn audit_sink(&self) -> Arc<dyn AuditSink> {
        Arc::clone(&self.audit)
    }

    async fn record_and_enqueue(
        &self,
        events: Vec<PendingEvent>,
        messages: &[OutboundMessage],
        now: Timestamp,
        lease: Duration,
    ) -> Result<Vec<Option<Claim>>, JournalError> {
        if !events.is_empty() {
            self.audit
                .append(events)
                .await
                .map_err(JournalError::Audit)?;
        }
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        self.outbox
            .enqueue_claimed(messages, now, lease)
            .await
            .map_err(JournalError::Outbox)
    }

    async fn settle_and_record(
        &self,
        outcomes: Vec<(Settlement, Option<PendingEvent>)>,
        now: Timestamp,
    ) -> Result<Vec<Result<(), OutboxError>>, JournalError> {
        if outcomes.is_empty() {
            return Ok(Vec::new());
        }
        let (settlements, events): (Vec<_>, Vec<_>) = outcomes.into_iter().unzip();
        let results = self
            .outbox
            .settle(&settlements, now)
            .await
            .map_err(JournalError::Outbox)?;
        if results.len() != settlements.len() {
            return Err(JournalError::Outbox(OutboxError::Backend(
                "outbox settled a different count".into(),
            )));
        }
        let applied: Vec<PendingEvent> = results
            .iter()
            .zip(events)
            .filter(|(r, _)| r.is_ok())
            .filter_map(|(_, e)| e)
            .collect();
        if !applied.is_empty() {
            self.audit
                .append(applied)
                .await
                .map_err(JournalError::Audit)?;
        }
        Ok(results)
    }
}
