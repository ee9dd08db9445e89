//! A strict RFC 3339 timestamp parser (the format Alertmanager and most webhooks use).
//!
//! Hand-written because it is tiny and a parser of untrusted input is easier to fuzz and to
//! bound than a general date library.

use rcsec_core::Timestamp;

/// Why a string is not an RFC 3339 timestamp we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rfc3339Error {
    /// Not `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    #[error("timestamp is not in RFC 3339 format")]
    Syntax,
    /// A field is out of range (month 13, February 30, hour 24, ...).
    #[error("timestamp has a field out of range")]
    OutOfRange,
}

/// Parses an RFC 3339 date-time into milliseconds since the epoch.
///
/// Returns `Ok(None)` for times before 1970 — in particular Go's zero time
/// `0001-01-01T00:00:00Z`, which Alertmanager sends as `endsAt` of every firing alert, meaning
/// "not set". Fractions beyond milliseconds are truncated; leap seconds (`:60`) are clamped to
/// `:59`.
///
/// # Errors
/// [`Rfc3339Error`] when the syntax or a field is invalid.
pub fn parse_rfc3339(s: &str) -> Result<Option<Timestamp>, Rfc3339Error> {
    let b = s.as_bytes();
    if b.len() < 20 || b.len() > 40 {
        return Err(Rfc3339Error::Syntax);
    }
    let year = digits(b, 0, 4)?;
    expect(b, 4, b'-')?;
    let month = digits(b, 5, 2)?;
    expect(b, 7, b'-')?;
    let day = digits(b, 8, 2)?;
    if !matches!(b[10], b'T' | b't' | b' ') {
        return Err(Rfc3339Error::Syntax);
    }
    let hour = digits(b, 11, 2)?;
    expect(b, 13, b':')?;
    let minute = digits(b, 14, 2)?;
    expect(b, 16, b':')?;
    let second = digits(b, 17, 2)?;

    let mut i = 19;
    let mut millis = 0u64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + u64::from(b[i] - b'0');
            }
            i += 1;
        }
        let len = i - start;
        if len == 0 || len > 9 {
            return Err(Rfc3339Error::Syntax);
        }
        for _ in len..3 {
            millis *= 10;
        }
    }
    let offset_secs: i64 = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() => {
            let oh = digits(b, i + 1, 2)?;
            expect(b, i + 3, b':')?;
            let om = digits(b, i + 4, 2)?;
            if oh > 23 || om > 59 {
                return Err(Rfc3339Error::OutOfRange);
            }
            let off = i64::from(oh * 3600 + om * 60);
            if sign == b'+' { off } else { -off }
        }
        _ => return Err(Rfc3339Error::Syntax),
    };

    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(Rfc3339Error::OutOfRange);
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(Rfc3339Error::OutOfRange);
    }
    let second = second.min(59);
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_secs;
    Ok(u64::try_from(secs)
        .ok()
        .map(|s| Timestamp::from_millis(s * 1000 + millis)))
}

fn expect(b: &[u8], i: usize, c: u8) -> Result<(), Rfc3339Error> {
    if b.get(i) == Some(&c) {
        Ok(())
    } else {
        Err(Rfc3339Error::Syntax)
    }
}

fn digits(b: &[u8], start: usize, len: usize) -> Result<u32, Rfc3339Error> {
    let field = b.get(start..start + len).ok_or(Rfc3339Error::Syntax)?;
    field.iter().try_fold(0u32, |acc, &c| {
        if c.is_ascii_digit() {
            Ok(acc * 10 + u32::from(c - b'0'))
        } else {
            Err(Rfc3339Error::Syntax)
        }
    })
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> u64 {
        parse_rfc3339(s).unwrap().unwrap().as_millis()
    }

    #[test]
    fn parses_the_forms_webhooks_send() {
        assert_eq!(ms("1970-01-01T00:00:00Z"), 0);
        assert_eq!(ms("2026-11-22T01:00:00Z"), 1_795_309_200_000);
        assert_eq!(ms("2026-11-22T01:00:00.123456789Z"), 1_795_309_200_123);
        assert_eq!(ms("2026-11-22T02:00:00+01:00"), 1_795_309_200_000);
        assert_eq!(ms("2026-11-21T20:30:00-04:30"), 1_795_309_200_000);
        assert_eq!(ms("2024-02-29T12:00:00.5Z"), 1_709_208_000_500);
        assert_eq!(ms("2016-12-31T23:59:60Z"), ms("2016-12-31T23:59:59Z"));
    }

    #[test]
    fn zero_time_means_unset() {
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z"), Ok(None));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Ok(None));
    }

    #[test]
    fn rejects_malformed_and_out_of_range() {
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T01:00:00",
            "2026-11-22T01:00:00ZZ",
            "2026-11-22T01:00:00.Z",
            "2026-11-22T01:00:00.1234567890Z",
            "2026/11/22T01:00:00Z",
            "2026-11-22T01:00:00+0100",
            "２026-11-22T01:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), Err(Rfc3339Error::Syntax), "{bad}");
        }
        for bad in [
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T01:60:00Z",
            "2026-11-22T01:00:00+24:00",
        ] {
            assert_eq!(parse_rfc3339(bad), Err(Rfc3339Error::OutOfRange), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,45}") {
            let _ = parse_rfc3339(&s);
        }

        #[test]
        fn agrees_with_a_day_count(days in 0i64..40_000, secs in 0i64..86_400) {
            // Rebuild the civil date by counting forward, then parse its text form.
            let total = days * 86_400 + secs;
            let mut d = days;
            let mut year = 1970u32;
            loop {
                let len = if is_leap(year) { 366 } else { 365 };
                if d < len { break; }
                d -= len;
                year += 1;
            }
            let mut month = 1u32;
            loop {
                let len = i64::from(days_in_month(year, month));
                if d < len { break; }
                d -= len;
                month += 1;
            }
            let text = format!("{year:04}-{month:02}-{:02}T{:02}:{:02}:{:02}Z", d + 1,
                secs / 3600, secs / 60 % 60, secs % 60);
            let parsed = parse_rfc3339(&text).unwrap().unwrap();
            proptest::prop_assert_eq!(parsed.as_secs(), u64::try_from(total).unwrap());
        }
    }
}
