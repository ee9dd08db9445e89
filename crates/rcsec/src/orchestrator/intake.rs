//! Alerts in: dedup, ticket, escalation state, first page; and resolution.

use std::collections::BTreeMap;
use std::sync::Arc;

use rcsec_audit::EventKind;
use rcsec_core::Route;
use rcsec_policy::redact;

use super::deliver::{Gates, PageCtx};
use super::report::{AlertOutcome, AlertReport, Delivery, DeliveryStatus, SentContent};
use super::{AlertState, Orchestrator, OrchestratorError};
use crate::alert::{Alert, AlertStatus};
use crate::message::{MessageBody, OutboundMessage};
use crate::responder::Responder;

/// The fixed notice sent when an alert resolves, on every route (SMS included). Public so an
/// SMS adapter's template guard can allow exactly this text.
pub const RESOLVED_TEXT: &str =
    "rcsec: this alert is resolved. Its secure links have been revoked.";

impl Orchestrator {
    /// Handles one notification about `alert` for `responders`.
    ///
    /// A firing alert opens a ticket and pages the responders at escalation step 0 (the lowest
    /// `step`); later steps are paged by [`tick`](Self::tick) when nobody acknowledges within
    /// the timeout, or at once on an `escalate` action. A repeat inside the dedup window pages
    /// nobody. A resolved alert revokes its links, stops escalation, sends a short fixed
    /// follow-up to everyone paged and resolves the ticket.
    ///
    /// # Errors
    /// [`OrchestratorError`] when a store, the audit sink or the ticket system fails; the audit
    /// sink failing stops the page (nothing is sent unaudited).
    pub async fn handle_alert(
        &self,
        alert: Alert,
        responders: Vec<Responder>,
    ) -> Result<AlertReport, OrchestratorError> {
        if alert.status == AlertStatus::Resolved {
            return self.resolve_alert(alert).await;
        }
        let now = self.now();
        let id = alert.id.clone();
        {
            let mut state = self.lock()?;
            let window = self.config.dedup_window;
            if state.dedup.is_repeat(&id, now, window) {
                return Ok(AlertReport {
                    alert: id,
                    outcome: AlertOutcome::Deduplicated,
                    deliveries: Vec::new(),
                });
            }
        }
        let text = alert.text_for_classification();
        let classification = self.classifier.classify(&text);
        let title = alert.title.expose();
        let title = redact(title, &self.classifier.classify(title));
        let ticket = self.tickets.open(&id, alert.severity, &title).await?;
        // Audited in the first step's batch (one durable write for the whole step).
        let opened = self
            .event(EventKind::TicketUpdated, now)
            .alert(id.clone())
            .outcome("opened")
            .build()?;

        let mut steps: BTreeMap<u32, Vec<Responder>> = BTreeMap::new();
        for r in responders {
            steps.entry(r.step).or_default().push(r);
        }
        let chain: Vec<Vec<Responder>> = steps.into_values().collect();
        let first = chain.first().cloned().unwrap_or_default();
        let ctx = PageCtx {
            alert: Arc::new(alert),
            text: Arc::new(text),
            classification: Arc::new(classification),
        };
        {
            let mut state = self.lock()?;
            // A re-fire after the dedup window starts a new escalation, but the messages and
            // links of the earlier one stay known: their events map back, resolution revokes them.
            let (messages, links) = state
                .alerts
                .remove(&id)
                .map(|old| (old.messages, old.links))
                .unwrap_or_default();
            state.alerts.insert(
                id.clone(),
                AlertState {
                    alert: Arc::clone(&ctx.alert),
                    text: Arc::clone(&ctx.text),
                    classification: Arc::clone(&ctx.classification),
                    chain,
                    step: 0,
                    round: 0,
                    deadline: Some(now.saturating_add(self.config.ack_timeout)),
                    acked: false,
                    resolved: false,
                    ticket: Some(ticket),
                    paged: Vec::new(),
                    links,
                    messages,
                },
            );
        }
        let deliveries = self
            .page_all(&ctx, &first, "p0.0", Gates::ALL, vec![opened])
            .await?;
        Ok(AlertReport {
            alert: id,
            outcome: AlertOutcome::Paged,
            deliveries,
        })
    }

