//! Column conversions shared by the adapters: timestamps and counters as SQLite integers.

use rcsec_core::Timestamp;

use crate::SqliteError;

/// A timestamp as its Unix milliseconds in an `INTEGER` column.
pub(crate) fn ts(t: Timestamp) -> Result<i64, SqliteError> {
    i64::try_from(t.as_millis()).map_err(|_| SqliteError::OutOfRange("timestamp"))
}

/// The inverse of [`ts`]; a negative value is a corrupt row.
pub(crate) fn from_ts(
    v: i64,
    table: &'static str,
    what: &'static str,
) -> Result<Timestamp, SqliteError> {
    u64::try_from(v)
        .map(Timestamp::from_millis)
        .map_err(|_| SqliteError::CorruptRow { table, what })
}

/// An unsigned counter read back from an `INTEGER` column.
pub(crate) fn count<T: TryFrom<i64>>(
    v: i64,
    table: &'static str,
    what: &'static str,
) -> Result<T, SqliteError> {
    T::try_from(v).map_err(|_| SqliteError::CorruptRow { table, what })
}

/// A fixed-size byte column.
pub(crate) fn bytes<const N: usize>(
    v: &[u8],
    table: &'static str,
    what: &'static str,
) -> Result<[u8; N], SqliteError> {
    <[u8; N]>::try_from(v).map_err(|_| SqliteError::CorruptRow { table, what })
}
