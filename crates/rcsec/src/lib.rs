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
//! - [`orchestrator`]: the [`Orchestrator`] wiring classify → capability → decide → links →
//!   protect → outbox → send (with failover) → audit, plus escalation, dedup, rate limits
//!   and quiet hours.
//! - [`provider`]: the [`MessagingProvider`] seam and [`RecordingProvider`] for tests.
//! - [`ticket`]: the [`TicketSink`] seam and [`MemoryTicketSink`].
//! - [`protect`]: the [`PushProtector`] seam for the encrypted-push route; today an HPKE
//!   envelope to the recipient's enrolled device ([`HpkeDeviceEnvelope`]), to be replaced by
//!   the MLS group session.
//! - [`routes_map`]: the one mapping between the capability and policy vocabularies.
//! - [`responder`]: who gets paged.
//!
//! The crates the pipeline wires are re-exported as modules: [`audit`], [`capability`],
//! [`core`], [`keying`], [`link`], [`policy`].

#![forbid(unsafe_code)]

pub mod alert;
#[doc(hidden)]
pub mod fuzzing;
pub mod ingest;
pub mod message;
pub mod orchestrator;
pub mod outbox;
pub mod protect;
pub mod provider;
pub mod responder;
pub mod routes_map;
pub mod ticket;

pub use rcsec_audit as audit;
pub use rcsec_capability as capability;
pub use rcsec_core as core;
pub use rcsec_keying as keying;
pub use rcsec_link as link;
pub use rcsec_policy as policy;

pub use alert::{Alert, AlertStatus, Artifact};
pub use message::{ActionKind, MessageBody, MessageId, OutboundMessage};
pub use orchestrator::{
    AlertOutcome, AlertReport, Delivery, DeliveryStatus, Orchestrator, OrchestratorBuilder,
    OrchestratorConfig, OrchestratorError, ProviderEvent, ProviderEventKind, QuietHours, RateLimit,
    RetryPolicy, SentContent,
};
pub use outbox::{Claim, MemoryOutbox, Outbox, OutboxError, OutboxState, OutboxStatus};
pub use protect::{HpkeDeviceEnvelope, ProtectError, PushProtector};
pub use provider::{
    DeliveryId, MessagingProvider, ProviderHealth, RecordingProvider, ScriptedFailure, SendError,
};
pub use responder::Responder;
pub use ticket::{MemoryTicketSink, TicketError, TicketId, TicketSink};
