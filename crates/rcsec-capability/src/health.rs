//! Provider health: a circuit breaker timed by [`rcsec_core::Clock`].
//!
//! ```text
//!  Closed ──N consecutive failures──▶ Open ──cooldown elapsed, next call──▶ HalfOpen (one probe)
//!    ▲                                 ▲                                        │
//!    └──────────── probe succeeds ─────┼──────────── probe fails ───────────────┘
//! ```
//!
//! Sans-IO: the caller passes the current time, asks for a [`Permit`], runs the call, and
//! reports the outcome on the permit. A permit dropped without an outcome (a cancelled call)
//! counts as neither; a dropped probe lets the next caller probe.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rcsec_core::Timestamp;

use crate::error::ConfigError;

/// When a breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    failure_threshold: u32,
    cooldown: Duration,
}

impl BreakerConfig {
    /// Open after `failure_threshold` consecutive failures; probe again after `cooldown`.
    ///
    /// # Errors
    /// [`ConfigError::ZeroFailureThreshold`] for a threshold of 0.
    pub fn new(failure_threshold: u32, cooldown: Duration) -> Result<Self, ConfigError> {
        if failure_threshold == 0 {
            return Err(ConfigError::ZeroFailureThreshold);
        }
        Ok(Self {
            failure_threshold,
            cooldown,
        })
    }

    /// Consecutive failures that open the breaker.
    pub fn failure_threshold(&self) -> u32 {
        self.failure_threshold
    }

    /// How long the breaker stays open before a probe.
    pub fn cooldown(&self) -> Duration {
        self.cooldown
    }
}

impl Default for BreakerConfig {
    /// Three consecutive failures, thirty seconds of cooldown.
    fn default() -> Self {
        Self {
            failure_threshold: 3,
            cooldown: Duration::from_secs(30),
        }
    }
}

/// The externally visible state of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls flow; failures are being counted.
    Closed,
    /// Calls are refused until the cooldown ends.
    Open,
    /// The cooldown ended; one probe call decides between closed and open.
    HalfOpen,
}

impl BreakerState {
    /// A stable lowercase name: `closed`, `open`, `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Timestamp },
    HalfOpen { probing: bool },
}

/// A circuit breaker for one dependency.
pub struct CircuitBreaker {
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section leaves a valid state, so a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state at `now`: an open breaker whose cooldown has ended reads as half-open.
    pub fn state(&self, now: Timestamp) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if now < until => BreakerState::Open,
            Inner::Open { .. } | Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Asks to make a call at `now`; `None` means the breaker refuses it.
    ///
    /// In the half-open state only one probe is outstanding at a time.
    pub fn try_acquire(&self, now: Timestamp) -> Option<Permit<'_>> {
        let mut inner = self.lock();
        let probe = match *inner {
            Inner::Closed { .. } => false,
            Inner::Open { until } if now < until => return None,
            Inner::HalfOpen { probing: true } => return None,
            Inner::Open { .. } | Inner::HalfOpen { probing: false } => {
                *inner = Inner::HalfOpen { probing: true };
                true
            }
        };
        Some(Permit {
            breaker: self,
            probe,
            settled: false,
        })
    }

    fn settle(&self, probe: bool, outcome: Option<(bool, Timestamp)>) {
        let mut inner = self.lock();
        let open = |now: Timestamp| Inner::Open {
            until: now.saturating_add(self.config.cooldown),
        };
        *inner = match (*inner, probe, outcome) {
            // The probe decides.
            (Inner::HalfOpen { .. }, true, Some((true, _))) => Inner::Closed { failures: 0 },
            (Inner::HalfOpen { .. }, true, Some((false, now))) => open(now),
            (Inner::HalfOpen { .. }, true, None) => Inner::HalfOpen { probing: false },
            // Ordinary calls count consecutive failures while closed.
            (Inner::Closed { .. }, false, Some((true, _))) => Inner::Closed { failures: 0 },
            (Inner::Closed { failures }, false, Some((false, now))) => {
                let failures = failures.saturating_add(1);
                if failures >= self.config.failure_threshold {
                    open(now)
                } else {
                    Inner::Closed { failures }
                }
            }
            // Late outcomes of calls started in an earlier state change nothing.
            (state, _, _) => state,
        };
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("config", &self.config)
            .field("inner", &*self.lock())
            .finish()
    }
}

