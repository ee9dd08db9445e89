//! An in-process [`Outbox`]: for tests and single-process embedding without durability needs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rcsec_core::Timestamp;

use super::{Claim, ClaimToken, Outbox, OutboxError, OutboxState, OutboxStatus};
use crate::message::{MessageId, OutboundMessage};

#[derive(Debug)]
struct Row {
    message: OutboundMessage,
    seq: u64,
    state: OutboxState,
    attempts: u32,
    next_attempt_at: Timestamp,
    lease_until: Timestamp,
    provider: Option<String>,
    delivery_id: Option<String>,
    last_error: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    rows: HashMap<MessageId, Row>,
    next_seq: u64,
}

/// An [`Outbox`] in memory. Not durable: everything is lost with the process.
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    inner: Mutex<Inner>,
}

impl MemoryOutbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, OutboxError> {
        self.inner
            .lock()
            .map_err(|_| OutboxError::Backend("memory outbox lock poisoned".into()))
    }
}

impl Inner {
    /// Stores `message` as pending, or as claimed (attempt 1) until `lease_until` when given;
    /// `false` when its id was already stored.
    fn insert(
        &mut self,
        message: &OutboundMessage,
        now: Timestamp,
        lease_until: Option<Timestamp>,
    ) -> bool {
        if self.rows.contains_key(&message.id) {
            return false;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let (state, attempts) = match lease_until {
            Some(_) => (OutboxState::InFlight, 1),
            None => (OutboxState::Pending, 0),
        };
        self.rows.insert(
            message.id.clone(),
            Row {
                message: message.clone(),
                seq,
                state,
                attempts,
                next_attempt_at: now,
                lease_until: lease_until.unwrap_or(Timestamp::EPOCH),
                provider: None,
                delivery_id: None,
                last_error: None,
            },
        );
        true
    }
}

/// The state a reader sees: an in-flight row whose lease ran out is pending again.
fn visible_state(row: &Row, now: Timestamp) -> OutboxState {
    if row.state == OutboxState::InFlight && row.lease_until <= now {
        OutboxState::Pending
    } else {
        row.state
    }
}

/// The row `claim` may update: it exists, no newer claim superseded `claim`, and it is not
/// terminal.
fn update<'a>(inner: &'a mut Inner, claim: &ClaimToken) -> Result<&'a mut Row, OutboxError> {
    let row = inner.rows.get_mut(&claim.id).ok_or(OutboxError::NotFound)?;
    if row.attempts != claim.attempt {
        return Err(OutboxError::StaleClaim);
    }
    if row.state.is_terminal() {
        return Err(OutboxError::AlreadyTerminal);
    }
    Ok(row)
}

#[async_trait]
impl Outbox for MemoryOutbox {
    async fn enqueue(
        &self,
        message: &OutboundMessage,
        now: Timestamp,
    ) -> Result<bool, OutboxError> {
        Ok(self.lock()?.insert(message, now, None))
    }

    async fn enqueue_claimed(
        &self,
        messages: &[OutboundMessage],
        now: Timestamp,
        lease: Duration,
    ) -> Result<Vec<Option<Claim>>, OutboxError> {
        let lease_until = now.saturating_add(lease);
        let mut inner = self.lock()?;
        Ok(messages
            .iter()
            .map(|m| {
                inner.insert(m, now, Some(lease_until)).then(|| Claim {
                    message: m.clone(),
                    attempt: 1,
                    lease_until,
                })
            })
            .collect())
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claim>, OutboxError> {
        let mut inner = self.lock()?;
        let mut due: Vec<&mut Row> = inner
            .rows
            .values_mut()
            .filter(|row| {
                row.message.expires_at > now
                    && match row.state {
                        OutboxState::Pending => row.next_attempt_at <= now,
                        OutboxState::InFlight => row.lease_until <= now,
                        _ => false,
                    }
            })
            .collect();
        due.sort_by_key(|row| (row.next_attempt_at, row.seq));
        let lease_until = now.saturating_add(lease);
        Ok(due
            .into_iter()
            .take(limit)
            .map(|row| {
                row.state = OutboxState::InFlight;
                row.attempts += 1;
                row.lease_until = lease_until;
                Claim {
                    message: row.message.clone(),
                    attempt: row.attempts,
                    lease_until,
                }
            })
            .collect())
    }

    async fn mark_sent(
        &self,
        claim: &ClaimToken,
        provider: &str,
        delivery_id: &str,
        _now: Timestamp,
    ) -> Result<(), OutboxError> {
        let mut inner = self.lock()?;
        let row = update(&mut inner, claim)?;
        row.state = OutboxState::Sent;
        row.provider = Some(provider.to_owned());
        row.delivery_id = Some(delivery_id.to_owned());
        Ok(())
    }

    async fn mark_retry(
        &self,
        claim: &ClaimToken,
        next_attempt_at: Timestamp,
        reason: &str,
    ) -> Result<(), OutboxError> {
        let mut inner = self.lock()?;
        let row = update(&mut inner, claim)?;
        row.state = OutboxState::Pending;
        row.next_attempt_at = next_attempt_at;
        row.lease_until = Timestamp::EPOCH;
        row.last_error = Some(reason.to_owned());
        Ok(())
    }

    async fn mark_failed(
        &self,
        claim: &ClaimToken,
        reason: &str,
        _now: Timestamp,
    ) -> Result<(), OutboxError> {
        let mut inner = self.lock()?;
        let row = update(&mut inner, claim)?;
        row.state = OutboxState::Failed;
        row.last_error = Some(reason.to_owned());
        Ok(())
    }

    async fn expire_due(&self, now: Timestamp) -> Result<Vec<MessageId>, OutboxError> {
        let mut inner = self.lock()?;
        let mut expired: Vec<(u64, MessageId)> = inner
            .rows
            .values_mut()
            .filter(|row| !row.state.is_terminal() && row.message.expires_at <= now)
            .map(|row| {
                row.state = OutboxState::Expired;
                (row.seq, row.message.id.clone())
            })
            .collect();
        expired.sort();
        Ok(expired.into_iter().map(|(_, id)| id).collect())
    }

    async fn status(
        &self,
        id: &MessageId,
        now: Timestamp,
    ) -> Result<Option<OutboxStatus>, OutboxError> {
        let inner = self.lock()?;
        Ok(inner.rows.get(id).map(|row| OutboxStatus {
            state: visible_state(row, now),
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            provider: row.provider.clone(),
            delivery_id: row.delivery_id.clone(),
            last_error: row.last_error.clone(),
        }))
    }

    async fn depth(&self) -> Result<usize, OutboxError> {
        Ok(self
            .lock()?
            .rows
            .values()
            .filter(|row| !row.state.is_terminal())
            .count())
    }
}
