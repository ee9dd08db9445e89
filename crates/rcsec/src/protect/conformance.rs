//! Conformance suite every [`GroupStore`] adapter runs unchanged.
//!
//! ```text
//! // tests/conformance.rs of a store crate
//! rcsec::group_store_tests!(|| MyGroupStore::open_for_tests());
//! ```
//! The argument is called once per test and must return an empty store.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    reason = "test suite"
)]

use std::sync::Arc;

use super::{GroupStore, GroupStoreError, SealedGroupState};

/// Expands one `#[test]` per group-store conformance check.
#[macro_export]
macro_rules! group_store_tests {
    ($ctor:expr) => {
        $crate::__group_store_tests!($ctor;
            insert_load_and_list, compare_and_set_refuses_stale_versions,
            versions_must_grow_by_one, concurrent_saves_from_one_version_admit_one);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __group_store_tests {
    ($ctor:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                let store: ::std::sync::Arc<dyn $crate::protect::GroupStore> =
                    ::std::sync::Arc::new(($ctor)());
                $crate::outbox::conformance::block_on(
                    $crate::protect::conformance::$name(store),
                );
            }
        )*
    };
}

fn state(version: u64, byte: u8) -> SealedGroupState {
    SealedGroupState {
        version,
        sealed: vec![byte; 40],
    }
}

/// Insert, load back, list; unknown groups load as `None`.
pub async fn insert_load_and_list(store: Arc<dyn GroupStore>) {
    assert_eq!(store.load(b"team-a").await.unwrap(), None);
    assert!(store.groups().await.unwrap().is_empty());
    store.save(b"team-a", None, &state(1, 1)).await.unwrap();
    store.save(b"team-b", None, &state(1, 2)).await.unwrap();
    assert_eq!(store.load(b"team-a").await.unwrap(), Some(state(1, 1)));
    store.save(b"team-a", Some(1), &state(2, 3)).await.unwrap();
    assert_eq!(store.load(b"team-a").await.unwrap(), Some(state(2, 3)));
    assert_eq!(store.load(b"team-b").await.unwrap(), Some(state(1, 2)));
    let mut groups = store.groups().await.unwrap();
    groups.sort();
    assert_eq!(groups, vec![b"team-a".to_vec(), b"team-b".to_vec()]);
}

/// A save from a version that is no longer current, or an insert over an existing group,
/// or an update of a missing one, is a conflict and writes nothing.
pub async fn compare_and_set_refuses_stale_versions(store: Arc<dyn GroupStore>) {
    assert!(matches!(
        store.save(b"g", Some(1), &state(2, 9)).await,
        Err(GroupStoreError::Conflict)
    ));
    store.save(b"g", None, &state(1, 1)).await.unwrap();
    assert!(matches!(
        store.save(b"g", None, &state(1, 9)).await,
        Err(GroupStoreError::Conflict)
    ));
    store.save(b"g", Some(1), &state(2, 2)).await.unwrap();
    assert!(matches!(
        store.save(b"g", Some(1), &state(2, 9)).await,
        Err(GroupStoreError::Conflict)
    ));
    assert_eq!(store.load(b"g").await.unwrap(), Some(state(2, 2)));
}

/// The new version must be the expected one plus one.
pub async fn versions_must_grow_by_one(store: Arc<dyn GroupStore>) {
    assert!(matches!(
        store.save(b"g", None, &state(2, 1)).await,
        Err(GroupStoreError::BadVersion)
    ));
    store.save(b"g", None, &state(1, 1)).await.unwrap();
    for bad in [1, 3, 0] {
        assert!(matches!(
            store.save(b"g", Some(1), &state(bad, 9)).await,
            Err(GroupStoreError::BadVersion)
        ));
    }
    assert_eq!(store.load(b"g").await.unwrap(), Some(state(1, 1)));
}

/// Many writers saving from the same version: exactly one wins.
pub async fn concurrent_saves_from_one_version_admit_one(store: Arc<dyn GroupStore>) {
    store.save(b"g", None, &state(1, 0)).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.save(b"g", Some(1), &state(2, i + 1)).await.is_ok()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await.unwrap() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(store.load(b"g").await.unwrap().unwrap().version, 2);
}

#[cfg(test)]
mod tests {
    crate::group_store_tests!(crate::protect::MemoryGroupStore::new);
}
