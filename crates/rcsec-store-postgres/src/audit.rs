//! [`PgAuditSink`]: one ordered, hash-chained audit log shared by every replica.
//!
//! # One chain under concurrency
//! An append is one transaction: lock the single `audit_head` row (`SELECT … FOR UPDATE`),
//! bring this process's cached chain state up to the stored size, number and chain the batch
//! from there, insert its rows and move the head. Appenders in any number of processes queue
//! on the row lock, so sequence numbers stay gap-free, each batch is contiguous, and every
//! chain hash covers the one before it. A failed transaction (including a dropped connection)
//! writes nothing; the cached state only advances after a successful `COMMIT`.
//!
//! # Resumable state
//! Rows hold each event as its JSON line (exactly what `JsonlAuditSink` would write), so the
//! table's lines, concatenated, verify with `rcsec_audit::Verifier`. The chain hash and the
//! compact Merkle tree are rebuilt from the rows: on first use from the start, afterwards
//! only the rows other processes appended since. Every caught-up row is re-verified (its
//! sequence is its position, its chain hash matches its canonical event), so a tampered row
//! is reported as [`SinkError::Corrupt`] instead of being built upon.
//!
//! Checkpoint signing is not configured on this sink ([`AuditSink::latest_checkpoint`]
//! returns `None`); signed checkpoints can be produced over [`AuditSink::head`].

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use rcsec_audit::line::{LogLine, decode_line, encode_event};
use rcsec_audit::{
    AuditEvent, AuditSink, ChainState, Hash, Head, LogWriter, PendingEvent, SinkError, VerifyError,
    VerifyFailure,
};

use crate::db::PgDatabase;
use crate::error::{OpContext as _, PgError};

/// The audit log in PostgreSQL (tables `audit_head`, `audit_events`). Clones share the cached
/// chain state.
#[derive(Debug, Clone)]
pub struct PgAuditSink {
    db: PgDatabase,
    /// The chain state after the newest committed event this process has seen.
    cached: Arc<Mutex<ChainState>>,
}

fn seq_param(seq: u64) -> Result<i64, PgError> {
    i64::try_from(seq).map_err(|_| PgError::Internal("audit sequence exceeds i64"))
}

fn corrupt(index: u64, failure: VerifyFailure) -> SinkError {
    SinkError::Corrupt(VerifyError { index, failure })
}

impl PgAuditSink {
    /// A sink on `db`. Connects (and catches up) on first use.
    pub fn new(db: PgDatabase) -> Self {
        Self {
            db,
            cached: Arc::new(Mutex::new(ChainState::new())),
        }
    }

