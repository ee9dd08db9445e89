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
//! - [`sms`]: the [`SmsGuard`](sms::SmsGuard) every SMS-carrying provider applies (the
//!   policy's template with a one-time link, one GSM-7 segment).
//! - [`protect`]: the [`PushProtector`] seam for the encrypted-push route: an MLS
//!   `PrivateMessage` of the responder's team group ([`MlsTeamProtector`]), its state sealed
//!   and stored through a [`GroupStore`] before the ciphertext leaves; [`PagedDevice`] is the
//!   phone's side.
//! - [`facts`]: the capability layer's observations as the policy's fail-closed facts.
//! - [`responder`]: who gets paged.
//! - [`state`]: open alerts kept across restarts ([`state::AlertStateStore`]), sealed under
//!   the application's state key ([`state::seal`], reusable for any state at rest).
//!
//! The crates the pipeline wires are re-exported as modules: [`audit`], [`capability`],
//! [`core`], [`keying`], [`link`], [`policy`].

//! # Example
//! One alert to two responders through the loopback simulator, on memory stores:
//!
//! ```
//! use std::{sync::Arc, time::Duration};
//! use rcsec::audit::{AuditKey, MemoryAuditSink, Pseudonymizer};
//! use rcsec::capability::Resolver;
//! use rcsec::core::{AlertId, ManualClock, Secret, Severity, Timestamp};
//! use rcsec::link::{Keyring, KeyringPolicy, MemoryBlobStore, MemoryTokenStore, OsRandom};
//! use rcsec::policy::Route;
//! use rcsec::{Alert, Orchestrator, OrchestratorConfig};
//! use rcsec_provider_loopback::{LoopbackProvider, Roster};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let clock = ManualClock::new(Timestamp::from_secs(1_800_000_000));
//! let roster = Roster::from_toml(r#"
//!     [[recipient]]
//!     name = "Alice"
//!     number = "+447700900101"
//!     reach = "rcs"
//!     e2ee = "verified"
//!     [[recipient]]
//!     name = "Carol"
//!     number = "+447700900103"
//!     reach = "sms_only"
//! "#)?;
//! let phones = Arc::new(LoopbackProvider::new(&roster, Arc::new(clock.clone()))?);
//! let orchestrator = Orchestrator::builder()
//!     .clock(Arc::new(clock.clone()))
//!     .resolver(Arc::new(Resolver::builder(Arc::new(clock.clone()))
//!         .provider(phones.clone(), Duration::from_secs(2))
//!         .build()?))
//!     .links(
//!         Arc::new(Keyring::generate(KeyringPolicy::default(), rcsec::core::Clock::now(&clock), &OsRandom)?),
//!         Arc::new(MemoryTokenStore::new()),
//!         Arc::new(MemoryBlobStore::new()),
//!     )
//!     .audit(Arc::new(MemoryAuditSink::new()),
//!            Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([7; 32]))))
//!     .provider(phones.clone())
//!     .config(OrchestratorConfig::new("https://alerts.example/".parse()?))
//!     .build()?;
//!
//! let alert = Alert::firing(AlertId::new("c4a1b2d3e4f50617")?, Severity::P1,
//!                           "DiskFull", "db-1 /var at 97%");
//! let report = orchestrator.handle_alert(alert, phones.responders()).await?;
//! let routes: Vec<Route> = report.deliveries.iter().map(|d| d.route).collect();
//! assert_eq!(routes, [Route::RcsE2ee, Route::SmsLink]);
//! assert_eq!(phones.sent().len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Crate features
//! - `test-utils`: the conformance suites for adapters — `outbox_tests!`,
//!   `messaging_provider_tests!`, `ticket_sink_tests!` (module `conformance`) and
//!   `group_store_tests!` (for [`GroupStore`] adapters) here and, through
//!   the re-exported modules, `rcsec::link::token_store_tests!`, `rcsec::link::blob_store_tests!`,
//!   `rcsec::audit::audit_sink_tests!` and `rcsec::capability::pin_store_tests!`. Enable it in
//!   `[dev-dependencies]`.
//!
//! # Embedding
//! An application brings its own adapters: implement [`MessagingProvider`] (and optionally
//! [`TicketSink`], [`PushProtector`]), pick or write stores, and hand them to
//! [`Orchestrator::builder`]. `examples/embed` is a complete small service built only on this
//! crate. Implement the traits with [`macro@async_trait`], re-exported here.
//!
//! # Security
//! - Nothing is sent unaudited: each page's decisions are appended to the audit log before its
//!   messages are enqueued, and a failed append stops the page.
//! - Providers and ticket systems receive only what the policy allows on the route; free text
//!   travels in [`Redacted`](rcsec_core::Redacted) from ingestion on.
//! - The [`Outbox`] holds message content until it is sent: its backend is as sensitive as the
//!   messages. THREAT_MODEL.md maps each threat to the code and tests here.

#![forbid(unsafe_code)]

pub mod alert;
#[cfg(any(test, feature = "test-utils"))]
pub mod conformance;
pub mod facts;
#[doc(hidden)]
pub mod fuzzing;
pub mod ingest;
pub mod journal;
pub mod message;
pub mod orchestrator;
pub mod outbox;
pub mod protect;
pub mod provider;
pub mod responder;
pub mod sms;
pub mod state;
pub mod ticket;

/// The attribute the adapter traits are declared with, so an implementation needs no direct
/// dependency on `async-trait` (`#[rcsec::async_trait] impl MessagingProvider for ...`).
pub use async_trait::async_trait;
pub use rcsec_audit as audit;
pub use rcsec_capability as capability;
pub use rcsec_core as core;
pub use rcsec_keying as keying;
pub use rcsec_link as link;
pub use rcsec_policy as policy;

pub use alert::{Alert, AlertStatus, Artifact};
pub use journal::{JournalError, SplitJournal, StepJournal};
pub use message::{ActionKind, MessageBody, MessageId, OutboundMessage};
pub use orchestrator::RESOLVED_TEXT;
pub use orchestrator::{
    AlertOutcome, AlertReport, Delivery, DeliveryStatus, Orchestrator, OrchestratorBuilder,
    OrchestratorConfig, OrchestratorError, ProviderEvent, ProviderEventKind, QuietHours, RateLimit,
    RecoveryReport, RetryPolicy, SentContent, UnreadableRecord, UtcOffset, UtcOffsetError,
};
pub use outbox::{
    Claim, ClaimToken, MemoryOutbox, Outbox, OutboxError, OutboxState, OutboxStatus, Settlement,
};
pub use protect::{
    GroupStore, GroupStoreError, MemoryGroupStore, MlsTeamProtector, NoPushDevices, PagedDevice,
    ProtectError, PushProtector,
};
pub use provider::{
    DeliveryId, MessagingProvider, ProviderHealth, RecordingProvider, ScriptedFailure, SendError,
};
pub use rcsec_core::Route;
pub use responder::Responder;
pub use ticket::{MemoryTicketSink, TicketError, TicketId, TicketSink};
