//! [`SqliteStore`]: one database file, its settings, and a small pool of connections used
//! from `spawn_blocking`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{Mutex as AsyncMutex, Semaphore};

use crate::SqliteError;
use crate::schema::migrate;

/// How hard a commit is pushed to disk (`PRAGMA synchronous`, in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// `FULL`: every commit fsyncs the WAL before it returns. An acknowledged write survives
    /// a process crash *and* power loss. The default: audit appends and outbox changes are
    /// promises to other people.
    #[default]
    Full,
    /// `NORMAL`: commits reach the OS at once but are fsynced only at checkpoints. Survives a
    /// process crash (SIGKILL), may lose the last commits on power loss. Faster.
    ///
    /// The trade-off in figures (`benches/benches/pipeline.rs`, one alert × 5 recipients,
    /// SQLite through [`crate::SqliteJournal`], on a 2-core machine at load average 13–16):
    /// ≈ 3,100 recipient-deliveries/s with `NORMAL`, ≈ 560/s with `FULL` (each pipeline step
    /// waits for one fsync). `rcsec-demo` and `alertd` open their database with the default,
    /// `FULL`: an acknowledged page and its audit line are promises to the people paged and
    /// to auditors, and a lost one after a power cut would be silent. Pick `NORMAL` when the
    /// host's power loss is covered elsewhere (replicated storage, UPS) and the rate matters.
    Normal,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
        }
    }
}

/// Settings for [`SqliteStore::open_with`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// Connections in the pool (at least 1; default 4). Readers run in parallel (WAL);
    /// writers take turns.
    pub pool_size: usize,
    /// How long a writer waits for another process's write lock (default 5 s) before
    /// [`SqliteError::Busy`].
    pub busy_timeout: Duration,
    /// Commit durability (default [`Durability::Full`]).
    pub durability: Durability,
    /// A quota: the most pages (4 KiB each by default) the file may grow to. Writes past it fail
    /// with [`SqliteError::Full`] and roll back. Default: none.
    pub max_page_count: Option<u32>,
    /// Open read-only (for verifiers and exports): every write fails with
    /// [`SqliteError::ReadOnly`], and the file must exist and be migrated already.
    pub read_only: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            pool_size: 4,
            busy_timeout: Duration::from_secs(5),
            durability: Durability::Full,
            max_page_count: None,
            read_only: false,
        }
    }
}

impl SqliteOptions {
    /// Sets [`SqliteOptions::pool_size`].
    #[must_use]
    pub fn pool_size(mut self, connections: usize) -> Self {
        self.pool_size = connections;
        self
    }

    /// Sets [`SqliteOptions::busy_timeout`].
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Sets [`SqliteOptions::durability`].
    #[must_use]
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets [`SqliteOptions::max_page_count`].
    #[must_use]
    pub fn max_page_count(mut self, pages: u32) -> Self {
        self.max_page_count = Some(pages);
        self
    }

    /// Sets [`SqliteOptions::read_only`].
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }
}

/// One SQLite database shared by every adapter of this crate.
///
/// All the adapters keep their tables in the same file (one file to back up, one WAL, and an
/// outbox change can never be durable while the audit line about it is not). Cheap to clone:
/// clones share the pool.
///
/// Every operation runs on tokio's blocking pool with a connection from a pool of
/// [`SqliteOptions::pool_size`]; an async caller waits for a free connection without blocking
/// its worker thread. Writers of one store queue on an async gate, so only one of them holds
/// SQLite's write lock at a time and none spins in the busy handler; writers in other
/// processes (or other stores on the same file) wait on the lock for up to the busy timeout.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Shared>,
}

struct Shared {
    path: PathBuf,
    options: SqliteOptions,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    write_gate: Arc<AsyncMutex<()>>,
    /// Keeps a temporary database's directory alive as long as a handle exists.
    _temp: Option<tempfile::TempDir>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("pool_size", &self.inner.options.pool_size)
            .field("durability", &self.inner.options.durability)
            .field("read_only", &self.inner.options.read_only)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with default options and brings its
    /// schema up to date.
    ///
    /// Blocking (it opens a connection and may migrate): call it at startup or from
    /// `spawn_blocking`.
    ///
    /// # Errors
    /// [`SqliteError::NotADatabase`] for a file that is not SQLite,
    /// [`SqliteError::ForeignDatabase`], [`SqliteError::NewerSchema`],
    /// [`SqliteError::ReadOnly`] / [`SqliteError::CannotOpen`] when it cannot be written, or
    /// another [`SqliteError`]. Nothing is written on error.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SqliteError> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// [`SqliteStore::open`] with explicit options.
    ///
    /// # Errors
    /// As [`SqliteStore::open`].
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, SqliteError> {
        Self::build(path.as_ref().to_path_buf(), options, None)
    }

    /// A database in a fresh temporary directory that is deleted when the last handle is
    /// dropped: for tests and demos. It is a real file with WAL and a full pool, so it behaves
    /// exactly like [`SqliteStore::open`].
    ///
    /// # Errors
    /// [`SqliteError::Io`] when the directory cannot be created, or as [`SqliteStore::open`].
    pub fn open_temporary() -> Result<Self, SqliteError> {
        let dir = tempfile::tempdir().map_err(SqliteError::Io)?;
        let path = dir.path().join("rcsec.db");
        Self::build(path, SqliteOptions::default(), Some(dir))
    }

