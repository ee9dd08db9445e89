//! App-encrypted push: the `encrypted_push` route.
//!
//! The pipeline protects the payload before it gets here (a [`PushProtector`] — today an HPKE
//! envelope to the recipient's enrolled device, later an MLS `PrivateMessage` for the team
//! group); [`PushProvider`] only carries those bytes to a configured push-gateway webhook
//! (`POST` JSON, base64 ciphertext), which wakes the rcsec app on the device. The gateway sees
//! ciphertext, ids and a pseudonymous recipient key only.
//!
//! # Security
//! The adapter refuses anything that is not an encrypted body, and also an "encrypted" body
//! that looks like text (see [`PushProvider`]), so a wiring bug cannot turn it into a plaintext
//! channel. The recipient is named to the gateway by an HMAC of the number under a key shared
//! with device enrolment ([`RecipientKeyer`]), never by the number.
//!
//! [`PushProtector`]: rcsec::PushProtector

#![forbid(unsafe_code)]

mod provider;
mod recipient;

pub use provider::{MAX_CIPHERTEXT_BYTES, MIN_CIPHERTEXT_BYTES, PushConfig, PushProvider};
pub use recipient::RecipientKeyer;
