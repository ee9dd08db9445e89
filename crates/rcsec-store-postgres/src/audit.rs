//! [`PgAuditSink`]: one ordered, hash-chained audit log shared by every replica.
//!
//! # One chain under concurrency
//! An append is one transaction: lock the single `audit_head` row (`SELECT … FOR UPDATE`),
//! bring this process's cached log writer up to the stored size, number and chain the batch
//! from there, insert its rows (and a signed checkpoint when one is due) and move the head.
//! Appenders in any number of processes queue on the row lock, so sequence numbers stay
//! gap-free, each batch is contiguous, and every chain hash covers the one before it. A failed
//! transaction (including a dropped connection) writes nothing; the cache only advances after
//! a successful `COMMIT`.
//!
//! # Resumable state
//! Rows hold each event as its JSON line (exactly what `JsonlAuditSink` would write), so the
//! table's lines, concatenated, verify with `rcsec_audit::Verifier`. Every row the sink
//! catches up on is re-verified (its sequence is its position, its chain hash matches its
//! canonical event), so a tampered row is reported as [`SinkError::Corrupt`] instead of
//! being built upon.
//!
//! # Signed checkpoints
//! [`PgAuditSink::with_checkpoints`] signs checkpoints as its
//! [`CheckpointPolicy`](rcsec_audit::CheckpointPolicy) says (every N events or T seconds, at a
//! batch boundary), in the batch's transaction, into `audit_checkpoints` with the Merkle
//! frontier at their size. On first use such a sink does not re-verify the whole log: it
//! takes the latest checkpoint, checks its signature against its own key and that the stored
//! frontier has the signed root, and verifies only the rows after it. A sink without a signer
//! has nothing to trust a stored checkpoint with, so it verifies from the first row.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use rcsec_audit::line::{LogLine, decode_line, encode_event};
use rcsec_audit::{
    AuditEvent, AuditSink, ChainState, Checkpoint, CheckpointConfig, Head, LogWriter, PendingEvent,
    SinkError, VerifyError, VerifyFailure,
};

use crate::db::PgDatabase;
use crate::error::{OpContext as _, PgError};

/// The audit log in PostgreSQL (tables `audit_head`, `audit_events`, `audit_checkpoints`).
/// Clones share the cached log writer.
#[derive(Debug, Clone)]
pub struct PgAuditSink {
    db: PgDatabase,
    /// How to sign checkpoints, if at all.
    config: Option<CheckpointConfig>,
    /// The writer after the newest committed event this process has seen; `None` until first
    /// use loads it.
    cached: Arc<Mutex<Option<LogWriter>>>,
}

fn seq_param(seq: u64) -> Result<i64, PgError> {
    i64::try_from(seq).map_err(|_| PgError::Internal("audit sequence exceeds i64"))
}

fn corrupt(index: u64, failure: VerifyFailure) -> SinkError {
    SinkError::Corrupt(VerifyError { index, failure })
}

impl PgAuditSink {
    /// A sink on `db` that does not sign checkpoints. Connects (and verifies the stored log
    /// from its first row) on first use.
    pub fn new(db: PgDatabase) -> Self {
        Self {
            db,
            config: None,
            cached: Arc::new(Mutex::new(None)),
        }
    }

    /// A sink on `db` that signs checkpoints as `config` says, and on first use resumes from
    /// the latest stored checkpoint signed by `config`'s key (see the module docs).
    pub fn with_checkpoints(db: PgDatabase, config: CheckpointConfig) -> Self {
        Self {
            db,
            config: Some(config),
            cached: Arc::new(Mutex::new(None)),
        }
    }

