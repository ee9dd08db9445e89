//! Session keying for rcsec: HPKE (RFC 9180) and MLS (RFC 9420, suite 1) building blocks.
//!
//! RCS Business Messaging is not end-to-end encrypted, so rcsec brings its own: device
//! envelopes and the app-encrypted route rest on this crate. Nothing here is invented; every
//! piece is checked against the official test vectors.
//!
//! - [`hpke`]: RFC 9180 with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM,
//!   AES-256-GCM or export-only, in all four modes, single-shot or as sequenced contexts.
//! - [`mls`]: RFC 9420 building blocks for cipher suite 1.
//! - [`device`]: device identities, signed expiring key packages, device-linking chains.
//! - [`group`]: the team's group session (epochs, add/remove/update, Welcomes,
//!   forward-secret application messages, persistent state).
//!
//! ```
//! use rcsec_keying::hpke::{self, Aead};
//!
//! let (sk, pk) = hpke::generate_key_pair()?;
//! let (enc, ct) = hpke::seal_base(Aead::Aes256Gcm, &pk, b"rcsec alert", b"", b"disk full")?;
//! let pt = hpke::open_base(Aead::Aes256Gcm, &enc, &sk, b"rcsec alert", b"", &ct)?;
//! assert_eq!(pt, b"disk full");
//! # Ok::<(), hpke::HpkeError>(())
//! ```
//!
//! Secrets are wiped on drop and never printed by `Debug`; the crate has no `unsafe`.
//!
//! # Crate features
//! None.
//!
//! # Security
//! - Conformance, not invention: HPKE and every MLS building block pass the official vectors,
//!   run by `rcsec vectors` (`examples/rcsec-cli`) as well as by `cargo test`.
//! - Private keys and secrets zeroize on drop and print nothing; opening failures are opaque.
//! - Decoders take untrusted bytes and return typed errors, never panic; `fuzz/` has a target
//!   for each (`hpke_open`, `mls_framing_decode`).
//! - What the group session guarantees for lost, removed and compromised devices, and what it
//!   does not, is in THREAT_MODEL.md §7.

#![forbid(unsafe_code)]

pub mod device;
pub mod group;
pub mod hpke;
pub mod mls;

/// Entry points for the cargo-fuzz targets in `fuzz/` (not a stable API); each function states
/// the property its target checks, and `tests/fuzz_corpus.rs` replays the seeds through it.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::hpke::fuzzing::hpke_open;
    pub use crate::mls::fuzzing::{mls_framing_decode, mls_tree_decode};
}
