//! Sending: claim due messages, try the providers in order, settle the outcomes.
//!
//! One round of a drain costs the outbox three writes however many messages it carries: the
//! claim, one [`Outbox::settle`] of every outcome, and one audit batch of the results. The
//! claim is free for the messages the pipeline has just decided to send: the outbox hands
//! them back claimed as it stores them ([`Outbox::enqueue_claimed`]), and the poll that
//! follows finds nothing due without a write. The provider calls happen between the claim
//! and the settle, under the claim's lease; a crash
//! in that window leaves the claims to expire and the messages to be re-sent under the same
//! idempotency key, which providers de-duplicate. Outcomes are fenced by the claim token, so
//! a round that outlived its lease records nothing over a newer claim.

use std::collections::HashMap;
use std::time::Duration;

use rcsec_audit::{EventKind, PendingEvent};
use rcsec_capability::DeliveryEvent;

use super::deliver::{Gates, PageBatch, body_bytes};
use super::report::{Delivery, DeliveryStatus};
use super::{MessageMeta, Orchestrator, OrchestratorError};
use crate::message::{MessageId, OutboundMessage};
use crate::outbox::{Claim, OutboxError, OutboxState, Settlement};
use crate::provider::{DeliveryId, ProviderHealth, SendError};

/// Claims taken per round.
const CLAIM_BATCH: usize = 64;
/// How many times one page may fall back to another route after `not_reachable`.
pub(crate) const MAX_FALLBACKS: u8 = 2;

/// What a drain of the outbox did.
#[derive(Debug, Default)]
pub(crate) struct DrainStats {
    pub(crate) sent: usize,
    pub(crate) failed: usize,
    /// Claims whose outcome could not be recorded because a newer claim superseded them (the
    /// lease ran out mid-send); the newer claim owns the message.
    pub(crate) superseded: usize,
    pub(crate) fallbacks: Vec<Delivery>,
    /// The status of every message this drain settled, so reporting needs no read-back.
    pub(crate) settled: HashMap<MessageId, DeliveryStatus>,
}

/// One claim's outcome, waiting to be settled in its round.
struct Outcome {
    settlement: Settlement,
    /// The audit event to append once the settlement is applied.
    event: Option<PendingEvent>,
    status: DeliveryStatus,
    /// The page to fall back from once a `not_reachable` failure is applied.
    fall_back: Option<MessageMeta>,
}

impl Orchestrator {
    /// Sends every due message: claim, try providers in order, settle the outcomes.
    pub(crate) async fn drain(&self) -> Result<DrainStats, OrchestratorError> {
        self.drain_from(Vec::new()).await
    }

    /// [`Orchestrator::drain`], starting with `claimed`: the claims the outbox handed out as
    /// the caller enqueued its messages (see [`crate::Outbox::enqueue_claimed`]). They are
    /// sent first, then the outbox is polled for anything else due.
    pub(crate) async fn drain_from(
        &self,
        mut claimed: Vec<Claim>,
    ) -> Result<DrainStats, OrchestratorError> {
        let mut stats = DrainStats::default();
        loop {
            // A round of claims handed out on enqueue is followed by a poll; a polled round
            // that came back short drained everything due, unless a fallback enqueued a page.
            let (claims, more) = if claimed.is_empty() {
                let polled = self
                    .outbox
                    .claim_due(self.now(), self.config.lease, CLAIM_BATCH)
                    .await?;
                let more = polled.len() == CLAIM_BATCH;
                (polled, more)
            } else {
                (std::mem::take(&mut claimed), true)
            };
            if claims.is_empty() {
                return Ok(stats);
            }
            let mut outcomes = Vec::with_capacity(claims.len());
            for claim in claims {
                outcomes.push(self.attempt(claim).await?);
            }
            let fallbacks_before = stats.fallbacks.len();
            claimed = self.settle_round(outcomes, &mut stats).await?;
            // A fallback page the outbox did not hand back claimed is due now: poll for it.
            if !more && claimed.is_empty() && stats.fallbacks.len() == fallbacks_before {
                return Ok(stats);
            }
        }
    }

