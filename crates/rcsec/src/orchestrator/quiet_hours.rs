//! Quiet hours: P2 and P3 alerts that arrive inside the window are held until it ends.
//!
//! The window is in UTC minutes of the day (per-recipient time zones are not modelled yet);
//! it may wrap midnight (`22:00–07:00`). P0 and P1 always page at once.

use rcsec_core::{Severity, Timestamp};

const DAY_MS: u64 = 24 * 3600 * 1000;
const MINUTE_MS: u64 = 60 * 1000;

/// A daily window in UTC, `[start, end)` in minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Start, minutes after midnight UTC (0..1440).
    pub start_minute: u16,
    /// End, minutes after midnight UTC (0..1440); before `start` means the window wraps.
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

    /// When an alert of `severity` arriving at `now` may be sent: `None` for at once, or the
    /// end of the current window.
    pub fn held_until(&self, severity: Severity, now: Timestamp) -> Option<Timestamp> {
        if severity <= Severity::P1 || self.start_minute == self.end_minute {
            return None;
        }
        let ms = now.as_millis();
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
        Some(Timestamp::from_millis(until))
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
    fn daytime_window() {
        let q = QuietHours::new((12, 0), (13, 0));
        assert_eq!(q.held_until(Severity::P3, at(12, 59)), Some(at(13, 0)));
        assert_eq!(q.held_until(Severity::P3, at(11, 59)), None);
    }
}
