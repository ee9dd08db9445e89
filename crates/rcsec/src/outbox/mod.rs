//! The outbox: every outbound message is stored before it is sent.
//!
//! Sending is a two-step protocol so that a crash between "decided to send" and "provider
//! accepted" loses nothing and sends nothing twice:
//!
//! 1. [`Outbox::enqueue`] stores the message (idempotent on its [`MessageId`]).
//! 2. A worker [`Outbox::claim_due`]s messages under a lease, sends each with its id as the
//!    provider's idempotency key, and records the outcome ([`Outbox::mark_sent`],
//!    [`Outbox::mark_retry`], [`Outbox::mark_failed`]) under the claim's [`ClaimToken`].
//!
//! A worker that dies mid-send leaves its claim to expire; the message is claimed again and
//! re-sent under the same id, which the provider de-duplicates. A worker that was only *slow*
//! (its lease ran out while the provider call hung) must not then overwrite what the newer
//! claim recorded: every `mark_*` is a compare-and-set on the claim's attempt number (a
//! fencing token) and a superseded claim gets [`OutboxError::StaleClaim`], changing nothing. Messages past their
//! `expires_at` end [`OutboxState::Expired`] instead of being sent late. Every message ends in
//! exactly one terminal state: sent, failed or expired.

mod memory;

#[cfg(any(test, feature = "test-utils"))]
#[doc(hidden)]
pub mod conformance;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use rcsec_core::Timestamp;

pub use memory::MemoryOutbox;

use crate::message::{MessageId, OutboundMessage};

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for its next attempt (new, or after a transient failure).
    Pending,
    /// Claimed by a worker whose lease has not yet run out.
    InFlight,
    /// A provider accepted it (terminal).
    Sent,
    /// Gave up: permanent error or attempts exhausted (terminal, audited).
    Failed,
    /// Not sent before `expires_at` (terminal, audited).
    Expired,
}

impl OutboxState {
    /// Whether the message will never be attempted again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Sent | Self::Failed | Self::Expired)
    }

    /// Stable snake-case name (`pending`, `in_flight`, ...), as stores persist it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InFlight => "in_flight",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    /// The inverse of [`OutboxState::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::InFlight,
            Self::Sent,
            Self::Failed,
            Self::Expired,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }
}

/// A message handed to one worker until `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The message.
    pub message: OutboundMessage,
    /// 1 for the first attempt, incremented by every claim.
    pub attempt: u32,
    /// Until when no other worker will be handed this message.
    pub lease_until: Timestamp,
}

impl Claim {
    /// The fencing token the outcome of this claim must be recorded under.
    pub fn token(&self) -> ClaimToken {
        ClaimToken {
            id: self.message.id.clone(),
            attempt: self.attempt,
        }
    }
}

/// The right to record the outcome of one claim: the message id and the attempt number the
/// claim was handed.
///
/// Each claim increments a message's attempt count, so the attempt number is a fencing token:
/// `mark_sent`, `mark_retry` and `mark_failed` apply only while the stored count still equals
/// it, i.e. while no newer claim exists. Taking a message out of the queue without a claim (an
/// operator failing a stored message that no longer decodes) uses the attempt count read from
/// [`Outbox::status`], which fails the same way if a worker claims it in between.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClaimToken {
    /// The claimed message.
    pub id: MessageId,
    /// The attempt number of the claim ([`Claim::attempt`], or [`OutboxStatus::attempts`]).
    pub attempt: u32,
}

impl ClaimToken {
    /// A token for `id` at `attempt`.
    pub fn new(id: MessageId, attempt: u32) -> Self {
        Self { id, attempt }
    }
}

/// What became of one claim, for [`Outbox::settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Settlement {
    /// `provider` accepted the message as `delivery_id` ([`Outbox::mark_sent`]).
    Sent {
        /// The claim the send happened under.
        claim: ClaimToken,
        /// The provider that accepted it.
        provider: String,
        /// The provider's delivery id.
        delivery_id: String,
    },
    /// A transient failure: try again at `next_attempt_at` ([`Outbox::mark_retry`]).
    Retry {
        /// The claim the attempt happened under.
        claim: ClaimToken,
        /// Earliest time of the next attempt.
        next_attempt_at: Timestamp,
        /// A short reason code (never content).
        reason: String,
    },
    /// Given up ([`Outbox::mark_failed`]).
    Failed {
        /// The claim the attempt happened under.
        claim: ClaimToken,
        /// A short reason code (never content).
        reason: String,
    },
}

