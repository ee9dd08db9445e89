//! A [`MessagingProvider`] decorator that counts what providers accept, by route.
//!
//! Counting at the provider seam, rather than from the reports handlers get back, also sees
//! the sends the background tick makes (retries after a transient failure, escalations,
//! quiet-hour releases), so `rcsec_sends_total` matches what actually left the daemon.

use std::sync::Arc;

use async_trait::async_trait;
use rcsec::capability::Route;
use rcsec::{DeliveryId, MessagingProvider, OutboundMessage, ProviderHealth, SendError};

use crate::metrics::Metrics;

/// Wraps a provider; forwards everything, counts outcomes.
#[derive(Debug)]
pub struct Counting {
    inner: Arc<dyn MessagingProvider>,
    metrics: Arc<Metrics>,
}

impl Counting {
    /// Counts `inner`'s sends into `metrics`.
    pub fn new(inner: Arc<dyn MessagingProvider>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl MessagingProvider for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn routes(&self) -> &[Route] {
        self.inner.routes()
    }

    async fn send(&self, message: &OutboundMessage) -> Result<DeliveryId, SendError> {
        let result = self.inner.send(message).await;
        match &result {
            Ok(_) => self
                .metrics
                .inc("rcsec_sends_total", &[("route", message.route.as_str())]),
            Err(e) => self.metrics.inc(
                "rcsec_send_failures_total",
                &[("provider", self.inner.name()), ("reason", e.code())],
            ),
        }
        result
    }

    async fn health(&self) -> ProviderHealth {
        self.inner.health().await
    }
}
