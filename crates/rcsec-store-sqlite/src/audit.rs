//! [`SqliteAuditSink`]: the tamper-evident audit log as rows of an append-only table.
//!
//! Each event is stored as its exact log line (canonical JSON with the chain member), keyed by
//! its sequence number, so the rows in order are byte for byte what a JSON-lines sink would
//! have written and the audit crate's [`Verifier`] checks them unchanged
//! ([`read_all_lines`]). Triggers refuse `UPDATE` and `DELETE` on the table.
//!
//! # One chain across processes
//! An append runs in one `BEGIN IMMEDIATE` transaction: read the head, number and chain the
//! batch after it, insert, commit. The head is whatever the table holds when the write lock is
//! taken, so any number of processes on one file extend a single gap-free chain. Each sink
//! caches the running chain, Merkle frontier and last line, and under the lock first checks
//! that the last row it saw is unchanged, then absorbs rows other writers added since
//! (recomputing their chain hashes): a tail changed behind its back is refused as
//! [`SinkError::Corrupt`], never extended.
//!
//! # Signed checkpoints
//! [`SqliteAuditSink::with_checkpoints`] signs a checkpoint as the
//! [`CheckpointPolicy`](rcsec_audit::CheckpointPolicy) says (every N events or T seconds, at
//! a batch boundary), in the same transaction as the batch, into `audit_checkpoints` with the
//! Merkle frontier at its size. [`read_all_lines`] puts each checkpoint line right after the
//! event it covers, as a JSON-lines log holds it, so a verifier checks the signatures too.
//! Such a sink opens in time proportional to the events after the latest checkpoint: it
//! checks that checkpoint's signature against its own key and resumes from the stored
//! frontier (whose root must be the signed one), then verifies only the rows after it. A sink
//! without a signer cannot trust a stored checkpoint, so it verifies every row on open.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use rcsec_audit::line::{LineError, LogLine, decode_line, encode_event};
use rcsec_audit::{
    AuditEvent, AuditSink, ChainState, Checkpoint, CheckpointConfig, Hash, Head, LogWriter,
    PendingEvent, SinkError, VerifyError, VerifyFailure,
};
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};

use crate::{SqliteError, SqliteOptions, SqliteStore};

#[cfg(doc)]
use rcsec_audit::Verifier;

/// Length of the `,"chain":"<64 hex>"}` suffix of an event line.
const CHAIN_SUFFIX_LEN: usize = 76;

/// An [`AuditSink`] in the `audit_events` table of a [`SqliteStore`]. Clones share the cache.
#[derive(Debug, Clone)]
pub struct SqliteAuditSink {
    store: SqliteStore,
    /// The log as this handle last saw it (a cache; the table is the truth).
    cache: Arc<Mutex<Tail>>,
}

/// The running log writer (chain, frontier, checkpoint timer) and the exact last line it
/// ends on.
#[derive(Debug, Clone)]
struct Tail {
    writer: LogWriter,
    last_line: Vec<u8>,
}

impl SqliteAuditSink {
    /// Opens the log in `store` without checkpoint signing, verifying every stored line (chain
    /// hashes, sequence, canonical form) and resuming the chain and Merkle tree where it ends.
    ///
    /// Blocking and linear in the log's length: call it at startup or from `spawn_blocking`.
    ///
    /// # Errors
    /// [`SinkError::Corrupt`] when the stored log fails verification; [`SinkError::Backend`]
    /// with a [`SqliteError`] source when the database fails.
    pub fn open(store: SqliteStore) -> Result<Self, SinkError> {
        Self::open_with(store, None)
    }

    /// Opens the log in `store`, signing checkpoints as `config` says (see the module docs):
    /// resumes from the latest stored checkpoint, which must be signed by `config`'s key, and
    /// verifies only the rows after it.
    ///
    /// Blocking: call it at startup or from `spawn_blocking`.
    ///
    /// # Errors
    /// As [`SqliteAuditSink::open`]; also [`SinkError::Corrupt`] when the latest checkpoint
    /// is not signed by this key or its stored frontier does not match it.
    pub fn with_checkpoints(
        store: SqliteStore,
        config: CheckpointConfig,
    ) -> Result<Self, SinkError> {
        Self::open_with(store, Some(config))
    }

