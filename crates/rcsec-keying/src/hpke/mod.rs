//! Hybrid Public Key Encryption (RFC 9180), built on x25519-dalek, HKDF-SHA256 and AES-GCM.
//!
//! One KEM and one KDF, the ones MLS cipher suite 1 and most deployments use: DHKEM(X25519,
//! HKDF-SHA256) and HKDF-SHA256. The AEAD is chosen per call ([`Aead`]): AES-128-GCM,
//! AES-256-GCM or export-only. All four modes are supported ([`SenderMode`],
//! [`ReceiverMode`]), as single-shot [`seal`]/[`open`] or as contexts that seal many messages
//! in order ([`SenderContext`], [`ReceiverContext`]) and [`export`](SenderContext::export)
//! secrets. Every entry of the RFC's test vectors for this suite passes ([`vectors`]).
//!
//! ```
//! use rcsec_keying::hpke::{self, Aead};
//!
//! let (sk, pk) = hpke::generate_key_pair()?;
//! let (enc, ct) = hpke::seal_base(Aead::Aes128Gcm, &pk, b"info", b"aad", b"hello")?;
//! let pt = hpke::open_base(Aead::Aes128Gcm, &enc, &sk, b"info", b"aad", &ct)?;
//! assert_eq!(pt, b"hello");
//! # Ok::<(), hpke::HpkeError>(())
//! ```
//!
//! A context in auth-psk mode, which proves to the recipient both the sender's key and the psk:
//!
//! ```
//! use rcsec_keying::hpke::{self, Aead, Psk, ReceiverMode, SenderMode};
//!
//! let (sk_r, pk_r) = hpke::generate_key_pair()?;
//! let (sk_s, pk_s) = hpke::generate_key_pair()?;
//! let psk = Psk::new(b"32 bytes of high-entropy secret!", b"psk-2026-11");
//! let (enc, mut sender) =
//!     hpke::setup_sender(Aead::Aes256Gcm, &pk_r, b"", SenderMode::AuthPsk(psk, &sk_s))?;
//! let mut receiver =
//!     hpke::setup_receiver(Aead::Aes256Gcm, &enc, &sk_r, b"", ReceiverMode::AuthPsk(psk, &pk_s))?;
//! for msg in [&b"first"[..], b"second"] {
//!     let ct = sender.seal(b"", msg)?;
//!     assert_eq!(receiver.open(b"", &ct)?, msg);
//! }
//! assert_eq!(
//!     sender.export(b"ctx", 32)?.expose_secret(),
//!     receiver.export(b"ctx", 32)?.expose_secret(),
//! );
//! # Ok::<(), hpke::HpkeError>(())
//! ```
//!
//! # Security
//! Private keys, shared secrets, AEAD key schedules and exporter secrets are wiped when dropped
//! and never appear in `Debug` output. Decryption failures are one opaque error. An all-zero
//! X25519 result (a low-order public key) aborts with [`HpkeError::ZeroSharedSecret`], as RFC
//! 9180 §7.1.4 requires.

mod aead;
mod context;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod kdf;
mod kem;
mod schedule;
mod setup;
pub mod vectors;

pub use aead::{Aead, NONCE_LEN, TAG_LEN};
pub use context::{ReceiverContext, SenderContext};
pub use error::HpkeError;
pub use kem::{KEY_LEN, PrivateKey, PublicKey, derive_key_pair, generate_key_pair};
pub use schedule::{Mode, Psk};
pub use setup::{
    ReceiverMode, SenderMode, open, open_base, seal, seal_base, setup_receiver, setup_sender,
};
