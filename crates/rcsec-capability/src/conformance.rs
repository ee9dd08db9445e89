//! The [`PinStore`] conformance suite (feature `test-utils`).
//!
//! Every store crate runs the same checks from its `tests/conformance.rs`:
//!
//! ```text
//! rcsec_capability::pin_store_tests!(rcsec_capability::MemoryPinStore::new);
//! ```
//!
//! The argument is anything callable with no arguments that returns a fresh, empty store
//! (a constructor path or a closure), called inside the runtime of each test. The expanded
//! tests are plain `#[test]`s on a runtime this crate provides, so the calling crate needs no
//! tokio dependency of its own (as with the link and outbox suites).

#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    reason = "a test suite: a failed check panics with its message"
)]

use std::sync::Arc;

use rcsec_core::{Msisdn, Timestamp};

use crate::capability::Source;
use crate::pin::{Pin, PinStore, UnpinRequest};

fn number(tail: u32) -> Msisdn {
    Msisdn::parse(&format!("+1555{tail:07}")).unwrap()
}

fn pin(secs: u64) -> Pin {
    Pin {
        pinned_at: Timestamp::from_secs(secs),
        source: Source::Provider,
    }
}

fn request() -> UnpinRequest {
    UnpinRequest::new("conformance", "test", Timestamp::from_secs(9_000)).unwrap()
}

/// A fresh store knows no pins.
pub async fn empty_store_has_no_pins<S: PinStore>(store: S) {
    assert_eq!(store.get(&number(1)).await.unwrap(), None);
    assert_eq!(store.unpin(&number(1), &request()).await.unwrap(), None);
}

/// The first pin stays; a later `pin_if_absent` returns it unchanged.
pub async fn first_pin_wins<S: PinStore>(store: S) {
    let n = number(2);
    let first = Pin {
        pinned_at: Timestamp::from_secs(100),
        source: Source::ClientReport,
    };
    assert_eq!(store.pin_if_absent(&n, first).await.unwrap(), first);
    assert_eq!(store.pin_if_absent(&n, pin(200)).await.unwrap(), first);
    assert_eq!(store.get(&n).await.unwrap(), Some(first));
}

/// Pins of different numbers do not interfere.
pub async fn pins_are_per_number<S: PinStore>(store: S) {
    store.pin_if_absent(&number(3), pin(10)).await.unwrap();
    store.pin_if_absent(&number(4), pin(20)).await.unwrap();
    assert_eq!(store.get(&number(3)).await.unwrap(), Some(pin(10)));
    assert_eq!(store.get(&number(4)).await.unwrap(), Some(pin(20)));
    assert_eq!(store.get(&number(5)).await.unwrap(), None);
    store.unpin(&number(3), &request()).await.unwrap();
    assert_eq!(store.get(&number(4)).await.unwrap(), Some(pin(20)));
}

/// Unpinning returns the removed pin once; afterwards the number can be pinned afresh.
pub async fn unpin_removes_and_allows_repin<S: PinStore>(store: S) {
    let n = number(6);
    store.pin_if_absent(&n, pin(10)).await.unwrap();
    assert_eq!(store.unpin(&n, &request()).await.unwrap(), Some(pin(10)));
    assert_eq!(store.unpin(&n, &request()).await.unwrap(), None);
    assert_eq!(store.get(&n).await.unwrap(), None);
    assert_eq!(store.pin_if_absent(&n, pin(50)).await.unwrap(), pin(50));
    assert_eq!(store.get(&n).await.unwrap(), Some(pin(50)));
}

/// Concurrent `pin_if_absent` calls for one number all see the same pin.
pub async fn concurrent_pins_converge<S: PinStore>(store: S) {
    let store = Arc::new(store);
    let n = number(7);
    let tasks: Vec<_> = (0..32u64)
        .map(|i| {
            let store = Arc::clone(&store);
            let n = n.clone();
            tokio::spawn(async move { store.pin_if_absent(&n, pin(1_000 + i)).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap());
    }
    let stored = store.get(&n).await.unwrap().unwrap();
    assert!(seen.iter().all(|p| *p == stored), "pins diverged");
    assert!((1_000..1_032).contains(&stored.pinned_at.as_secs()));
}

/// Expands one `#[test]` per [`PinStore`] conformance check, each on a fresh store
/// made by calling `$new()`.
///
/// ```text
/// rcsec_capability::pin_store_tests!(rcsec_capability::MemoryPinStore::new);
/// rcsec_capability::pin_store_tests!(|| SqlitePinStore::open_in_memory().unwrap());
/// ```
#[macro_export]
macro_rules! pin_store_tests {
    ($new:expr) => {
        $crate::__pin_store_tests!($new;
            pin_store_empty_store_has_no_pins => empty_store_has_no_pins,
            pin_store_first_pin_wins => first_pin_wins,
            pin_store_pins_are_per_number => pins_are_per_number,
            pin_store_unpin_removes_and_allows_repin => unpin_removes_and_allows_repin,
            pin_store_concurrent_pins_converge => concurrent_pins_converge);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __pin_store_tests {
    ($new:expr; $($test:ident => $check:ident),*) => {
        $(
            #[test]
            fn $test() {
                // The store is made inside the runtime: adapters may need it to build a pool.
                $crate::conformance::block_on(async {
                    $crate::conformance::$check(($new)()).await;
                });
            }
        )*
    };
}

/// Runs a check on a fresh 4-worker runtime, so a crate invoking [`pin_store_tests!`] needs
/// no tokio dependency of its own.
///
/// # Panics
/// When the runtime cannot start or the check fails: these are tests.
#[allow(
    clippy::expect_used,
    reason = "test harness: failing loudly is the point"
)]
pub fn block_on<F: Future<Output = ()>>(f: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f);
}