    fn open_with(store: SqliteStore, config: Option<CheckpointConfig>) -> Result<Self, SinkError> {
        let tail = store
            .blocking(|conn| {
                let tx = conn.transaction()?;
                Ok(load(&tx, config))
            })?
            .map_err(Caught::into_sink)?;
        Ok(Self {
            store,
            cache: Arc::new(Mutex::new(tail)),
        })
    }

    /// The database this log is in.
    pub(crate) fn store(&self) -> &SqliteStore {
        &self.store
    }

    /// Appends a batch from synchronous code (no runtime needed): what
    /// [`AuditSink::append`] does, on the calling thread.
    ///
    /// # Errors
    /// As [`AuditSink::append`].
    pub fn append_blocking(&self, batch: Vec<PendingEvent>) -> Result<Head, SinkError> {
        self.store
            .blocking(|conn| Ok(append(conn, &self.cache, batch)))?
            .map_err(Caught::into_sink)
    }
}

/// The tail at open: from the latest checkpoint when this sink can check its signature,
/// otherwise from the empty log; then every row after it, verified.
fn load(conn: &Connection, config: Option<CheckpointConfig>) -> Result<Tail, Caught> {
    let pinned = config.as_ref().map(|c| c.signer.verifying_key());
    let mut tail = Tail {
        writer: LogWriter::new(ChainState::new(), config, None),
        last_line: Vec::new(),
    };
    if let Some(key) = pinned
        && let Some((cp, frontier)) = latest_checkpoint(conn)?
    {
        let at = cp.size();
        let state = ChainState::resume(&cp, &key, &frontier).map_err(|f| corrupt(at, f))?;
        let last: Vec<u8> = conn
            .prepare_cached("SELECT line FROM audit_events WHERE seq = ?1")?
            .query_row([sql_seq(at - 1)?], |r| r.get(0))
            .optional()?
            .ok_or_else(|| corrupt(at - 1, VerifyFailure::Truncated { size: at }))?;
        if recorded_chain(&last) != Some(cp.chain()) {
            return Err(corrupt(at - 1, VerifyFailure::RootMismatch));
        }
        tail.writer.adopt(state, Some(cp));
        tail.last_line = last;
    }
    catch_up(conn, &mut tail)?;
    Ok(tail)
}

/// The newest stored checkpoint and the frontier stored with it.
fn latest_checkpoint(conn: &Connection) -> Result<Option<(Checkpoint, Vec<u8>)>, Caught> {
    let row: Option<(i64, Vec<u8>, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT size, line, frontier FROM audit_checkpoints ORDER BY size DESC LIMIT 1",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((size, line, frontier)) = row else {
        return Ok(None);
    };
    let size = u64::try_from(size).unwrap_or(0);
    let cp = std::str::from_utf8(&line)
        .ok()
        .and_then(|text| Checkpoint::from_line(text).ok())
        .filter(|cp| cp.size() == size && size > 0)
        .ok_or_else(|| {
            corrupt(
                size,
                VerifyFailure::Malformed(LineError::InvalidField {
                    field: "checkpoint",
                }),
            )
        })?;
    Ok(Some((cp, frontier)))
}

/// Keeps the newest state seen; appends and readers may finish in any order.
fn remember(cache: &Mutex<Tail>, tail: Tail) {
    let mut cached = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if tail.writer.size() > cached.writer.size() {
        *cached = tail;
    }
}