impl Settlement {
    /// The claim this settles.
    pub fn claim(&self) -> &ClaimToken {
        match self {
            Self::Sent { claim, .. } | Self::Retry { claim, .. } | Self::Failed { claim, .. } => {
                claim
            }
        }
    }
}

/// What the outbox knows about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxStatus {
    /// Current state ([`OutboxState::InFlight`] only while a lease is live).
    pub state: OutboxState,
    /// Claims so far.
    pub attempts: u32,
    /// Earliest time of the next attempt (for pending messages).
    pub next_attempt_at: Timestamp,
    /// The provider that accepted it, once sent.
    pub provider: Option<String>,
    /// The provider's delivery id, once sent.
    pub delivery_id: Option<String>,
    /// A short reason code for the last failure (`rate_limited`, `provider_unavailable`, ...);
    /// never message content.
    pub last_error: Option<String>,
}

/// Why an outbox operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// No message with this id.
    #[error("no such outbox message")]
    NotFound,
    /// The message is already terminal (sent, failed or expired); the update was not applied.
    #[error("outbox message is already in a terminal state")]
    AlreadyTerminal,
    /// A newer claim superseded this one (its lease ran out and another worker claimed the
    /// message); the update was not applied and the newer claim owns the outcome.
    #[error("outbox claim was superseded by a newer claim")]
    StaleClaim,
    /// The backend failed (connection, constraint, full disk); nothing was half-written.
    #[error("outbox backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Durable queue of outbound messages.
