//! Durable orchestrator state: what an alert's escalation needs to survive a restart.
//!
//! Without it a restarted service forgets every open alert: nobody is escalated to, an
//! acknowledgement for a page sent before the restart names an unknown message, a re-sent
//! Alertmanager group pages everyone again, and resolving the alert cannot revoke its links.
//!
//! The orchestrator keeps one [`StateRecord`] per alert in an [`AlertStateStore`]: the alert
//! itself, its escalation chain and position, acknowledgement, ticket, who was paged on which
//! route, the links issued, the messages sent (to map provider events back), its dedup time
//! and its quiet-hour holds. The record is [sealed](seal) under an application-supplied state
//! key before it reaches the store, so the store holds ciphertext keyed by the alert id.
//!
//! Not persisted: the per-recipient rate limiter (a restart forgets recent pages and may allow
//! a few more than the limit; the limit protects people from floods, and a restart is not one),
//! and classification results (recomputed from the alert text on recovery).
//!
//! Adapters: [`MemoryAlertStateStore`] here, `SqliteAlertStateStore` in `rcsec-store-sqlite`.
//! `rcsec::alert_state_store_tests!` (feature `test-utils`) checks an adapter's contract.

mod error;
mod memory;
pub(crate) mod record;
pub mod seal;
mod store;

#[cfg(any(test, feature = "test-utils"))]
#[doc(hidden)]
pub mod conformance;

pub use error::{RecordError, StateError};
pub use memory::MemoryAlertStateStore;
pub use seal::{SealError, StateSealer};
pub use store::{AlertStateStore, StateRecord, StateStoreError};
