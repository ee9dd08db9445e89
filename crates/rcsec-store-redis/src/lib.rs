//! Redis storage for rcsec: the hot, shared state of several daemon replicas.
//!
//! - [`RedisCapabilityCache`]: capability snapshots under keyed hashes of the numbers, with
//!   Redis' native TTL (`SET … PX`), shared by every replica.
//! - [`RedisTokenStore`]: an `rcsec_link::TokenStore` whose `consume`, `extend` and
//!   revocations are single Lua scripts, atomic on the server (no GET-then-SET).
//!
//! Both run on a [`RedisConnection`]: a key prefix and one lazily opened multiplexed
//! connection that reconnects after a drop. Failures surface as [`RedisError`] (the trait's
//! `Backend` source for the token store): an operation name and a coarse kind, never a
//! number, a key or a driver message. No TLS is compiled in (no OpenSSL): reach Redis over
//! loopback, a private network or a TLS proxy.
//!
//! ```no_run
//! use std::time::Duration;
//! use rcsec_capability::{Capability, E2ee, Reach, Source};
//! use rcsec_core::{Msisdn, Secret, Timestamp};
//! use rcsec_store_redis::{NumberKeyer, RedisCapabilityCache, RedisConnection};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let conn = RedisConnection::new("redis://127.0.0.1:6379/", "rcsec:")?;
//! let cache = RedisCapabilityCache::new(conn, NumberKeyer::new(&Secret::new([7; 32])));
//! let to = Msisdn::parse("+447700900123")?;
//! let cap = Capability::new(Reach::Rcs, E2ee::Verified, Source::Provider, Timestamp::from_secs(1));
//! cache.put(&to, &cap, Duration::from_secs(300)).await?;
//! assert_eq!(cache.get(&to).await?, Some(cap));
//! # Ok(()) }
//! ```
//!
//! # Crate features
//! - `test-utils`: the [`testing`] helpers (per-test key prefixes from `RCSEC_TEST_REDIS_URL`).
//!
//! # Security
//! Keys are prefixes plus keyed hashes of numbers or random link ids, never a number. Without TLS
//! in this crate, keep Redis on loopback or a private network.
#![forbid(unsafe_code)]

mod cache;
mod conn;
mod error;
#[cfg(feature = "test-utils")]
pub mod testing;
mod token;

pub use cache::RedisCapabilityCache;
pub use conn::RedisConnection;
pub use error::RedisError;
pub use rcsec_capability::NumberKeyer;
pub use token::RedisTokenStore;
