//! A JSON-lines file sink: one line per event or checkpoint, fsync per batch, size-based
//! rotation with the chain carried across files, and verified resume on reopen.
//!
//! Files are `audit-000001.jsonl`, `audit-000002.jsonl`, ... in one directory; their
//! concatenation is one log ([`Verifier::verify_bytes`] accepts it as is).

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::{AuditSink, SinkError, check_range};
use crate::chain::Head;
use crate::checkpoint::Checkpoint;
use crate::event::{AuditEvent, PendingEvent};
use crate::line::{LogLine, decode_line};
use crate::verify::{Verifier, VerifyFailure};
use crate::writer::{CheckpointConfig, LogWriter};

const PREFIX: &str = "audit-";
const SUFFIX: &str = ".jsonl";

/// Options for [`JsonlAuditSink::open`].
#[derive(Debug, Clone)]
pub struct JsonlOptions {
    /// Start a new file once the current one reaches this many bytes (checked after each
    /// batch, so a batch never spans files).
    pub max_file_bytes: u64,
    /// Checkpoint signing; when set, reopening also requires existing checkpoints to be
    /// signed by this signer's key.
    pub checkpoints: Option<CheckpointConfig>,
}

impl Default for JsonlOptions {
    /// 64 MiB files, no checkpoints.
    fn default() -> Self {
        Self {
            max_file_bytes: 64 << 20,
            checkpoints: None,
        }
    }
}

/// The JSON-lines sink. Clones share the same open log.
///
/// Appends run on tokio's blocking pool under one lock (which orders them into one chain);
/// `head` and `latest_checkpoint` read a separate snapshot, so they never wait for an fsync.
#[derive(Debug, Clone)]
pub struct JsonlAuditSink {
    inner: Arc<Mutex<Inner>>,
    snapshot: Arc<Mutex<Snapshot>>,
}

/// What readers of the head see: updated after each durable append.
#[derive(Debug, Clone)]
struct Snapshot {
    head: Head,
    checkpoint: Option<Checkpoint>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    writer: LogWriter,
    file: File,
    file_len: u64,
    /// Every file of the log with the sequence of its first event, in order.
    files: Vec<(PathBuf, u64)>,
    max_file_bytes: u64,
    buf: Vec<u8>,
    poisoned: bool,
}

fn file_name(n: usize) -> String {
    format!("{PREFIX}{n:06}{SUFFIX}")
}

/// The log's files in order (names sort by number because the number is zero-padded).
fn list_files(dir: &Path) -> Result<Vec<PathBuf>, SinkError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(SinkError::backend)? {
        let path = entry.map_err(SinkError::backend)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with(PREFIX) && name.ends_with(SUFFIX) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

impl JsonlAuditSink {
    /// Opens (creating if needed) the log in `dir`, verifying everything already there and
    /// resuming its chain.
    ///
    /// Blocking: call it from `spawn_blocking` in async code if the log is large.
    ///
    /// # Errors
    /// [`SinkError::TruncatedTail`] when the last line is incomplete (a torn write),
    /// [`SinkError::Corrupt`] when the stored log fails verification, and
    /// [`SinkError::Backend`] for I/O failures.
    pub fn open(dir: impl AsRef<Path>, options: JsonlOptions) -> Result<Self, SinkError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(SinkError::backend)?;
        let mut verifier = Verifier::new();
        if let Some(cfg) = &options.checkpoints {
            verifier = verifier
                .pin_key(cfg.signer.verifying_key())
                .log_id(cfg.signer.log_id().clone());
        }
        let paths = list_files(&dir)?;
        let mut files = Vec::with_capacity(paths.len());
        for path in &paths {
            files.push((path.clone(), verifier.size()));
            let bytes = std::fs::read(path).map_err(SinkError::backend)?;
            let mut rest = bytes.as_slice();
            while !rest.is_empty() {
                let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                    return Err(SinkError::TruncatedTail {
                        index: verifier.size(),
                    });
                };
                verifier
                    .push_line(&rest[..end])
                    .map_err(SinkError::Corrupt)?;
                rest = &rest[end + 1..];
            }
        }
        let verified = verifier.finish().map_err(SinkError::Corrupt)?;
        let current = match files.last() {
            Some((path, _)) => path.clone(),
            None => {
                let path = dir.join(file_name(1));
                files.push((path.clone(), 0));
                path
            }
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&current)
            .map_err(SinkError::backend)?;
        let file_len = file.metadata().map_err(SinkError::backend)?.len();
        sync_dir(&dir)?;
        let writer = LogWriter::new(
            verified.state,
            options.checkpoints,
            verified.last_checkpoint,
        );
        let snapshot = Snapshot {
            head: writer.head(),
            checkpoint: writer.last_checkpoint().cloned(),
        };
        Ok(Self {
            snapshot: Arc::new(Mutex::new(snapshot)),
            inner: Arc::new(Mutex::new(Inner {
                dir,
                writer,
                file,
                file_len,
                files,
                max_file_bytes: options.max_file_bytes.max(1),
                buf: Vec::with_capacity(64 << 10),
                poisoned: false,
            })),
        })
    }

    fn lock(inner: &Mutex<Inner>) -> Result<MutexGuard<'_, Inner>, SinkError> {
        inner.lock().map_err(|_| SinkError::Internal)
    }

    /// The files of the log, oldest first.
    ///
    /// # Errors
    /// [`SinkError::Internal`] if a writer panicked while holding the log.
    pub fn files(&self) -> Result<Vec<PathBuf>, SinkError> {
        Ok(Self::lock(&self.inner)?
            .files
            .iter()
            .map(|(p, _)| p.clone())
            .collect())
    }

    /// Appends a batch synchronously: writes it, then fsyncs, then maybe rotates.
    ///
    /// # Errors
    /// As [`AuditSink::append`]; after an I/O failure the sink is [`SinkError::Poisoned`].
    pub fn append_blocking(&self, batch: Vec<PendingEvent>) -> Result<Head, SinkError> {
        Self::append_locked(&self.inner, &self.snapshot, batch)
    }

    fn append_locked(
        inner: &Mutex<Inner>,
        snapshot: &Mutex<Snapshot>,
        batch: Vec<PendingEvent>,
    ) -> Result<Head, SinkError> {
        let mut guard = Self::lock(inner)?;
        let head = guard.append(batch)?;
        let checkpoint = guard.writer.last_checkpoint().cloned();
        // Published while the append lock is still held, so snapshots never go backwards.
        *snapshot.lock().map_err(|_| SinkError::Internal)? = Snapshot { head, checkpoint };
        Ok(head)
    }

    fn snapshot(&self) -> Result<Snapshot, SinkError> {
        self.snapshot
            .lock()
            .map(|s| s.clone())
            .map_err(|_| SinkError::Internal)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Inner) -> Result<T, SinkError> + Send + 'static,
    ) -> Result<T, SinkError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&mut *Self::lock(&inner)?))
            .await
            .map_err(|_| SinkError::Internal)?
    }
}

