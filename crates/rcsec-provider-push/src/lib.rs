//! App-encrypted push: the `encrypted_push` route.
//!
//! The pipeline protects the payload before it gets here: the body is an RFC 9420 `MLSMessage`
//! carrying a `PrivateMessage` of the recipient's team group, made by
//! [`MlsTeamProtector`] (the orchestrator is a member of the group; the recipient's phones
//! are the others). [`PushProvider`] only carries those bytes to a configured push-gateway
//! webhook (`POST` JSON, base64 ciphertext), which wakes the rcsec app on the device; the app
//! opens it with [`PagedDevice::open`], which also checks that it was sent for this alert and
//! message and by the orchestrator. The gateway sees ciphertext, ids and a pseudonymous
//! recipient key only.
//!
//! # Security
//! The adapter refuses anything that is not an encrypted body, and also an "encrypted" body
//! that looks like text (see [`PushProvider`]), so a wiring bug cannot turn it into a plaintext
//! channel. The recipient is named to the gateway by an HMAC of the number under a key shared
//! with device enrolment ([`RecipientKeyer`]), never by the number.
//!
//! [`MlsTeamProtector`]: rcsec::MlsTeamProtector
//! [`PagedDevice::open`]: rcsec::PagedDevice::open

#![forbid(unsafe_code)]

mod provider;
mod recipient;

pub use provider::{MAX_CIPHERTEXT_BYTES, MIN_CIPHERTEXT_BYTES, PushConfig, PushProvider};
pub use recipient::RecipientKeyer;
