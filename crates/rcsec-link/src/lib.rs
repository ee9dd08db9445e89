//! Ephemeral one-time links: an incident artifact that one recipient can open once, within
//! minutes, without the server ever holding the plaintext.
//!
//! - **Tokens** ([`Keyring::mint`], [`Keyring::verify`]): 64 URL-safe characters carrying a
//!   version, key id, random 128-bit link id, expiry and lifetime, an IP binding code, keyed
//!   commitments to the recipient and client prefix, and a 128-bit HMAC-SHA256 tag. A forged,
//!   tampered, expired or misbound token is refused *without touching storage*, with a typed
//!   [`RejectReason`] (`malformed`, `unknown_key`, `bad_signature`, `expired`,
//!   `not_yet_valid`, `binding_mismatch`, and from the store `consumed`, `revoked`).
//! - **Keyring** ([`Keyring`]): keys by id, rotation with a verify-only grace window of
//!   `max_ttl`, retirement that revokes at once; stored in a 0600 file replaced atomically.
//! - **Stores** ([`TokenStore`], [`BlobStore`]): async adapter traits; one-time-ness lives in
//!   the atomic [`TokenStore::consume`]. In-memory implementations and, behind the
//!   `test-utils` feature, conformance suites (`token_store_tests!`, `blob_store_tests!`).
//! - **Sealed payloads** ([`sealed`]): client-side AES-256-GCM in 64 KiB records (STREAM),
//!   constant memory, truncation/reordering detected; the key travels in the URL fragment or
//!   HPKE-sealed to a device.
//! - **Gateway** ([`Gateway`]): preview-safe redemption (preview consumes nothing, confirm
//!   consumes atomically) and extended access by a one-word code.
//!
//! ```
//! # tokio_test_shim::run(async {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use rcsec_core::{AlertId, Msisdn, Secret, Timestamp};
//! use rcsec_link::sealed::{SealContext, open_to_vec};
//! use rcsec_link::{Gateway, IssueRequest, Keyring, KeyringPolicy, LinkState, MemoryBlobStore,
//!                  MemoryTokenStore, OsRandom, RecipientPseudonym, RedeemContext};
//!
//! let now = Timestamp::from_secs(1_800_000_000);
//! let ring = Keyring::generate(KeyringPolicy::default(), now, &OsRandom)?;
//! let gw = Gateway::new(Arc::new(ring), Arc::new(MemoryTokenStore::new()),
//!                       Arc::new(MemoryBlobStore::new()), Arc::new(OsRandom));
//! let alice = Msisdn::parse("+15550109999")?;
//! let pseudonym = RecipientPseudonym::keyed(&Secret::new([1; 32]), &alice);
//! let req = IssueRequest::new(AlertId::new("a1b2")?, &alice, pseudonym,
//!                             Duration::from_secs(900), "text/plain");
//! let link = gw.issue(req, b"heap dump", now).await?;
//!
//! let ctx = RedeemContext::at(now);
//! let token = link.token.as_str();
//! assert!(matches!(gw.preview(token, &ctx).await?.state, LinkState::Valid { .. }));
//! let got = gw.confirm(token, &ctx).await?;
//! let plain = open_to_vec(&link.key, &SealContext::new(&link.link_id, "text/plain"),
//!                         &got.ciphertext)?;
//! assert_eq!(plain, b"heap dump");
//! assert_eq!(gw.confirm(token, &ctx).await.unwrap_err().reason().unwrap().reason_code(),
//!            "consumed");
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! # mod tokio_test_shim { pub fn run<F: std::future::Future>(f: F) -> F::Output {
//! #   tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f) } }
//! ```
//!
//! # Crate features
//! - `test-utils`: the store conformance suites (pulls in tokio).
//!
//! # Security
//! - The server side never holds a payload key: keys travel in the URL fragment or sealed to a
//!   device. On routes without end-to-end encryption the fragment crosses the platform with the
//!   link, so one-time use turns interception into detection, not prevention (THREAT_MODEL.md
//!   §5).
//! - One-time-ness is [`TokenStore::consume`]'s atomicity: a store adapter that is not atomic
//!   across processes breaks it. Run the conformance suite.
//! - Token verification is constant-time on the tag and reads no storage before it succeeds.

#![forbid(unsafe_code)]

pub mod extended_access;
#[doc(hidden)]
pub mod fuzzing;
mod issue;
mod keyring;
mod random_id;
mod redeem;
mod rng;
pub mod sealed;
pub mod store;
mod token;

/// The store conformance suites, re-exported at the path the macros use.
#[cfg(feature = "test-utils")]
pub use store::conformance;

pub use extended_access::{CodeDigest, ExtendedAccessPolicy, ExtensionDenied, VerificationCode};
pub use issue::{IssueRequest, IssuedLink};
pub use keyring::{KeyInfo, KeyState, Keyring, KeyringError, KeyringFileError, KeyringPolicy};
pub use redeem::{
    ExtendedLink, Gateway, LinkState, Preview, RedeemContext, RedeemError, Redeemed,
    user_agent_hash,
};
pub use rng::{OsRandom, RandomError, RandomSource};
pub use sealed::PayloadKey;
pub use store::{
    BlobId, BlobStore, ConsumeOutcome, ExtendOutcome, ExtensionGrant, LinkBinding, LinkRecord,
    MemoryBlobStore, MemoryTokenStore, RecipientPseudonym, StoreError, TakeOutcome, TokenStore,
};
pub use token::{
    Claims, IpBinding, IpPrefix, IpPrefixError, KeyId, LinkId, LinkIdError, LinkToken,
    MAX_LIFETIME_SECS, MintError, MintRequest, MintedToken, RejectReason, TOKEN_CHARS,
    VerifiedToken, VerifyContext, VerifyError,
};
