//! Quiet hours: P2 and P3 alerts that arrive inside the window are held until it ends.
//!
//! The window is in minutes of the *recipient's* day: `22:00–07:00` means night where they
//! are, so each responder may carry a [`UtcOffset`] (UTC when they do not). It may wrap
//! midnight. P0 and P1 always page at once.
//!
//! Offsets are fixed: a zone with daylight saving time is one hour off for half the year
//! unless whoever builds the [`Responder`](crate::Responder) list sets the offset in force
//! (IANA zone rules are not bundled).

use std::fmt;
use std::str::FromStr;

use rcsec_core::{Severity, Timestamp};

const DAY_MS: u64 = 24 * 3600 * 1000;
const MINUTE_MS: u64 = 60 * 1000;

/// A fixed offset from UTC, in whole minutes east of Greenwich (`+05:30` is 330), within
/// ±14:00 as real zones are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct UtcOffset(i16);

/// An offset outside ±14:00, or text that is not `±HH:MM` / `Z` / `UTC`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid UTC offset (expected ±HH:MM within ±14:00, Z or UTC)")]
#[non_exhaustive]
pub struct UtcOffsetError;

impl UtcOffset {
    /// UTC itself.
    pub const UTC: Self = Self(0);
    const LIMIT: i16 = 14 * 60;

    /// `minutes` east of UTC.
    ///
    /// # Errors
    /// [`UtcOffsetError`] outside ±14:00.
    pub fn from_minutes(minutes: i16) -> Result<Self, UtcOffsetError> {
        if (-Self::LIMIT..=Self::LIMIT).contains(&minutes) {
            Ok(Self(minutes))
        } else {
            Err(UtcOffsetError)
        }
    }

    /// Minutes east of UTC.
    pub fn minutes(self) -> i16 {
        self.0
    }

    /// Milliseconds to add to a UTC instant for local wall-clock time.
    fn millis(self) -> i64 {
        i64::from(self.0) * 60_000
    }
}

impl FromStr for UtcOffset {
    type Err = UtcOffsetError;

    /// `+05:30`, `-08:00`, `+0530`, `Z` or `UTC`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
            return Ok(Self::UTC);
        }
        let (sign, rest) = match s.as_bytes().first() {
            Some(b'+') => (1, &s[1..]),
            Some(b'-') => (-1, &s[1..]),
            _ => return Err(UtcOffsetError),
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        let colons = rest.len() - digits.len();
        if digits.len() != 4 || colons > 1 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UtcOffsetError);
        }
        if colons == 1 && rest.as_bytes().get(2) != Some(&b':') {
            return Err(UtcOffsetError);
        }
        let hours: i16 = digits[..2].parse().map_err(|_| UtcOffsetError)?;
        let minutes: i16 = digits[2..].parse().map_err(|_| UtcOffsetError)?;
        if minutes >= 60 {
            return Err(UtcOffsetError);
        }
        Self::from_minutes(sign * (hours * 60 + minutes))
    }
}

impl fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let m = self.0.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

/// A daily window of local time, `[start, end)` in minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Start, minutes after the recipient's local midnight (0..1440).
    pub start_minute: u16,
    /// End, minutes after local midnight (0..1440); before `start` means the window wraps.
    pub end_minute: u16,
}

impl QuietHours {
    /// `start`–`end` as `(hour, minute)` pairs.
    pub fn new(start: (u8, u8), end: (u8, u8)) -> Self {
        let m = |(h, mi): (u8, u8)| (u16::from(h % 24) * 60 + u16::from(mi % 60)) % 1440;
        Self {
            start_minute: m(start),
            end_minute: m(end),
        }
    }

    /// When an alert of `severity` arriving at `now` may be sent to a recipient in UTC:
    /// `None` for at once, or the end of the current window.
    pub fn held_until(&self, severity: Severity, now: Timestamp) -> Option<Timestamp> {
        self.held_until_at(severity, now, UtcOffset::UTC)
    }

