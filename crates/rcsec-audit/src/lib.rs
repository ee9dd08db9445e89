//! Audit events for rcsec: pseudonymized, hash-chained, RFC 9162 Merkle-anchored.
//!
//! The log records *what happened* to an alert — sent, delivered, read, acknowledged, fell
//! back, link issued or redeemed — and never *what was said* or *to whom* in the clear:
//!
//! - **Pseudonymized.** Events are built only through [`Pseudonymizer::event`]. Phone numbers
//!   go in as `&Msisdn` and come out as keyed HMAC pseudonyms; message text goes in as bytes
//!   and comes out as a keyed hash. Every other field is a validated [`Label`], so there is no
//!   slot for a number or free text.
//! - **Tamper-evident.** Each event is written as one canonical JSON line (see [`mod@line`]) with
//!   its chain hash `SHA-256(previous chain || canonical event)`; chain hashes are the leaves
//!   of an RFC 9162 Merkle tree ([`merkle`]) whose root is signed in periodic Ed25519
//!   [`Checkpoint`]s. The [`Verifier`] finds modified, deleted, inserted, reordered and
//!   truncated events and names the first bad index.
//! - **Pluggable storage.** [`AuditSink`] is the async storage trait; [`MemoryAuditSink`] and
//!   [`JsonlAuditSink`] ship here, and `sink::conformance` (feature `test-utils`) is the
//!   suite other adapters run.
//! - **SIEM-ready.** [`export`] writes OCSF 1.8 JSON and RFC 5424 syslog.
//!
//! ```
//! use rcsec_audit::{AuditKey, EventKind, MemoryAuditSink, Pseudonymizer, Verifier};
//! use rcsec_core::{AlertId, Msisdn, Secret, Timestamp};
//!
//! let audit = Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([9; 32])));
//! let to = Msisdn::parse("+447700900123")?;
//! let sent = audit
//!     .event(EventKind::MessageSent, Timestamp::from_secs(1_700_000_000))
//!     .alert(AlertId::new("a1b2c3d4")?)
//!     .recipient(&to)
//!     .message(b"disk full on db-1")
//!     .route("rcs_e2ee")
//!     .build()?;
//! let sink = MemoryAuditSink::new();
//! let head = sink.append_now(vec![sent])?;
//!
//! let log = sink.log_bytes()?;
//! assert!(!String::from_utf8_lossy(&log).contains("7700900123"));
//! assert_eq!(Verifier::new().verify_bytes(&log)?.head, head);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//! - `test-utils`: the [`AuditSink`] conformance suite and `audit_sink_tests!`.
//!
//! # Security
//! - Pseudonyms are keyed: whoever holds the [`AuditKey`] can recompute them from numbers, so
//!   keep it with the other secrets. Keys are versioned for rotation.
//! - Verify checkpoints against a pinned signer key; a log rewritten by someone holding the
//!   signing key is caught only by checkpoints published elsewhere (THREAT_MODEL.md §10).
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
mod sha256;
pub mod sink;
pub mod vectors;
mod verify;
mod writer;

pub use chain::{ChainState, Head, chain_hash};
pub use checkpoint::{Checkpoint, CheckpointError, CheckpointPolicy, CheckpointSigner};
/// The Ed25519 public key type checkpoints are verified with (re-exported from `ed25519-dalek`).
pub use ed25519_dalek::VerifyingKey;
pub use event::{
    AuditEvent, EventBuilder, EventError, EventKind, Fallback, FallbackAction, Label, PendingEvent,
    UserAction,
};
pub use merkle::{FrontierError, Hash};
pub use pseudonym::{AuditKey, KeyError, MessageHash, Pseudonym, Pseudonymizer};
pub use sink::{AuditSink, JsonlAuditSink, JsonlOptions, MemoryAuditSink, SinkError};
pub use verify::{Verified, Verifier, VerifyError, VerifyFailure};
pub use writer::{CheckpointConfig, LogWriter};