/// Permission for one call; report its outcome with [`Permit::success`] or
/// [`Permit::failure`].
#[must_use = "report the call's outcome on the permit"]
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    settled: bool,
}

impl Permit<'_> {
    /// Whether this call is the half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// The call succeeded.
    pub fn success(mut self) {
        self.settled = true;
        self.breaker
            .settle(self.probe, Some((true, Timestamp::EPOCH)));
    }

    /// The call failed at `now` (the cooldown, if the breaker opens, starts then).
    pub fn failure(mut self, now: Timestamp) {
        self.settled = true;
        self.breaker.settle(self.probe, Some((false, now)));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.breaker.settle(self.probe, None);
        }
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("probe", &self.probe)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn breaker(threshold: u32) -> CircuitBreaker {
        CircuitBreaker::new(BreakerConfig::new(threshold, Duration::from_secs(10)).unwrap())
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let b = breaker(3);
        b.try_acquire(t(0)).unwrap().failure(t(0));
        b.try_acquire(t(0)).unwrap().failure(t(0));
        b.try_acquire(t(0)).unwrap().success(); // resets the count
        b.try_acquire(t(0)).unwrap().failure(t(0));
        b.try_acquire(t(0)).unwrap().failure(t(0));
        assert_eq!(b.state(t(0)), BreakerState::Closed);
        b.try_acquire(t(1_000)).unwrap().failure(t(1_000));
        assert_eq!(b.state(t(1_000)), BreakerState::Open);
        assert!(b.try_acquire(t(1_000)).is_none());
        // The cooldown is measured from the failure that opened it, to the millisecond.
        assert!(b.try_acquire(t(10_999)).is_none());
        assert_eq!(b.state(t(10_999)), BreakerState::Open);
        assert_eq!(b.state(t(11_000)), BreakerState::HalfOpen);
    }

    #[test]
    fn half_open_allows_one_probe_that_decides() {
        let b = breaker(1);
        b.try_acquire(t(0)).unwrap().failure(t(0));
        let probe = b.try_acquire(t(10_000)).unwrap();
        assert!(probe.is_probe());
        assert!(
            b.try_acquire(t(10_000)).is_none(),
            "only one probe at a time"
        );
        probe.failure(t(10_500));
        assert_eq!(b.state(t(20_499)), BreakerState::Open);
        assert!(b.try_acquire(t(20_499)).is_none());
        let probe = b.try_acquire(t(20_500)).unwrap();
        probe.success();
        assert_eq!(b.state(t(20_500)), BreakerState::Closed);
        let call = b.try_acquire(t(20_500)).unwrap();
        assert!(!call.is_probe());
        call.success();
    }

    #[test]
    fn abandoned_probe_lets_the_next_caller_probe() {
        let b = breaker(1);
        b.try_acquire(t(0)).unwrap().failure(t(0));
        drop(b.try_acquire(t(10_000)).unwrap());
        assert_eq!(b.state(t(10_000)), BreakerState::HalfOpen);
        let probe = b.try_acquire(t(10_001)).unwrap();
        assert!(probe.is_probe());
        probe.success();
        assert_eq!(b.state(t(10_001)), BreakerState::Closed);
    }

    #[test]
    fn late_outcomes_do_not_override_state() {
        let b = breaker(1);
        let slow = b.try_acquire(t(0)).unwrap();
        b.try_acquire(t(0)).unwrap().failure(t(0));
        assert_eq!(b.state(t(0)), BreakerState::Open);
        slow.success(); // started while closed; must not close an open breaker
        assert_eq!(b.state(t(0)), BreakerState::Open);
        let probe = b.try_acquire(t(10_000)).unwrap();
        let stale = b.try_acquire(t(10_000));
        assert!(stale.is_none());
        probe.success();
        assert_eq!(b.state(t(10_000)), BreakerState::Closed);
    }

    #[test]
    fn config_is_validated() {
        assert_eq!(
            BreakerConfig::new(0, Duration::from_secs(1)),
            Err(ConfigError::ZeroFailureThreshold)
        );
        let d = BreakerConfig::default();
        assert_eq!(
            (d.failure_threshold(), d.cooldown()),
            (3, Duration::from_secs(30))
        );
        assert_eq!(BreakerState::HalfOpen.as_str(), "half_open");
    }
}
