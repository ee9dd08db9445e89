//! Single-flight: concurrent misses for one key share one provider query.
//!
//! The first caller becomes the [`Leader`] and does the work; later callers get a
//! [`tokio::sync::watch`] receiver and wait for the leader's value. If the leader is dropped
//! before finishing (its caller was cancelled), its entry is removed and the channel closes;
//! waiting followers see the close and start over, one of them becoming the new leader.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

/// The in-flight table.
pub(crate) struct SingleFlight<V> {
    flights: Mutex<HashMap<u64, watch::Receiver<Option<V>>>>,
}

/// How a caller joined.
pub(crate) enum Join<'a, V> {
    /// Do the work, then [`Leader::finish`].
    Leader(Leader<'a, V>),
    /// Wait for the leader with [`wait`].
    Follower(watch::Receiver<Option<V>>),
}

impl<V: Clone> SingleFlight<V> {
    pub(crate) fn new() -> Self {
        Self {
            flights: Mutex::new(HashMap::new()),
        }
    }

    fn flights(&self) -> MutexGuard<'_, HashMap<u64, watch::Receiver<Option<V>>>> {
        // Each critical section is one map operation; a poisoned map is still consistent.
        self.flights.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Joins the flight for `key`, leading it if there is none.
    pub(crate) fn join(&self, key: u64) -> Join<'_, V> {
        let mut flights = self.flights();
        if let Some(rx) = flights.get(&key) {
            return Join::Follower(rx.clone());
        }
        let (tx, rx) = watch::channel(None);
        flights.insert(key, rx);
        Join::Leader(Leader {
            flights: self,
            key,
            tx: Some(tx),
        })
    }

    /// Keys with a flight in progress.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.flights().len()
    }
}

impl<V> fmt::Debug for SingleFlight<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.flights.lock().map_or(0, |m| m.len());
        f.debug_struct("SingleFlight")
            .field("in_flight", &len)
            .finish()
    }
}

/// The caller doing the work for a key.
pub(crate) struct Leader<'a, V> {
    flights: &'a SingleFlight<V>,
    key: u64,
    tx: Option<watch::Sender<Option<V>>>,
}

impl<V> Leader<'_, V> {
    fn leave(&mut self) -> Option<watch::Sender<Option<V>>> {
        let tx = self.tx.take()?;
        // Only this leader can have registered `key` (nobody registers while it is present).
        self.flights
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
        Some(tx)
    }

    /// Publishes `value` to every follower and ends the flight.
    ///
    /// Callers make the value visible elsewhere (the cache) *before* finishing, so a caller
    /// arriving after the flight ends finds it there.
    pub(crate) fn finish(mut self, value: V) {
        if let Some(tx) = self.leave() {
            // No receivers left is fine: nobody was waiting.
            let _ = tx.send(Some(value));
        }
    }
}

impl<V> Drop for Leader<'_, V> {
    fn drop(&mut self) {
        // Abandoned (cancelled) flight: dropping the sender wakes followers to retry.
        let _ = self.leave();
    }
}

/// Waits for the leader: `Some(value)` when it finished, `None` when it was abandoned.
pub(crate) async fn wait<V: Clone>(mut rx: watch::Receiver<Option<V>>) -> Option<V> {
    let value = rx.wait_for(Option::is_some).await.ok()?;
    value.clone()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn followers_receive_the_leaders_value() {
        let flights = Arc::new(SingleFlight::<u32>::new());
        let Join::Leader(leader) = flights.join(7) else {
            panic!("first caller leads")
        };
        let Join::Follower(rx) = flights.join(7) else {
            panic!("second caller follows")
        };
        let other = flights.join(8);
        assert!(matches!(other, Join::Leader(_)));
        drop(other);
        let waiter = tokio::spawn(wait(rx));
        tokio::task::yield_now().await;
        leader.finish(42);
        assert_eq!(waiter.await.unwrap(), Some(42));
        assert_eq!(flights.in_flight(), 0);
        assert!(matches!(flights.join(7), Join::Leader(_)));
    }

    #[tokio::test]
    async fn abandoned_flight_releases_followers() {
        let flights = SingleFlight::<u32>::new();
        let Join::Leader(leader) = flights.join(1) else {
            panic!("first caller leads")
        };
        let Join::Follower(rx) = flights.join(1) else {
            panic!("second caller follows")
        };
        drop(leader);
        assert_eq!(wait(rx).await, None);
        assert_eq!(flights.in_flight(), 0);
        assert!(matches!(flights.join(1), Join::Leader(_)));
    }
}
