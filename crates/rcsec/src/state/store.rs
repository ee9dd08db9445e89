//! The [`AlertStateStore`] seam: sealed per-alert records, ordered by revision.

use std::fmt;

use async_trait::async_trait;
use rcsec_core::{AlertId, Timestamp};

/// One alert's state as a store keeps it: opaque sealed bytes plus the few fields a store
/// needs to order and prune writes, none of them sensitive.
#[derive(Clone, PartialEq, Eq)]
pub struct StateRecord {
    /// The alert (its fingerprint; not secret).
    pub alert: AlertId,
    /// Write order: a put with a revision not above the stored one is ignored, so a snapshot
    /// taken earlier but written later never overwrites a newer one.
    pub revision: u64,
    /// `false` once the alert is resolved: a tombstone that stops an older snapshot from
    /// resurrecting the alert, pruned after a while.
    pub open: bool,
    /// When the snapshot was taken.
    pub updated_at: Timestamp,
    /// The sealed snapshot ([`crate::state::seal`]).
    pub sealed: Vec<u8>,
}

impl fmt::Debug for StateRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateRecord")
            .field("alert", &self.alert)
            .field("revision", &self.revision)
            .field("open", &self.open)
            .field("updated_at", &self.updated_at)
            .field("sealed_len", &self.sealed.len())
            .finish()
    }
}

/// Why a state store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateStoreError {
    /// The backend failed (connection, full disk, corrupt row); nothing was half-written.
    #[error("alert state backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where the orchestrator keeps each alert's sealed state.
///
/// # Contract
/// Implementations must guarantee, across processes sharing the same backend:
/// - `put` stores the record when no record for its alert exists or the stored one has a lower
///   revision, and returns `true`; otherwise it changes nothing and returns `false`. The bytes
///   come back unchanged.
/// - `load` returns every stored record (open and closed) in alert-id order.
/// - `prune_closed` deletes closed records (`open == false`) updated before `before`, never an
///   open one, and returns how many it deleted.
/// - An acknowledged call is durable: it survives a crash of the process right after it.
///
/// `rcsec::alert_state_store_tests!(constructor)` (feature `test-utils`) checks these.
#[async_trait]
pub trait AlertStateStore: Send + Sync + fmt::Debug {
    /// Stores `record` unless a record of the same or a newer revision is stored.
    ///
    /// # Errors
    /// [`StateStoreError::Backend`].
    async fn put(&self, record: &StateRecord) -> Result<bool, StateStoreError>;

    /// Every stored record, in alert-id order.
    ///
    /// # Errors
    /// [`StateStoreError::Backend`].
    async fn load(&self) -> Result<Vec<StateRecord>, StateStoreError>;

    /// Deletes closed records updated before `before`.
    ///
    /// # Errors
    /// [`StateStoreError::Backend`].
    async fn prune_closed(&self, before: Timestamp) -> Result<usize, StateStoreError>;
}
