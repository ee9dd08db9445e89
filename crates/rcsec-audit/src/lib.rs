//! Audit events for rcsec: pseudonymized, hash-chained, RFC 9162 Merkle-anchored.
#![forbid(unsafe_code)]

mod chain;
mod checkpoint;
mod event;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod line;
pub mod merkle;
mod pseudonym;
pub mod sink;
pub mod vectors;
mod verify;
mod writer;

pub use chain::{ChainState, Head, chain_hash};
pub use checkpoint::{Checkpoint, CheckpointError, CheckpointPolicy, CheckpointSigner};
pub use event::{
    AuditEvent, EventBuilder, EventError, EventKind, Fallback, FallbackAction, Label, PendingEvent,
    UserAction,
};
pub use merkle::Hash;
pub use pseudonym::{AuditKey, KeyError, MessageHash, Pseudonym, Pseudonymizer};
pub use sink::{AuditSink, JsonlAuditSink, JsonlOptions, MemoryAuditSink, SinkError};
pub use verify::{Verified, Verifier, VerifyError, VerifyFailure};
pub use writer::{CheckpointConfig, LogWriter};
