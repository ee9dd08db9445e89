//! [`GroupStore`]: where sealed group states live between sends, with compare-and-set.
//!
//! The store only ever sees [`SealedGroupState`]s: ciphertext made by
//! [`GroupStateKey`](super::GroupStateKey) under a version counter. Compare-and-set on that
//! counter is what makes "persist before send" hold with more than one writer: two replicas
//! that both encrypted from version `n` cannot both store `n + 1`, so at most one of their
//! ciphertexts is ever released and no ratchet generation is used twice.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;

/// One sealed group state and the version it was sealed under (its associated data binds the
/// version, so the pair cannot be mixed with another row's).
#[derive(Clone, PartialEq, Eq)]
pub struct SealedGroupState {
    /// Starts at 1 and grows by one with each save.
    pub version: u64,
    /// AES-256-GCM ciphertext of the serialized group.
    pub sealed: Vec<u8>,
}

impl fmt::Debug for SealedGroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedGroupState")
            .field("version", &self.version)
            .field("len", &self.sealed.len())
            .finish()
    }
}

/// Why a [`GroupStore`] call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroupStoreError {
    /// The stored version is not the expected one (another writer saved first, or the group
    /// exists / does not exist contrary to the expectation). Nothing was written.
    #[error("group state version conflict")]
    Conflict,
    /// The new version is not the expected version plus one (a caller bug). Nothing was
    /// written.
    #[error("group state version must grow by one")]
    BadVersion,
    /// The backend failed; whether the write happened is unknown only if the backend says so.
    #[error("group store backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Durable home of sealed group states, keyed by group id.
///
/// # Contract
/// - [`GroupStore::save`] with `expected = None` inserts only when the group is absent;
///   with `Some(n)` it replaces only the row at version `n`. `state.version` must be
///   `expected + 1` (1 for an insert). Otherwise [`GroupStoreError::Conflict`] /
///   [`GroupStoreError::BadVersion`] and nothing changes.
/// - A save that returned `Ok` is durable (survives a process crash) and visible to every
///   later [`GroupStore::load`], in this process and others on the same backend.
/// - Atomic per call: a failed save leaves the previous row intact.
///
/// Adapters run the conformance suite: `rcsec::group_store_tests!(|| MyStore::new())`
/// (feature `test-utils`).
#[async_trait]
pub trait GroupStore: Send + Sync + fmt::Debug + 'static {
    /// The current sealed state of `group`, if any.
    async fn load(&self, group: &[u8]) -> Result<Option<SealedGroupState>, GroupStoreError>;

    /// Compare-and-set: stores `state` if the current version is `expected`.
    async fn save(
        &self,
        group: &[u8],
        expected: Option<u64>,
        state: &SealedGroupState,
    ) -> Result<(), GroupStoreError>;

    /// Ids of every stored group (to load them all at start).
    async fn groups(&self) -> Result<Vec<Vec<u8>>, GroupStoreError>;
}

#[cfg(test)]
fn _obj_safe(_: &dyn GroupStore) {}

/// Checks the version rule shared by every adapter.
///
/// # Errors
/// [`GroupStoreError::BadVersion`].
pub fn check_next_version(
    expected: Option<u64>,
    state: &SealedGroupState,
) -> Result<(), GroupStoreError> {
    let next = expected.map_or(Some(1), |v| v.checked_add(1));
    if next == Some(state.version) {
        Ok(())
    } else {
        Err(GroupStoreError::BadVersion)
    }
}

/// A [`GroupStore`] in process memory: for tests and single-process deployments that accept
/// losing every group (and so every enrolment) on restart.
#[derive(Default)]
pub struct MemoryGroupStore {
    rows: Mutex<BTreeMap<Vec<u8>, SealedGroupState>>,
}

impl fmt::Debug for MemoryGroupStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryGroupStore").finish_non_exhaustive()
    }
}

impl MemoryGroupStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn rows(&self) -> std::sync::MutexGuard<'_, BTreeMap<Vec<u8>, SealedGroupState>> {
        // Every write below is a single insert: a panic elsewhere cannot leave a torn row.
        self.rows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl GroupStore for MemoryGroupStore {
    async fn load(&self, group: &[u8]) -> Result<Option<SealedGroupState>, GroupStoreError> {
        Ok(self.rows().get(group).cloned())
    }

    async fn save(
        &self,
        group: &[u8],
        expected: Option<u64>,
        state: &SealedGroupState,
    ) -> Result<(), GroupStoreError> {
        check_next_version(expected, state)?;
        let mut rows = self.rows();
        if rows.get(group).map(|s| s.version) != expected {
            return Err(GroupStoreError::Conflict);
        }
        rows.insert(group.to_vec(), state.clone());
        Ok(())
    }

    async fn groups(&self) -> Result<Vec<Vec<u8>>, GroupStoreError> {
        Ok(self.rows().keys().cloned().collect())
    }
}
