//! The rcsec pipeline.
//!
//! An alert arrives (an Alertmanager webhook, an API call) and is normalised into an
//! [`Alert`]; for each responder the pipeline classifies the content, resolves the recipient's
//! capability, lets the fallback policy decide the route, mints one-time links for artifacts,
//! protects the message for that route, sends it through a provider with failover, and audits
//! every step. This crate holds that wiring and the traits an application implements to plug
//! in its own providers and stores.
//!
//! # Modules
//! - [`alert`]: the normalised alert every source is translated into.
//! - [`ingest`]: decoders for alert sources (Prometheus Alertmanager webhook v4).
//! - [`message`]: the outbound message, shaped for its route.
//! - [`outbox`]: the durable queue every message passes through before it is sent.

#![forbid(unsafe_code)]

pub mod alert;
#[doc(hidden)]
pub mod fuzzing;
pub mod ingest;
pub mod message;
pub mod outbox;

pub use alert::{Alert, AlertStatus, Artifact};
pub use message::{ActionKind, MessageBody, MessageId, OutboundMessage};
pub use outbox::{Claim, MemoryOutbox, Outbox, OutboxError, OutboxState, OutboxStatus};
