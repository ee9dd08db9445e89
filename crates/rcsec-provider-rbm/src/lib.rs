//! RCS Business Messaging (RBM) for rcsec.
//!
//! - [`webhook`]: the inbound side — `X-Goog-Signature` verification before any parsing,
//!   typed events (delivered, read, suggestion postbacks, TTL expiry, user text), postback
//!   data bound to alert, message and recipient with a MAC, and de-duplication.
//!
//! # Security
//! RCS Business Messaging is **not** end-to-end encrypted: the RBM platform reads every
//! message. Everything here reports E2EE as unverified, so the policy only routes redacted
//! text and one-time links over RBM.

#![forbid(unsafe_code)]

#[doc(hidden)]
pub mod fuzzing;
pub mod webhook;
