//! The error type of this crate, carried as the `source` of each trait's `Backend` variant.
//!
//! # Security
//! A Redis error can echo a script or argument, so [`RedisError`] never wraps one: it keeps
//! the operation name and a coarse kind only.

/// Why a Redis operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedisError {
    /// No connection could be opened (refused, timed out, authentication failed).
    #[error("redis unreachable during {op}")]
    Unreachable {
        /// The operation that needed a connection.
        op: &'static str,
    },
    /// The connection dropped or timed out mid-operation. Every script here runs atomically
    /// on the server, so it either ran whole or not at all; a lost reply leaves which one
    /// unknown to this call.
    #[error("redis connection lost during {op}")]
    ConnectionLost {
        /// The operation that was running.
        op: &'static str,
    },
    /// The server refused a command or script.
    #[error("redis refused {op}")]
    Refused {
        /// The operation that was running.
        op: &'static str,
    },
    /// A stored value does not decode.
    #[error("stored {what} is malformed")]
    Corrupt {
        /// Which kind of value.
        what: &'static str,
    },
    /// The configuration is unusable (bad URL, bad key prefix).
    #[error("invalid redis configuration: {0}")]
    Config(&'static str),
}

impl RedisError {
    /// Classifies a driver error, keeping only what is safe to log.
    pub(crate) fn from_driver(op: &'static str, e: &redis::RedisError) -> Self {
        if e.is_connection_refusal() {
            Self::Unreachable { op }
        } else if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() {
            Self::ConnectionLost { op }
        } else {
            Self::Refused { op }
        }
    }

    /// As the boxed source every trait's `Backend` variant takes.
    pub(crate) fn boxed(self) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(self)
    }
}

impl From<RedisError> for rcsec_link::StoreError {
    fn from(e: RedisError) -> Self {
        Self::Backend(e.boxed())
    }
}

/// Extension to turn driver results into [`RedisError`] with an operation name.
pub(crate) trait OpContext<T> {
    /// Maps the error, naming the operation.
    fn op(self, op: &'static str) -> Result<T, RedisError>;
}

impl<T> OpContext<T> for Result<T, redis::RedisError> {
    fn op(self, op: &'static str) -> Result<T, RedisError> {
        self.map_err(|e| RedisError::from_driver(op, &e))
    }
}
