//! The messaging-provider seam: what the pipeline hands a message to, and how a send can fail.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rcsec_core::Route;

use crate::message::{MessageBody, MessageId, OutboundMessage};
use crate::sms::SmsGuard;

/// The provider's id for an accepted message (RBM's message name, an SMS gateway's id).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DeliveryId(String);

impl DeliveryId {
    /// Wraps a provider's id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeliveryId({})", self.0)
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a provider did not accept a message. Never carries the number or the content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// A temporary failure (timeout, 5xx): retried later, and the next provider is tried now.
    #[error("provider failed temporarily")]
    Transient,
    /// The provider throttles us; retry no earlier than `retry_after`.
    #[error("provider rate limited the send")]
    RateLimited {
        /// The provider's hint.
        retry_after: Duration,
    },
    /// The recipient cannot be reached over this route (an RBM 404): the capability is
    /// invalidated and the policy decides again, which usually means a fallback route.
    #[error("recipient not reachable over this route")]
    NotReachable,
    /// The provider refused the message permanently (bad request, policy): not retried.
    #[error("provider rejected the message")]
    Rejected,
    /// The adapter itself failed (bad configuration, unexpected response); retried.
    #[error("provider backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl SendError {
    /// A short reason code for the outbox and the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Transient => "provider_transient",
            Self::RateLimited { .. } => "rate_limited",
            Self::NotReachable => "not_reachable",
            Self::Rejected => "rejected",
            Self::Backend(_) => "provider_backend",
        }
    }
}

/// What a provider says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProviderHealth {
    /// Accepting messages.
    Up,
    /// Accepting some, failing some.
    Degraded,
    /// Not accepting messages; the pipeline skips it.
    Down,
}

/// A service that carries messages to phones: RCS Business Messaging, an SMS gateway, an
/// encrypted-push gateway, or the loopback simulator.
///
/// Held as `Arc<dyn MessagingProvider>` in an ordered failover list.
///
/// # Idempotency
/// [`OutboundMessage::id`] is the idempotency key: the pipeline re-sends the same id after an
/// ambiguous failure (a timeout after the provider accepted it), and an adapter must make sure
/// the recipient still gets it once (pass it as RBM's `messageId`, keep a short-lived map, ...).
///
/// # Contract
/// - **Carry what you are given, as given.** The body is already shaped for
///   [`OutboundMessage::route`] by the policy (redacted text on `rcs_plain`, a template and a
///   link on `sms_link`, ciphertext on `encrypted_push`). Never append, reformat into, or
///   log the text; never send a message on a route not in [`routes`](Self::routes) — refuse
///   it with [`SendError::Rejected`].
/// - **Classify failures honestly.** [`SendError`] decides what happens next: `Transient` is
///   retried with the same id and the next provider tried; `NotReachable` makes the policy
///   choose a fallback route; `Rejected` gives up. When unsure whether the provider accepted
///   the message, say `Transient`: idempotency makes the retry safe.
/// - **Leak nothing.** Errors, `Debug` and logs carry no number and no message text (the
///   number is an [`Msisdn`](rcsec_core::Msisdn) that masks itself; call `expose_e164` only
///   to build the request).
///
/// `rcsec::messaging_provider_tests!` (feature `test-utils`, module `conformance::provider`)
/// checks an adapter against these rules through a harness.
///
/// `examples/embed` has an adapter posting to an HTTP endpoint; [`RecordingProvider`] is the
/// in-memory one for tests.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::Duration;
/// use rcsec::capability::Route;
/// use rcsec::core::{AlertId, Msisdn, Redacted, Timestamp};
/// use rcsec::{DeliveryId, MessageBody, MessageId, MessagingProvider, OutboundMessage, SendError};
///
/// /// An SMS gateway that de-duplicates on our id, as a real one does on its message id.
/// #[derive(Debug, Default)]
/// struct Sms { accepted: Mutex<HashMap<MessageId, DeliveryId>> }
///
/// #[rcsec::async_trait]
/// impl MessagingProvider for Sms {
///     fn name(&self) -> &str { "sms" }
///     fn routes(&self) -> &[Route] { &[Route::SmsLink] }
///     async fn send(&self, m: &OutboundMessage) -> Result<DeliveryId, SendError> {
///         let MessageBody::Sms { text: _ } = &m.body else { return Err(SendError::Rejected) };
///         let mut accepted = self.accepted.lock().map_err(|_| SendError::Transient)?;
///         let next = DeliveryId::new(format!("sms-{}", accepted.len() + 1));
///         Ok(accepted.entry(m.id.clone()).or_insert(next).clone())
///     }
/// }
///
/// let now = Timestamp::from_secs(1_800_000_000);
/// let message = OutboundMessage {
///     id: MessageId::new("a1-carol-0")?,
///     alert: AlertId::new("a1")?,
///     recipient: Msisdn::parse("+447700900103")?,
///     route: Route::SmsLink,
///     body: MessageBody::Sms { text: Redacted::new("sms", "Alert P1: https://l.example/x".into()) },
///     created_at: now,
///     expires_at: now.saturating_add(Duration::from_secs(3600)),
/// };
/// let sms = Sms::default();
/// let first = sms.send(&message).await?;
/// assert_eq!(sms.send(&message).await?, first); // a retry is the same delivery
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[async_trait]
pub trait MessagingProvider: Send + Sync + fmt::Debug + 'static {
    /// A short stable name for audit events and metrics (`rbm`, `kannel`, `loopback`).
    fn name(&self) -> &str;

    /// The routes this provider can carry; it is only offered messages on these.
    fn routes(&self) -> &[Route];

    /// Hands one message over.
    ///
    /// # Errors
    /// A [`SendError`] saying whether to retry, fail over, fall back or give up.
    async fn send(&self, message: &OutboundMessage) -> Result<DeliveryId, SendError>;

    /// The provider's own view of its health; `Down` providers are skipped.
    async fn health(&self) -> ProviderHealth {
        ProviderHealth::Up
    }
}