    fn build(
        path: PathBuf,
        mut options: SqliteOptions,
        temp: Option<tempfile::TempDir>,
    ) -> Result<Self, SqliteError> {
        options.pool_size = options.pool_size.max(1);
        let existed = path.exists();
        let mut first = connect(&path, &options)?;
        if options.read_only {
            check_read_only(&first)?;
        } else {
            migrate(&mut first)?;
        }
        if !existed {
            restrict_permissions(&path);
        }
        Ok(Self {
            inner: Arc::new(Shared {
                idle: Mutex::new(vec![first]),
                permits: Arc::new(Semaphore::new(options.pool_size)),
                write_gate: Arc::new(AsyncMutex::new(())),
                path,
                options,
                _temp: temp,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` with a pooled connection on the blocking pool (reads, and single-statement
    /// writes that need no gate).
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, SqliteError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, SqliteError> + Send + 'static,
    {
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| SqliteError::Internal)?;
        let shared = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = shared.take()?;
            let out = f(&mut conn);
            // Not reached if `f` panicked: that connection is dropped (rolling back any open
            // transaction) and a fresh one is opened on demand.
            shared.give_back(conn);
            out
        })
        .await
        .map_err(|_| SqliteError::Internal)?
    }

    /// Like [`SqliteStore::read`] for a write transaction: queues on the store's write gate
    /// first, so writers of this store never contend inside SQLite.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, SqliteError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, SqliteError> + Send + 'static,
    {
        if self.inner.options.read_only {
            return Err(SqliteError::ReadOnly);
        }
        let gate = Arc::clone(&self.inner.write_gate).lock_owned().await;
        let out = self.read(f).await;
        drop(gate);
        out
    }

    /// Runs `f` with a connection on the current thread (blocking): for constructors that are
    /// themselves blocking.
    pub(crate) fn blocking<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, SqliteError>,
    ) -> Result<T, SqliteError> {
        let mut conn = self.inner.take()?;
        let out = f(&mut conn);
        self.inner.give_back(conn);
        out
    }
}

impl Shared {
    fn take(&self) -> Result<Connection, SqliteError> {
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match pooled {
            Some(conn) => Ok(conn),
            None => connect(&self.path, &self.options),
        }
    }

    fn give_back(&self, conn: Connection) {
        // A connection is returned only between transactions; one left inside a transaction
        // (which rusqlite's `Transaction` drop prevents) would be discarded rather than reused.
        if conn.is_autocommit() {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
        }
    }
}

/// Opens one connection and applies the per-connection settings.
fn connect(path: &Path, options: &SqliteOptions) -> Result<Connection, SqliteError> {
    let mode = if options.read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(SqliteError::Io)?;
        }
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
    };
    let conn = Connection::open_with_flags(path, mode | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(options.busy_timeout)?;
    if !options.read_only {
        // Also the first read of the file: a non-SQLite file fails here with NotADatabase.
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            let set: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !set.eq_ignore_ascii_case("wal") {
                return Err(SqliteError::ReadOnly);
            }
        }
        // A read-only file opened read-write silently degrades to read-only: say so now.
        if conn.is_readonly("main")? {
            return Err(SqliteError::ReadOnly);
        }
    }
    conn.pragma_update(None, "synchronous", options.durability.pragma())?;
    conn.pragma_update(None, "foreign_keys", true)?;
    if let Some(pages) = options.max_page_count {
        let _: i64 = conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
            r.get(0)
        })?;
    }
    Ok(conn)
}

/// A read-only store needs an existing, current rcsec database.
fn check_read_only(conn: &Connection) -> Result<(), SqliteError> {
    let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if app != crate::schema::APPLICATION_ID {
        return Err(SqliteError::ForeignDatabase { found: app });
    }
    if version > crate::schema::SCHEMA_VERSION {
        return Err(SqliteError::NewerSchema {
            found: version,
            supported: crate::schema::SCHEMA_VERSION,
        });
    }
    if version < crate::schema::SCHEMA_VERSION {
        // Reading an older schema would need a migration this handle may not write.
        return Err(SqliteError::ReadOnly);
    }
    Ok(())
}

/// A database this store created holds numbers and message content: owner-only access on Unix.
/// Best effort (the open already succeeded; SQLite gives the WAL files the same mode).
#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    fn pragma(conn: &Connection, name: &str) -> i64 {
        conn.pragma_query_value(None, name, |r| r.get(0)).unwrap()
    }

    #[test]
    fn every_connection_gets_the_configured_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        for (durability, level) in [(Durability::Full, 2), (Durability::Normal, 1)] {
            let options = SqliteOptions::default()
                .pool_size(2)
                .busy_timeout(Duration::from_millis(1234))
                .durability(durability)
                .max_page_count(5_000);
            let store = SqliteStore::open_with(&path, options).unwrap();
            // The pooled connection and a freshly opened one alike.
            let fresh = connect(&path, &store.inner.options).unwrap();
            for conn in [&store.inner.take().unwrap(), &fresh] {
                assert_eq!(pragma(conn, "synchronous"), level);
                assert_eq!(pragma(conn, "foreign_keys"), 1);
                assert_eq!(pragma(conn, "busy_timeout"), 1234);
                assert_eq!(pragma(conn, "max_page_count"), 5_000);
                let mode: String = conn
                    .pragma_query_value(None, "journal_mode", |r| r.get(0))
                    .unwrap();
                assert_eq!(mode, "wal");
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_new_database_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(SqliteStore::open(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_call_loses_its_connection_not_the_pool() {
        let store = SqliteStore::open_temporary().unwrap();
        let err = store
            .read(|_conn| -> Result<(), SqliteError> { panic!("boom") })
            .await
            .unwrap_err();
        assert!(matches!(err, SqliteError::Internal));
        for _ in 0..8 {
            let one: i64 = store
                .read(|conn| Ok(conn.query_row("SELECT 1", [], |r| r.get(0))?))
                .await
                .unwrap();
            assert_eq!(one, 1);
        }
    }
}
