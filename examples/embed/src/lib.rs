//! Embedding rcsec in a service: bring your own messaging provider and token store.
//!
//! This crate is what an application outside the workspace would write. It depends only on
//! the `rcsec` facade and supplies two adapters of its own:
//!
//! - [`HttpProvider`]: a [`MessagingProvider`](rcsec::MessagingProvider) that posts each
//!   message as JSON to a vendor's HTTP endpoint (here [`PhoneGateway`], a stand-in the
//!   example starts on `127.0.0.1:0`).
//! - [`ShardedTokenStore`]: a [`TokenStore`](rcsec::link::TokenStore) on sixteen locked
//!   hash maps, built on [`LinkRecord::try_consume`](rcsec::link::LinkRecord::try_consume) so
//!   it keeps the crate's rules without restating them.
//!
//! Our vendor has no capability API, so capability answers come from a fixed table,
//! [`StaticCapabilities`]: every number on RCS, which
//! it reports with end-to-end encryption not affirmed, as a business-messaging vendor honestly
//! must.
//!
//! [`service`] wires them into an [`Orchestrator`]; `src/main.rs` sends one alert through it,
//! and `tests/` runs the trait crates' conformance suites against the adapters.
#![forbid(unsafe_code)]

mod gateway;
mod http;
mod provider;
mod token_store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rcsec::audit::{AuditKey, MemoryAuditSink, Pseudonymizer};
use rcsec::capability::{Reach, Resolver, StaticCapabilities};
use rcsec::core::{Secret, SystemClock};
use rcsec::link::{Keyring, KeyringPolicy, MemoryBlobStore, OsRandom, RandomSource};
use rcsec::{Orchestrator, OrchestratorConfig};

pub use gateway::{PhoneGateway, Received};
pub use provider::HttpProvider;
pub use token_store::ShardedTokenStore;

/// The service's wiring: our provider posting to `vendor`, our token store, memory stores for
/// the rest, and the system clock.
///
/// Returns the orchestrator and its audit sink (to verify or export the log).
///
/// # Errors
/// When the random source fails while generating keys, or the orchestrator is incomplete.
pub fn service(
    vendor: SocketAddr,
) -> Result<(Orchestrator, Arc<MemoryAuditSink>), Box<dyn std::error::Error>> {
    let clock = Arc::new(SystemClock);
    let provider = Arc::new(HttpProvider::new(vendor));
    let resolver = Resolver::builder(clock.clone())
        .provider(
            Arc::new(StaticCapabilities::new(clock.clone(), Reach::Rcs)),
            Duration::from_secs(2),
        )
        .build()?;
    // In production these keys come from your secret manager and survive restarts.
    let mut audit_key = Secret::new([0u8; 32]);
    OsRandom.fill(audit_key.expose_secret_mut())?;
    let keyring = Keyring::generate(
        KeyringPolicy::default(),
        rcsec::core::Clock::now(&SystemClock),
        &OsRandom,
    )?;
    let audit = Arc::new(MemoryAuditSink::new());
    let orchestrator = Orchestrator::builder()
        .clock(clock)
        .resolver(Arc::new(resolver))
        .links(
            Arc::new(keyring),
            Arc::new(ShardedTokenStore::new()),
            Arc::new(MemoryBlobStore::new()),
        )
        .audit(
            audit.clone(),
            Pseudonymizer::new(AuditKey::from_bytes(1, &audit_key)),
        )
        .provider(provider)
        .config(OrchestratorConfig::new(
            "https://links.example.invalid/".parse()?,
        ))
        .build()?;
    Ok((orchestrator, audit))
}