#[cfg(test)]
fn _obj_safe(_: &dyn MessagingProvider) {}

/// One failure a [`RecordingProvider`] was told to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScriptedFailure {
    /// [`SendError::Transient`] before accepting.
    Transient,
    /// Accept (and deliver) the message, then report [`SendError::Transient`]: the ambiguous
    /// failure that idempotency keys exist for.
    TransientAfterAccept,
    /// [`SendError::NotReachable`].
    NotReachable,
    /// [`SendError::Rejected`].
    Rejected,
    /// [`SendError::RateLimited`] with this hint.
    RateLimited(Duration),
}

#[derive(Debug, Default)]
struct Recorded {
    accepted: Vec<OutboundMessage>,
    by_id: HashMap<MessageId, DeliveryId>,
    script: Vec<ScriptedFailure>,
    attempts: usize,
}

/// An in-memory provider for tests: records every accepted message once per id and fails on
/// command.
///
/// It keeps the provider contract like a real adapter: messages on a route it does not carry,
/// bodies that do not [fit](MessageBody::fits) their route and (with
/// [`with_sms_guard`](Self::with_sms_guard)) SMS texts the guard refuses are
/// [`SendError::Rejected`] and not recorded. It passes `rcsec::messaging_provider_tests!`.
#[derive(Debug)]
pub struct RecordingProvider {
    name: String,
    routes: Vec<Route>,
    sms_guard: Option<SmsGuard>,
    inner: Mutex<Recorded>,
}

impl RecordingProvider {
    /// A provider called `name` carrying `routes`.
    pub fn new(name: &str, routes: &[Route]) -> Self {
        Self {
            name: name.to_owned(),
            routes: routes.to_vec(),
            sms_guard: None,
            inner: Mutex::new(Recorded::default()),
        }
    }

    /// Refuses SMS texts `guard` does not allow, as an SMS adapter must.
    #[must_use]
    pub fn with_sms_guard(mut self, guard: SmsGuard) -> Self {
        self.sms_guard = Some(guard);
        self
    }

    /// Queues failures for the next sends, in order.
    pub fn fail_next(&self, failures: &[ScriptedFailure]) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.script.extend_from_slice(failures);
        }
    }

    /// The messages accepted, each once, in order.
    pub fn accepted(&self) -> Vec<OutboundMessage> {
        self.inner
            .lock()
            .map(|i| i.accepted.clone())
            .unwrap_or_default()
    }

    /// Every call to `send`, including failed and repeated ones.
    pub fn attempts(&self) -> usize {
        self.inner.lock().map(|i| i.attempts).unwrap_or_default()
    }
}

#[async_trait]
impl MessagingProvider for RecordingProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn routes(&self) -> &[Route] {
        &self.routes
    }

    async fn send(&self, message: &OutboundMessage) -> Result<DeliveryId, SendError> {
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| SendError::Backend("recording provider lock poisoned".into()))?;
        inner.attempts += 1;
        if !self.routes.contains(&message.route)
            || !message.body.fits(message.route)
            || !sms_allowed(self.sms_guard.as_ref(), &message.body)
        {
            return Err(SendError::Rejected);
        }
        let scripted = if inner.script.is_empty() {
            None
        } else {
            Some(inner.script.remove(0))
        };
        match scripted {
            Some(ScriptedFailure::Transient) => return Err(SendError::Transient),
            Some(ScriptedFailure::NotReachable) => return Err(SendError::NotReachable),
            Some(ScriptedFailure::Rejected) => return Err(SendError::Rejected),
            Some(ScriptedFailure::RateLimited(retry_after)) => {
                return Err(SendError::RateLimited { retry_after });
            }
            Some(ScriptedFailure::TransientAfterAccept) | None => {}
        }
        let delivery = match inner.by_id.get(&message.id) {
            Some(existing) => existing.clone(),
            None => {
                let id = DeliveryId::new(format!("{}-{}", self.name, inner.accepted.len() + 1));
                inner.by_id.insert(message.id.clone(), id.clone());
                inner.accepted.push(message.clone());
                id
            }
        };
        if scripted == Some(ScriptedFailure::TransientAfterAccept) {
            return Err(SendError::Transient);
        }
        Ok(delivery)
    }
}

/// Whether `body` passes `guard` (anything but an SMS body does, as does any SMS without one).
fn sms_allowed(guard: Option<&SmsGuard>, body: &MessageBody) -> bool {
    match (guard, body) {
        (Some(guard), MessageBody::Sms { text }) => guard.check(text.expose()).is_ok(),
        _ => true,
    }
}
