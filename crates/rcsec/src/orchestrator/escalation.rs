//! Escalation: an unacknowledged alert pages the next step after the timeout, loops through
//! the chain `escalation_loops` more times, then stops and says so on the ticket. `tick` also
//! releases quiet-hour holds, retries due messages and expires stale ones.

use rcsec_audit::EventKind;
use rcsec_core::{AlertId, Timestamp};

use super::build::OrchestratorConfig;
use super::deliver::{Gates, PageBatch};
use super::report::{Delivery, TickReport};
use super::{AlertState, Orchestrator, OrchestratorError};

/// Moves `a` to its next step; `false` when the chain is exhausted.
pub(crate) fn advance(a: &mut AlertState, now: Timestamp, config: &OrchestratorConfig) -> bool {
    a.step += 1;
    if a.step >= a.chain.len() {
        a.step = 0;
        a.round += 1;
    }
    if a.round > config.escalation_loops {
        a.deadline = None;
        return false;
    }
    a.deadline = Some(now.saturating_add(config.ack_timeout));
    true
}

impl Orchestrator {
    /// Audits a failed ticket update that must not stop the step it belongs to: a ticket
    /// system that is down, or (after a restart on an in-memory ticket sink) no longer knows
    /// the ticket, must not keep the next responder from being paged or a resolution from
    /// completing.
    pub(crate) async fn ticket_failed(
        &self,
        alert: &AlertId,
        now: Timestamp,
        error: &crate::ticket::TicketError,
    ) -> Result<(), OrchestratorError> {
        let reason = match error {
            crate::ticket::TicketError::NotFound => "ticket_not_found",
            _ => "ticket_backend_failed",
        };
        let e = self.event(EventKind::Failed, now);
        self.record(
            e.alert(alert.clone())
                .outcome("ticket_update")
                .reason(reason),
        )
        .await
    }

    /// Pages the current step of `alert`'s chain.
    pub(crate) async fn page_current_step(
        &self,
        alert: &AlertId,
    ) -> Result<Vec<Delivery>, OrchestratorError> {
        let (responders, tag) = {
            let state = self.lock()?;
            let Some(a) = state.alerts.get(alert) else {
                return Ok(Vec::new());
            };
            (
                a.chain.get(a.step).cloned().unwrap_or_default(),
                format!("p{}.{}", a.round, a.step),
            )
        };
        let Some(ctx) = self.page_ctx(alert)? else {
            return Ok(Vec::new());
        };
        self.page_all(&ctx, &responders, &tag, Gates::ALL, Vec::new())
            .await
    }

    /// Escalates `alert` now (an `escalate` action, or a timeout). Returns the new pages.
    pub(crate) async fn escalate(
        &self,
        alert: &AlertId,
        why: &str,
    ) -> Result<Vec<Delivery>, OrchestratorError> {
        let now = self.now();
        let (moved, ticket) = {
            let mut state = self.lock()?;
            let Some(a) = state.alerts.get_mut(alert) else {
                return Ok(Vec::new());
            };
            if a.resolved {
                return Ok(Vec::new());
            }
            (advance(a, now, &self.config), a.ticket.clone())
        };
        let outcome = if moved {
            "escalated"
        } else {
            "escalation_exhausted"
        };
        if let Some(t) = &ticket {
            let note = if moved {
                format!("escalated ({why})")
            } else {
                "escalation chain exhausted without acknowledgement".to_owned()
            };
            if let Err(error) = self.tickets.note(t, &note).await {
                self.ticket_failed(alert, now, &error).await?;
            }
        }
        let e = self.event(EventKind::TicketUpdated, now);
        self.record(e.alert(alert.clone()).outcome(outcome).reason(why))
            .await?;
        if moved {
            // The page step writes the alert's new position with its pages.
            self.page_current_step(alert).await
        } else {
            self.persist(std::slice::from_ref(alert)).await?;
            Ok(Vec::new())
        }
    }

    /// Runs everything that is due at the clock's current time: escalations whose
    /// acknowledgement timed out, quiet-hour releases, retries, and expiry (each expired
    /// message is audited).
    ///
    /// Call it periodically (every few seconds); with a `ManualClock`, after each advance.
    ///
    /// # Errors
    /// [`OrchestratorError`] when a store, the audit sink or the ticket system fails.
    pub async fn tick(&self) -> Result<TickReport, OrchestratorError> {
        let now = self.now();
        let mut report = TickReport::default();

        let due: Vec<AlertId> = {
            let state = self.lock()?;
            state
                .alerts
                .iter()
                .filter(|(_, a)| !a.acked && !a.resolved && a.deadline.is_some_and(|d| d <= now))
                .map(|(id, _)| id.clone())
                .collect()
        };
        for id in due {
            report
                .escalated
                .extend(self.escalate(&id, "ack_timeout").await?);
        }

        let released = {
            let mut state = self.lock()?;
            let (ready, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut state.held)
                .into_iter()
                .partition(|h| h.until <= now);
            state.held = keep;
            ready
        };
        let mut batch = PageBatch::default();
        for held in released {
            let Some(ctx) = self.page_ctx(&held.alert)? else {
                continue;
            };
            let gates = Gates {
                quiet_hours: false,
                rate_limit: true,
            };
            report.released.push(
                self.page_one(&ctx, &held.responder, &held.tag, 0, gates, None, &mut batch)
                    .await?,
            );
        }
        let claims = self.flush(batch).await?;

        let stats = self.drain_from(claims).await?;
        self.finish(&mut report.released, &stats.settled).await?;
        report.retried_sent = stats.sent;
        report.failed = stats.failed;
        report.superseded = stats.superseded;
        report.released.extend(stats.fallbacks);

        for id in self.outbox.expire_due(now).await? {
            let meta = self.lock()?.messages.get(&id).cloned();
            let mut e = self.event(EventKind::MessageSent, now).outcome("expired");
            if let Some(m) = &meta {
                e = e.alert(m.alert.clone()).recipient(&m.responder.number);
            }
            self.record(e).await?;
            report.expired += 1;
        }
        let window = self.config.dedup_window;
        self.lock()?.dedup.sweep(now, window);
        self.prune_state().await?;
        Ok(report)
    }
}
