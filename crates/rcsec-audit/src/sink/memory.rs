//! An in-memory sink: for tests, demos and as the reference behaviour.

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::{AuditSink, SinkError, check_range};
use crate::chain::{ChainState, Head};
use crate::checkpoint::Checkpoint;
use crate::event::{AuditEvent, PendingEvent};
use crate::writer::{CheckpointConfig, LogWriter};

/// Keeps events and the exact log bytes (as a JSON-lines file would hold them) in memory.
///
/// Clones share the same log, like two handles on one file.
#[derive(Debug, Clone)]
pub struct MemoryAuditSink {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    writer: LogWriter,
    events: Vec<AuditEvent>,
    bytes: Vec<u8>,
}

impl Default for MemoryAuditSink {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryAuditSink {
    /// An empty log without checkpoints.
    pub fn new() -> Self {
        Self::build(None)
    }

    /// An empty log that signs checkpoints as `config` says.
    pub fn with_checkpoints(config: CheckpointConfig) -> Self {
        Self::build(Some(config))
    }

    fn build(config: Option<CheckpointConfig>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                writer: LogWriter::new(ChainState::new(), config, None),
                events: Vec::new(),
                bytes: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, SinkError> {
        self.inner.lock().map_err(|_| SinkError::Internal)
    }

    /// The log as JSON lines, byte for byte what [`JsonlAuditSink`](super::JsonlAuditSink)
    /// would have written.
    ///
    /// # Errors
    /// [`SinkError::Internal`] if a writer panicked while holding the log.
    pub fn log_bytes(&self) -> Result<Vec<u8>, SinkError> {
        Ok(self.lock()?.bytes.clone())
    }

    /// Appends synchronously (the async trait method does the same without awaiting).
    ///
    /// # Errors
    /// [`SinkError::Internal`] if a writer panicked while holding the log.
    pub fn append_now(&self, batch: Vec<PendingEvent>) -> Result<Head, SinkError> {
        let mut guard = self.lock()?;
        let inner = &mut *guard;
        inner.events.reserve(batch.len());
        for pending in batch {
            let event = inner.writer.append(pending, &mut inner.bytes);
            inner.events.push(event);
        }
        inner.writer.checkpoint_if_due(&mut inner.bytes);
        Ok(inner.writer.head())
    }
}

#[async_trait]
impl AuditSink for MemoryAuditSink {
    async fn append(&self, batch: Vec<PendingEvent>) -> Result<Head, SinkError> {
        self.append_now(batch)
    }

    async fn head(&self) -> Result<Head, SinkError> {
        Ok(self.lock()?.writer.head())
    }

    async fn read_range(&self, start: u64, end: u64) -> Result<Vec<AuditEvent>, SinkError> {
        let inner = self.lock()?;
        check_range(start, end, inner.writer.size())?;
        let (s, e) = (to_index(start)?, to_index(end)?);
        Ok(inner.events.get(s..e).ok_or(SinkError::Internal)?.to_vec())
    }

    async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, SinkError> {
        Ok(self.lock()?.writer.last_checkpoint().cloned())
    }
}

fn to_index(i: u64) -> Result<usize, SinkError> {
    usize::try_from(i).map_err(|_| SinkError::Internal)
}
