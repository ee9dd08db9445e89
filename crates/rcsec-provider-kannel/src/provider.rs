//! The `sendsms` adapter.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;
use rcsec::{DeliveryId, MessageBody, MessageId, MessagingProvider, OutboundMessage, SendError};
use rcsec_capability::Route;
use rcsec_core::Secret;
use rcsec_http::{HttpClient, HttpRequest, Method, StatusCode};
use url::Url;

use crate::dlr::{DlrSigner, DlrStatus};
use rcsec::sms::{SmsGuard, SmsTextError};

/// How many accepted message ids are remembered for idempotent retries.
const REMEMBERED: usize = 10_000;

/// Kannel's `sendsms` endpoint and account.
pub struct KannelConfig {
    /// `http://host:13013/cgi-bin/sendsms`.
    pub sendsms_url: Url,
    /// A `sendsms-user` username.
    pub username: String,
    /// Its password (sent as a query parameter: keep Kannel on a trusted network).
    pub password: Secret<String>,
    /// Sender (`from`); Kannel's `global-sender` when `None`.
    pub from: Option<String>,
    /// Delivery reports: which types (`dlr-mask`) and where to ([`DlrSigner`]).
    pub dlr: Option<(u8, DlrSigner)>,
}

impl fmt::Debug for KannelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KannelConfig")
            .field("host", &self.sendsms_url.host_str())
            .field("username", &self.username)
            .field("dlr", &self.dlr.as_ref().map(|(mask, _)| mask))
            .finish_non_exhaustive()
    }
}

/// A fixed-description error source (never request data).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Why(&'static str);

#[derive(Debug, Default)]
struct Sent {
    ids: HashMap<MessageId, DeliveryId>,
    order: VecDeque<MessageId>,
}

/// SMS through Kannel, for the [`Route::SmsLink`] route only.
///
/// Every text passes the [`SmsGuard`] first (a configured template with a gateway link, one
/// GSM-7 segment), so no alert content, secret or number can leave by SMS.
///
/// # Idempotency
/// Kannel does not de-duplicate, so accepted message ids are remembered (the last 10 000, in
/// this process) and a retry of one is answered without a second SMS. A timeout *after*
/// Kannel accepted cannot be told from one before: that retry sends again (at least once).
pub struct KannelProvider {
    http: HttpClient,
    config: KannelConfig,
    guard: SmsGuard,
    sent: Mutex<Sent>,
}

impl fmt::Debug for KannelProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KannelProvider")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl KannelProvider {
    /// An adapter for `config`, sending only texts `guard` allows.
    pub fn new(http: HttpClient, config: KannelConfig, guard: SmsGuard) -> Self {
        Self {
            http,
            config,
            guard,
            sent: Mutex::new(Sent::default()),
        }
    }

    fn remembered(&self, id: &MessageId) -> Option<DeliveryId> {
        self.sent.lock().ok()?.ids.get(id).cloned()
    }

    fn remember(&self, id: &MessageId, delivery: &DeliveryId) {
        if let Ok(mut sent) = self.sent.lock() {
            if sent.ids.insert(id.clone(), delivery.clone()).is_none() {
                sent.order.push_back(id.clone());
            }
            while sent.order.len() > REMEMBERED {
                if let Some(old) = sent.order.pop_front() {
                    sent.ids.remove(&old);
                }
            }
        }
    }

    fn request_url(&self, message: &OutboundMessage, text: &str) -> Url {
        let mut url = self.config.sendsms_url.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("username", &self.config.username)
                .append_pair("password", self.config.password.expose_secret())
                .append_pair("to", message.recipient.expose_e164())
                .append_pair("text", text)
                // GSM 7-bit (checked by the guard); the text is UTF-8 on the wire.
                .append_pair("coding", "0")
                .append_pair("charset", "UTF-8");
            if let Some(from) = &self.config.from {
                q.append_pair("from", from);
            }
            if let Some((mask, signer)) = &self.config.dlr {
                q.append_pair("dlr-mask", &(mask & DlrStatus::ALL_MASK).to_string())
                    .append_pair("dlr-url", &signer.url_for(&message.id));
            }
        }
        url
    }
}

#[async_trait]
impl MessagingProvider for KannelProvider {
    fn name(&self) -> &str {
        "kannel"
    }

    fn routes(&self) -> &[Route] {
        &[Route::SmsLink]
    }

    async fn send(&self, message: &OutboundMessage) -> Result<DeliveryId, SendError> {
        if message.route != Route::SmsLink {
            return Err(SendError::Rejected);
        }
        let MessageBody::Sms { text } = &message.body else {
            return Err(SendError::Rejected);
        };
        match self.guard.check(text.expose()) {
            Ok(()) => {}
            Err(SmsTextError::InvalidTemplate(_)) => {
                return Err(SendError::Backend(Box::new(Why("invalid sms guard"))));
            }
            Err(_) => return Err(SendError::Rejected),
        }
        if let Some(delivery) = self.remembered(&message.id) {
            return Ok(delivery);
        }
        let url = self.request_url(message, text.expose());
        let res = match self.http.send(HttpRequest::new(Method::GET, url)).await {
            Ok(res) => res,
            Err(e) if e.is_transient() => return Err(SendError::Transient),
            Err(e) => return Err(SendError::Backend(Box::new(e))),
        };
        // 202 "0: Accepted for delivery" or "3: Queued for later delivery".
        match res.status {
            StatusCode::ACCEPTED | StatusCode::OK => {
                let delivery = DeliveryId::new(format!("kannel:{}", message.id.as_str()));
                self.remember(&message.id, &delivery);
                Ok(delivery)
            }
            StatusCode::BAD_REQUEST => Err(SendError::Rejected),
            StatusCode::FORBIDDEN => Err(SendError::Backend(Box::new(Why(
                "kannel refused the sendsms credentials",
            )))),
            s if s.is_server_error() => Err(SendError::Transient),
            _ => Err(SendError::Backend(Box::new(Why(
                "kannel answered an unexpected status",
            )))),
        }
    }
}

#[cfg(test)]
fn _obj_safe(_: &dyn MessagingProvider) {}
