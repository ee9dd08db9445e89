//! "Send anyway": a named person pushes one page onto a route the policy denied.
//!
//! The policy crate decides whether the override is allowed ([`SendAnyway::apply`]: never
//! past a detected downgrade, consent or residency, never for P0 with secrets unless the
//! policy says so); this module audits it and sends the page. The audit event records the
//! actor and the new route; the person's free-text reason stays out of the log (audit fields
//! are codes), and the event's reason is `user_override`.

use rcsec_audit::EventKind;
use rcsec_core::AlertId;
use rcsec_policy::danger::SendAnyway;
use rcsec_policy::{DecisionInput, Route};

use super::deliver::{Gates, PageBatch};
use super::report::Delivery;
use super::{Orchestrator, OrchestratorError};
use crate::facts;
use crate::responder::Responder;

impl Orchestrator {
    /// Sends the page for `alert` to `responder` over `route` although the policy chose
    /// otherwise, if the policy permits overriding here. The decision carries the fallback
    /// reason `user_override` and a red indicator.
    ///
    /// # Errors
    /// [`OrchestratorError::Override`] when the policy refuses (nothing is sent, nothing
    /// audited); [`OrchestratorError::UnknownAlert`]; store and audit failures.
    pub async fn send_anyway(
        &self,
        alert: &AlertId,
        responder: &Responder,
        request: SendAnyway,
        route: Route,
    ) -> Result<Delivery, OrchestratorError> {
        let ctx = self
            .page_ctx(alert)?
            .ok_or(OrchestratorError::UnknownAlert)?;
        let now = self.now();
        let number = &responder.number;
        let resolution = self.resolver.resolve(number).await.ok();
        let facts = facts::channel_facts(resolution.as_ref(), self.protector.reaches(responder));
        let mut input = DecisionInput::new(ctx.alert.severity, &ctx.classification, &facts);
        input.group = &responder.group;
        input.region = responder.region.as_ref();
        input.consent = Some(&responder.consent);
        let actor = request.actor().to_owned();
        let overridden = request.apply(&self.policy, &input, route, now)?;
        let e = self
            .event(EventKind::Override, now)
            .alert(alert.clone())
            .recipient(number)
            .actor(&actor)
            .route(route.as_str())
            .outcome(overridden.record.original.route.as_str())
            .reason("user_override");
        self.record(e).await?;
        let tag = format!("o-{}", route.as_str());
        let mut batch = PageBatch::default();
        let mut delivery = self
            .page_one(
                &ctx,
                responder,
                &tag,
                0,
                Gates::NONE,
                Some(overridden.decision),
                &mut batch,
            )
            .await?;
        let claims = self.flush(batch).await?;
        let stats = self.drain_from(claims).await?;
        self.finish(std::slice::from_mut(&mut delivery), &stats.settled)
            .await?;
        Ok(delivery)
    }
}