///
/// # Contract
/// Implementations must guarantee, across processes sharing the same backend:
/// - `enqueue` is idempotent: a second enqueue of the same id changes nothing and returns
///   `false`.
/// - `claim_due` hands each due message to exactly one caller until its lease runs out; due
///   means pending with `next_attempt_at <= now`, or in flight with an expired lease, and not
///   yet expired. Messages are claimed oldest `next_attempt_at` first.
/// - `mark_*` are compare-and-set on the [`ClaimToken`]: when the stored attempt count differs
///   from the token's (a newer claim exists) they change nothing and return
///   [`OutboxError::StaleClaim`]; otherwise state changes after a terminal state are refused
///   with [`OutboxError::AlreadyTerminal`].
/// - An acknowledged call is durable: it survives a crash of the process right after it.
///
/// `rcsec::outbox_tests!(constructor)` (feature `test-utils`) checks these.
///
/// Stored messages hold their content (the outbox is the copy that survives a crash), so the
/// backend is as sensitive as the messages: the SQL adapters keep it in the same protected
/// database as the other stores, and `status` reports reason codes, never content.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use std::time::Duration;
/// use rcsec::capability::Route;
/// use rcsec::core::{AlertId, Msisdn, Redacted, Timestamp};
/// use rcsec::{MemoryOutbox, MessageBody, MessageId, Outbox, OutboundMessage, OutboxState};
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
/// let outbox = MemoryOutbox::new();
/// assert!(outbox.enqueue(&message, now).await?);
/// assert!(!outbox.enqueue(&message, now).await?); // idempotent on the id
///
/// // Two workers poll: the message is handed to one of them only.
/// let lease = Duration::from_secs(30);
/// let first = outbox.claim_due(now, lease, 10).await?;
/// assert_eq!(first.len(), 1);
/// assert!(outbox.claim_due(now, lease, 10).await?.is_empty());
///
/// outbox.mark_sent(&first[0].token(), "sms", "sms-1", now).await?;
/// let status = outbox.status(&message.id, now).await?.expect("known id");
/// assert_eq!(status.state, OutboxState::Sent);
/// assert_eq!(outbox.depth().await?, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[async_trait]
pub trait Outbox: Send + Sync + fmt::Debug + 'static {
    /// Stores `message` as pending, due at once. Returns `false` if the id was already stored.
    async fn enqueue(&self, message: &OutboundMessage, now: Timestamp)
    -> Result<bool, OutboxError>;

    /// Claims up to `limit` due messages for `lease`, incrementing their attempt counts.
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claim>, OutboxError>;

    /// Records that `provider` accepted the claimed message (terminal).
    async fn mark_sent(
        &self,
        claim: &ClaimToken,
        provider: &str,
        delivery_id: &str,
        now: Timestamp,
    ) -> Result<(), OutboxError>;

    /// Returns the claimed message to pending, due at `next_attempt_at`, after a transient
    /// failure.
    async fn mark_retry(
        &self,
        claim: &ClaimToken,
        next_attempt_at: Timestamp,
        reason: &str,
    ) -> Result<(), OutboxError>;

    /// Gives up on the claimed message (terminal).
    async fn mark_failed(
        &self,
        claim: &ClaimToken,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), OutboxError>;

    /// Stores several messages as [`Outbox::enqueue`] does, returning for each (in order)
    /// whether it was new.
    ///
    /// The pipeline enqueues every page of one alert with one call, so a backend can make it
    /// one durable write. The SQL adapters do it in one transaction (all or nothing); this
    /// default calls `enqueue` per message, so after an error a prefix may be stored (and a
    /// retry of the whole batch is still safe: `enqueue` is idempotent).
    ///
    /// # Errors
    /// As [`Outbox::enqueue`].
    async fn enqueue_batch(
        &self,
        messages: &[OutboundMessage],
        now: Timestamp,
    ) -> Result<Vec<bool>, OutboxError> {
        let mut created = Vec::with_capacity(messages.len());
        for message in messages {
            created.push(self.enqueue(message, now).await?);
        }
        Ok(created)
    }

    /// Stores `messages` as [`Outbox::enqueue_batch`] does and hands each message it newly
    /// stored straight back as that message's first claim (attempt 1, leased until
    /// `now + lease`).
    ///
    /// The pipeline sends what it has just decided to send: claiming on enqueue saves the
    /// worker a second durable write (the `claim_due` that would hand it its own messages
    /// back). Such a claim is an ordinary claim: its [`ClaimToken`] fences its outcome, and a
    /// worker that dies holding it leaves the message to be claimed again once the lease runs
    /// out, so nothing is lost and a newer claim supersedes it.
    ///
    /// Returns, in order, `Some(claim)` for each message stored by this call and `None` for
    /// one that was already stored (its current holder, or the next `claim_due`, sends it) or
    /// that the backend leaves for `claim_due`. This default enqueues only and returns `None`
    /// for every message, so a backend without it behaves exactly as before.
    ///
    /// # Errors
    /// As [`Outbox::enqueue_batch`]; on error no claim was handed out.
    async fn enqueue_claimed(
        &self,
        messages: &[OutboundMessage],
        now: Timestamp,
        lease: Duration,
    ) -> Result<Vec<Option<Claim>>, OutboxError> {
        let _ = lease;
        let created = self.enqueue_batch(messages, now).await?;
        Ok(vec![None; created.len()])
    }

    /// Records the outcomes of several claims, each exactly as the matching `mark_*` would,
    /// and returns each one's result in order (a stale or terminal claim fails alone, with
    /// [`OutboxError::StaleClaim`] or [`OutboxError::AlreadyTerminal`], and does not stop the
    /// others).
    ///
    /// A worker that sent a batch of claims settles them with one call, which the SQL
    /// adapters make one transaction. The outer `Err` is a backend failure: with the SQL
    /// adapters nothing was applied; with this default (one `mark_*` per settlement) a prefix
    /// may have been, which is harmless because each is a fenced compare-and-set.
    ///
    /// # Errors
    /// [`OutboxError::Backend`] when the backend fails.
    async fn settle(
        &self,
        settlements: &[Settlement],
        now: Timestamp,
    ) -> Result<Vec<Result<(), OutboxError>>, OutboxError> {
        let mut results = Vec::with_capacity(settlements.len());
        for s in settlements {
            let result = match s {
                Settlement::Sent {
                    claim,
                    provider,
                    delivery_id,
                } => self.mark_sent(claim, provider, delivery_id, now).await,
                Settlement::Retry {
                    claim,
                    next_attempt_at,
                    reason,
                } => self.mark_retry(claim, *next_attempt_at, reason).await,
                Settlement::Failed { claim, reason } => self.mark_failed(claim, reason, now).await,
            };
            match result {
                Err(OutboxError::Backend(e)) => return Err(OutboxError::Backend(e)),
                other => results.push(other),
            }
        }
        Ok(results)
    }

    /// Moves every non-terminal message whose `expires_at <= now` to expired and returns their
    /// ids, so the caller can audit each.
    async fn expire_due(&self, now: Timestamp) -> Result<Vec<MessageId>, OutboxError>;

    /// The status of one message, or `None` if unknown.
    async fn status(
        &self,
        id: &MessageId,
        now: Timestamp,
    ) -> Result<Option<OutboxStatus>, OutboxError>;

    /// Number of non-terminal messages (the `outbox depth` metric).
    async fn depth(&self) -> Result<usize, OutboxError>;
}

#[cfg(test)]
fn _obj_safe(_: &dyn Outbox) {}
