//! Storage traits for the state that makes links one-time, and in-memory implementations.

mod blob_store;
#[cfg(feature = "test-utils")]
pub mod conformance;
mod memory;
mod token_store;

pub use blob_store::{BlobId, BlobStore, TakeOutcome};
pub use memory::{MemoryBlobStore, MemoryTokenStore};
pub use token_store::{
    ConsumeOutcome, ExtendOutcome, ExtensionGrant, LinkBinding, LinkRecord, RecipientPseudonym,
    StoreError, TokenStore,
};