fn cached(cache: &Mutex<Tail>) -> Tail {
    cache.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// A failure inside a blocking closure: either the log or the database.
#[derive(Debug)]
enum Caught {
    Sink(SinkError),
    Db(SqliteError),
}

impl From<SqliteError> for Caught {
    fn from(e: SqliteError) -> Self {
        Self::Db(e)
    }
}

impl From<rusqlite::Error> for Caught {
    fn from(e: rusqlite::Error) -> Self {
        Self::Db(e.into())
    }
}

impl Caught {
    fn into_sink(self) -> SinkError {
        match self {
            Self::Sink(e) => e,
            Self::Db(e) => e.into(),
        }
    }
}

fn corrupt(index: u64, failure: VerifyFailure) -> Caught {
    Caught::Sink(SinkError::Corrupt(VerifyError { index, failure }))
}

/// Checks one stored line as the next event of `state` and absorbs it.
fn absorb_line(state: &mut ChainState, line: &[u8]) -> Result<AuditEvent, Caught> {
    let index = state.size();
    let (event, recorded) = match decode_line(line) {
        Ok(LogLine::Event { event, chain }) => (event, chain),
        Ok(_) => {
            return Err(corrupt(
                index,
                VerifyFailure::Malformed(LineError::UnknownType),
            ));
        }
        Err(e) => return Err(corrupt(index, VerifyFailure::Malformed(e))),
    };
    if event.sequence() != index {
        let found = event.sequence();
        return Err(corrupt(index, VerifyFailure::SequenceMismatch { found }));
    }
    // Decoding accepts only canonical lines, so re-encoding yields the hashed bytes.
    let mut canonical = Vec::with_capacity(line.len());
    encode_event(&event, &mut canonical);
    let chain = state.next_chain(&[&canonical]);
    if chain != recorded {
        return Err(corrupt(index, VerifyFailure::ChainMismatch));
    }
    state.push_chain(chain);
    Ok(event)
}

/// Brings `tail` up to the table: checks that the row it ends on is byte for byte the line it
/// remembers, then absorbs (and checks) the rows past it.
///
/// Earlier rows are verified in full by [`SqliteAuditSink::open`] and by verifiers; an append
/// never extends a tail that changed.
fn catch_up(conn: &Connection, tail: &mut Tail) -> Result<(), Caught> {
    let size = tail.writer.size();
    let db_size: u64 = {
        let max: Option<i64> =
            conn.query_row("SELECT max(seq) FROM audit_events", [], |r| r.get(0))?;
        match max {
            None => 0,
            Some(m) => u64::try_from(m).ok().and_then(|m| m.checked_add(1)).ok_or(
                SqliteError::CorruptRow {
                    table: "audit_events",
                    what: "seq",
                },
            )?,
        }
    };
    if db_size < size {
        return Err(corrupt(db_size, VerifyFailure::Truncated { size }));
    }
    if size > 0 {
        let last: Option<Vec<u8>> = conn
            .prepare_cached("SELECT line FROM audit_events WHERE seq = ?1")?
            .query_row([sql_seq(size - 1)?], |r| r.get(0))
            .optional()?;
        if last.as_deref() != Some(tail.last_line.as_slice()) {
            return Err(corrupt(size - 1, VerifyFailure::ChainMismatch));
        }
    }
    if db_size == size {
        return Ok(());
    }
    let mut state = tail.writer.state().clone();
    let mut stmt =
        conn.prepare_cached("SELECT seq, line FROM audit_events WHERE seq >= ?1 ORDER BY seq")?;
    let mut rows = stmt.query([sql_seq(size)?])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let index = state.size();
        if u64::try_from(seq).ok() != Some(index) {
            return Err(corrupt(
                index,
                VerifyFailure::SequenceMismatch { found: index },
            ));
        }
        let line: Vec<u8> = row.get(1)?;
        absorb_line(&mut state, &line)?;
        tail.last_line = line;
    }
    // Other writers may have signed checkpoints meanwhile: keep the timer and count in step.
    let newest = if tail.writer.last_checkpoint().is_some() || has_checkpoints(conn)? {
        latest_checkpoint(conn)?.map(|(cp, _)| cp)
    } else {
        None
    };
    tail.writer.adopt(state, newest);
    Ok(())
}

fn has_checkpoints(conn: &Connection) -> Result<bool, Caught> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM audit_checkpoints LIMIT 1")?
        .exists([])?)
}

fn sql_seq(seq: u64) -> Result<i64, SqliteError> {
    i64::try_from(seq).map_err(|_| SqliteError::OutOfRange("sequence"))
}

/// The chain hash recorded in an event line's suffix (the line format's last member).
fn recorded_chain(line: &[u8]) -> Option<Hash> {
    let cut = line.len().checked_sub(CHAIN_SUFFIX_LEN)?;
    let hex = line[cut..]
        .strip_prefix(b",\"chain\":\"")?
        .strip_suffix(b"\"}")?;
    Hash::from_hex(std::str::from_utf8(hex).ok()?)
}

