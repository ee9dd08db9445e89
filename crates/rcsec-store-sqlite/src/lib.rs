//! SQLite homes for rcsec's store traits: one embedded database file, no server to run.
//!
//! | trait | adapter | table |
//! |---|---|---|
//! | [`rcsec_link::TokenStore`] | [`SqliteTokenStore`] | `links` |
//! | [`rcsec_link::BlobStore`] | [`SqliteBlobStore`] | `blobs` |
//! | [`rcsec_audit::AuditSink`] | [`SqliteAuditSink`] | `audit_events` |
//! | [`rcsec_capability::PinStore`] | [`SqlitePinStore`] | `pins` |
//! | [`rcsec::Outbox`] | [`SqliteOutbox`] | `outbox` |
//! | [`rcsec::state::AlertStateStore`] | [`SqliteAlertStateStore`] | `alert_state` |
//! | [`rcsec::GroupStore`] | [`SqliteGroupStore`] | `mls_groups` |
//! | [`rcsec::StepJournal`] | [`SqliteJournal`] | `audit_events` + `outbox`, one transaction per step |
//!
//! All adapters share one [`SqliteStore`]: one file (one thing to back up and protect), in WAL
//! mode with `synchronous = FULL` by default (an acknowledged audit append or outbox change
//! survives a SIGKILL and a power cut; [`Durability::Normal`] trades the latter for speed),
//! `foreign_keys` on, and a busy timeout for writers in other processes.
//!
//! # Why this shape
//! - **Atomic across processes.** Every read-modify-write (`consume`, `extend`, `take`,
//!   `claim_due`, audit `append`) runs in one `BEGIN IMMEDIATE` transaction, so SQLite's single
//!   write lock makes it atomic for every connection on the file, not only this process.
//! - **Never blocks the runtime.** Each call runs on tokio's blocking pool with a connection
//!   from a small pool; callers wait for a connection asynchronously.
//! - **Versioned schema.** Migrations are embedded and applied in one transaction on open; a
//!   file from a newer build, another application, or not SQLite at all is refused with a typed
//!   [`SqliteError`] and left untouched.
//! - **Typed failures.** Trait errors carry a [`SqliteError`] source (`Full`, `ReadOnly`,
//!   `Busy`, `CorruptMessage`, ...); a failed call rolls back and writes nothing. Errors never
//!   carry phone numbers or message content.
//!
//! # Example
//! ```
//! # use std::time::Duration;
//! # use rcsec_core::{AlertId, Timestamp};
//! # use rcsec_link::{BlobId, ConsumeOutcome, LinkId, LinkRecord, RecipientPseudonym, TokenStore};
//! use rcsec_store_sqlite::{SqliteStore, SqliteTokenStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let store = SqliteStore::open(dir.path().join("rcsec.db"))?;
//! let tokens = SqliteTokenStore::new(store.clone());
//!
//! let now = Timestamp::from_secs(1_800_000_000);
//! let link = LinkId::from_bytes([1; 16]);
//! let record = LinkRecord::new(
//!     link,
//!     AlertId::new("alert-1")?,
//!     RecipientPseudonym::from_bytes([7; 32]),
//!     BlobId::from_bytes([2; 16]),
//!     now.saturating_add(Duration::from_secs(600)),
//! );
//! tokens.insert(record).await?;
//! assert!(matches!(tokens.consume(&link, now).await?, ConsumeOutcome::Consumed { .. }));
//! assert_eq!(tokens.consume(&link, now).await?, ConsumeOutcome::AlreadyConsumed);
//! # Ok(())
//! # }
//! ```
//!
//! # Crate features
//! None.
//!
//! # Security
//! The file holds link records, ciphertext blobs, the audit log, the outbox (message content
//! until sent), the orchestrator's alert state and MLS group states (both sealed under
//! application keys, which must not live next to the file): give it the permissions of a
//! secret. Pins are keyed by a keyed hash of the number,
//! never the number.

#![forbid(unsafe_code)]

pub mod audit;
mod blob;
mod convert;
mod error;
mod group;
mod journal;
mod outbox;
mod pin;
mod schema;
mod state;
mod store;
mod token;

pub use audit::SqliteAuditSink;
pub use blob::SqliteBlobStore;
pub use error::SqliteError;
pub use group::SqliteGroupStore;
pub use journal::SqliteJournal;
pub use outbox::SqliteOutbox;
pub use pin::SqlitePinStore;
pub use schema::SCHEMA_VERSION;
pub use state::SqliteAlertStateStore;
pub use store::{Durability, SqliteOptions, SqliteStore};
pub use token::SqliteTokenStore;
