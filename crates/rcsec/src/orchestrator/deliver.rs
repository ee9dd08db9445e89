//! One page to one responder: decide, mint links, protect, enqueue; and the outbox drain that
//! sends with failover and retries.

use std::sync::Arc;
use std::time::Duration;

use rcsec_audit::{EventKind, Fallback, FallbackAction, Label, PendingEvent};
use rcsec_capability::DeliveryEvent;
use rcsec_core::{AlertId, Msisdn};
use rcsec_link::sealed::link_url;
use rcsec_link::{IssueRequest, RecipientPseudonym};
use rcsec_policy::{Action, Classification, Decision, DecisionInput, Route};
use sha2::{Digest, Sha256};

use super::report::{Delivery, DeliveryStatus, IssuedLinkInfo, SentContent};
use super::{Held, MessageMeta, Orchestrator, OrchestratorError};
use crate::alert::Alert;
use crate::facts;
use crate::message::{ActionKind, MessageBody, MessageId, OutboundMessage};
use crate::outbox::{Claim, ClaimToken, OutboxError, OutboxState};
use crate::provider::{ProviderHealth, SendError};
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

/// What a drain of the outbox did.
#[derive(Debug, Default)]
pub(crate) struct DrainStats {
    pub(crate) sent: usize,
    pub(crate) failed: usize,
    /// Claims whose outcome could not be recorded because a newer claim superseded them (the
    /// lease ran out mid-send); the newer claim owns the message.
    pub(crate) superseded: usize,
    pub(crate) fallbacks: Vec<Delivery>,
}