fn append(
    conn: &mut Connection,
    cache: &Mutex<Tail>,
    batch: Vec<PendingEvent>,
) -> Result<Head, Caught> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut tail = cached(cache);
    catch_up(&tx, &mut tail)?;
    if !batch.is_empty() {
        append_rows(&tx, &mut tail, batch)?;
        tx.commit()?;
    }
    let head = tail.writer.head();
    remember(cache, tail);
    Ok(head)
}

/// Numbers, chains and inserts `batch` after `tail` (which must be caught up) inside the
/// caller's write transaction, signing a checkpoint if one is due; `tail` then ends on the
/// batch. The caller commits, then [`remember`]s the tail: a rolled-back batch never reaches
/// the cache.
fn append_rows(conn: &Connection, tail: &mut Tail, batch: Vec<PendingEvent>) -> Result<(), Caught> {
    let mut buf = Vec::with_capacity(512);
    let mut insert = conn.prepare_cached("INSERT INTO audit_events (seq, line) VALUES (?1, ?2)")?;
    for pending in batch {
        buf.clear();
        let event = tail.writer.append(pending, &mut buf);
        let line = buf.strip_suffix(b"\n").ok_or(SqliteError::Internal)?;
        insert.execute(params![sql_seq(event.sequence())?, line])?;
    }
    drop(insert);
    buf.pop();
    tail.last_line = buf;
    let mut line = Vec::new();
    if let Some(cp) = tail.writer.checkpoint_if_due(&mut line) {
        line.pop();
        conn.prepare_cached(
            "INSERT INTO audit_checkpoints (size, line, frontier) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![
            sql_seq(cp.size())?,
            line,
            tail.writer.state().frontier_bytes()
        ])?;
    }
    Ok(())
}

/// An append that is one part of a larger transaction (see [`crate::SqliteJournal`]).
pub(crate) struct AppendInTx<'a> {
    cache: &'a Mutex<Tail>,
    tail: Tail,
}

impl<'a> AppendInTx<'a> {
    /// Catches the sink's cached tail up with the table inside `tx` (which holds the write
    /// lock), ready to append after it.
    pub(crate) fn begin(conn: &Connection, sink: &'a SqliteAuditSink) -> Result<Self, SinkError> {
        let mut tail = cached(&sink.cache);
        catch_up(conn, &mut tail).map_err(Caught::into_sink)?;
        Ok(Self {
            cache: &sink.cache,
            tail,
        })
    }

    /// Appends `batch` inside the transaction.
    pub(crate) fn append(
        &mut self,
        conn: &Connection,
        batch: Vec<PendingEvent>,
    ) -> Result<(), SinkError> {
        if batch.is_empty() {
            return Ok(());
        }
        append_rows(conn, &mut self.tail, batch).map_err(Caught::into_sink)
    }

    /// After the transaction committed: the sink's cache moves on to the new tail.
    pub(crate) fn committed(self) {
        remember(self.cache, self.tail);
    }
}

fn head(conn: &mut Connection, cache: &Mutex<Tail>) -> Result<Head, Caught> {
    let mut tail = cached(cache);
    let tx = conn.transaction()?;
    catch_up(&tx, &mut tail)?;
    drop(tx);
    let head = tail.writer.head();
    remember(cache, tail);
    Ok(head)
}

fn read_range(conn: &mut Connection, start: u64, end: u64) -> Result<Vec<AuditEvent>, Caught> {
    // One read transaction: the size check and the rows come from the same snapshot.
    let tx = conn.transaction()?;
    let size: u64 = {
        let n: i64 = tx.query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0))?;
        u64::try_from(n).map_err(|_| SqliteError::Internal)?
    };
    if !(start <= end && end <= size) {
        return Err(Caught::Sink(SinkError::InvalidRange { start, end, size }));
    }
    let mut stmt = tx.prepare_cached(
        "SELECT line FROM audit_events WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
    )?;
    let mut rows = stmt.query([sql_seq(start)?, sql_seq(end)?])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let index = start + out.len() as u64;
        match decode_line(&row.get::<_, Vec<u8>>(0)?) {
            Ok(LogLine::Event { event, .. }) if event.sequence() == index => out.push(event),
            Ok(LogLine::Event { event, .. }) => {
                let found = event.sequence();
                return Err(corrupt(index, VerifyFailure::SequenceMismatch { found }));
            }
            Ok(_) => {
                return Err(corrupt(
                    index,
                    VerifyFailure::Malformed(LineError::UnknownType),
                ));
            }
            Err(e) => return Err(corrupt(index, VerifyFailure::Malformed(e))),
        }
    }
    if out.len() as u64 != end - start {
        return Err(corrupt(
            start + out.len() as u64,
            VerifyFailure::Truncated { size: end },
        ));
    }
    Ok(out)
}

