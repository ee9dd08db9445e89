//! A loopback provider for rcsec: a roster of simulated phones that answers capability queries
//! and "delivers" messages in process.
//!
//! It is what the demo, the pipeline's tests and the benches run against. One
//! [`LoopbackProvider`] implements both [`rcsec_capability::CapabilityProvider`] (answers from
//! the roster) and [`rcsec::MessagingProvider`] (records every accepted message once per
//! idempotency key). A test can flip a number's capability ([`LoopbackProvider::set_capability`],
//! to show downgrade detection) and make the next sends fail
//! ([`LoopbackProvider::fail_next`], to show retries and failover).
//!
//! Roster entries with `simulated_device = true` play a phone with the rcsec app: a device
//! identity and key package generated at load, enrolled in an MLS team group through
//! [`LoopbackProvider::enroll_devices`] (or [`LoopbackProvider::team_protector`], which also
//! builds the orchestrator's protector), so it can open encrypted-push pages the way the
//! recipient's app would ([`LoopbackProvider::open_push`]).
//!
//! ```
//! use rcsec_provider_loopback::Roster;
//!
//! let roster = Roster::from_toml(r#"
//!     [[recipient]]
//!     name = "Alice"
//!     number = "+447700900101"
//!     reach = "rcs"
//!     e2ee = "verified"
//!     carrier = "ee"
//! "#)?;
//! assert_eq!(roster.entries().len(), 1);
//! # Ok::<(), rcsec_provider_loopback::RosterError>(())
//! ```
//!
//! # Crate features
//! None.
//!
//! # Security
//! A simulator: it keeps simulated phones' group state (their secrets) in process memory to play the phone's
//! part. Never configure it as a production provider.

#![forbid(unsafe_code)]

mod provider;
mod roster;

pub use provider::{LoopbackFailure, LoopbackProvider, SentRecord};
pub use roster::{Roster, RosterEntry, RosterError};
