//! A decorator that shortens the delivery window of messages handed to one provider.
//!
//! RBM's `ttl` is computed from the message's expiry. The pipeline's expiry (an hour by
//! default) is how long a page is worth sending at all; RBM's TTL is how long to wait for an
//! RCS device before giving up on RCS. When RBM's TTL passes undelivered, RBM revokes the
//! message and posts a TTL-expiration event, and alertd falls back (an SMS link), so a short
//! TTL here is what turns "the phone is off RCS" into a timely SMS.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rcsec::capability::Route;
use rcsec::core::Clock;
use rcsec::{DeliveryId, MessagingProvider, OutboundMessage, ProviderHealth, SendError};

/// Forwards to `inner` with `expires_at` capped at now + `ttl`.
#[derive(Debug)]
pub struct CappedTtl {
    inner: Arc<dyn MessagingProvider>,
    ttl: Duration,
    clock: Arc<dyn Clock>,
}

impl CappedTtl {
    /// Caps the delivery window of messages to `inner` at `ttl` from the time of the send.
    pub fn new(inner: Arc<dyn MessagingProvider>, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self { inner, ttl, clock }
    }
}

#[async_trait]
impl MessagingProvider for CappedTtl {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn routes(&self) -> &[Route] {
        self.inner.routes()
    }

    async fn send(&self, message: &OutboundMessage) -> Result<DeliveryId, SendError> {
        let cap = self.clock.now().saturating_add(self.ttl);
        if message.expires_at <= cap {
            return self.inner.send(message).await;
        }
        let mut capped = message.clone();
        capped.expires_at = cap;
        self.inner.send(&capped).await
    }

    async fn health(&self) -> ProviderHealth {
        self.inner.health().await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use rcsec::core::{AlertId, ManualClock, Msisdn, Redacted, Timestamp};
    use rcsec::{MessageBody, MessageId, RecordingProvider};

    fn message(id: &str, expires_in: u64) -> OutboundMessage {
        OutboundMessage {
            id: MessageId::new(id).unwrap(),
            alert: AlertId::new("c4a1b2d3e4f50617").unwrap(),
            recipient: Msisdn::parse("+447700900101").unwrap(),
            route: Route::RcsPlain,
            body: MessageBody::Text {
                text: Redacted::new("text", "x".to_owned()),
                actions: Vec::new(),
            },
            created_at: Timestamp::from_secs(1_800_000_000),
            expires_at: Timestamp::from_secs(1_800_000_000 + expires_in),
        }
    }

    #[tokio::test]
    async fn caps_long_windows_and_keeps_short_ones() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(1_800_000_000)));
        let inner = Arc::new(RecordingProvider::new("rec", &[Route::RcsPlain]));
        let capped = CappedTtl::new(inner.clone(), Duration::from_secs(300), clock);
        capped.send(&message("m-ttl-1", 3600)).await.unwrap();
        capped.send(&message("m-ttl-2", 60)).await.unwrap();
        let sent = inner.accepted();
        assert_eq!(sent[0].expires_at, Timestamp::from_secs(1_800_000_300));
        assert_eq!(sent[1].expires_at, Timestamp::from_secs(1_800_000_060));
        assert_eq!(capped.name(), "rec");
    }
}