    fn snapshot(&self) -> Option<LogWriter> {
        self.cached
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Keeps the newer of the cached writer and `writer` (both are prefixes of one log).
    fn remember(&self, writer: LogWriter) {
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if cached.as_ref().is_none_or(|c| writer.size() > c.size()) {
            *cached = Some(writer);
        }
    }

    /// The cached writer, or on first use one resumed from the latest checkpoint this sink
    /// can verify (or from the empty log).
    async fn writer(
        &self,
        client: &impl tokio_postgres::GenericClient,
    ) -> Result<LogWriter, SinkError> {
        if let Some(writer) = self.snapshot() {
            return Ok(writer);
        }
        let mut writer = LogWriter::new(ChainState::new(), self.config.clone(), None);
        if let Some(cfg) = &self.config
            && let Some((cp, frontier)) = latest_checkpoint(client).await?
        {
            let at = cp.size();
            let state = ChainState::resume(&cp, &cfg.signer.verifying_key(), &frontier)
                .map_err(|f| corrupt(at, f))?;
            writer.adopt(state, Some(cp));
        }
        Ok(writer)
    }

    /// Absorbs, verifying, every stored event from `writer.size()` on, and the newest
    /// checkpoint other writers stored meanwhile.
    async fn catch_up(
        client: &impl tokio_postgres::GenericClient,
        writer: &mut LogWriter,
    ) -> Result<(), SinkError> {
        const OP: &str = "audit catch-up";
        let rows = client
            .query(
                "SELECT seq, line FROM audit_events WHERE seq >= $1 ORDER BY seq",
                &[&seq_param(writer.size())?],
            )
            .await
            .op(OP)?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut state = writer.state().clone();
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
        let newest = if writer.last_checkpoint().is_some() || writer.signs_checkpoints() {
            latest_checkpoint(client).await?.map(|(cp, _)| cp)
        } else {
            None
        };
        writer.adopt(state, newest);
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
        let mut writer = self.writer(tx.client()).await?;
        Self::catch_up(tx.client(), &mut writer).await?;
        if seq_param(writer.size())? != stored_size
            || writer.head().chain.as_bytes().as_slice() != stored_chain.as_slice()
        {
            return Err(PgError::Corrupt { what: "audit head" }.into());
        }
        let (mut seqs, mut lines, mut chains) = (Vec::new(), Vec::new(), Vec::new());
        for pending in batch {
            let mut line = Vec::with_capacity(512);
            let event = writer.append(pending, &mut line);
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            seqs.push(seq_param(event.sequence())?);
            lines.push(line);
            chains.push(writer.head().chain.as_bytes().to_vec());
        }
        let stmt = tx
            .prepare_cached(
                "INSERT INTO audit_events (seq, line, chain) \
                 SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[])",
            )
            .await
            .op(OP)?;
        tx.execute(&stmt, &[&seqs, &lines, &chains]).await.op(OP)?;
        let mut cp_line = Vec::new();
        if let Some(cp) = writer.checkpoint_if_due(&mut cp_line) {
            cp_line.pop();
            tx.execute(
                "INSERT INTO audit_checkpoints (size, line, frontier) VALUES ($1, $2, $3)",
                &[
                    &seq_param(cp.size())?,
                    &cp_line,
                    &writer.state().frontier_bytes(),
                ],
            )
            .await
            .op(OP)?;
        }
        let head = writer.head();
        tx.execute(
            "UPDATE audit_head SET size = $1, chain = $2 WHERE id = 1",
            &[&seq_param(head.size)?, &head.chain.as_bytes().as_slice()],
        )
        .await
        .op(OP)?;
        tx.commit().await.op(OP)?;
        self.remember(writer);
        Ok(head)
    }
}

/// The newest stored checkpoint and the frontier stored with it.
async fn latest_checkpoint(
    client: &impl tokio_postgres::GenericClient,
) -> Result<Option<(Checkpoint, Vec<u8>)>, SinkError> {
    const OP: &str = "audit checkpoint";
    let Some(row) = client
        .query_opt(
            "SELECT size, line, frontier FROM audit_checkpoints ORDER BY size DESC LIMIT 1",
            &[],
        )
        .await
        .op(OP)?
    else {
        return Ok(None);
    };
    let size: i64 = row.try_get(0).op(OP)?;
    let line: Vec<u8> = row.try_get(1).op(OP)?;
    let frontier: Vec<u8> = row.try_get(2).op(OP)?;
    let cp = std::str::from_utf8(&line)
        .ok()
        .and_then(|text| Checkpoint::from_line(text).ok())
        .filter(|cp| u64::try_from(size).ok() == Some(cp.size()))
        .ok_or(PgError::Corrupt {
            what: "audit checkpoint",
        })?;
    Ok(Some((cp, frontier)))
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
        let mut writer = self.writer(&**client).await?;
        Self::catch_up(&**client, &mut writer).await?;
        let head = writer.head();
        self.remember(writer);
        Ok(head)
    }

    async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, SinkError> {
        let client = self.db.client("audit checkpoint").await?;
        Ok(latest_checkpoint(&**client).await?.map(|(cp, _)| cp))
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
