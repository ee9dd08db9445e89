//! The Orchestrator: one alert in, one policy-checked, audited delivery per responder out.
//!
//! Per responder: quiet hours → rate limit → resolve capability → decide → mint links (the
//! alert details and each artifact, sealed per recipient, ciphertext in the `BlobStore`, token
//! bound to the recipient) → protect for the route → store in the outbox → send through the
//! provider list with failover → audit. Provider events, acknowledgement timeouts, retries,
//! quiet-hour releases and expiry are driven by [`Orchestrator::on_event`] and
//! [`Orchestrator::tick`]; all time comes from the injected [`Clock`].
//!
//! # Restarts
//! Alert state (escalation position, acknowledgement, ticket, who was paged, links, message
//! metadata, dedup times, quiet-hour holds) lives in memory and, when the builder is given a
//! [`state_store`](OrchestratorBuilder::state_store), is written through to it as one sealed
//! record per alert per step. [`Orchestrator::recover`] loads it after a restart, so escalation,
//! acknowledgements, dedup, resolution and held pages carry on where the last process stopped.
//! The per-recipient rate limiter stays in memory (see [`crate::state`]).

mod audit;
mod build;
mod dedup;
mod deliver;
mod drain;
mod durable;
mod escalation;
mod events;
mod intake;
mod overrides;
mod quiet_hours;
mod rate_limit;
mod report;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use rcsec_audit::{AuditSink, Pseudonymizer};
use rcsec_capability::Resolver;
use rcsec_core::{AlertId, Clock, Msisdn, Secret, Timestamp};
use rcsec_link::{Gateway, LinkId, RandomSource, TokenStore};
use rcsec_policy::{Classification, Classifier, FallbackReason, Policy};

pub use build::{BuildError, OrchestratorBuilder, OrchestratorConfig, RetryPolicy};
pub use durable::{RecoveryReport, UnreadableRecord};
pub use events::{ProviderEvent, ProviderEventKind};
pub use intake::RESOLVED_TEXT;
pub use quiet_hours::{QuietHours, UtcOffset, UtcOffsetError};
pub use rate_limit::RateLimit;
pub use report::{
    AlertOutcome, AlertReport, Delivery, DeliveryStatus, EscalationView, IssuedLinkInfo,
    SentContent, TickReport,
};

use crate::alert::Alert;
use crate::journal::{JournalError, StepJournal};
use crate::message::MessageId;
use crate::outbox::Outbox;
use crate::protect::PushProtector;
use crate::provider::MessagingProvider;
use crate::responder::Responder;
use crate::ticket::{TicketError, TicketId, TicketSink};
use dedup::Dedup;
use rate_limit::RateLimiter;

