//! PostgreSQL storage for rcsec, for several daemon replicas sharing one database.
//!
//! One [`PgDatabase`] (a `deadpool` pool of `tokio-postgres` connections, optionally confined
//! to a schema) backs every store:
//!
//! | Store | Trait | Concurrency |
//! |---|---|---|
//! | [`PgTokenStore`] | `rcsec_link::TokenStore` | `consume` is one conditional `UPDATE … RETURNING` |
//! | [`PgBlobStore`] | `rcsec_link::BlobStore` | `take` spends a read and deletes the last in one transaction |
//! | [`PgAuditSink`] | `rcsec_audit::AuditSink` | appends serialize on a `FOR UPDATE` head row: one chain |
//! | [`PgPinStore`] | `rcsec_capability::PinStore` | `INSERT … ON CONFLICT DO NOTHING` |
//! | [`PgOutbox`] | `rcsec::Outbox` | claims `FOR UPDATE SKIP LOCKED` with a lease |
//!
//! [`sweep_expired`] deletes expired links and blobs. Migrations are embedded and versioned
//! (table `schema_version`), applied on first use under an advisory lock, so replicas that
//! start together do not race ([`PgDatabase`] explains why they are lazy).
//!
//! Errors surface as each trait's `Backend` variant with a [`PgError`] source that names the
//! operation and the SQLSTATE only: no number, no message content, no driver message.
//! No TLS is compiled in: connect over a local socket, a private network, or a TLS proxy.
//!
//! ```no_run
//! use rcsec_link::TokenStore as _;
//! use rcsec_store_postgres::{PgDatabase, PgOptions, PgTokenStore};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let db = PgDatabase::new(PgOptions::new("postgres://rcsec@127.0.0.1/rcsec").schema("rcsec"))?;
//! db.migrate().await?; // optional: the first operation would do it
//! let links = PgTokenStore::new(db.clone());
//! let found = links.get(&rcsec_link::LinkId::from_bytes([0; 16])).await?;
//! assert!(found.is_none());
//! # Ok(()) }
//! ```
//!
//! # Crate features
//! - `test-utils`: the `testing` module, helpers for per-test schemas from
//!   `RCSEC_TEST_POSTGRES_URL`.
//!
//! # Security
//! The database holds the outbox (message content until sent) beside pseudonymized records;
//! restrict it like a secret store. Pins are keyed by a keyed hash of the number.
#![forbid(unsafe_code)]

mod audit;
mod blob;
mod convert;
mod db;
mod error;
mod migrate;
mod outbox;
mod pin;
mod state;
mod sweep;
#[cfg(feature = "test-utils")]
pub mod testing;
mod token;

pub use audit::PgAuditSink;
pub use blob::PgBlobStore;
pub use db::{PgDatabase, PgOptions};
pub use error::{PgError, SqlState};
pub use migrate::SCHEMA_VERSION;
pub use outbox::PgOutbox;
pub use pin::PgPinStore;
pub use rcsec_capability::NumberKeyer;
pub use state::PgAlertStateStore;
pub use sweep::{Swept, sweep_expired};
pub use token::PgTokenStore;