    /// As [`QuietHours::held_until`] for a recipient whose local time is UTC + `offset`.
    pub fn held_until_at(
        &self,
        severity: Severity,
        now: Timestamp,
        offset: UtcOffset,
    ) -> Option<Timestamp> {
        if severity <= Severity::P1 || self.start_minute == self.end_minute {
            return None;
        }
        // Work in local wall-clock milliseconds, then shift the answer back to UTC. Instants
        // before the epoch in local time cannot occur for real alerts; clamp rather than wrap.
        let utc = i64::try_from(now.as_millis()).ok()?;
        let local = utc.saturating_add(offset.millis());
        let ms = u64::try_from(local).ok()?;
        let day_start = ms - ms % DAY_MS;
        let minute = (ms % DAY_MS) / MINUTE_MS;
        let (start, end) = (u64::from(self.start_minute), u64::from(self.end_minute));
        let inside = if start < end {
            (start..end).contains(&minute)
        } else {
            minute >= start || minute < end
        };
        if !inside {
            return None;
        }
        let end_today = day_start + end * MINUTE_MS;
        let until = if end_today > ms {
            end_today
        } else {
            end_today + DAY_MS
        };
        let until = i64::try_from(until).ok()?.saturating_sub(offset.millis());
        Some(Timestamp::from_millis(u64::try_from(until).ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 20_000; // an arbitrary day number
    fn at(h: u64, m: u64) -> Timestamp {
        Timestamp::from_millis(DAY * DAY_MS + h * 3_600_000 + m * MINUTE_MS)
    }

    #[test]
    fn wrapping_window_holds_low_severities_until_it_ends() {
        let q = QuietHours::new((22, 0), (7, 0));
        assert_eq!(q.held_until(Severity::P2, at(23, 30)), Some(at(31, 0)));
        assert_eq!(q.held_until(Severity::P3, at(3, 0)), Some(at(7, 0)));
        assert_eq!(q.held_until(Severity::P2, at(7, 0)), None);
        assert_eq!(q.held_until(Severity::P2, at(12, 0)), None);
        assert_eq!(q.held_until(Severity::P1, at(23, 30)), None);
        assert_eq!(q.held_until(Severity::P0, at(3, 0)), None);
    }

    #[test]
    fn the_window_is_in_the_recipients_local_time() -> Result<(), UtcOffsetError> {
        let q = QuietHours::new((22, 0), (7, 0));
        let tokyo: UtcOffset = "+09:00".parse()?;
        let new_york: UtcOffset = "-05:00".parse()?;
        // 14:00 UTC is 23:00 in Tokyo: held until 07:00 Tokyo = 22:00 UTC.
        assert_eq!(
            q.held_until_at(Severity::P2, at(14, 0), tokyo),
            Some(at(22, 0))
        );
        assert_eq!(q.held_until(Severity::P2, at(14, 0)), None);
        // 03:00 UTC is 22:00 the day before in New York: held until 07:00 there = 12:00 UTC.
        assert_eq!(
            q.held_until_at(Severity::P3, at(3, 0), new_york),
            Some(at(12, 0))
        );
        assert_eq!(q.held_until_at(Severity::P3, at(12, 0), new_york), None);
        // Half-hour zones, and P0/P1 are never held anywhere.
        let india: UtcOffset = "+0530".parse()?;
        assert_eq!(
            q.held_until_at(Severity::P2, at(17, 0), india),
            Some(at(25, 30))
        );
        assert_eq!(q.held_until_at(Severity::P1, at(14, 0), tokyo), None);
        Ok(())
    }

    #[test]
    fn offsets_parse_strictly_and_print_back() {
        for (text, minutes) in [("+05:30", 330), ("-08:00", -480), ("Z", 0), ("utc", 0)] {
            assert_eq!(
                text.parse::<UtcOffset>().map(UtcOffset::minutes),
                Ok(minutes)
            );
        }
        assert_eq!(
            UtcOffset::from_minutes(-570).map(|o| o.to_string()),
            Ok("-09:30".into())
        );
        for bad in [
            "", "05:30", "+5:30", "+14:01", "+12:60", "+12:3a", "+1:230", "+15:00",
        ] {
            assert_eq!(bad.parse::<UtcOffset>(), Err(UtcOffsetError), "{bad}");
        }
        assert_eq!(UtcOffset::from_minutes(841), Err(UtcOffsetError));
    }

    #[test]
    fn daytime_window() {
        let q = QuietHours::new((12, 0), (13, 0));
        assert_eq!(q.held_until(Severity::P3, at(12, 59)), Some(at(13, 0)));
        assert_eq!(q.held_until(Severity::P3, at(11, 59)), None);
    }
}
