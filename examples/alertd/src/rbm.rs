//! The RBM inbound side: a bounded queue between the webhook (which answers fast) and the
//! pipeline (which may wait on storage), and the worker that drains it.
//!
//! Suggestion postbacks are verified in the worker against the signed event's sender with
//! the daemon's [`PostbackSigner`]; its key lives in the state directory so postbacks minted
//! before a restart still verify.

use std::sync::{Arc, Mutex, PoisonError};

use rcsec::OrchestratorError;
use rcsec_provider_rbm::webhook::{
    ClientToken, Deduplicator, Inbound, PostbackError, PostbackSigner, RbmEvent,
};
use tokio::sync::mpsc;

use crate::app::App;
use crate::http::alertmanager::record_deliveries;

/// How long an event id is remembered for de-duplication: Pub/Sub redelivers for up to a day.
pub(crate) const DEDUP_WINDOW: std::time::Duration = std::time::Duration::from_secs(86_400);
/// Event ids remembered at most (oldest evicted first), bounding memory.
pub(crate) const DEDUP_CAPACITY: usize = 100_000;

/// Webhook-side state: verification keys, dedup, and the queue's sending half.
pub struct RbmInbound {
    pub(crate) token: ClientToken,
    pub(crate) postbacks: PostbackSigner,
    pub(crate) dedup: Deduplicator,
    pub(crate) queue: mpsc::Sender<RbmEvent>,
    receiver: Mutex<Option<mpsc::Receiver<RbmEvent>>>,
}

impl std::fmt::Debug for RbmInbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RbmInbound")
            .field("queue_capacity", &self.queue.max_capacity())
            .finish_non_exhaustive()
    }
}

impl RbmInbound {
    pub(crate) fn new(token: ClientToken, postbacks: PostbackSigner, capacity: usize) -> Self {
        let (queue, receiver) = mpsc::channel(capacity);
        Self {
            token,
            postbacks,
            dedup: Deduplicator::new(DEDUP_WINDOW, DEDUP_CAPACITY),
            queue,
            receiver: Mutex::new(Some(receiver)),
        }
    }

    /// The signer postbacks are verified with (the RBM sender mints with the same keys).
    pub fn postbacks(&self) -> &PostbackSigner {
        &self.postbacks
    }

    pub(crate) fn take_receiver(&self) -> Option<mpsc::Receiver<RbmEvent>> {
        self.receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// Applies one queued event to the pipeline; every outcome is counted, none is fatal.
pub(crate) async fn process(app: &App, inbound: &RbmInbound, event: RbmEvent) {
    let count = |kind: &str, outcome: &str| {
        app.metrics.inc(
            "alertd_provider_events_total",
            &[("kind", kind), ("outcome", outcome)],
        );
    };
    let sender = event.sender.clone();
    let inbound_event = match event.into_inbound(&inbound.postbacks) {
        Ok(i) => i,
        Err(e) => {
            // Forged, altered or forwarded postback: never acted on. The event itself is
            // signed by RBM, so its sender is authentic and is audited (as a pseudonym).
            tracing::warn!(error = %e, "rbm postback refused");
            count("suggestion", "refused");
            let reason = match e {
                PostbackError::BadTag => "postback_bad_tag",
                PostbackError::UnknownKey => "postback_unknown_key",
                _ => "postback_malformed",
            };
            app.forged_webhook("rbm", reason, Some(&sender)).await;
            return;
        }
    };
    match inbound_event {
        Inbound::Event(e) => {
            let kind = match &e.kind {
                rcsec::ProviderEventKind::Delivered { .. } => "delivered",
                rcsec::ProviderEventKind::Read => "read",
                rcsec::ProviderEventKind::Action(a) => a.as_str(),
                _ => "other",
            };
            match app.orchestrator.on_event(e).await {
                Ok(deliveries) => {
                    record_deliveries(&app.metrics, &deliveries);
                    count(kind, "applied");
                }
                Err(OrchestratorError::UnknownMessage) => count(kind, "unknown_message"),
                Err(e) => {
                    tracing::error!(error = %e, kind, "rbm event not applied");
                    count(kind, "failed");
                }
            }
        }
        Inbound::Expired { message, revoked } => {
            let kind = if revoked {
                "ttl_expiration_revoked"
            } else {
                "ttl_expiration_revoke_failed"
            };
            match app.orchestrator.on_expired(&message).await {
                Ok(deliveries) => {
                    record_deliveries(&app.metrics, &deliveries);
                    tracing::info!(
                        fallbacks = deliveries.len(),
                        "rbm message expired; fell back"
                    );
                    count(kind, "fell_back");
                }
                Err(OrchestratorError::UnknownMessage) => count(kind, "unknown_message"),
                Err(e) => {
                    tracing::error!(error = %e, "rbm expiry fallback failed");
                    count(kind, "failed");
                }
            }
        }
        Inbound::UserText(_) => count("user_text", "ignored"),
        Inbound::Ignored(reason) => count(reason, "ignored"),
        _ => count("other", "ignored"),
    }
}

/// Drains the queue until `stop`, then processes what is already queued and returns.
pub(crate) async fn worker(
    app: Arc<App>,
    mut receiver: mpsc::Receiver<RbmEvent>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let Some(inbound) = app.rbm.as_ref() else {
        return;
    };
    loop {
        tokio::select! {
            event = receiver.recv() => match event {
                Some(event) => process(&app, inbound, event).await,
                None => return,
            },
            _ = stop.changed() => break,
        }
    }
    receiver.close();
    while let Some(event) = receiver.recv().await {
        process(&app, inbound, event).await;
    }
}
