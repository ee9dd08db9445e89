//! The push-gateway adapter.

use std::fmt;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcsec::{DeliveryId, MessageBody, MessagingProvider, OutboundMessage, SendError};
use rcsec_capability::Route;
use rcsec_core::Secret;
use rcsec_http::{HttpClient, HttpRequest, Method, StatusCode, header};
use url::Url;

use crate::recipient::RecipientKeyer;

/// Smallest payload accepted. An MLS `PrivateMessage` is far larger (a header, two AEAD tags
/// and a 64-byte signature inside); anything this short cannot be a protected payload.
pub const MIN_CIPHERTEXT_BYTES: usize = 49;

/// Largest payload accepted (push services cap payloads at a few KiB; the gateway may add its
/// own limit and answer 413).
pub const MAX_CIPHERTEXT_BYTES: usize = 64 * 1024;

/// Where the gateway is and how to authenticate to it.
pub struct PushConfig {
    /// The gateway's webhook (`https://push.example/v1/messages`).
    pub gateway_url: Url,
    /// Bearer token for the gateway, if it wants one.
    pub bearer: Option<Secret<String>>,
    /// Names recipients to the gateway.
    pub recipients: RecipientKeyer,
}

impl fmt::Debug for PushConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushConfig")
            .field("host", &self.gateway_url.host_str())
            .field("bearer", &self.bearer.is_some())
            .finish_non_exhaustive()
    }
}

/// A fixed-description error source (never request data).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Why(&'static str);

/// Posts protected payloads to the push gateway, for [`Route::EncryptedPush`] only.
///
/// Request: `POST gateway_url`, `Idempotency-Key: <message id>`, JSON
/// `{"v":1,"message_id","alert","recipient":<RecipientKeyer key>,"ciphertext":<base64>,
/// "expires_at":<unix ms>}`. Answers: 2xx accepted (an `"id"` in the JSON answer becomes the
/// delivery id); 404/410 the recipient has no registered device (not reachable: fall back);
/// 400/413 rejected; 429 rate limited (`Retry-After`); 5xx and timeouts transient.
///
/// # Refusals
/// Only [`MessageBody::Encrypted`] is carried. As defence in depth an "encrypted" body shorter
/// than [`MIN_CIPHERTEXT_BYTES`], longer than [`MAX_CIPHERTEXT_BYTES`], or that is entirely
/// printable UTF-8 text is refused too: real ciphertext of that length is printable text with
/// negligible probability, while a wiring bug that put the alert text there would be.
pub struct PushProvider {
    http: HttpClient,
    config: PushConfig,
}

impl fmt::Debug for PushProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushProvider")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PushProvider {
    /// An adapter for `config`.
    pub fn new(http: HttpClient, config: PushConfig) -> Self {
        Self { http, config }
    }
}

#[async_trait]
impl MessagingProvider for PushProvider {
    fn name(&self) -> &str {
        "push"
    }

    fn routes(&self) -> &[Route] {
        &[Route::EncryptedPush]
    }

    async fn send(&self, message: &OutboundMessage) -> Result<DeliveryId, SendError> {
        // `fits` refuses other bodies and "ciphertext" that reads as text.
        if message.route != Route::EncryptedPush || !message.body.fits(message.route) {
            return Err(SendError::Rejected);
        }
        let MessageBody::Encrypted { ciphertext } = &message.body else {
            return Err(SendError::Rejected);
        };
        if ciphertext.len() < MIN_CIPHERTEXT_BYTES || ciphertext.len() > MAX_CIPHERTEXT_BYTES {
            return Err(SendError::Rejected);
        }
        let body = serde_json::json!({
            "v": 1,
            "message_id": message.id.as_str(),
            "alert": message.alert.as_str(),
            "recipient": self.config.recipients.key_for(&message.recipient),
            "ciphertext": STANDARD.encode(ciphertext),
            "expires_at": message.expires_at.as_millis(),
        });
        let body = serde_json::to_vec(&body)
            .map_err(|_| SendError::Backend(Box::new(Why("push body serialization failed"))))?;
        let mut req = HttpRequest::new(Method::POST, self.config.gateway_url.clone())
            .header(
                header::HeaderName::from_static("idempotency-key"),
                message.id.as_str(),
            )
            .map_err(|e| SendError::Backend(Box::new(e)))?;
        if let Some(bearer) = &self.config.bearer {
            req = req
                .header(
                    header::AUTHORIZATION,
                    &format!("Bearer {}", bearer.expose_secret()),
                )
                .map_err(|e| SendError::Backend(Box::new(e)))?;
        }
        let req = req
            .json(body)
            .map_err(|e| SendError::Backend(Box::new(e)))?;
        let res = match self.http.send(req).await {
            Ok(res) => res,
            Err(e) if e.is_transient() => return Err(SendError::Transient),
            Err(e) => return Err(SendError::Backend(Box::new(e))),
        };
        match res.status {
            s if s.is_success() => {
                let id = serde_json::from_slice::<serde_json::Value>(&res.body)
                    .ok()
                    .and_then(|v| v.get("id")?.as_str().map(str::to_owned))
                    .filter(|id| {
                        !id.is_empty()
                            && id.len() <= 128
                            && id.bytes().all(|b| b.is_ascii_graphic())
                    })
                    .unwrap_or_else(|| message.id.as_str().to_owned());
                Ok(DeliveryId::new(format!("push:{id}")))
            }
            StatusCode::NOT_FOUND | StatusCode::GONE => Err(SendError::NotReachable),
            StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE => Err(SendError::Rejected),
            StatusCode::TOO_MANY_REQUESTS => Err(SendError::RateLimited {
                retry_after: res
                    .retry_after()
                    .unwrap_or(std::time::Duration::from_secs(1)),
            }),
            s if s.is_server_error() => Err(SendError::Transient),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(SendError::Backend(Box::new(
                Why("push gateway refused the credentials"),
            ))),
            _ => Err(SendError::Backend(Box::new(Why(
                "push gateway answered an unexpected status",
            )))),
        }
    }
}

#[cfg(test)]
fn _obj_safe(_: &dyn MessagingProvider) {}
