//! The one error type of this crate, carried as the `source` of each trait's `Backend` variant.
//!
//! # Security
//! A driver error can quote row values (a unique violation's `DETAIL: Key (id)=(...)`), so
//! [`PgError`] never wraps one: it keeps only the operation name and the five-character
//! SQLSTATE. Neither a phone number nor message content can reach a log through it.

use std::fmt;

/// Why a PostgreSQL operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// No connection could be opened (refused, timed out, authentication failed, pool
    /// exhausted past its wait timeout).
    #[error("postgres unreachable during {op}")]
    Unreachable {
        /// The operation that needed a connection.
        op: &'static str,
    },
    /// The connection dropped mid-operation (server shutdown, `pg_terminate_backend`,
    /// network loss). A transaction in progress was rolled back by the server: nothing of it
    /// was written. A lost `COMMIT` leaves the outcome unknown to this call; every write in
    /// this crate is idempotent or re-checked, so retrying is safe.
    #[error("postgres connection lost during {op}")]
    ConnectionLost {
        /// The operation that was running.
        op: &'static str,
    },
    /// The server refused a statement.
    #[error("postgres refused {op} (sqlstate {sqlstate})")]
    Database {
        /// The operation that was running.
        op: &'static str,
        /// The SQLSTATE code (`23505`, `40001`, ...); never the message, which may quote values.
        sqlstate: SqlState,
    },
    /// A reply did not have the expected shape (a column of another type, a missing row, a
    /// value out of range for its Rust type): a schema mismatch, not a transient fault.
    #[error("unexpected reply from postgres during {op}")]
    Unexpected {
        /// The operation that was running.
        op: &'static str,
    },
    /// A stored row does not decode (a column out of range, an unknown state name).
    #[error("stored {what} is malformed")]
    Corrupt {
        /// Which kind of row.
        what: &'static str,
    },
    /// The configuration is unusable (bad URL, bad schema name).
    #[error("invalid postgres configuration: {0}")]
    Config(&'static str),
    /// A bug: an invariant of this crate did not hold.
    #[error("internal error in postgres store: {0}")]
    Internal(&'static str),
}

/// A five-character SQLSTATE, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SqlState([u8; 5]);

impl SqlState {
    fn parse(code: &str) -> Self {
        let mut out = *b"?????";
        for (slot, b) in out.iter_mut().zip(code.bytes()) {
            if b.is_ascii_alphanumeric() {
                *slot = b;
            }
        }
        Self(out)
    }

    /// The code as text (`"23505"`).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("?????")
    }
}

impl fmt::Display for SqlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SqlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SqlState({})", self.as_str())
    }
}

/// SQLSTATE classes and codes that mean "the session is gone", not "the statement was bad".
fn is_connection_state(code: &str) -> bool {
    // 08xxx connection exception; 57P01 admin_shutdown (pg_terminate_backend);
    // 57P02 crash_shutdown; 57P03 cannot_connect_now.
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

impl PgError {
    /// Classifies a driver error, keeping only what is safe to log.
    pub(crate) fn from_driver(op: &'static str, e: &tokio_postgres::Error) -> Self {
        if let Some(code) = e.code() {
            let code = code.code();
            if is_connection_state(code) {
                crate::db::note_connection_loss();
                return Self::ConnectionLost { op };
            }
            return Self::Database {
                op,
                sqlstate: SqlState::parse(code),
            };
        }
        let io = std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>());
        if e.is_closed() || io {
            crate::db::note_connection_loss();
            return Self::ConnectionLost { op };
        }
        // No SQLSTATE, socket fine: a conversion or row-count error on our side of the wire.
        Self::Unexpected { op }
    }

    /// Classifies a pool checkout failure.
    pub(crate) fn from_pool(op: &'static str, e: &deadpool_postgres::PoolError) -> Self {
        use deadpool_postgres::PoolError;
        match e {
            PoolError::Backend(inner)
                if inner.code().is_some_and(|c| !is_connection_state(c.code())) =>
            {
                Self::Database {
                    op,
                    sqlstate: SqlState::parse(inner.code().map_or("", |c| c.code())),
                }
            }
            PoolError::Backend(_) | PoolError::Timeout(_) | PoolError::Closed => {
                Self::Unreachable { op }
            }
            PoolError::NoRuntimeSpecified => Self::Internal("pool has no runtime"),
            PoolError::PostCreateHook(_) => Self::Unreachable { op },
        }
    }

    /// Whether the failure was a unique violation (SQLSTATE 23505).
    pub(crate) fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database { sqlstate, .. } if sqlstate.as_str() == "23505")
    }

    /// As the boxed source every trait's `Backend` variant takes.
    pub(crate) fn boxed(self) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(self)
    }
}

impl From<PgError> for rcsec_link::StoreError {
    fn from(e: PgError) -> Self {
        Self::Backend(e.boxed())
    }
}

impl From<PgError> for rcsec_audit::SinkError {
    fn from(e: PgError) -> Self {
        Self::Backend(e.boxed())
    }
}

impl From<PgError> for rcsec_capability::StoreError {
    fn from(e: PgError) -> Self {
        Self::Backend(e.boxed())
    }
}

impl From<PgError> for rcsec::state::StateStoreError {
    fn from(e: PgError) -> Self {
        Self::Backend(e.boxed())
    }
}

impl From<PgError> for rcsec::outbox::OutboxError {
    fn from(e: PgError) -> Self {
        Self::Backend(e.boxed())
    }
}

/// Extension to turn driver results into [`PgError`] with an operation name.
pub(crate) trait OpContext<T> {
    /// Maps the error, naming the operation.
    fn op(self, op: &'static str) -> Result<T, PgError>;
}

impl<T> OpContext<T> for Result<T, tokio_postgres::Error> {
    fn op(self, op: &'static str) -> Result<T, PgError> {
        self.map_err(|e| PgError::from_driver(op, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstate_keeps_only_five_safe_characters() {
        assert_eq!(SqlState::parse("23505").as_str(), "23505");
        assert_eq!(SqlState::parse("4\n0").as_str(), "4?0??");
        assert_eq!(SqlState::parse("").as_str(), "?????");
    }

    #[test]
    fn messages_name_the_operation_and_code_only() {
        let e = PgError::Database {
            op: "link insert",
            sqlstate: SqlState::parse("23505"),
        };
        assert_eq!(
            e.to_string(),
            "postgres refused link insert (sqlstate 23505)"
        );
        assert!(e.is_unique_violation());
        assert!(is_connection_state("57P01"));
        assert!(is_connection_state("08006"));
        assert!(!is_connection_state("23505"));
    }
}
