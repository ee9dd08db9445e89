//! Per-recipient rate limit: at most `max` pages per recipient per `window` (sliding).
//!
//! P0 pages are never limited: a flood of lesser alerts must not silence the one that matters.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use rcsec_core::{Msisdn, Severity, Timestamp};

/// The limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Pages allowed per window.
    pub max: usize,
    /// The sliding window.
    pub window: Duration,
}

impl Default for RateLimit {
    /// 10 pages per 10 minutes.
    fn default() -> Self {
        Self {
            max: 10,
            window: Duration::from_secs(600),
        }
    }
}

/// Page times per recipient.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    sent: HashMap<Msisdn, VecDeque<Timestamp>>,
}

impl RateLimiter {
    /// Whether a page of `severity` to `who` at `now` is allowed; if so, counts it.
    pub(crate) fn allow(
        &mut self,
        limit: RateLimit,
        who: &Msisdn,
        severity: Severity,
        now: Timestamp,
    ) -> bool {
        let times = self.sent.entry(who.clone()).or_default();
        while times
            .front()
            .is_some_and(|t| t.saturating_add(limit.window) <= now)
        {
            times.pop_front();
        }
        if severity != Severity::P0 && times.len() >= limit.max {
            return false;
        }
        times.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_recipient_and_spares_p0() {
        let mut r = RateLimiter::default();
        let limit = RateLimit {
            max: 2,
            window: Duration::from_secs(60),
        };
        let a = Msisdn::parse("+447700900001").unwrap();
        let b = Msisdn::parse("+447700900002").unwrap();
        let t = Timestamp::from_secs(100);
        assert!(r.allow(limit, &a, Severity::P2, t));
        assert!(r.allow(limit, &a, Severity::P2, t));
        assert!(!r.allow(limit, &a, Severity::P1, t));
        assert!(r.allow(limit, &a, Severity::P0, t));
        assert!(r.allow(limit, &b, Severity::P2, t));
        assert!(r.allow(
            limit,
            &a,
            Severity::P2,
            t.saturating_add(Duration::from_secs(60))
        ));
    }
}