const ACTIONS: [ActionKind; 3] = [
    ActionKind::Acknowledge,
    ActionKind::TakeOwnership,
    ActionKind::Escalate,
];
const CLAIM_BATCH: usize = 64;
pub(crate) const MAX_FALLBACKS: u8 = 2;

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

    /// Decides, mints links, protects and enqueues one page. Sending happens in
    /// [`Orchestrator::drain`]; the returned delivery's status is filled in by
    /// [`Orchestrator::finish`].
    pub(crate) async fn page_one(
        &self,
        ctx: &PageCtx,
        responder: &Responder,
        tag: &str,
        fallbacks: u8,
        gates: Gates,
        forced: Option<Decision>,
    ) -> Result<Delivery, OrchestratorError> {
        let now = self.now();
        let alert = &ctx.alert;
        let number = &responder.number;
        let resolution = self.resolver.resolve(number).await.ok();
        let facts = facts::channel_facts(resolution.as_ref(), responder.device_key.is_some());
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
            && let Some(until) = q.held_until(alert.severity, now)
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
            self.record(
                e.alert(alert.id.clone())
                    .recipient(number)
                    .outcome("held")
                    .reason("quiet_hours"),
            )
            .await?;
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
                self.record(
                    e.alert(alert.id.clone())
                        .recipient(number)
                        .outcome("suppressed")
                        .reason("rate_limited"),
                )
                .await?;
                delivery.status = DeliveryStatus::RateLimited;
                return Ok(delivery);
            }
        }
        // The decision's events are appended as one batch, before anything is enqueued.
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
            self.record_all(events).await?;
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
                links.push(
                    self.issue_link(
                        ctx,
                        number,
                        route,
                        (&artifact.name, &artifact.content_type),
                        artifact.data.expose(),
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
                let device = responder
                    .device_key
                    .as_ref()
                    .ok_or(OrchestratorError::Internal("push route without a device"))?;
                let ciphertext = self
                    .protector
                    .protect(device, &alert.id, &id, text.as_bytes())?;
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
            }
        }
        self.record_all(events).await?;
        self.outbox.enqueue(&message, now).await?;
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

    /// Sends every due message: claim, try providers in order, record the outcome.
    pub(crate) async fn drain(&self) -> Result<DrainStats, OrchestratorError> {
        let mut stats = DrainStats::default();
        loop {
            let now = self.now();
            let claims = self
                .outbox
                .claim_due(now, self.config.lease, CLAIM_BATCH)
                .await?;
            if claims.is_empty() {
                return Ok(stats);
            }
            for claim in claims {
                self.send_claim(claim, &mut stats).await?;
            }
        }
    }

    async fn send_claim(
        &self,
        claim: Claim,
        stats: &mut DrainStats,
    ) -> Result<(), OrchestratorError> {
        let now = self.now();
        let token = claim.token();
        let msg = claim.message;
        let meta = self.lock()?.messages.get(&msg.id).cloned();
        if claim.attempt > self.config.retry.max_attempts {
            return self
                .fail(&msg, &token, "attempts_exhausted", stats)
                .await
                .map(drop);
        }
        let mut retry_after = Duration::ZERO;
        let mut retryable = false;
        let mut last = "no_provider";
        let mut not_reachable = false;
        for provider in &self.providers {
            if !provider.routes().contains(&msg.route) {
                continue;
            }
            if provider.health().await == ProviderHealth::Down {
                last = "provider_down";
                retryable = true;
                continue;
            }
            match provider.send(&msg).await {
                Ok(delivery) => {
                    let marked = self
                        .outbox
                        .mark_sent(&token, provider.name(), delivery.as_str(), now)
                        .await;
                    if !fenced(marked, stats)? {
                        // A newer claim re-sends under the same idempotency key and records
                        // (and audits) the outcome; recording it here too would double it.
                        return Ok(());
                    }
                    let mut e = self
                        .event(EventKind::MessageSent, now)
                        .alert(msg.alert.clone())
                        .recipient(&msg.recipient)
                        .route(msg.route.as_str())
                        .provider(provider.name())
                        .message(body_bytes(&msg.body))
                        .outcome("sent");
                    if let Some(reason) = meta.as_ref().and_then(|m| m.fallback) {
                        e = e.reason(reason.as_str());
                    }
                    self.record(e).await?;
                    stats.sent += 1;
                    return Ok(());
                }
                Err(SendError::NotReachable) => {
                    not_reachable = true;
                    last = "not_reachable";
                    break;
                }
                Err(SendError::RateLimited { retry_after: ra }) => {
                    retry_after = retry_after.max(ra);
                    retryable = true;
                    last = "rate_limited";
                }
                Err(e @ SendError::Rejected) => last = e.code(),
                Err(e) => {
                    retryable = true;
                    last = e.code();
                }
            }
        }
        if not_reachable {
            if !self.fail(&msg, &token, last, stats).await? {
                return Ok(());
            }
            if let Some(meta) = meta {
                self.fall_back(meta, stats).await?;
            }
            return Ok(());
        }
        if !retryable {
            return self.fail(&msg, &token, last, stats).await.map(drop);
        }
        let mut jitter = [0u8; 4];
        let jitter = match self.rng.fill(&mut jitter) {
            Ok(()) => u32::from_le_bytes(jitter),
            Err(_) => u32::MAX / 2,
        };
        let delay = self
            .config
            .retry
            .delay(claim.attempt, jitter)
            .max(retry_after);
        let marked = self
            .outbox
            .mark_retry(&token, now.saturating_add(delay), last)
            .await;
        fenced(marked, stats)?;
        Ok(())
    }

    /// Records the claimed message as failed and audits it; `false` when a newer claim
    /// superseded this one (nothing recorded: the newer claim owns the outcome).
    async fn fail(
        &self,
        msg: &OutboundMessage,
        token: &ClaimToken,
        reason: &str,
        stats: &mut DrainStats,
    ) -> Result<bool, OrchestratorError> {
        let now = self.now();
        let marked = self.outbox.mark_failed(token, reason, now).await;
        if !fenced(marked, stats)? {
            return Ok(false);
        }
        let e = self
            .event(EventKind::MessageSent, now)
            .alert(msg.alert.clone())
            .recipient(&msg.recipient)
            .route(msg.route.as_str())
            .outcome("failed")
            .reason(reason);
        self.record(e).await?;
        stats.failed += 1;
        Ok(true)
    }

    /// After `not_reachable`: forget what we knew about the number, tell the resolver (which
    /// may now detect a downgrade of a pinned contact) and let the policy decide again.
    async fn fall_back(
        &self,
        meta: MessageMeta,
        stats: &mut DrainStats,
    ) -> Result<(), OrchestratorError> {
        if meta.fallbacks >= MAX_FALLBACKS {
            return Ok(());
        }
        let number = &meta.responder.number;
        let _ = self
            .resolver
            .on_delivery_event(number, DeliveryEvent::NotFound404)
            .await;
        let Some(ctx) = self.page_ctx(&meta.alert)? else {
            return Ok(());
        };
        let tag = format!("{}f", meta.tag);
        let delivery = self
            .page_one(
                &ctx,
                &meta.responder,
                &tag,
                meta.fallbacks + 1,
                Gates::NONE,
                None,
            )
            .await?;
        stats.fallbacks.push(delivery);
        Ok(())
    }

    /// A message the provider accepted expired undelivered (RBM `TTL_EXPIRATION_REVOKED`:
    /// the phone was unreachable for the message's lifetime and the provider withdrew it).
    /// Pages the same responder again on the route the policy picks once the number is no
    /// longer taken as reachable there (typically the SMS link), like a `not_reachable` send
    /// failure. Nothing happens when the alert is acknowledged or resolved meanwhile.
    ///
    /// # Errors
    /// [`OrchestratorError::UnknownMessage`] for a message this orchestrator did not send;
    /// store and audit failures.
    pub async fn on_expired(
        &self,
        message: &MessageId,
    ) -> Result<Vec<Delivery>, OrchestratorError> {
        let meta = {
            let state = self.lock()?;
            let meta = state
                .messages
                .get(message)
                .cloned()
                .ok_or(OrchestratorError::UnknownMessage)?;
            if state
                .alerts
                .get(&meta.alert)
                .is_none_or(|a| a.acked || a.resolved)
            {
                return Ok(Vec::new());
            }
            meta
        };
        let mut stats = DrainStats::default();
        self.fall_back(meta, &mut stats).await?;
        let more = self.drain().await?;
        let mut out = stats.fallbacks;
        out.extend(more.fallbacks);
        self.finish(&mut out).await?;
        Ok(out)
    }

    pub(crate) fn page_ctx(&self, alert: &AlertId) -> Result<Option<PageCtx>, OrchestratorError> {
        Ok(self.lock()?.alerts.get(alert).map(|a| PageCtx {
            alert: Arc::clone(&a.alert),
            text: Arc::clone(&a.text),
            classification: Arc::clone(&a.classification),
        }))
    }

    /// Fills in each enqueued delivery's status from the outbox.
    pub(crate) async fn finish(
        &self,
        deliveries: &mut [Delivery],
    ) -> Result<(), OrchestratorError> {
        let now = self.now();
        for d in deliveries.iter_mut() {
            let Some(id) = &d.message_id else { continue };
            if !matches!(d.status, DeliveryStatus::Retrying { .. }) {
                continue;
            }
            let Some(status) = self.outbox.status(id, now).await? else {
                continue;
            };
            d.status = match status.state {
                OutboxState::Sent => DeliveryStatus::Sent {
                    provider: status.provider.unwrap_or_default(),
                    delivery: crate::provider::DeliveryId::new(
                        status.delivery_id.unwrap_or_default(),
                    ),
                },
                OutboxState::Failed => DeliveryStatus::Failed {
                    reason: status.last_error.unwrap_or_default(),
                },
                OutboxState::Expired => DeliveryStatus::Expired,
                OutboxState::Pending | OutboxState::InFlight => DeliveryStatus::Retrying {
                    attempts: status.attempts,
                },
            };
        }
        Ok(())
    }

    /// Pages `responders` for the alert in `ctx`, sends, and reports.
    pub(crate) async fn page_all(
        &self,
        ctx: &PageCtx,
        responders: &[Responder],
        tag: &str,
        gates: Gates,
    ) -> Result<Vec<Delivery>, OrchestratorError> {
        let mut out = Vec::with_capacity(responders.len());
        for r in responders {
            out.push(self.page_one(ctx, r, tag, 0, gates, None).await?);
        }
        let stats = self.drain().await?;
        self.finish(&mut out).await?;
        let mut fallbacks = stats.fallbacks;
        self.finish(&mut fallbacks).await?;
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

/// The outcome of a fenced outbox update: `Ok(true)` applied, `Ok(false)` refused because a
/// newer claim superseded ours (counted, not an error: the newer claim owns the message).
fn fenced(
    result: Result<(), OutboxError>,
    stats: &mut DrainStats,
) -> Result<bool, OrchestratorError> {
    match result {
        Ok(()) => Ok(true),
        Err(OutboxError::StaleClaim) => {
            stats.superseded += 1;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}
