//! One page to one responder: decide, mint links, protect, enqueue (batched per step, see
//! [`PageBatch`]). Sending is in `drain.rs`.

use std::sync::Arc;

use rcsec_audit::{EventKind, Fallback, FallbackAction, Label, PendingEvent};
use rcsec_core::{AlertId, Msisdn};
use rcsec_link::sealed::{ITEM_CONTENT_TYPE, encode_item, link_url};
use rcsec_link::{IssueRequest, RecipientPseudonym};
use rcsec_policy::{Action, Classification, Decision, DecisionInput, Route};
use sha2::{Digest, Sha256};

use super::report::{Delivery, DeliveryStatus, IssuedLinkInfo, SentContent};
use super::{Held, MessageMeta, Orchestrator, OrchestratorError};
use crate::alert::Alert;
use crate::facts;
use crate::message::{ActionKind, MessageBody, MessageId, OutboundMessage};
use crate::outbox::Claim;
use crate::responder::Responder;

/// The alert-wide inputs of a page, computed once per alert.
#[derive(Debug, Clone)]
pub(crate) struct PageCtx {
    pub(crate) alert: Arc<Alert>,
    pub(crate) text: Arc<String>,
    pub(crate) classification: Arc<Classification>,
}

/// Which on-call gates a page passes through.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gates {
    pub(crate) quiet_hours: bool,
    pub(crate) rate_limit: bool,
}

impl Gates {
    pub(crate) const ALL: Self = Self {
        quiet_hours: true,
        rate_limit: true,
    };
    pub(crate) const NONE: Self = Self {
        quiet_hours: false,
        rate_limit: false,
    };
}

/// What the pages of one step leave to be written: their audit events and their messages.
///
/// A step (all responders of an escalation level, a fallback, a release after quiet hours)
/// is flushed as one audit append followed by one outbox batch, instead of two writes per
/// responder: on SQLite that is the difference between a few and a few dozen transactions per
/// alert. The order per page is kept: every decision is audited before its message is stored.
#[derive(Debug, Default)]
pub(crate) struct PageBatch {
    events: Vec<PendingEvent>,
    messages: Vec<OutboundMessage>,
    /// The alerts whose state the step changed: each is written to the state store once.
    alerts: Vec<AlertId>,
}

impl PageBatch {
    /// Notes that the step changed `alert`'s state.
    pub(crate) fn touch(&mut self, alert: &AlertId) {
        if !self.alerts.contains(alert) {
            self.alerts.push(alert.clone());
        }
    }
}

const ACTIONS: [ActionKind; 3] = [
    ActionKind::Acknowledge,
    ActionKind::TakeOwnership,
    ActionKind::Escalate,
];

impl Orchestrator {
    /// A deterministic, keyed message id: the same page of the same alert to the same person
    /// always gets the same id (so a re-run enqueues nothing twice), and the id reveals nothing
    /// about the number without the key.
    pub(crate) fn message_id(
        &self,
        alert: &AlertId,
        number: &Msisdn,
        tag: &str,
    ) -> Result<MessageId, OrchestratorError> {
        let digest = Sha256::new()
            .chain_update(b"rcsec/v1/message-id\0")
            .chain_update(self.link_pseudonym_key.expose_secret())
            .chain_update(alert.as_str().as_bytes())
            .chain_update([0u8])
            .chain_update(number.expose_e164().as_bytes())
            .chain_update([0u8])
            .chain_update(tag.as_bytes())
            .finalize();
        MessageId::new(format!("m{}", hex::encode(&digest[..16])))
            .map_err(|_| OrchestratorError::Internal("message id"))
    }

