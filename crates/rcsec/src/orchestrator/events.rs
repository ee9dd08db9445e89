//! Provider events: delivery and read receipts, one-tap actions and replies.
//!
//! The provider adapter authenticates its webhook and maps it to a [`ProviderEvent`] naming
//! the message (the idempotency key it was sent with); actions are accepted only for messages
//! this orchestrator sent, and are attributed to that message's recipient.

use rcsec_audit::{EventKind, UserAction};
use rcsec_capability::{DeliveryEvent, E2ee, ObservationOutcome};
use rcsec_core::Redacted;
use rcsec_policy::redact;

use super::report::Delivery;
use super::{Orchestrator, OrchestratorError};
use crate::message::{ActionKind, MessageId};

/// What a provider reported.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ProviderEventKind {
    /// Delivered to the device, with the E2EE state the provider observed.
    Delivered {
        /// E2EE as observed on delivery.
        e2ee: E2ee,
    },
    /// Read by the recipient.
    Read,
    /// A one-tap action (suggested reply / push action button).
    Action(ActionKind),
    /// A free-text reply (redacted before it reaches the ticket).
    Reply(Redacted<String>),
}

/// One event about one message.
#[derive(Debug, Clone)]
pub struct ProviderEvent {
    /// The message (its idempotency key).
    pub message: MessageId,
    /// What happened.
    pub kind: ProviderEventKind,
}

impl ProviderEvent {
    /// An event of `kind` about `message`.
    pub fn new(message: MessageId, kind: ProviderEventKind) -> Self {
        Self { message, kind }
    }
}

impl Orchestrator {
    /// Applies a provider event: audit, ticket, escalation and capability updates. Returns the
    /// pages an `escalate` action caused (empty otherwise).
    ///
    /// # Errors
    /// [`OrchestratorError::UnknownMessage`] for a message this orchestrator did not send;
    /// store, audit and ticket failures.
    pub async fn on_event(&self, event: ProviderEvent) -> Result<Vec<Delivery>, OrchestratorError> {
        let now = self.now();
        let (meta, ticket) = {
            let state = self.lock()?;
            let meta = state
                .messages
                .get(&event.message)
                .cloned()
                .ok_or(OrchestratorError::UnknownMessage)?;
            let ticket = state.alerts.get(&meta.alert).and_then(|a| a.ticket.clone());
            (meta, ticket)
        };
        let alert = meta.alert.clone();
        let number = &meta.responder.number;
        let masked = number.masked();
        match event.kind {
            ProviderEventKind::Delivered { e2ee } => {
                let e = self.event(EventKind::Delivered, now);
                self.record(e.alert(alert.clone()).recipient(number))
                    .await?;
                let outcome = self
                    .resolver
                    .on_delivery_event(number, DeliveryEvent::Delivered { e2ee })
                    .await;
                if let ObservationOutcome::Applied(r) = outcome
                    && r.downgrade().is_some()
                {
                    let e = self.event(EventKind::DowngradeDetected, now);
                    self.record(e.alert(alert).recipient(number).outcome(e2ee.as_str()))
                        .await?;
                }
                Ok(Vec::new())
            }
            ProviderEventKind::Read => {
                let e = self.event(EventKind::Read, now);
                self.record(e.alert(alert).recipient(number)).await?;
                Ok(Vec::new())
            }
            ProviderEventKind::Action(action) => {
                let user_action = match action {
                    ActionKind::Acknowledge => UserAction::Ack,
                    ActionKind::TakeOwnership => UserAction::TakeOwnership,
                    ActionKind::Escalate => UserAction::Escalate,
                };
                let e = self.event(EventKind::Action(user_action), now);
                self.record(e.alert(alert.clone()).recipient(number))
                    .await?;
                if action == ActionKind::Escalate {
                    return self.escalate(&alert, "requested").await;
                }
                if let Some(a) = self.lock()?.alerts.get_mut(&alert) {
                    a.acked = true;
                    a.deadline = None;
                }
                self.persist(std::slice::from_ref(&alert)).await?;
                if let Some(t) = &ticket {
                    if action == ActionKind::TakeOwnership {
                        self.tickets.assign(t, &masked).await?;
                    } else {
                        self.tickets
                            .note(t, &format!("acknowledged by {masked}"))
                            .await?;
                    }
                    let e = self.event(EventKind::TicketUpdated, now);
                    self.record(e.alert(alert).recipient(number).outcome(action.as_str()))
                        .await?;
                }
                Ok(Vec::new())
            }
            ProviderEventKind::Reply(text) => {
                if let Some(t) = &ticket {
                    let text = text.expose();
                    let cleaned = redact(text, &self.classifier.classify(text));
                    self.tickets
                        .note(t, &format!("reply from {masked}: {cleaned}"))
                        .await?;
                    let e = self.event(EventKind::TicketUpdated, now);
                    self.record(e.alert(alert).recipient(number).outcome("reply"))
                        .await?;
                }
                Ok(Vec::new())
            }
        }
    }
}