/// Why the pipeline could not complete a step. Never carries numbers or content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrchestratorError {
    /// The outbox failed.
    #[error("outbox failed")]
    Outbox(#[from] crate::outbox::OutboxError),
    /// The audit sink failed: the step was not taken (fail closed).
    #[error("audit sink failed")]
    Audit(#[from] rcsec_audit::SinkError),
    /// An audit event could not be built (an internal labelling bug).
    #[error("audit event could not be built")]
    AuditEvent(#[from] rcsec_audit::EventError),
    /// Issuing or revoking a link failed.
    #[error("secure link operation failed")]
    Link(#[from] rcsec_link::RedeemError),
    /// The ticket system failed.
    #[error("ticket system failed")]
    Ticket(#[from] TicketError),
    /// The push payload could not be protected.
    #[error("push payload could not be protected")]
    Protect(#[from] crate::protect::ProtectError),
    /// The alert is not known to this orchestrator.
    #[error("unknown alert")]
    UnknownAlert,
    /// A "send anyway" override was refused by the policy.
    #[error("override refused: {0}")]
    Override(#[from] rcsec_policy::danger::OverrideError),
    /// A provider event named a message this orchestrator did not send.
    #[error("event for an unknown message")]
    UnknownMessage,
    /// Durable alert state could not be written or read; the step was not completed.
    #[error("alert state failed")]
    State(#[from] crate::state::StateError),
    /// A state the code rules out; a bug.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl From<JournalError> for OrchestratorError {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::Audit(e) => Self::Audit(e),
            JournalError::Outbox(e) => Self::Outbox(e),
        }
    }
}

/// What the orchestrator remembers about one message it enqueued.
#[derive(Debug, Clone)]
pub(crate) struct MessageMeta {
    pub(crate) alert: AlertId,
    pub(crate) responder: Responder,
    pub(crate) fallback: Option<FallbackReason>,
    /// Escalation tag of the page (`p0.1`), or `r` for the resolution follow-up.
    pub(crate) tag: String,
    /// How many times this page already fell back after `not_reachable`.
    pub(crate) fallbacks: u8,
}

/// What the orchestrator remembers about one alert.
#[derive(Debug)]
pub(crate) struct AlertState {
    pub(crate) alert: Arc<Alert>,
    pub(crate) text: Arc<String>,
    pub(crate) classification: Arc<Classification>,
    /// Responders by escalation step, in step order.
    pub(crate) chain: Vec<Vec<Responder>>,
    pub(crate) step: usize,
    pub(crate) round: u32,
    pub(crate) deadline: Option<Timestamp>,
    pub(crate) acked: bool,
    pub(crate) resolved: bool,
    pub(crate) ticket: Option<TicketId>,
    /// Responders paged, with the route used (for the resolution follow-up).
    pub(crate) paged: Vec<(Responder, rcsec_core::Route)>,
    pub(crate) links: Vec<LinkId>,
    /// Every message sent for this alert (keys of `State::messages`), so its durable record
    /// carries what a provider event after a restart needs.
    pub(crate) messages: Vec<MessageId>,
}

/// A page held by quiet hours.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub(crate) alert: AlertId,
    pub(crate) responder: Responder,
    pub(crate) tag: String,
    pub(crate) until: Timestamp,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) alerts: HashMap<AlertId, AlertState>,
    pub(crate) messages: HashMap<MessageId, MessageMeta>,
    pub(crate) dedup: Dedup,
    pub(crate) rate: RateLimiter,
    pub(crate) held: Vec<Held>,
}

/// The pipeline. Build it with [`Orchestrator::builder`]; share it behind an `Arc`.
///
/// # Example
/// See `tests/api/` and `examples/rcsec-demo` for a complete wiring with the loopback provider.
#[derive(Debug)]
pub struct Orchestrator {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policy: Policy,
    pub(crate) classifier: Arc<Classifier>,
    pub(crate) resolver: Arc<Resolver>,
    pub(crate) gateway: Gateway,
    pub(crate) tokens: Arc<dyn TokenStore>,
    pub(crate) audit_sink: Arc<dyn AuditSink>,
    pub(crate) pseudonymizer: Pseudonymizer,
    pub(crate) outbox: Arc<dyn Outbox>,
    /// Writes each step's audit events and outbox change (over `audit_sink` and `outbox`).
    pub(crate) journal: Arc<dyn StepJournal>,
    pub(crate) providers: Vec<Arc<dyn MessagingProvider>>,
    pub(crate) tickets: Arc<dyn TicketSink>,
    pub(crate) protector: Arc<dyn PushProtector>,
    pub(crate) link_pseudonym_key: Secret<[u8; 32]>,
    pub(crate) rng: Arc<dyn RandomSource>,
    pub(crate) config: OrchestratorConfig,
    pub(crate) state: Mutex<State>,
    /// Where alert state is written through to, when the application configured a store.
    pub(crate) durable: Option<durable::Durable>,
}

impl Orchestrator {
    /// Starts building an orchestrator.
    pub fn builder() -> OrchestratorBuilder {
        OrchestratorBuilder::default()
    }

    /// The link gateway (for serving `GET /l/{token}` next to the pipeline).
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// The capability resolver in use.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// The configuration in use.
    pub fn config(&self) -> &OrchestratorConfig {
        &self.config
    }

    /// Where the escalation for `alert` stands, if the alert is known.
    pub fn escalation(&self, alert: &AlertId) -> Option<EscalationView> {
        let state = self.lock().ok()?;
        state.alerts.get(alert).map(|a| EscalationView {
            step: a.step,
            round: a.round,
            acknowledged: a.acked,
            resolved: a.resolved,
            next_escalation: a.deadline,
            ticket: a.ticket.clone(),
        })
    }

    /// Whether `number` has a page for `alert` held by quiet hours.
    pub fn is_held(&self, alert: &AlertId, number: &Msisdn) -> bool {
        self.lock().is_ok_and(|s| {
            s.held
                .iter()
                .any(|h| &h.alert == alert && &h.responder.number == number)
        })
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, State>, OrchestratorError> {
        self.state
            .lock()
            .map_err(|_| OrchestratorError::Internal("orchestrator state lock poisoned"))
    }
}