    /// Decides, mints links and protects one page, leaving its audit events and message in
    /// `batch` for [`Orchestrator::flush`]. Sending happens in [`Orchestrator::drain`]; the
    /// returned delivery's status is filled in by [`Orchestrator::finish`].
    #[allow(
        clippy::too_many_arguments,
        reason = "crate-internal; each is one page input"
    )]
    pub(crate) async fn page_one(
        &self,
        ctx: &PageCtx,
        responder: &Responder,
        tag: &str,
        fallbacks: u8,
        gates: Gates,
        forced: Option<Decision>,
        batch: &mut PageBatch,
    ) -> Result<Delivery, OrchestratorError> {
        let now = self.now();
        let alert = &ctx.alert;
        batch.touch(&alert.id);
        let number = &responder.number;
        let resolution = self.resolver.resolve(number).await.ok();
        let facts = facts::channel_facts(resolution.as_ref(), self.protector.reaches(responder));
        let mut input = DecisionInput::new(alert.severity, &ctx.classification, &facts);
        input.group = &responder.group;
        input.region = responder.region.as_ref();
        input.consent = Some(&responder.consent);
        let decision = match forced {
            Some(d) => d,
            None => self.policy.decide(&input),
        };
        let mut delivery = Delivery {
            recipient: number.clone(),
            name: responder.name.clone(),
            step: responder.step,
            route: decision.route,
            fallback_reason: decision.fallback_reason,
            indicator: decision.indicator,
            explanation: decision.explanation.clone(),
            status: DeliveryStatus::Blocked,
            content: SentContent::Nothing,
            links: Vec::new(),
            message_id: None,
        };

        if gates.quiet_hours
            && let Some(q) = self.config.quiet_hours
            && let Some(until) = q.held_until_at(
                alert.severity,
                now,
                responder.utc_offset.unwrap_or_default(),
            )
        {
            {
                let mut state = self.lock()?;
                state.held.push(Held {
                    alert: alert.id.clone(),
                    responder: responder.clone(),
                    tag: tag.to_owned(),
                    until,
                });
                // Nobody can acknowledge a page they have not received: the escalation clock
                // starts when the hold ends.
                let resume = until.saturating_add(self.config.ack_timeout);
                if let Some(a) = state.alerts.get_mut(&alert.id)
                    && a.deadline.is_some_and(|d| d < resume)
                {
                    a.deadline = Some(resume);
                }
            }
            let e = self.event(EventKind::PolicyBlocked, now);
            batch.events.push(
                e.alert(alert.id.clone())
                    .recipient(number)
                    .outcome("held")
                    .reason("quiet_hours")
                    .build()?,
            );
            delivery.status = DeliveryStatus::Held { until };
            return Ok(delivery);
        }
        if gates.rate_limit {
            let allowed =
                self.lock()?
                    .rate
                    .allow(self.config.rate_limit, number, alert.severity, now);
            if !allowed {
                let e = self.event(EventKind::PolicyBlocked, now);
                batch.events.push(
                    e.alert(alert.id.clone())
                        .recipient(number)
                        .outcome("suppressed")
                        .reason("rate_limited")
                        .build()?,
                );
                delivery.status = DeliveryStatus::RateLimited;
                return Ok(delivery);
            }
        }
        // The decision's events go to the audit log before its message goes to the outbox.
        let mut events = Vec::new();
        if facts.downgrade_detected {
            let e = self.event(EventKind::DowngradeDetected, now);
            events.push(
                e.alert(alert.id.clone())
                    .recipient(number)
                    .outcome(facts::e2ee_label(resolution.as_ref()))
                    .build()?,
            );
        }
        let e2ee = Label::new(facts::e2ee_label(resolution.as_ref()))?;
        if decision.route == Route::Blocked {
            let reason = decision
                .fallback_reason
                .map_or("policy_blocked", |r| r.as_str());
            let fallback = Fallback {
                e2ee,
                fallback_reason: Label::new(reason)?,
                action_taken: FallbackAction::Blocked,
            };
            let e = self.event(EventKind::Fallback(fallback), now);
            events.push(
                e.alert(alert.id.clone())
                    .recipient(number)
                    .route("blocked")
                    .build()?,
            );
            let e = self.event(EventKind::PolicyBlocked, now);
            events.push(
                e.alert(alert.id.clone())
                    .recipient(number)
                    .reason(reason)
                    .build()?,
            );
            batch.events.extend(events);
            return Ok(delivery);
        }

        // Links: the alert details when the policy asks for one, and every artifact (except
        // on SMS, which carries exactly one link).
        let route = decision.route;
        let mut links = Vec::new();
        if decision.actions.contains(&Action::SecureLink) {
            links.push(
                self.issue_link(
                    ctx,
                    number,
                    route,
                    ("details", "text/plain"),
                    ctx.text.as_bytes(),
                    &mut events,
                )
                .await?,
            );
        }
        if route != Route::SmsLink {
            for artifact in &alert.artifacts {
                let item = artifact_item(artifact)?;
                links.push(
                    self.issue_link(
                        ctx,
                        number,
                        route,
                        (&artifact.name, ITEM_CONTENT_TYPE),
                        &item,
                        &mut events,
                    )
                    .await?,
                );
            }
        }
        if let Some(reason) = decision.fallback_reason
            && !links.is_empty()
        {
            let fallback = Fallback {
                e2ee,
                fallback_reason: Label::new(reason.as_str())?,
                action_taken: FallbackAction::SecureLinkCreated,
            };
            let e = self.event(EventKind::Fallback(fallback), now);
            events.push(
                e.alert(alert.id.clone())
                    .recipient(number)
                    .route(route.as_str())
                    .build()?,
            );
        }

        let details = links
            .iter()
            .find(|l| l.purpose == "details")
            .map_or("", |l| l.url.expose());
        let mut text = decision
            .render(&self.policy, &ctx.text, &ctx.classification, details)
            .ok_or(OrchestratorError::Internal("decision rendered nothing"))?;
        if route != Route::SmsLink {
            for link in links.iter().filter(|l| l.purpose != "details") {
                text.push_str(&format!("\n{}: {}", link.purpose, link.url.expose()));
            }
        }
        let id = self.message_id(&alert.id, number, tag)?;
        let full = decision.treatment == rcsec_policy::Treatment::Full;
        let (body, content) = match route {
            Route::EncryptedPush => {
                let ciphertext = self
                    .protector
                    .protect(responder, &alert.id, &id, text.as_bytes())
                    .await?;
                let content = SentContent::Envelope {
                    bytes: ciphertext.len(),
                    protector: self.protector.name().to_owned(),
                };
                (MessageBody::Encrypted { ciphertext }, content)
            }
            Route::SmsLink => (
                MessageBody::Sms {
                    text: rcsec_core::Redacted::new("text", text.clone()),
                },
                SentContent::Sms(rcsec_core::Redacted::new("text", text)),
            ),
            _ => {
                let content = if full {
                    SentContent::FullText {
                        chars: text.chars().count(),
                    }
                } else {
                    SentContent::Redacted(rcsec_core::Redacted::new("text", text.clone()))
                };
                (
                    MessageBody::Text {
                        text: rcsec_core::Redacted::new("text", text),
                        actions: ACTIONS.to_vec(),
                    },
                    content,
                )
            }
        };
        let message = OutboundMessage {
            id: id.clone(),
            alert: alert.id.clone(),
            recipient: number.clone(),
            route,
            body,
            created_at: now,
            expires_at: now.saturating_add(self.config.message_ttl),
        };
        {
            let mut state = self.lock()?;
            state.messages.insert(
                id.clone(),
                MessageMeta {
                    alert: alert.id.clone(),
                    responder: responder.clone(),
                    fallback: decision.fallback_reason,
                    tag: tag.to_owned(),
                    fallbacks,
                },
            );
            if let Some(a) = state.alerts.get_mut(&alert.id) {
                a.paged.push((responder.clone(), message.route));
                a.links.extend(links.iter().map(|l| l.link_id));
                if !a.messages.contains(&id) {
                    a.messages.push(id.clone());
                }
            }
        }
        batch.events.extend(events);
        batch.messages.push(message);
        delivery.status = DeliveryStatus::Retrying { attempts: 0 };
        delivery.content = content;
        delivery.links = links;
        delivery.message_id = Some(id);
        Ok(delivery)
    }

    async fn issue_link(
        &self,
        ctx: &PageCtx,
        number: &Msisdn,
        route: Route,
        (purpose, content_type): (&str, &str),
        payload: &[u8],
        events: &mut Vec<PendingEvent>,
    ) -> Result<IssuedLinkInfo, OrchestratorError> {
        let now = self.now();
        let pseudonym = RecipientPseudonym::keyed(&self.link_pseudonym_key, number);
        let req = IssueRequest::new(
            ctx.alert.id.clone(),
            number,
            pseudonym,
            self.config.link_ttl,
            content_type,
        );
        let issued = self.gateway.issue(req, payload, now).await?;
        let url = link_url(&self.config.link_base, &issued.token, &issued.key)
            .map_err(|_| OrchestratorError::Internal("link base url cannot carry a path"))?;
        let e = self.event(EventKind::LinkIssued, now);
        events.push(
            e.alert(ctx.alert.id.clone())
                .recipient(number)
                .link(&issued.link_id.to_string())
                .route(route.as_str())
                .build()?,
        );
        Ok(IssuedLinkInfo {
            link_id: issued.link_id,
            purpose: purpose.to_owned(),
            url,
            expires_at: issued.expires_at,
        })
    }

    pub(crate) fn page_ctx(&self, alert: &AlertId) -> Result<Option<PageCtx>, OrchestratorError> {
        Ok(self.lock()?.alerts.get(alert).map(|a| PageCtx {
            alert: Arc::clone(&a.alert),
            text: Arc::clone(&a.text),
            classification: Arc::clone(&a.classification),
        }))
    }

    /// Writes what the pages of a step left: the state record of each alert it changed (when
    /// a state store is configured), then through the journal one audit append and one outbox
    /// batch that also claims the new messages for their first attempt (one transaction with
    /// an atomic journal). The state goes before the messages so that whatever can be sent
    /// can be mapped back after a restart. Returns the claims: the caller passes them to
    /// [`Orchestrator::drain_from`], or they are re-claimed once their lease runs out.
    pub(crate) async fn flush(&self, batch: PageBatch) -> Result<Vec<Claim>, OrchestratorError> {
        self.persist(&batch.alerts).await?;
        let claims = self
            .journal
            .record_and_enqueue(batch.events, &batch.messages, self.now(), self.config.lease)
            .await?;
        Ok(claims.into_iter().flatten().collect())
    }

    /// Pages `responders` for the alert in `ctx`, sends, and reports. `lead` are audit events
    /// of the step taken just before (the ticket opened): they go into the step's one audit
    /// batch, ahead of the pages' events, and are recorded alone if paging fails.
    pub(crate) async fn page_all(
        &self,
        ctx: &PageCtx,
        responders: &[Responder],
        tag: &str,
        gates: Gates,
        lead: Vec<PendingEvent>,
    ) -> Result<Vec<Delivery>, OrchestratorError> {
        let mut out = Vec::with_capacity(responders.len());
        let lead_len = lead.len();
        let mut batch = PageBatch {
            events: lead,
            ..PageBatch::default()
        };
        batch.touch(&ctx.alert.id);
        for r in responders {
            match self.page_one(ctx, r, tag, 0, gates, None, &mut batch).await {
                Ok(delivery) => out.push(delivery),
                Err(e) => {
                    // Nothing of this step is sent; what happened before it is still audited.
                    batch.events.truncate(lead_len);
                    self.record_all(batch.events).await?;
                    return Err(e);
                }
            }
        }
        let claims = self.flush(batch).await?;
        let stats = self.drain_from(claims).await?;
        self.finish(&mut out, &stats.settled).await?;
        let mut fallbacks = stats.fallbacks;
        self.finish(&mut fallbacks, &stats.settled).await?;
        out.extend(fallbacks);
        Ok(out)
    }
}

/// The bytes whose keyed hash the audit log keeps for a message.
pub(crate) fn body_bytes(body: &MessageBody) -> &[u8] {
    match body {
        MessageBody::Text { text, .. } | MessageBody::Sms { text } => text.expose().as_bytes(),
        MessageBody::Encrypted { ciphertext } => ciphertext,
    }
}

/// An artifact as a self-describing sealed item: its name and type travel inside the
/// ciphertext, so the link page can offer the right download without either appearing in the
/// message. A name or type that cannot be carried (a path separator, control characters) is
/// replaced by a neutral one rather than failing the page: the content still gets through.
fn artifact_item(artifact: &crate::alert::Artifact) -> Result<Vec<u8>, OrchestratorError> {
    let data = artifact.data.expose();
    encode_item(&artifact.name, &artifact.content_type, data)
        .or_else(|_| encode_item("alert-item", "application/octet-stream", data))
        .map_err(|_| OrchestratorError::Internal("artifact cannot be sealed as an item"))
}