    /// Tries the providers for one claim and says what should be recorded.
    async fn attempt(&self, claim: Claim) -> Result<Outcome, OrchestratorError> {
        let now = self.now();
        let token = claim.token();
        let msg = claim.message;
        let meta = self.lock()?.messages.get(&msg.id).cloned();
        if claim.attempt > self.config.retry.max_attempts {
            return self.failure(&msg, token, "attempts_exhausted", None);
        }
        let mut retry_after = Duration::ZERO;
        let mut retryable = false;
        let mut last = "no_provider";
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
                    return Ok(Outcome {
                        settlement: Settlement::Sent {
                            claim: token,
                            provider: provider.name().to_owned(),
                            delivery_id: delivery.as_str().to_owned(),
                        },
                        event: Some(e.build()?),
                        status: DeliveryStatus::Sent {
                            provider: provider.name().to_owned(),
                            delivery,
                        },
                        fall_back: None,
                    });
                }
                Err(SendError::NotReachable) => {
                    return self.failure(&msg, token, "not_reachable", meta);
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
        if !retryable {
            return self.failure(&msg, token, last, None);
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
        Ok(Outcome {
            settlement: Settlement::Retry {
                claim: token,
                next_attempt_at: now.saturating_add(delay),
                reason: last.to_owned(),
            },
            event: None,
            status: DeliveryStatus::Retrying {
                attempts: claim.attempt,
            },
            fall_back: None,
        })
    }

    /// A failed outcome, audited as such once applied.
    fn failure(
        &self,
        msg: &OutboundMessage,
        claim: crate::outbox::ClaimToken,
        reason: &str,
        fall_back: Option<MessageMeta>,
    ) -> Result<Outcome, OrchestratorError> {
        let e = self
            .event(EventKind::MessageSent, self.now())
            .alert(msg.alert.clone())
            .recipient(&msg.recipient)
            .route(msg.route.as_str())
            .outcome("failed")
            .reason(reason);
        Ok(Outcome {
            settlement: Settlement::Failed {
                claim,
                reason: reason.to_owned(),
            },
            event: Some(e.build()?),
            status: DeliveryStatus::Failed {
                reason: reason.to_owned(),
            },
            fall_back,
        })
    }

    /// Records a round's outcomes through the journal (one settle and one audit batch of the
    /// applied ones; one transaction with an atomic journal), then falls back from the pages
    /// that turned out unreachable. Returns the claims of the fallback pages.
    async fn settle_round(
        &self,
        outcomes: Vec<Outcome>,
        stats: &mut DrainStats,
    ) -> Result<Vec<Claim>, OrchestratorError> {
        let mut rest = Vec::with_capacity(outcomes.len());
        let mut writes = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            writes.push((o.settlement, o.event));
            rest.push((o.status, o.fall_back));
        }
        let settlements: Vec<_> = writes.iter().map(|(s, _)| s.clone()).collect();
        let results = self.journal.settle_and_record(writes, self.now()).await?;
        if results.len() != settlements.len() {
            return Err(OrchestratorError::Internal(
                "outbox settled a different count",
            ));
        }
        let mut fall_back = Vec::new();
        for ((settlement, (status, back)), result) in settlements.into_iter().zip(rest).zip(results)
        {
            match result {
                Ok(()) => {}
                // A newer claim re-sends under the same idempotency key and records (and
                // audits) the outcome; recording it here too would double it.
                Err(OutboxError::StaleClaim) => {
                    stats.superseded += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            match &settlement {
                Settlement::Sent { .. } => stats.sent += 1,
                Settlement::Failed { .. } => stats.failed += 1,
                _ => {}
            }
            stats.settled.insert(settlement.claim().id.clone(), status);
            fall_back.extend(back);
        }
        let mut claims = Vec::new();
        for meta in fall_back {
            claims.extend(self.fall_back(meta, stats).await?);
        }
        Ok(claims)
    }

    /// After `not_reachable`: forget what we knew about the number, tell the resolver (which
    /// may now detect a downgrade of a pinned contact) and let the policy decide again.
    /// Returns the claim of the new page, for the caller's drain to send.
    async fn fall_back(
        &self,
        meta: MessageMeta,
        stats: &mut DrainStats,
    ) -> Result<Vec<Claim>, OrchestratorError> {
        if meta.fallbacks >= MAX_FALLBACKS {
            return Ok(Vec::new());
        }
        let number = &meta.responder.number;
        let _ = self
            .resolver
            .on_delivery_event(number, DeliveryEvent::NotFound404)
            .await;
        let Some(ctx) = self.page_ctx(&meta.alert)? else {
            return Ok(Vec::new());
        };
        let tag = format!("{}f", meta.tag);
        let mut batch = PageBatch::default();
        let delivery = self
            .page_one(
                &ctx,
                &meta.responder,
                &tag,
                meta.fallbacks + 1,
                Gates::NONE,
                None,
                &mut batch,
            )
            .await?;
        let claims = self.flush(batch).await?;
        stats.fallbacks.push(delivery);
        Ok(claims)
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
        let claims = self.fall_back(meta, &mut stats).await?;
        let more = self.drain_from(claims).await?;
        let mut out = stats.fallbacks;
        out.extend(more.fallbacks);
        self.finish(&mut out, &more.settled).await?;
        Ok(out)
    }

    /// Fills in each enqueued delivery's status: from what a drain settled, else from the
    /// outbox (a message another worker is handling, or one waiting for a retry).
    pub(crate) async fn finish(
        &self,
        deliveries: &mut [Delivery],
        settled: &HashMap<MessageId, DeliveryStatus>,
    ) -> Result<(), OrchestratorError> {
        let now = self.now();
        for d in deliveries.iter_mut() {
            let Some(id) = &d.message_id else { continue };
            if !matches!(d.status, DeliveryStatus::Retrying { .. }) {
                continue;
            }
            if let Some(status) = settled.get(id) {
                d.status = status.clone();
                continue;
            }
            let Some(status) = self.outbox.status(id, now).await? else {
                continue;
            };
            d.status = match status.state {
                OutboxState::Sent => DeliveryStatus::Sent {
                    provider: status.provider.unwrap_or_default(),
                    delivery: DeliveryId::new(status.delivery_id.unwrap_or_default()),
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
}
