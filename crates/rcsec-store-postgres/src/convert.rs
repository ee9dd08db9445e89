//! Conversions between Rust values and column values, with range checks both ways.

use rcsec_core::Timestamp;

use crate::error::PgError;

/// A timestamp as `bigint` milliseconds; instants past `i64::MAX` ms (292 million years)
/// clamp, which keeps every comparison the same.
pub(crate) fn ts(t: Timestamp) -> i64 {
    i64::try_from(t.as_millis()).unwrap_or(i64::MAX)
}

/// A stored `bigint` milliseconds back to a timestamp.
pub(crate) fn to_ts(ms: i64, what: &'static str) -> Result<Timestamp, PgError> {
    u64::try_from(ms)
        .map(Timestamp::from_millis)
        .map_err(|_| PgError::Corrupt { what })
}

/// A stored `bigint` count back to `u32`.
pub(crate) fn to_u32(v: i64, what: &'static str) -> Result<u32, PgError> {
    u32::try_from(v).map_err(|_| PgError::Corrupt { what })
}

/// Stored bytes back to a fixed-size array.
pub(crate) fn to_array<const N: usize>(v: &[u8], what: &'static str) -> Result<[u8; N], PgError> {
    <[u8; N]>::try_from(v).map_err(|_| PgError::Corrupt { what })
}

/// A count of affected rows as `usize`.
pub(crate) fn count(n: u64) -> Result<usize, PgError> {
    usize::try_from(n).map_err(|_| PgError::Internal("row count exceeds usize"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_and_clamp() {
        let t = Timestamp::from_millis(1_800_000_000_123);
        assert_eq!(to_ts(ts(t), "t").unwrap_or(Timestamp::EPOCH), t);
        assert_eq!(ts(Timestamp::from_millis(u64::MAX)), i64::MAX);
        assert!(to_ts(-1, "t").is_err());
        assert!(to_u32(i64::from(u32::MAX) + 1, "n").is_err());
        assert!(to_array::<4>(&[1, 2, 3], "a").is_err());
    }
}
