//! The RBM REST adapter: capability checks, sends and revokes.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rcsec::{DeliveryId, MessageId, MessagingProvider, OutboundMessage, SendError};
use rcsec_capability::{
    Capability, CapabilityError, CapabilityProvider, E2ee, Reach, Route, Source,
};
use rcsec_core::{Clock, Msisdn};
use rcsec_http::{HttpClient, HttpError, HttpRequest, HttpResponse, Method, StatusCode, header};
use url::Url;

use crate::content::{ContentError, agent_message};
use crate::token::TokenSource;
use crate::webhook::PostbackSigner;

/// Google's production endpoint.
pub const DEFAULT_BASE_URL: &str = "https://rcsbusinessmessaging.googleapis.com/";

/// How to reach the RBM API.
#[derive(Debug, Clone)]
pub struct RbmConfig {
    /// API base URL (ending in `/`): [`DEFAULT_BASE_URL`], or a fake in tests.
    pub base_url: Url,
    /// The agent id (`agentId` query parameter), required with partner-level credentials.
    pub agent_id: Option<String>,
    /// Links under this prefix in the text also get an `openUrlAction` suggestion.
    pub link_prefix: Option<Url>,
}

impl RbmConfig {
    /// Google's endpoint, no agent id, no link suggestion.
    ///
    /// # Errors
    /// Never in practice (the default URL is a constant).
    pub fn google() -> Result<Self, url::ParseError> {
        Ok(Self {
            base_url: Url::parse(DEFAULT_BASE_URL)?,
            agent_id: None,
            link_prefix: None,
        })
    }
}

/// The outcome of a revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevokeOutcome {
    /// RBM withdrew the undelivered message.
    Revoked,
    /// Nothing to revoke: already delivered, or unknown to RBM.
    NotFound,
}

/// Why a revoke failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RevokeError {
    /// Retry later (timeout, 429, 5xx).
    #[error("revoke failed temporarily")]
    Transient,
    /// RBM refused it, or the adapter failed.
    #[error("revoke failed")]
    Failed,
}

/// RCS Business Messaging as a [`MessagingProvider`] (route [`Route::RcsPlain`] only) and a
/// [`CapabilityProvider`].
///
/// # Security
/// Business messaging is not end-to-end encrypted, so capability answers say
/// [`E2ee::Unverified`] and delivery events never claim more. Errors and `Debug` never carry
/// the number, the text or the token.
pub struct RbmProvider {
    http: HttpClient,
    config: RbmConfig,
    tokens: Arc<dyn TokenSource>,
    postbacks: PostbackSigner,
    clock: Arc<dyn Clock>,
    request_counter: AtomicU64,
}

impl fmt::Debug for RbmProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RbmProvider")
            .field("base_url", &self.config.base_url.as_str())
            .field("agent_id", &self.config.agent_id)
            .finish_non_exhaustive()
    }
}

/// What an RBM response status means.
enum Status {
    Ok,
    NotFound,
    Conflict,
    BadRequest,
    RateLimited(Duration),
    Transient,
    Other,
}

fn classify(res: &HttpResponse) -> Status {
    match res.status {
        s if s.is_success() => Status::Ok,
        StatusCode::NOT_FOUND => Status::NotFound,
        StatusCode::CONFLICT => Status::Conflict,
        StatusCode::BAD_REQUEST => Status::BadRequest,
        StatusCode::TOO_MANY_REQUESTS => {
            Status::RateLimited(res.retry_after().unwrap_or(Duration::from_secs(1)))
        }
        s if s.is_server_error() => Status::Transient,
        _ => Status::Other,
    }
}

/// An error source for `Backend` variants: a fixed description, never request data.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Why(&'static str);

impl RbmProvider {
    /// An adapter over `http` with `config`; bearer tokens come from `tokens`, suggestion
    /// postbacks are minted with `postbacks` (the daemon verifies them with the same keys),
    /// and message `ttl`s are computed with `clock`.
    pub fn new(
        http: HttpClient,
        config: RbmConfig,
        tokens: Arc<dyn TokenSource>,
        postbacks: PostbackSigner,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            http,
            config,
            tokens,
            postbacks,
            clock,
            request_counter: AtomicU64::new(0),
        }
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, Why> {
        let mut url = self
            .config
            .base_url
            .join(path)
            .map_err(|_| Why("invalid rbm url"))?;
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
            if let Some(agent) = &self.config.agent_id {
                pairs.append_pair("agentId", agent);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }

    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<HttpResponse, CallError> {
        let token = self.tokens.token().await.map_err(|_| CallError::Token)?;
        let mut req = HttpRequest::new(method, url)
            .header(header::AUTHORIZATION, &format!("Bearer {}", token.expose()))
            .map_err(CallError::Http)?;
        if let Some(body) = body {
            req = req.json(body).map_err(CallError::Http)?;
        }
        self.http.send(req).await.map_err(CallError::Http)
    }

    /// Revokes an undelivered message (`DELETE /v1/phones/{E.164}/agentMessages/{messageId}`),
    /// e.g. when the alert resolved or was acknowledged elsewhere.
    ///
    /// # Errors
    /// [`RevokeError::Transient`] (retry) or [`RevokeError::Failed`].
    pub async fn revoke(
        &self,
        recipient: &Msisdn,
        message: &MessageId,
    ) -> Result<RevokeOutcome, RevokeError> {
        let path = format!(
            "v1/phones/{}/agentMessages/{}",
            recipient.expose_e164(),
            message.as_str()
        );
        let url = self.url(&path, &[]).map_err(|_| RevokeError::Failed)?;
        let res = match self.call(Method::DELETE, url, None).await {
            Ok(res) => res,
            Err(e) if e.is_transient() => return Err(RevokeError::Transient),
            Err(_) => return Err(RevokeError::Failed),
        };
        match classify(&res) {
            Status::Ok => Ok(RevokeOutcome::Revoked),
            Status::NotFound => Ok(RevokeOutcome::NotFound),
            Status::RateLimited(_) | Status::Transient => Err(RevokeError::Transient),
            _ => Err(RevokeError::Failed),
        }
    }
}

enum CallError {
    Token,
    Http(HttpError),
}

impl CallError {
    fn is_transient(&self) -> bool {
        match self {
            Self::Token => true,
            Self::Http(e) => e.is_transient(),
        }
    }
}

#[async_trait]
impl MessagingProvider for RbmProvider {
    fn name(&self) -> &str {
        "rbm"
    }