    async fn resolve_alert(&self, alert: Alert) -> Result<AlertReport, OrchestratorError> {
        let now = self.now();
        let id = alert.id.clone();
        let (paged, links, ticket) = {
            let mut state = self.lock()?;
            state.dedup.clear(&id);
            state.held.retain(|h| h.alert != id);
            match state.alerts.get_mut(&id) {
                Some(a) => {
                    a.resolved = true;
                    a.deadline = None;
                    (
                        std::mem::take(&mut a.paged),
                        std::mem::take(&mut a.links),
                        a.ticket.clone(),
                    )
                }
                None => (Vec::new(), Vec::new(), None),
            }
        };
        // Closed in the store before anything else: a crash after this leaves the links to the
        // token store's per-alert revocation when Alertmanager re-sends the resolution, while a
        // crash before it leaves the alert open to be resolved again. Never an escalation of a
        // resolved alert after a restart.
        self.persist(std::slice::from_ref(&id)).await?;
        // Each link through the gateway (which also deletes its ciphertext), then the whole
        // alert in the token store in case another replica issued links we do not know of.
        let mut revoked = 0;
        for link in &links {
            if self.gateway.revoke(link).await? {
                revoked += 1;
            }
        }
        let by_alert = self
            .tokens
            .revoke_alert(&id)
            .await
            .map_err(rcsec_link::RedeemError::from)?;
        let links_revoked = revoked.max(by_alert);
        let e = self.event(EventKind::TicketUpdated, now);
        self.record(e.alert(id.clone()).outcome("links_revoked"))
            .await?;

        let mut deliveries = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (responder, route) in paged {
            if !seen.insert(responder.number.clone()) {
                continue;
            }
            let msg_id = self.message_id(&id, &responder.number, "r")?;
            let body = match route {
                Route::EncryptedPush if self.protector.reaches(&responder) => {
                    MessageBody::Encrypted {
                        ciphertext: self
                            .protector
                            .protect(&responder, &id, &msg_id, RESOLVED_TEXT.as_bytes())
                            .await?,
                    }
                }
                Route::SmsLink => MessageBody::Sms {
                    text: rcsec_core::Redacted::new("text", RESOLVED_TEXT.to_owned()),
                },
                _ => MessageBody::Text {
                    text: rcsec_core::Redacted::new("text", RESOLVED_TEXT.to_owned()),
                    actions: Vec::new(),
                },
            };
            let message = OutboundMessage {
                id: msg_id.clone(),
                alert: id.clone(),
                recipient: responder.number.clone(),
                route,
                body,
                created_at: now,
                expires_at: now.saturating_add(self.config.message_ttl),
            };
            self.lock()?.messages.insert(
                msg_id.clone(),
                super::MessageMeta {
                    alert: id.clone(),
                    responder: responder.clone(),
                    fallback: None,
                    tag: "r".to_owned(),
                    fallbacks: super::drain::MAX_FALLBACKS,
                },
            );
            self.outbox.enqueue(&message, now).await?;
            deliveries.push(Delivery {
                recipient: responder.number.clone(),
                name: responder.name.clone(),
                step: responder.step,
                route,
                fallback_reason: None,
                indicator: if route.is_end_to_end() {
                    rcsec_policy::Indicator::Green
                } else {
                    rcsec_policy::Indicator::Amber
                },
                explanation: "Resolution follow-up (fixed text).".to_owned(),
                status: DeliveryStatus::Retrying { attempts: 0 },
                content: SentContent::Nothing,
                links: Vec::new(),
                message_id: Some(msg_id),
            });
        }
        let stats = self.drain().await?;
        self.finish(&mut deliveries, &stats.settled).await?;
        if let Some(ticket) = ticket {
            let note = format!("resolved; {links_revoked} links revoked");
            match self.tickets.resolve(&ticket, &note).await {
                Ok(()) => {
                    let e = self.event(EventKind::TicketUpdated, now);
                    self.record(e.alert(id.clone()).outcome("resolved")).await?;
                }
                Err(error) => self.ticket_failed(&id, now, &error).await?,
            }
        }
        Ok(AlertReport {
            alert: id,
            outcome: AlertOutcome::Resolved { links_revoked },
            deliveries,
        })
    }
}
