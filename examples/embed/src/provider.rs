//! Our messaging provider: each message becomes one JSON `POST` to the vendor.

use std::net::SocketAddr;
use std::time::Duration;

use rcsec::capability::Route;
use rcsec::{DeliveryId, MessageBody, MessagingProvider, OutboundMessage, SendError, async_trait};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::http;

/// Posts messages to `http://{vendor}/v1/messages`.
///
/// Carries RCS without end-to-end encryption and SMS: the vendor sees the text, so the
/// orchestrator only ever hands it what the policy allows on those routes (redacted text and a
/// one-time link; the SMS template and a link).
#[derive(Debug)]
pub struct HttpProvider {
    vendor: SocketAddr,
    timeout: Duration,
}

impl HttpProvider {
    /// A provider for the vendor at `vendor`, with a 5-second timeout per send.
    pub fn new(vendor: SocketAddr) -> Self {
        Self {
            vendor,
            timeout: Duration::from_secs(5),
        }
    }

    async fn post(&self, body: &[u8]) -> std::io::Result<http::Message> {
        let mut stream = TcpStream::connect(self.vendor).await?;
        stream
            .write_all(&http::encode("POST /v1/messages HTTP/1.1", body))
            .await?;
        http::read_message(&mut stream).await
    }
}

#[async_trait]
impl MessagingProvider for HttpProvider {
    fn name(&self) -> &str {
        "vendor-http"
    }

    fn routes(&self) -> &[Route] {
        &[Route::RcsPlain, Route::SmsLink]
    }

    async fn send(&self, message: &OutboundMessage) -> Result<DeliveryId, SendError> {
        let text = match &message.body {
            MessageBody::Text { text, .. } | MessageBody::Sms { text } => text.expose(),
            // We offered no push route; an encrypted body (or a kind this adapter predates) is
            // a wiring mistake, refused rather than guessed at.
            _ => return Err(SendError::Rejected),
        };
        // The id is the idempotency key: a retry after a timeout reuses it and the vendor
        // delivers once.
        let body = serde_json::json!({
            "id": message.id.as_str(),
            "to": message.recipient.expose_e164(),
            "route": message.route.as_str(),
            "text": text,
        })
        .to_string();
        let sent = tokio::time::timeout(self.timeout, self.post(body.as_bytes()));
        // Connection refused, reset or timed out: maybe sent, maybe not; the pipeline retries
        // with the same id. (The io error names no number or text; we keep none of it anyway.)
        let Ok(Ok(response)) = sent.await else {
            return Err(SendError::Transient);
        };
        let status = response.start_line.split(' ').nth(1).unwrap_or_default();
        match status {
            "200" => {}
            "404" => return Err(SendError::NotReachable),
            "429" => {
                return Err(SendError::RateLimited {
                    retry_after: Duration::from_secs(30),
                });
            }
            s if s.starts_with('4') => return Err(SendError::Rejected),
            _ => return Err(SendError::Transient),
        }
        let reply: serde_json::Value =
            serde_json::from_slice(&response.body).map_err(|e| SendError::Backend(Box::new(e)))?;
        reply
            .get("delivery_id")
            .and_then(serde_json::Value::as_str)
            .map(DeliveryId::new)
            .ok_or_else(|| SendError::Backend("vendor reply has no delivery_id".into()))
    }
}
