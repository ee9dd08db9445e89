//! Why durable state could not be written or read.

use super::seal::SealError;
use super::store::StateStoreError;

/// A stored record that does not decode. Names the field, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Written in a record format this build cannot read (a newer build wrote it).
    #[error("alert state record format {0} is not supported")]
    UnsupportedVersion(u16),
    /// Not a record of this format.
    #[error("alert state record is malformed at line {line}, column {column}")]
    Malformed {
        /// Line of the first error.
        line: usize,
        /// Column of the first error.
        column: usize,
    },
    /// A field holds an invalid value.
    #[error("alert state record has an invalid {0}")]
    Invalid(&'static str),
    /// The snapshot could not be serialized (a bug).
    #[error("alert state record could not be encoded")]
    Encode,
}

/// Why writing or reading durable state failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The store failed.
    #[error("alert state store failed")]
    Store(#[from] StateStoreError),
    /// Sealing or opening failed (a wrong state key, a tampered record).
    #[error("alert state record could not be sealed or opened")]
    Seal(#[from] SealError),
    /// The opened record does not decode.
    #[error("alert state record is invalid")]
    Record(#[from] RecordError),
}
