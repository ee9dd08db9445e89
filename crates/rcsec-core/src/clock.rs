//! Wall-clock time as an injectable dependency.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time: milliseconds since the Unix epoch (UTC).
///
/// A plain integer on purpose: it is what tokens, stores and audit lines persist, it compares
/// and hashes trivially, and it cannot carry a time zone by mistake.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Self = Self(0);

    /// From milliseconds since the epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// From whole seconds since the epoch (saturating).
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch (rounded down).
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// This time plus `d`, saturating at the far future instead of wrapping.
    #[must_use]
    pub fn saturating_add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(duration_millis(d)))
    }

    /// This time minus `d`, saturating at the epoch.
    #[must_use]
    pub fn saturating_sub(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(duration_millis(d)))
    }

    /// How long after `earlier` this is, or zero if it is not after it.
    pub fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

fn duration_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A source of the current time.
///
/// Every TTL, expiry, escalation timer and audit timestamp in rcsec reads time through this
/// trait, so tests can step time forward exactly with [`ManualClock`].
///
/// # Contract
/// - `now` is wall-clock time in milliseconds since the Unix epoch: link expiries and audit
///   timestamps are compared across processes and hosts, so a monotonic counter with another
///   origin is wrong.
/// - It is cheap and never blocks or fails: it sits on every page and every redemption. A
///   broken host clock reports what it can (the epoch) rather than panicking.
/// - It may step backwards when the host clock does; callers compare with `<`/`>=` and treat
///   an expiry as "not yet" or "already", never as an error.
///
/// Held as `Arc<dyn Clock>`; [`SystemClock`] in production, [`ManualClock`] in tests.
///
/// ```
/// use std::sync::Arc;
/// use rcsec_core::{Clock, SystemClock, Timestamp};
///
/// /// A host whose clock is known to run 2 s slow, corrected in one place.
/// #[derive(Debug)]
/// struct Corrected(SystemClock);
///
/// impl Clock for Corrected {
///     fn now(&self) -> Timestamp {
///         self.0.now().saturating_add(std::time::Duration::from_secs(2))
///     }
/// }
///
/// let clock: Arc<dyn Clock> = Arc::new(Corrected(SystemClock));
/// assert!(clock.now() > SystemClock.now());
/// assert!(clock.now() > Timestamp::from_secs(1_700_000_000));
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        // A clock before 1970 is a broken host; report the epoch rather than panic.
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Timestamp(duration_millis(since))
    }
}

/// A clock that moves only when told to; clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use rcsec_core::{Clock, ManualClock, Timestamp};
///
/// let clock = ManualClock::new(Timestamp::from_secs(1_000));
/// let view = clock.clone();
/// clock.advance(Duration::from_secs(300));
/// assert_eq!(view.now(), Timestamp::from_secs(1_300));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    millis: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            millis: Arc::new(AtomicU64::new(start.0)),
        }
    }

    /// Moves time forward by `d` (saturating).
    pub fn advance(&self, d: Duration) {
        let step = duration_millis(d);
        let _ = self
            .millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(step))
            });
    }

    /// Sets the time, forward or backward (tests of clock skew need the latter).
    pub fn set(&self, t: Timestamp) {
        self.millis.store(t.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.millis.load(Ordering::SeqCst))
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(Timestamp::from_secs(10));
        assert_eq!(clock.now(), Timestamp::from_millis(10_000));
        clock.advance(Duration::from_millis(1_500));
        assert_eq!(clock.now().as_millis(), 11_500);
        assert_eq!(clock.now().as_secs(), 11);
        clock.set(Timestamp::from_secs(5));
        assert_eq!(clock.now(), Timestamp::from_secs(5));
        clock.advance(Duration::MAX);
        assert_eq!(clock.now().as_millis(), u64::MAX);
    }

    #[test]
    fn timestamp_arithmetic_saturates() {
        let t = Timestamp::from_secs(100);
        assert_eq!(
            t.saturating_add(Duration::from_secs(5)),
            Timestamp::from_secs(105)
        );
        assert_eq!(t.saturating_sub(Duration::from_secs(500)), Timestamp::EPOCH);
        assert_eq!(
            t.saturating_duration_since(Timestamp::from_secs(40)),
            Duration::from_secs(60)
        );
        assert_eq!(
            Timestamp::from_secs(40).saturating_duration_since(t),
            Duration::ZERO
        );
        assert_eq!(Timestamp::from_millis(1_234_567).to_string(), "1234.567");
    }

    #[test]
    fn system_clock_is_after_2024() {
        let shared: Arc<dyn Clock> = Arc::new(SystemClock);
        assert!(shared.now() > Timestamp::from_secs(1_700_000_000));
    }
}
