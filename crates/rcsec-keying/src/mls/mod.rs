//! MLS (RFC 9420) building blocks for cipher suite 1,
//! `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519`.
//!
//! These are the pieces a group session is built from, each checked against the official
//! vectors of mlswg/mls-implementations (see [`vectors`]):
//!
//! - [`codec`]: the TLS presentation language with bounded lengths and typed errors.
//! - [`tree_math`]: array-tree arithmetic.
//! - [`crypto`]: RefHash, ExpandWithLabel, DeriveSecret, DeriveTreeSecret,
//!   SignWithLabel/VerifyWithLabel (Ed25519), EncryptWithLabel/DecryptWithLabel (HPKE).
//! - [`key_schedule`] and [`psk`]: epochs chained through `init_secret`, PSK injection,
//!   exporter, confirmation tags.
//! - [`secret_tree`]: per-leaf handshake and application ratchets that erase what they used
//!   and bound out-of-order and forward jumps.
//! - [`framing`]: FramedContent, PublicMessage and PrivateMessage protect/unprotect
//!   (signatures, membership tags, sender-data encryption, reuse guard).
//! - [`transcript`], [`group_context`], [`key_package`] and [`welcome`].
//!
//! ```
//! use rcsec_core::Secret;
//! use rcsec_keying::mls::crypto::SignatureSecretKey;
//! use rcsec_keying::mls::framing::{Content, FramedContent, PrivateMessage, Sender};
//! use rcsec_keying::mls::group_context::GroupContext;
//! use rcsec_keying::mls::key_schedule::KeySchedule;
//! use rcsec_keying::mls::secret_tree::SecretTreeConfig;
//! use rcsec_keying::mls::tree_math::{LeafIndex, TreeSize};
//!
//! // Two members derive the same epoch (here from a shared init secret).
//! let gc = GroupContext::new(b"on-call".to_vec(), 1, vec![0; 32], vec![0; 32]);
//! let (_, epoch) = KeySchedule::new(Secret::new([1; 32])).advance(&[0; 32], &[0; 32], &gc)?;
//! let size = TreeSize::new(2).ok_or("size")?;
//! let mut alice_tree = epoch.secret_tree(size, SecretTreeConfig::default());
//! let mut bob_tree = epoch.secret_tree(size, SecretTreeConfig::default());
//!
//! let alice = SignatureSecretKey::generate()?;
//! let content = FramedContent {
//!     group_id: gc.group_id.clone(),
//!     epoch: gc.epoch,
//!     sender: Sender::Member(LeafIndex(0)),
//!     authenticated_data: Vec::new(),
//!     content: Content::Application(b"disk full on db-1".to_vec()),
//! };
//! let sds = epoch.sender_data_secret();
//! let msg = PrivateMessage::protect(&content, None, &gc, &alice, sds, &mut alice_tree, 0)?;
//!
//! let alice_pub = alice.public_key();
//! let got = msg.unprotect(&gc, sds, &mut bob_tree, |_| Some(alice_pub))?;
//! assert_eq!(got.content, content);
//! // The key was consumed: a replay fails.
//! assert!(msg.unprotect(&gc, sds, &mut bob_tree, |_| Some(alice_pub)).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Security
//! Secrets live in zeroizing wrappers and never appear in `Debug`; MACs and confirmation
//! tags are compared in constant time; decoding never panics (fuzzed as
//! `mls_framing_decode`).

pub mod codec;
pub mod crypto;
pub mod framing;
#[doc(hidden)]
pub mod fuzzing;
pub mod group_context;
pub mod key_package;
pub mod key_schedule;
pub mod psk;
pub mod secret_tree;
pub mod state;
pub mod transcript;
pub mod tree;
pub mod tree_math;
pub mod treekem;
pub mod vectors;
pub mod welcome;
