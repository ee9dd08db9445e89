//! Where audit lines go: the [`AuditSink`] trait and its in-memory and JSON-lines adapters.

mod jsonl;
mod memory;

#[cfg(feature = "test-utils")]
pub mod conformance;

use std::fmt;

use async_trait::async_trait;

pub use jsonl::{JsonlAuditSink, JsonlOptions};
pub use memory::MemoryAuditSink;

use crate::chain::Head;
use crate::checkpoint::Checkpoint;
use crate::event::{AuditEvent, PendingEvent};
use crate::verify::VerifyError;

/// Why a sink operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// `start..end` is not within `0..=size`.
    #[error("range {start}..{end} is outside the log of {size} events")]
    InvalidRange {
        /// Requested start.
        start: u64,
        /// Requested end (exclusive).
        end: u64,
        /// Events in the log.
        size: u64,
    },
    /// The stored log ends in an incomplete line (a torn write); event `index` is partial.
    #[error("stored log ends in an incomplete line at event {index}")]
    TruncatedTail {
        /// Index of the partial event.
        index: u64,
    },
    /// The stored log fails verification.
    #[error("stored log fails verification")]
    Corrupt(#[source] VerifyError),
    /// A previous write failed part-way; the sink refuses further writes until reopened.
    #[error("sink is unusable after a failed write; reopen it")]
    Poisoned,
    /// The storage backend failed.
    #[error("audit backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A bug: a lock was poisoned or a task died.
    #[error("internal error in audit sink")]
    Internal,
}

impl SinkError {
    pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(e))
    }
}

/// Durable, ordered storage for audit events.
///
/// A sink numbers events itself, so concurrent appenders still produce one gap-free chain;
/// a batch is appended contiguously and atomically with respect to other appends.
///
/// # Contract
/// - **One chain.** Every process appending to the same backend extends one hash chain and
///   Merkle tree: sequence numbers are gap-free, each batch lands contiguously, and the
///   returned [`Head`] is the head right after this batch.
/// - **Durable when acknowledged.** An `Ok` from `append` means the batch survives a crash of
///   the process right after (fsync, a committed transaction); the pipeline sends nothing
///   whose audit append failed. A failed append reports nothing of its batch as written.
/// - **Canonical bytes.** Stored events re-encode to the exact canonical line they were
///   hashed from ([`mod@crate::line`]), so [`Verifier`](crate::Verifier) checks what the sink
///   holds, not a copy.
/// - **Nothing new to leak.** Events arrive already pseudonymized
///   ([`Pseudonymizer`](crate::Pseudonymizer)); a sink adds no numbers or content of its own,
///   in rows, logs or errors.
///
/// The conformance suite (`audit_sink_tests!`, feature `test-utils`) checks ordering, ranges,
/// concurrent appends and reopening.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use std::sync::Arc;
/// use rcsec_audit::*;
/// use rcsec_core::{AlertId, Secret, Timestamp};
///
/// let sink: Arc<dyn AuditSink> = Arc::new(MemoryAuditSink::new());
/// let audit = Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([9; 32])));
/// let event = |kind, secs| -> Result<PendingEvent, Box<dyn std::error::Error>> {
///     Ok(audit.event(kind, Timestamp::from_secs(secs)).alert(AlertId::new("a1")?).build()?)
/// };
/// let head = sink
///     .append(vec![event(EventKind::MessageSent, 1_700_000_000)?,
///                  event(EventKind::Delivered, 1_700_000_005)?])
///     .await?;
/// assert_eq!(head.size, 2);
/// assert_eq!(sink.head().await?, head);
///
/// let events = sink.read_range(0, 2).await?;
/// assert_eq!((events[0].sequence(), events[1].kind()), (0, &EventKind::Delivered));
/// assert!(matches!(sink.read_range(1, 3).await, Err(SinkError::InvalidRange { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[async_trait]
pub trait AuditSink: Send + Sync + fmt::Debug + 'static {
    /// Appends `batch` in order and returns the new head.
    ///
    /// # Errors
    /// [`SinkError`] when storage fails; nothing of a failed batch is reported as written.
    async fn append(&self, batch: Vec<PendingEvent>) -> Result<Head, SinkError>;

    /// The current head.
    ///
    /// # Errors
    /// [`SinkError`] when storage fails.
    async fn head(&self) -> Result<Head, SinkError>;

    /// Events `start..end` in sequence order.
    ///
    /// # Errors
    /// [`SinkError::InvalidRange`] unless `start <= end <= size`.
    async fn read_range(&self, start: u64, end: u64) -> Result<Vec<AuditEvent>, SinkError>;

    /// The most recent signed checkpoint, if the sink signs them.
    ///
    /// # Errors
    /// [`SinkError`] when storage fails.
    async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, SinkError> {
        Ok(None)
    }
}

pub(crate) fn check_range(start: u64, end: u64, size: u64) -> Result<(), SinkError> {
    if start <= end && end <= size {
        Ok(())
    } else {
        Err(SinkError::InvalidRange { start, end, size })
    }
}

#[cfg(test)]
fn _obj_safe(_: &dyn AuditSink) {}
