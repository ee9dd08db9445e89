//! A JSON-lines file sink: one line per event or checkpoint, group-committed `fdatasync`,
//! size-based rotation with the chain carried across files, and verified resume on reopen.
//!
//! Files are `audit-000001.jsonl`, `audit-000002.jsonl`, ... in one directory; their
//! concatenation is one log ([`Verifier::verify_bytes`] accepts it as is).

mod commit;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

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
    /// group commit, so a batch never spans files).
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
/// # Durability and group commit
/// An append returns only after its lines are written and `fdatasync`ed. Appends that arrive
/// while a sync is in flight are numbered, chained and encoded at once (under a short lock
/// that orders them into one chain), then written and synced together by one of them, the
/// leader of the next group: N concurrent batches cost one `fdatasync`, not N, and none
/// returns before its own bytes are on disk. Groups are written strictly in order, so the
/// file is always a prefix of the chain.
///
/// If a write or sync fails, every batch of that group and of later groups fails (nothing of
/// theirs is reported as written) and the sink is [`SinkError::Poisoned`]: the in-memory
/// chain is ahead of the file, and reopening resynchronises from what is on disk.
///
/// `head` and `latest_checkpoint` read the last durable state, so they never wait for a sync.
#[derive(Debug, Clone)]
pub struct JsonlAuditSink {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    inner: Mutex<Inner>,
    /// Signalled when a group commit finishes (or fails).
    committed: Condvar,
}

/// What readers of the head see: updated after each durable group commit.
#[derive(Debug, Clone)]
struct Snapshot {
    head: Head,
    checkpoint: Option<Checkpoint>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    writer: LogWriter,
    /// The file being appended to; shared so the group leader can write it unlocked.
    file: Arc<File>,
    file_len: u64,
    /// Every file of the log with the sequence of its first event, in order.
    files: Vec<(PathBuf, u64)>,
    max_file_bytes: u64,
    /// Lines encoded but not yet handed to a leader: the open group.
    pending: Vec<u8>,
    /// The number the open group will commit as.
    open_group: u64,
    /// Every group up to and including this one is durable (also: groups committed so far).
    durable_group: u64,
    /// A leader is writing and syncing a group.
    syncing: bool,
    /// The head and checkpoint as of the end of the open group.
    open_snapshot: Snapshot,
    /// The last durable state.
    durable: Snapshot,
    poisoned: bool,
    /// A spare buffer, swapped with `pending` by each leader so neither reallocates.
    spare: Vec<u8>,
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
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    dir,
                    writer,
                    file: Arc::new(file),
                    file_len,
                    files,
                    max_file_bytes: options.max_file_bytes.max(1),
                    pending: Vec::with_capacity(64 << 10),
                    open_group: 1,
                    durable_group: 0,
                    syncing: false,
                    open_snapshot: snapshot.clone(),
                    durable: snapshot,
                    poisoned: false,
                    spare: Vec::with_capacity(64 << 10),
                }),
                committed: Condvar::new(),
            }),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, SinkError> {
        self.shared.inner.lock().map_err(|_| SinkError::Internal)
    }

    /// The files of the log, oldest first.
    ///
    /// # Errors
    /// [`SinkError::Internal`] if a writer panicked while holding the log.
    pub fn files(&self) -> Result<Vec<PathBuf>, SinkError> {
        Ok(self.lock()?.files.iter().map(|(p, _)| p.clone()).collect())
    }

    /// How many group commits (each one write and one `fdatasync`) this handle's log has
    /// made since it was opened: with the number of appends, the batching group commit got.
    ///
    /// # Errors
    /// [`SinkError::Internal`] if a writer panicked while holding the log.
    pub fn group_commits(&self) -> Result<u64, SinkError> {
        Ok(self.lock()?.durable_group)
    }

    /// Appends a batch synchronously and returns once it is durable (see the type docs on
    /// group commit): blocks for about one `fdatasync`.
    ///
    /// # Errors
    /// As [`AuditSink::append`]; after an I/O failure the sink is [`SinkError::Poisoned`].
    pub fn append_blocking(&self, batch: Vec<PendingEvent>) -> Result<Head, SinkError> {
        self.shared.append(batch)
    }

    fn snapshot(&self) -> Result<Snapshot, SinkError> {
        Ok(self.lock()?.durable.clone())
    }
}

impl Inner {
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
        self.file = Arc::new(file);
        self.file_len = 0;
        // The durable size: the open group (already in the writer) goes to the new file.
        self.files.push((path, self.durable.head.size));
        Ok(())
    }

    fn read_range(&self, start: u64, end: u64) -> Result<Vec<AuditEvent>, SinkError> {
        // Only durable events: the open group may still fail.
        check_range(start, end, self.durable.head.size)?;
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
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || shared.append(batch))
            .await
            .map_err(|_| SinkError::Internal)?
    }

    async fn head(&self) -> Result<Head, SinkError> {
        Ok(self.snapshot()?.head)
    }

    async fn read_range(&self, start: u64, end: u64) -> Result<Vec<AuditEvent>, SinkError> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || {
            shared
                .inner
                .lock()
                .map_err(|_| SinkError::Internal)?
                .read_range(start, end)
        })
        .await
        .map_err(|_| SinkError::Internal)?
    }

    async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, SinkError> {
        Ok(self.snapshot()?.checkpoint)
    }
}