    fn routes(&self) -> &[Route] {
        &[Route::RcsPlain]
    }

    async fn send(&self, message: &OutboundMessage) -> Result<DeliveryId, SendError> {
        if message.route != Route::RcsPlain {
            return Err(SendError::Rejected);
        }
        let body = agent_message(
            message,
            &self.postbacks,
            self.config.link_prefix.as_ref(),
            self.clock.now(),
        )
        .map_err(|e| match e {
            ContentError::Postback(_) => SendError::Backend(Box::new(e)),
            _ => SendError::Rejected,
        })?;
        let path = format!(
            "v1/phones/{}/agentMessages",
            message.recipient.expose_e164()
        );
        let url = self
            .url(&path, &[("messageId", message.id.as_str())])
            .map_err(|e| SendError::Backend(Box::new(e)))?;
        let body = serde_json::to_vec(&body)
            .map_err(|_| SendError::Backend(Box::new(Why("rbm body serialization failed"))))?;
        let res = match self.call(Method::POST, url, Some(body)).await {
            Ok(res) => res,
            Err(CallError::Token) => {
                return Err(SendError::Backend(Box::new(Why("rbm token source failed"))));
            }
            Err(CallError::Http(e)) if e.is_transient() => return Err(SendError::Transient),
            Err(CallError::Http(e)) => return Err(SendError::Backend(Box::new(e))),
        };
        // The delivery id is RBM's resource name for the message, which embeds the number, so
        // ours is the message id RBM keys it by (and echoes back in webhook events).
        let delivery = DeliveryId::new(format!("rbm:{}", message.id.as_str()));
        match classify(&res) {
            // 409 ALREADY_EXISTS: a retry of a message RBM already accepted (idempotent).
            Status::Ok | Status::Conflict => Ok(delivery),
            Status::NotFound => Err(SendError::NotReachable),
            Status::BadRequest => Err(SendError::Rejected),
            Status::RateLimited(retry_after) => Err(SendError::RateLimited { retry_after }),
            Status::Transient => Err(SendError::Transient),
            Status::Other if res.status == StatusCode::FORBIDDEN => Err(SendError::Rejected),
            Status::Other => Err(SendError::Backend(Box::new(Why(
                "rbm answered an unexpected status",
            )))),
        }
    }
}

#[async_trait]
impl CapabilityProvider for RbmProvider {
    fn name(&self) -> &str {
        "rbm"
    }

    async fn query(&self, number: &Msisdn) -> Result<Capability, CapabilityError> {
        let n = self.request_counter.fetch_add(1, Ordering::Relaxed);
        let now = self.clock.now();
        // requestId must be unique per check; time + counter is, per process.
        let request_id = format!("rcsec-{}-{n}", now.as_millis());
        let path = format!("v1/phones/{}/capabilities", number.expose_e164());
        let url = self
            .url(&path, &[("requestId", &request_id)])
            .map_err(|e| CapabilityError::Backend(Box::new(e)))?;
        let res = match self.call(Method::GET, url, None).await {
            Ok(res) => res,
            Err(CallError::Http(HttpError::Timeout)) => return Err(CapabilityError::Timeout),
            Err(e) if e.is_transient() => return Err(CapabilityError::Unavailable),
            Err(_) => {
                return Err(CapabilityError::Backend(Box::new(Why(
                    "rbm capability request failed",
                ))));
            }
        };
        match classify(&res) {
            Status::Ok => {
                let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&res.body);
                if parsed.is_err() {
                    return Err(CapabilityError::Backend(Box::new(Why(
                        "rbm capability answer is not json",
                    ))));
                }
                // Business messaging is never end-to-end encrypted: RCS works, E2EE is not
                // affirmed, whatever features the device lists.
                Ok(Capability::new(
                    Reach::Rcs,
                    E2ee::Unverified,
                    Source::Provider,
                    now,
                ))
            }
            Status::NotFound => Err(CapabilityError::NotFound),
            Status::RateLimited(_) => Err(CapabilityError::RateLimited),
            Status::Transient => Err(CapabilityError::Unavailable),
            _ => Err(CapabilityError::Backend(Box::new(Why(
                "rbm answered an unexpected status",
            )))),
        }
    }
}

#[cfg(test)]
fn _obj_safe(_: &dyn MessagingProvider, _: &dyn CapabilityProvider) {}