impl Inner {
    fn append(&mut self, batch: Vec<PendingEvent>) -> Result<Head, SinkError> {
        if self.poisoned {
            return Err(SinkError::Poisoned);
        }
        self.buf.clear();
        for pending in batch {
            self.writer.append(pending, &mut self.buf);
        }
        self.writer.checkpoint_if_due(&mut self.buf);
        // From here the in-memory chain is ahead of the file until the write and fsync land;
        // if either fails the sink is poisoned and a reopen resynchronises from disk.
        self.poisoned = true;
        self.file.write_all(&self.buf).map_err(SinkError::backend)?;
        self.file.sync_data().map_err(SinkError::backend)?;
        self.poisoned = false;
        self.file_len += self.buf.len() as u64;
        if self.file_len >= self.max_file_bytes {
            self.rotate()?;
        }
        Ok(self.writer.head())
    }

    fn rotate(&mut self) -> Result<(), SinkError> {
        let path = self.dir.join(file_name(self.files.len() + 1));
        self.poisoned = true;
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(SinkError::backend)?;
        sync_dir(&self.dir)?;
        self.poisoned = false;
        self.file = file;
        self.file_len = 0;
        self.files.push((path, self.writer.size()));
        Ok(())
    }

    fn read_range(&self, start: u64, end: u64) -> Result<Vec<AuditEvent>, SinkError> {
        check_range(start, end, self.writer.size())?;
        let mut out = Vec::new();
        for (i, (path, first)) in self.files.iter().enumerate() {
            let next = self.files.get(i + 1).map_or(u64::MAX, |(_, s)| *s);
            if next <= start || *first >= end {
                continue;
            }
            let bytes = std::fs::read(path).map_err(SinkError::backend)?;
            for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                match decode_line(line) {
                    Ok(LogLine::Event { event, .. }) => {
                        if (start..end).contains(&event.sequence) {
                            out.push(event);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        return Err(SinkError::Corrupt(crate::verify::VerifyError {
                            index: *first,
                            failure: VerifyFailure::Malformed(e),
                        }));
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), SinkError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(SinkError::backend)
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), SinkError> {
    Ok(())
}

#[async_trait]
impl AuditSink for JsonlAuditSink {
    async fn append(&self, batch: Vec<PendingEvent>) -> Result<Head, SinkError> {
        let (inner, snapshot) = (Arc::clone(&self.inner), Arc::clone(&self.snapshot));
        tokio::task::spawn_blocking(move || Self::append_locked(&inner, &snapshot, batch))
            .await
            .map_err(|_| SinkError::Internal)?
    }

    async fn head(&self) -> Result<Head, SinkError> {
        Ok(self.snapshot()?.head)
    }

    async fn read_range(&self, start: u64, end: u64) -> Result<Vec<AuditEvent>, SinkError> {
        self.blocking(move |inner| inner.read_range(start, end))
            .await
    }

    async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, SinkError> {
        Ok(self.snapshot()?.checkpoint)
    }
}
