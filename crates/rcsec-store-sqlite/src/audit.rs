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
//! Checkpoint signing is not supported by this sink yet ([`AuditSink::latest_checkpoint`]
//! is `None`); sign heads externally if needed.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use rcsec_audit::line::{LineError, LogLine, decode_line, encode_event};
use rcsec_audit::{
    AuditEvent, AuditSink, ChainState, Hash, Head, LogWriter, PendingEvent, SinkError, VerifyError,
    VerifyFailure,
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

/// The running chain state and the exact last line it ends on.
#[derive(Debug, Clone, Default)]
struct Tail {
    state: ChainState,
    last_line: Vec<u8>,
}

impl SqliteAuditSink {
    /// Opens the log in `store`, verifying every stored line (chain hashes, sequence, canonical
    /// form) and resuming the chain and Merkle tree where it ends.
    ///
    /// Blocking and O(log length): call it at startup or from `spawn_blocking`.
    ///
    /// # Errors
    /// [`SinkError::Corrupt`] when the stored log fails verification; [`SinkError::Backend`]
    /// with a [`SqliteError`] source when the database fails.
    pub fn open(store: SqliteStore) -> Result<Self, SinkError> {
        let mut tail = Tail::default();
        store
            .blocking(|conn| {
                let tx = conn.transaction()?;
                Ok(catch_up(&tx, &mut tail))
            })?
            .map_err(Caught::into_sink)?;
        Ok(Self {
            store,
            cache: Arc::new(Mutex::new(tail)),
        })
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

/// Keeps the newest state seen; appends and readers may finish in any order.
fn remember(cache: &Mutex<Tail>, tail: Tail) {
    let mut cached = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if tail.state.size() > cached.state.size() {
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
    let size = tail.state.size();
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
    let mut stmt =
        conn.prepare_cached("SELECT seq, line FROM audit_events WHERE seq >= ?1 ORDER BY seq")?;
    let mut rows = stmt.query([sql_seq(size)?])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let index = tail.state.size();
        if u64::try_from(seq).ok() != Some(index) {
            return Err(corrupt(
                index,
                VerifyFailure::SequenceMismatch { found: index },
            ));
        }
        let line: Vec<u8> = row.get(1)?;
        absorb_line(&mut tail.state, &line)?;
        tail.last_line = line;
    }
    Ok(())
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
        let mut writer = LogWriter::new(tail.state.clone(), None, None);
        let mut buf = Vec::with_capacity(512);
        let mut insert =
            tx.prepare_cached("INSERT INTO audit_events (seq, line) VALUES (?1, ?2)")?;
        for pending in batch {
            buf.clear();
            let event = writer.append(pending, &mut buf);
            let line = buf.strip_suffix(b"\n").ok_or(SqliteError::Internal)?;
            let chain = recorded_chain(line).ok_or(SqliteError::Internal)?;
            insert.execute(params![sql_seq(event.sequence())?, line])?;
            tail.state.push_chain(chain);
        }
        drop(insert);
        tx.commit()?;
        buf.pop();
        tail.last_line = buf;
    }
    let head = tail.state.head();
    remember(cache, tail);
    Ok(head)
}

fn head(conn: &mut Connection, cache: &Mutex<Tail>) -> Result<Head, Caught> {
    let mut tail = cached(cache);
    let tx = conn.transaction()?;
    catch_up(&tx, &mut tail)?;
    drop(tx);
    let head = tail.state.head();
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
        let mut out = Vec::new();
        {
            let mut stmt = tx.prepare("SELECT line FROM audit_events ORDER BY seq")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                out.extend_from_slice(&row.get::<_, Vec<u8>>(0)?);
                out.push(b'\n');
            }
        }
        Ok(out)
    })
}
