//! Bounded, time-windowed de-duplication of webhook deliveries.
//!
//! RBM delivers at least once: a slow 200, a timeout or a retry after a network error gives the
//! same event twice, and an ack or escalate applied twice pages or reassigns twice. A daemon
//! checks each event's [`DedupKey`] here before queueing it.
//!
//! Memory is bounded: keys are forgotten after `window`, and when `capacity` keys are live the
//! oldest is evicted first (counted in [`Deduplicator::evicted`] so a too-small capacity shows
//! up in metrics). A single process only; replicas behind a load balancer need a shared store
//! (Redis `SET NX EX`) with the same keys.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use rcsec_core::Timestamp;

use super::event::DedupKey;

/// Whether a key was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// First time in the window: process it.
    First,
    /// Already seen in the window: answer 200 and drop it.
    Duplicate,
}

#[derive(Debug, Default)]
struct State {
    /// Key -> the time it was first seen (the entry in `order` that owns it).
    live: HashMap<String, Timestamp>,
    /// Keys in first-seen order, for expiry and eviction.
    order: VecDeque<(Timestamp, String)>,
    evicted: u64,
}

/// Remembers keys for a window, in bounded memory.
#[derive(Debug)]
pub struct Deduplicator {
    window: Duration,
    capacity: usize,
    state: Mutex<State>,
}

impl Deduplicator {
    /// Keys are remembered for `window` (RBM retries for up to 7 days, but a retry after more
    /// than a day finds the alert long handled; 24 h is a sensible default) and at most
    /// `capacity` at once (at least 1).
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// Records `key` at `now` and says whether it is new. A poisoned lock answers
    /// [`Seen::First`]: processing twice is safer than dropping an ack.
    pub fn check(&self, key: &DedupKey, now: Timestamp) -> Seen {
        let Ok(mut state) = self.state.lock() else {
            return Seen::First;
        };
        let horizon = now.saturating_sub(self.window);
        while let Some((at, _)) = state.order.front() {
            if *at > horizon {
                break;
            }
            if let Some((_, old)) = state.order.pop_front() {
                state.live.remove(&old);
            }
        }
        if state.live.contains_key(key.as_str()) {
            return Seen::Duplicate;
        }
        while state.live.len() >= self.capacity {
            let Some((_, old)) = state.order.pop_front() else {
                break;
            };
            state.live.remove(&old);
            state.evicted += 1;
        }
        state.live.insert(key.as_str().to_owned(), now);
        state.order.push_back((now, key.as_str().to_owned()));
        Seen::First
    }

    /// How many keys are remembered now.
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.live.len()).unwrap_or_default()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many live keys were evicted early for capacity (each one could let a duplicate
    /// through).
    pub fn evicted(&self) -> u64 {
        self.state.lock().map(|s| s.evicted).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> DedupKey {
        DedupKey::for_tests(s)
    }

    #[test]
    fn duplicates_within_the_window_are_caught_and_forgotten_after() {
        let d = Deduplicator::new(Duration::from_secs(60), 100);
        let t0 = Timestamp::from_secs(1_000);
        assert_eq!(d.check(&key("event:a"), t0), Seen::First);
        assert_eq!(d.check(&key("event:b"), t0), Seen::First);
        assert_eq!(
            d.check(&key("event:a"), t0.saturating_add(Duration::from_secs(59))),
            Seen::Duplicate
        );
        assert_eq!(
            d.check(&key("event:a"), t0.saturating_add(Duration::from_secs(60))),
            Seen::First
        );
        assert_eq!(d.len(), 1, "b expired with a; a was re-recorded");
    }

    #[test]
    fn capacity_bounds_memory_and_counts_evictions() {
        let d = Deduplicator::new(Duration::from_secs(3_600), 3);
        let t = Timestamp::from_secs(5);
        for i in 0..10 {
            assert_eq!(d.check(&key(&format!("event:{i}")), t), Seen::First);
        }
        assert_eq!(d.len(), 3);
        assert_eq!(d.evicted(), 7);
        assert_eq!(d.check(&key("event:9"), t), Seen::Duplicate);
        assert_eq!(
            d.check(&key("event:0"), t),
            Seen::First,
            "evicted keys are new again"
        );
        assert!(!d.is_empty());
    }
}