    fn snapshot(&self) -> ChainState {
        self.cached
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Keeps the newer of the cached state and `state` (both are prefixes of one log).
    fn remember(&self, state: ChainState) {
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if state.size() > cached.size() {
            *cached = state;
        }
    }

    /// Absorbs, verifying, every stored event from `state.size()` on.
    async fn catch_up(
        client: &impl tokio_postgres::GenericClient,
        state: &mut ChainState,
    ) -> Result<(), SinkError> {
        const OP: &str = "audit catch-up";
        let rows = client
            .query(
                "SELECT seq, line FROM audit_events WHERE seq >= $1 ORDER BY seq",
                &[&seq_param(state.size())?],
            )
            .await
            .op(OP)?;
        let mut buf = Vec::new();
        for row in rows {
            let index = state.size();
            let seq: i64 = row.try_get(0).op(OP)?;
            let line: Vec<u8> = row.try_get(1).op(OP)?;
            let found = u64::try_from(seq).map_err(|_| PgError::Corrupt { what: "audit row" })?;
            let (event, chain) = match decode_line(&line) {
                Ok(LogLine::Event { event, chain }) => (event, chain),
                Ok(_) => {
                    return Err(PgError::Corrupt { what: "audit row" }.into());
                }
                Err(e) => return Err(corrupt(index, VerifyFailure::Malformed(e))),
            };
            if found != index || event.sequence() != index {
                return Err(corrupt(index, VerifyFailure::SequenceMismatch { found }));
            }
            buf.clear();
            encode_event(&event, &mut buf);
            if state.next_chain(&[&buf]) != chain {
                return Err(corrupt(index, VerifyFailure::ChainMismatch));
            }
            state.push_chain(chain);
        }
        Ok(())
    }

    async fn append_inner(&self, batch: Vec<PendingEvent>) -> Result<Head, SinkError> {
        const OP: &str = "audit append";
        let mut client = self.db.client(OP).await?;
        let tx = client.transaction().await.op(OP)?;
        let head = tx
            .query_one(
                "SELECT size, chain FROM audit_head WHERE id = 1 FOR UPDATE",
                &[],
            )
            .await
            .op(OP)?;
        let stored_size: i64 = head.try_get(0).op(OP)?;
        let stored_chain: Vec<u8> = head.try_get(1).op(OP)?;
        let mut state = self.snapshot();
        Self::catch_up(tx.client(), &mut state).await?;
        if seq_param(state.size())? != stored_size
            || state.chain().as_bytes().as_slice() != stored_chain.as_slice()
        {
            return Err(PgError::Corrupt { what: "audit head" }.into());
        }
        let mut writer = LogWriter::new(state.clone(), None, None);
        let (mut seqs, mut lines, mut chains) = (Vec::new(), Vec::new(), Vec::new());
        for pending in batch {
            let mut line = Vec::with_capacity(512);
            let event = writer.append(pending, &mut line);
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            let chain: Hash = writer.head().chain;
            state.push_chain(chain);
            seqs.push(seq_param(event.sequence())?);
            lines.push(line);
            chains.push(chain.as_bytes().to_vec());
        }
        let stmt = tx
            .prepare_cached(
                "INSERT INTO audit_events (seq, line, chain) \
                 SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[])",
            )
            .await
            .op(OP)?;
        tx.execute(&stmt, &[&seqs, &lines, &chains]).await.op(OP)?;
        tx.execute(
            "UPDATE audit_head SET size = $1, chain = $2 WHERE id = 1",
            &[
                &seq_param(state.size())?,
                &state.chain().as_bytes().as_slice(),
            ],
        )
        .await
        .op(OP)?;
        tx.commit().await.op(OP)?;
        let head = state.head();
        self.remember(state);
        Ok(head)
    }
}

#[async_trait]
impl AuditSink for PgAuditSink {
    async fn append(&self, batch: Vec<PendingEvent>) -> Result<Head, SinkError> {
        if batch.is_empty() {
            return self.head().await;
        }
        self.append_inner(batch).await
    }

    async fn head(&self) -> Result<Head, SinkError> {
        let client = self.db.client("audit head").await?;
        let mut state = self.snapshot();
        Self::catch_up(&**client, &mut state).await?;
        let head = state.head();
        self.remember(state);
        Ok(head)
    }

    async fn read_range(&self, start: u64, end: u64) -> Result<Vec<AuditEvent>, SinkError> {
        const OP: &str = "audit read";
        let client = self.db.client(OP).await?;
        let size: i64 = client
            .query_one("SELECT size FROM audit_head WHERE id = 1", &[])
            .await
            .op(OP)?
            .try_get(0)
            .op(OP)?;
        let size = u64::try_from(size).map_err(|_| PgError::Corrupt { what: "audit head" })?;
        if !(start <= end && end <= size) {
            return Err(SinkError::InvalidRange { start, end, size });
        }
        let rows = client
            .query(
                "SELECT line FROM audit_events WHERE seq >= $1 AND seq < $2 ORDER BY seq",
                &[&seq_param(start)?, &seq_param(end)?],
            )
            .await
            .op(OP)?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let line: Vec<u8> = row.try_get(0).op(OP)?;
            let index = start.saturating_add(i as u64);
            match decode_line(&line) {
                Ok(LogLine::Event { event, .. }) if event.sequence() == index => out.push(event),
                Ok(LogLine::Event { event, .. }) => {
                    return Err(corrupt(
                        index,
                        VerifyFailure::SequenceMismatch {
                            found: event.sequence(),
                        },
                    ));
                }
                Ok(_) => {
                    return Err(PgError::Corrupt { what: "audit row" }.into());
                }
                Err(e) => return Err(corrupt(index, VerifyFailure::Malformed(e))),
            }
        }
        if out.len() as u64 != end - start {
            return Err(PgError::Corrupt { what: "audit rows" }.into());
        }
        Ok(out)
    }
}
