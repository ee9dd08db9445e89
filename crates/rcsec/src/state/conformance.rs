//! Conformance suite every [`AlertStateStore`] adapter runs unchanged.
//!
//! ```text
//! // tests/conformance.rs of a store crate
//! rcsec::alert_state_store_tests!(|| MyStateStore::open_for_tests());
//! ```
//! The argument is called once per test and must return an empty store.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "test suite"
)]

use std::sync::Arc;
use std::time::Duration;

use rcsec_core::{AlertId, Timestamp};

use super::{AlertStateStore, StateRecord};

pub use crate::outbox::conformance::block_on;

/// Expands one `#[test]` per state store conformance check.
#[macro_export]
macro_rules! alert_state_store_tests {
    ($ctor:expr) => {
        $crate::__alert_state_store_tests!($ctor;
            put_then_load_round_trips_the_bytes, newer_revision_replaces_older_is_ignored,
            records_of_different_alerts_are_independent, load_is_in_alert_id_order,
            prune_deletes_only_old_closed_records, large_records_round_trip,
            concurrent_puts_keep_the_highest_revision);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __alert_state_store_tests {
    ($ctor:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                let store: ::std::sync::Arc<dyn $crate::state::AlertStateStore> =
                    ::std::sync::Arc::new(($ctor)());
                $crate::state::conformance::block_on(
                    $crate::state::conformance::$name(store),
                );
            }
        )*
    };
}

const T0: Timestamp = Timestamp::from_secs(1_800_000_000);

/// A record for alert `alert` at `revision`, with bytes that name both.
pub fn record(alert: &str, revision: u64, open: bool) -> StateRecord {
    StateRecord {
        alert: AlertId::new(alert).unwrap(),
        revision,
        open,
        updated_at: T0.saturating_add(Duration::from_secs(revision)),
        sealed: format!("{alert}@{revision}").into_bytes(),
    }
}

pub async fn put_then_load_round_trips_the_bytes(store: Arc<dyn AlertStateStore>) {
    assert!(store.load().await.unwrap().is_empty());
    let mut r = record("a1", 1, true);
    r.sealed = (0..=255u8).collect();
    assert!(store.put(&r).await.unwrap());
    assert_eq!(store.load().await.unwrap(), vec![r]);
}

pub async fn newer_revision_replaces_older_is_ignored(store: Arc<dyn AlertStateStore>) {
    assert!(store.put(&record("a1", 5, true)).await.unwrap());
    assert!(!store.put(&record("a1", 4, true)).await.unwrap());
    assert!(!store.put(&record("a1", 5, false)).await.unwrap());
    assert_eq!(store.load().await.unwrap(), vec![record("a1", 5, true)]);
    assert!(store.put(&record("a1", 6, false)).await.unwrap());
    // A closed record still orders writes: an older open snapshot cannot resurrect it.
    assert!(!store.put(&record("a1", 5, true)).await.unwrap());
    assert_eq!(store.load().await.unwrap(), vec![record("a1", 6, false)]);
}

pub async fn records_of_different_alerts_are_independent(store: Arc<dyn AlertStateStore>) {
    assert!(store.put(&record("a1", 9, true)).await.unwrap());
    assert!(store.put(&record("a2", 1, true)).await.unwrap());
    assert_eq!(
        store.load().await.unwrap(),
        vec![record("a1", 9, true), record("a2", 1, true)]
    );
}

pub async fn load_is_in_alert_id_order(store: Arc<dyn AlertStateStore>) {
    for (i, id) in ["c", "a", "b"].into_iter().enumerate() {
        store.put(&record(id, i as u64 + 1, true)).await.unwrap();
    }
    let ids: Vec<String> = store
        .load()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.alert.as_str().to_owned())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
}

pub async fn prune_deletes_only_old_closed_records(store: Arc<dyn AlertStateStore>) {
    store.put(&record("old-closed", 1, false)).await.unwrap();
    store.put(&record("old-open", 1, true)).await.unwrap();
    store.put(&record("new-closed", 100, false)).await.unwrap();
    let cutoff = T0.saturating_add(Duration::from_secs(50));
    assert_eq!(store.prune_closed(cutoff).await.unwrap(), 1);
    assert_eq!(store.prune_closed(cutoff).await.unwrap(), 0);
    let ids: Vec<String> = store
        .load()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.alert.as_str().to_owned())
        .collect();
    assert_eq!(ids, ["new-closed", "old-open"]);
}

pub async fn large_records_round_trip(store: Arc<dyn AlertStateStore>) {
    let mut r = record("big", 1, true);
    r.sealed = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    assert!(store.put(&r).await.unwrap());
    assert_eq!(store.load().await.unwrap(), vec![r]);
}

pub async fn concurrent_puts_keep_the_highest_revision(store: Arc<dyn AlertStateStore>) {
    let mut tasks = Vec::new();
    for rev in 1..=32u64 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store.put(&record("race", rev, true)).await.unwrap()
        }));
    }
    let mut written = 0;
    for t in tasks {
        written += usize::from(t.await.unwrap());
    }
    assert!(written >= 1);
    assert_eq!(store.load().await.unwrap(), vec![record("race", 32, true)]);
}
