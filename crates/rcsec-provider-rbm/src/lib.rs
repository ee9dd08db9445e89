//! RCS Business Messaging (RBM) for rcsec.
//!
//! - [`RbmProvider`]: the outbound side over the RBM REST API — capability checks
//!   (`GET /v1/phones/{E.164}/capabilities`; 404 = not reachable over RBM), sends
//!   (`POST /v1/phones/{E.164}/agentMessages?messageId=…`, our message id as RBM's idempotency
//!   key; text ≤ 3072 characters; suggested replies with MAC-bound postbacks and an
//!   `openUrlAction`, ≤ 4; `ttl` from the message's expiry) and revokes (`DELETE …/{messageId}`).
//!   Errors map to the pipeline's: 404 → not reachable (fallback), 400/403 → rejected (the
//!   policy shapes the content again or falls back), 409 → already accepted, 429 → rate
//!   limited, 5xx and timeouts → transient. The OAuth bearer comes from a [`TokenSource`]:
//!   [`ServiceAccountTokenSource`] (a service-account key, the JWT-bearer grant, cached) or
//!   [`StaticToken`].
//! - [`webhook`]: the inbound side — `X-Goog-Signature` verification before any parsing,
//!   typed events (delivered, read, suggestion postbacks, TTL expiry, user text), postback
//!   data bound to alert, message and recipient with a MAC, and de-duplication.
//!
//! # Crate features
//! - `client` (default): the REST adapter and its HTTP stack (`rcsec-http`: hyper, rustls).
//!   Without it the crate is only the inbound webhook library.
//!
//! # Security
//! RCS Business Messaging is **not** end-to-end encrypted: the RBM platform reads every
//! message. Everything here reports E2EE as unverified, so the policy only routes redacted
//! text and one-time links over RBM.

#![forbid(unsafe_code)]

#[cfg(feature = "client")]
mod content;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "client")]
mod provider;
#[cfg(feature = "client")]
mod service_account;
#[cfg(feature = "client")]
mod token;
pub mod webhook;

#[cfg(feature = "client")]
pub use content::{ContentError, MAX_SUGGESTIONS, MAX_TEXT_CHARS};
#[cfg(feature = "client")]
pub use provider::{DEFAULT_BASE_URL, RbmConfig, RbmProvider, RevokeError, RevokeOutcome};
#[cfg(feature = "client")]
pub use service_account::{
    RBM_SCOPE, ServiceAccountError, ServiceAccountKey, ServiceAccountTokenSource,
};
#[cfg(feature = "client")]
pub use token::{BearerToken, StaticToken, TokenError, TokenSource};