#[async_trait]
impl AuditSink for SqliteAuditSink {
    async fn append(&self, batch: Vec<PendingEvent>) -> Result<Head, SinkError> {
        let cache = Arc::clone(&self.cache);
        self.store
            .write(move |conn| Ok(append(conn, &cache, batch)))
            .await?
            .map_err(Caught::into_sink)
    }

    async fn head(&self) -> Result<Head, SinkError> {
        let cache = Arc::clone(&self.cache);
        self.store
            .read(move |conn| Ok(head(conn, &cache)))
            .await?
            .map_err(Caught::into_sink)
    }

    async fn read_range(&self, start: u64, end: u64) -> Result<Vec<AuditEvent>, SinkError> {
        self.store
            .read(move |conn| Ok(read_range(conn, start, end)))
            .await?
            .map_err(Caught::into_sink)
    }

    async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, SinkError> {
        let cache = Arc::clone(&self.cache);
        self.store
            .read(move |conn| Ok(head(conn, &cache)))
            .await?
            .map_err(Caught::into_sink)?;
        Ok(cached(&self.cache).writer.last_checkpoint().cloned())
    }
}

/// Whether `path` starts with the SQLite file header (`SQLite format 3\0`).
///
/// # Errors
/// The I/O error when the file cannot be read.
pub fn is_sqlite_file(path: impl AsRef<Path>) -> std::io::Result<bool> {
    use std::io::Read as _;
    let mut magic = [0u8; 16];
    let mut file = std::fs::File::open(path)?;
    let mut filled = 0;
    while filled < magic.len() {
        match file.read(&mut magic[filled..])? {
            0 => return Ok(false),
            n => filled += n,
        }
    }
    Ok(&magic == b"SQLite format 3\0")
}

/// The audit log stored in the database at `path`, as JSON lines (each ending in `\n`), in
/// sequence order: feed it to [`Verifier::verify_bytes`] or any JSON-lines tool.
///
/// Opens the file read-only and changes nothing. Does not verify: that is the caller's job.
///
/// # Errors
/// [`SqliteError::NotADatabase`], [`SqliteError::ForeignDatabase`],
/// [`SqliteError::NewerSchema`], or another [`SqliteError`].
pub fn read_all_lines(path: impl AsRef<Path>) -> Result<Vec<u8>, SqliteError> {
    let options = SqliteOptions {
        read_only: true,
        pool_size: 1,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(path, options)?;
    store.blocking(|conn| {
        let tx = conn.transaction()?;
        let mut checkpoints: Vec<(i64, Vec<u8>)> = Vec::new();
        {
            let mut stmt = tx.prepare("SELECT size, line FROM audit_checkpoints ORDER BY size")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                checkpoints.push((row.get(0)?, row.get(1)?));
            }
        }
        // A checkpoint line follows the event it covers (size - 1), or leads an empty log.
        let mut pending = checkpoints.into_iter().peekable();
        let mut out = Vec::new();
        let mut emit_upto = |out: &mut Vec<u8>, size: i64| {
            while let Some((_, line)) = pending.next_if(|(s, _)| *s <= size) {
                out.extend_from_slice(&line);
                out.push(b'\n');
            }
        };
        {
            let mut stmt = tx.prepare("SELECT seq, line FROM audit_events ORDER BY seq")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let seq: i64 = row.get(0)?;
                emit_upto(&mut out, seq);
                out.extend_from_slice(&row.get::<_, Vec<u8>>(1)?);
                out.push(b'\n');
            }
        }
        // Checkpoints past the last event are out of place; the verifier says so.
        emit_upto(&mut out, i64::MAX);
        Ok(out)
    })
}
