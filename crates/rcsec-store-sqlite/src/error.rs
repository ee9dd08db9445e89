//! The crate's error: what went wrong with the database, typed so callers can react.

use rusqlite::ErrorCode;

/// Why a SQLite operation failed.
///
/// Each trait adapter returns its trait's error with this as the boxed `Backend` source, so a
/// caller can `downcast_ref::<SqliteError>()` to tell a full disk from a foreign file. Messages
/// never carry row contents: no phone numbers, no message text, no link secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqliteError {
    /// The file exists but is not a SQLite database (bad header or encrypted).
    #[error("file is not a SQLite database")]
    NotADatabase,
    /// The database belongs to another application (its `application_id` is not rcsec's).
    #[error("SQLite database belongs to another application (application_id {found:#010x})")]
    ForeignDatabase {
        /// The `application_id` found.
        found: i32,
    },
    /// The database was written by a newer version of this crate; it is left untouched.
    #[error("database schema version {found} is newer than the supported {supported}")]
    NewerSchema {
        /// The schema version in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The database, its directory or the store handle is read-only.
    #[error("database is read-only")]
    ReadOnly,
    /// The disk, or the configured page quota, is full; the transaction was rolled back.
    #[error("database or disk is full")]
    Full,
    /// Another connection held the write lock for longer than the busy timeout.
    #[error("database is busy")]
    Busy,
    /// The file could not be opened (missing directory, permissions).
    #[error("cannot open database file")]
    CannotOpen(#[source] rusqlite::Error),
    /// A stored row failed to decode; `what` names the column, never its value.
    #[error("corrupt row in {table}: invalid {what}")]
    CorruptRow {
        /// The table.
        table: &'static str,
        /// The column or field that failed.
        what: &'static str,
    },
    /// A stored outbox message failed to decode. The message stays where it is (nothing is
    /// claimed); mark it failed with `Outbox::mark_failed` to take it out of the queue.
    #[error("stored outbox message {id} is corrupt")]
    CorruptMessage {
        /// The message id (an idempotency key, not content).
        id: String,
        /// Why it failed to decode.
        #[source]
        source: rcsec::message::MessageDecodeError,
    },
    /// A value does not fit the database's integer range (e.g. a timestamp past year 292 M).
    #[error("value out of range for {0}")]
    OutOfRange(&'static str),
    /// Any other SQLite failure.
    #[error("SQLite failed")]
    Sqlite(#[source] rusqlite::Error),
    /// Creating the database directory failed.
    #[error("database directory i/o failed")]
    Io(#[source] std::io::Error),
    /// A bug or a dead worker: a blocking task panicked or the pool was closed.
    #[error("internal error in sqlite store")]
    Internal,
}

impl From<rusqlite::Error> for SqliteError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => Self::NotADatabase,
            Some(ErrorCode::ReadOnly) => Self::ReadOnly,
            Some(ErrorCode::DiskFull) => Self::Full,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Busy,
            Some(ErrorCode::CannotOpen) => Self::CannotOpen(e),
            _ => Self::Sqlite(e),
        }
    }
}

impl SqliteError {
    /// Whether a unique or primary-key constraint failed (a duplicate insert).
    pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
        matches!(
            e,
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        )
    }
}

impl From<SqliteError> for rcsec_link::StoreError {
    fn from(e: SqliteError) -> Self {
        Self::Backend(Box::new(e))
    }
}

impl From<SqliteError> for rcsec_audit::SinkError {
    fn from(e: SqliteError) -> Self {
        match e {
            SqliteError::Internal => Self::Internal,
            other => Self::Backend(Box::new(other)),
        }
    }
}

impl From<SqliteError> for rcsec_capability::StoreError {
    fn from(e: SqliteError) -> Self {
        Self::Backend(Box::new(e))
    }
}

impl From<SqliteError> for rcsec::state::StateStoreError {
    fn from(e: SqliteError) -> Self {
        Self::Backend(Box::new(e))
    }
}

impl From<SqliteError> for rcsec::OutboxError {
    fn from(e: SqliteError) -> Self {
        Self::Backend(Box::new(e))
    }
}
