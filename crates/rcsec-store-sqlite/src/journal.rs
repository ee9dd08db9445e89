//! [`SqliteJournal`]: a pipeline step's audit events and outbox change in one transaction.
//!
//! The audit log and the outbox live in the same database file, so a step can write both
//! under one `BEGIN IMMEDIATE`: the decisions of a page and the messages they produce (stored
//! and claimed for their first attempt), or the outcomes of a round of sends and their audit
//! lines. One commit instead of two or three — one fsync with [`Durability::Full`] — and
//! atomic: a crash or an error leaves either the whole step or nothing, so a message is never
//! stored without the decision that produced it audited, and a settled send never lacks its
//! audit line.
//!
//! The journal shares the audit sink's cached chain head, so it and the sink (and any other
//! writer on the file) extend one chain: under the write lock the cached tail is checked
//! against the table and caught up, exactly as a plain append does, and the cache moves on
//! only after the commit.
//!
//! [`Durability::Full`]: crate::Durability::Full

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rcsec::journal::{JournalError, StepJournal};
use rcsec::message::OutboundMessage;
use rcsec::{Claim, Outbox, OutboxError, Settlement};
use rcsec_audit::{AuditSink, PendingEvent, SinkError};
use rcsec_core::Timestamp;
use rusqlite::{Connection, TransactionBehavior};

use crate::audit::AppendInTx;
use crate::outbox::{Change, ClaimedBatch};
use crate::{SqliteAuditSink, SqliteError, SqliteOutbox};

/// A [`StepJournal`] over the audit sink and outbox of one [`crate::SqliteStore`].
///
/// ```
/// # use std::sync::Arc;
/// use rcsec_store_sqlite::{SqliteAuditSink, SqliteJournal, SqliteStore};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// let store = SqliteStore::open(dir.path().join("rcsec.db"))?;
/// let journal = Arc::new(SqliteJournal::new(SqliteAuditSink::open(store)?));
/// // Orchestrator::builder().journal(journal, pseudonymizer) ...
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteJournal {
    audit: Arc<SqliteAuditSink>,
    outbox: Arc<SqliteOutbox>,
}

impl SqliteJournal {
    /// The journal over `audit` and the outbox in the same database.
    pub fn new(audit: SqliteAuditSink) -> Self {
        let outbox = SqliteOutbox::new(audit.store().clone());
        Self {
            audit: Arc::new(audit),
            outbox: Arc::new(outbox),
        }
    }
}

/// Where a combined transaction failed, kept apart so the error names the right part.
enum Failed {
    Audit(SinkError),
    Outbox(SqliteError),
}

impl From<Failed> for JournalError {
    fn from(f: Failed) -> Self {
        match f {
            Failed::Audit(e) => Self::Audit(e),
            Failed::Outbox(e) => Self::Outbox(e.into()),
        }
    }
}

fn outbox_err(e: impl Into<SqliteError>) -> Failed {
    Failed::Outbox(e.into())
}

/// Runs `work` in one `BEGIN IMMEDIATE` transaction with the audit tail caught up, commits,
/// and only then advances the sink's cached tail.
fn in_one_transaction<T>(
    conn: &mut Connection,
    sink: &SqliteAuditSink,
    work: impl FnOnce(&Connection, &mut AppendInTx<'_>) -> Result<T, Failed>,
) -> Result<T, Failed> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(outbox_err)?;
    let mut append = AppendInTx::begin(&tx, sink).map_err(Failed::Audit)?;
    let out = work(&tx, &mut append)?;
    tx.commit().map_err(outbox_err)?;
    append.committed();
    Ok(out)
}

#[async_trait]
impl StepJournal for SqliteJournal {
    fn outbox(&self) -> Arc<dyn Outbox> {
        let outbox: Arc<dyn Outbox> = Arc::<SqliteOutbox>::clone(&self.outbox);
        outbox
    }

    fn audit_sink(&self) -> Arc<dyn AuditSink> {
        let sink: Arc<dyn AuditSink> = Arc::<SqliteAuditSink>::clone(&self.audit);
        sink
    }

    async fn record_and_enqueue(
        &self,
        events: Vec<PendingEvent>,
        messages: &[OutboundMessage],
        now: Timestamp,
        lease: Duration,
    ) -> Result<Vec<Option<Claim>>, JournalError> {
        if events.is_empty() && messages.is_empty() {
            return Ok(Vec::new());
        }
        let batch =
            ClaimedBatch::new(messages, now, lease).map_err(|e| JournalError::Outbox(e.into()))?;
        let sink = (*self.audit).clone();
        let result = self
            .audit
            .store()
            .write(move |conn| {
                Ok(in_one_transaction(conn, &sink, |tx, append| {
                    // The decisions first: nothing is stored that is not audited.
                    append.append(tx, events).map_err(Failed::Audit)?;
                    batch.apply(tx).map_err(outbox_err)
                }))
            })
            .await
            .map_err(|e| JournalError::Outbox(e.into()))?;
        Ok(result?)
    }

    async fn settle_and_record(
        &self,
        outcomes: Vec<(Settlement, Option<PendingEvent>)>,
        _now: Timestamp,
    ) -> Result<Vec<Result<(), OutboxError>>, JournalError> {
        if outcomes.is_empty() {
            return Ok(Vec::new());
        }
        let changes = outcomes
            .into_iter()
            .map(|(s, e)| Ok((Change::of(&s)?, e)))
            .collect::<Result<Vec<_>, SqliteError>>()
            .map_err(|e| JournalError::Outbox(e.into()))?;
        let sink = (*self.audit).clone();
        let result = self
            .audit
            .store()
            .write(move |conn| {
                Ok(in_one_transaction(conn, &sink, |tx, append| {
                    let mut results = Vec::with_capacity(changes.len());
                    let mut applied = Vec::new();
                    for (change, event) in changes {
                        let result = change.apply(tx).map_err(outbox_err)?;
                        if result.is_ok() {
                            applied.extend(event);
                        }
                        results.push(result);
                    }
                    append.append(tx, applied).map_err(Failed::Audit)?;
                    Ok(results)
                }))
            })
            .await
            .map_err(|e| JournalError::Outbox(e.into()))?;
        Ok(result?)
    }
}
