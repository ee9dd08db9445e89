//! [`PgOutbox`]: the durable outbound queue, shared by every worker of every replica.
//!
//! Claims are one statement: the due rows are picked `FOR UPDATE SKIP LOCKED` (a row another
//! worker is claiming right now is skipped, not waited for) and moved in flight with a lease
//! (`lease_until`) in the same `UPDATE`. A row committed in flight by another worker is no
//! longer due when re-checked, so each message goes to exactly one worker per lease. A worker
//! that dies leaves its lease to run out; the message is then due again and goes out under
//! the same id, which the provider de-duplicates. Outcomes are recorded by compare-and-set on
//! `(id, attempts)`, so a worker that was merely slow cannot overwrite the newer claim.
//!
//! The stored body is the message's versioned storage codec
//! ([`OutboundMessage::encode`]); it holds the recipient and the text because the worker
//! must send them. It never appears in an error.

use std::time::Duration;

use async_trait::async_trait;
use rcsec::outbox::{
    Claim, ClaimToken, Outbox, OutboxError, OutboxState, OutboxStatus, Settlement,
};
use rcsec::{MessageId, OutboundMessage};
use rcsec_core::Timestamp;
use tokio_postgres::types::ToSql;

use crate::convert::{count, to_ts, to_u32, ts};
use crate::db::PgDatabase;
use crate::error::{OpContext as _, PgError};

/// The outbox in PostgreSQL (table `outbox`).
#[derive(Debug, Clone)]
pub struct PgOutbox {
    db: PgDatabase,
}

const NOT_TERMINAL: &str = "state IN ('pending', 'in_flight')";

fn parse_state(s: &str) -> Result<OutboxState, PgError> {
    OutboxState::parse(s).ok_or(PgError::Corrupt {
        what: "outbox state",
    })
}

impl PgOutbox {
    /// An outbox on `db`.
    pub fn new(db: PgDatabase) -> Self {
        Self { db }
    }

    /// Applies one fenced change in its own transaction.
    async fn transition(&self, op: &'static str, change: Change<'_>) -> Result<(), OutboxError> {
        let mut client = self.db.client(op).await?;
        let tx = client.transaction().await.op(op)?;
        let result = apply(&tx, op, &change).await?;
        tx.commit().await.op(op)?;
        result
    }

    async fn claim_inner(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claim>, PgError> {
        const OP: &str = "outbox claim";
        let client = self.db.client(OP).await?;
        let stmt = client
            .prepare_cached(
                "WITH due AS ( \
                     SELECT id FROM outbox \
                     WHERE expires_at > $1 AND ( \
                         (state = 'pending' AND next_attempt_at <= $1) OR \
                         (state = 'in_flight' AND lease_until <= $1)) \
                     ORDER BY next_attempt_at, seq \
                     LIMIT $3 \
                     FOR UPDATE SKIP LOCKED) \
                 UPDATE outbox o SET state = 'in_flight', attempts = o.attempts + 1, \
                                     lease_until = $2 \
                 FROM due WHERE o.id = due.id \
                 RETURNING o.body, o.attempts, o.next_attempt_at, o.seq",
            )
            .await
            .op(OP)?;
        let lease_until = now.saturating_add(lease);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(&stmt, &[&ts(now), &ts(lease_until), &limit])
            .await
            .op(OP)?;
        let mut claims = Vec::with_capacity(rows.len());
        for row in rows {
            let body: Vec<u8> = row.try_get(0).op(OP)?;
            let message = OutboundMessage::decode(&body).map_err(|_| PgError::Corrupt {
                what: "outbox message",
            })?;
            let attempt = to_u32(row.try_get(1).op(OP)?, "outbox attempts")?;
            let order: (i64, i64) = (row.try_get(2).op(OP)?, row.try_get(3).op(OP)?);
            claims.push((
                order,
                Claim {
                    message,
                    attempt,
                    lease_until,
                },
            ));
        }
        // UPDATE … RETURNING has no order of its own: restore oldest-due first.
        claims.sort_by_key(|(order, _)| *order);
        Ok(claims.into_iter().map(|(_, c)| c).collect())
    }
}

/// One fenced state change: an SQL `SET` list whose parameters start at `$3`, and those
/// parameters.
struct Change<'a> {
    claim: &'a ClaimToken,
    set: &'static str,
    params: Vec<&'a (dyn ToSql + Sync)>,
}

impl<'a> Change<'a> {
    fn of(settlement: &'a Settlement, next: &'a i64) -> Result<Self, PgError> {
        Ok(match settlement {
            Settlement::Sent {
                claim,
                provider,
                delivery_id,
            } => Self {
                claim,
                set: "state = 'sent', provider = $3, delivery_id = $4",
                params: vec![provider, delivery_id],
            },
            Settlement::Retry { claim, reason, .. } => Self {
                claim,
                set: "state = 'pending', next_attempt_at = $3, lease_until = 0, last_error = $4",
                params: vec![next, reason],
            },
            Settlement::Failed { claim, reason } => Self {
                claim,
                set: "state = 'failed', last_error = $3",
                params: vec![reason],
            },
            // `Settlement` is non-exhaustive: a kind this adapter does not know is refused
            // rather than guessed at.
            _ => return Err(PgError::Internal("unknown settlement kind")),
        })
    }
}

/// Applies `change` as one compare-and-set `UPDATE`: only while the message's attempt count
/// still equals the claim's (no newer claim) and it is not terminal. When nothing matched, a
/// read in the same transaction tells `NotFound`, `StaleClaim` and `AlreadyTerminal` apart.
async fn apply(
    tx: &deadpool_postgres::Transaction<'_>,
    op: &'static str,
    change: &Change<'_>,
) -> Result<Result<(), OutboxError>, PgError> {
    let sql = format!(
        "UPDATE outbox SET {} WHERE id = $1 AND attempts = $2 AND {NOT_TERMINAL}",
        change.set
    );
    let stmt = tx.prepare_cached(&sql).await.op(op)?;
    let (id, attempt) = (change.claim.id.as_str(), i64::from(change.claim.attempt));
    let mut all: Vec<&(dyn ToSql + Sync)> = vec![&id, &attempt];
    all.extend_from_slice(&change.params);
    if tx.execute(&stmt, &all).await.op(op)? == 1 {
        return Ok(Ok(()));
    }
    let row = tx
        .query_opt("SELECT attempts FROM outbox WHERE id = $1", &[&id])
        .await
        .op(op)?;
    Ok(Err(match row {
        None => OutboxError::NotFound,
        Some(row) if row.try_get::<_, i64>(0).op(op)? != attempt => OutboxError::StaleClaim,
        Some(_) => OutboxError::AlreadyTerminal,
    }))
}

const ENQUEUE: &str = "INSERT INTO outbox (id, body, state, next_attempt_at, expires_at) \
                       VALUES ($1, $2, 'pending', $3, $4) ON CONFLICT (id) DO NOTHING";

#[async_trait]
impl Outbox for PgOutbox {
    async fn enqueue(
        &self,
        message: &OutboundMessage,
        now: Timestamp,
    ) -> Result<bool, OutboxError> {
        const OP: &str = "outbox enqueue";
        let client = self.db.client(OP).await?;
        let stmt = client.prepare_cached(ENQUEUE).await.op(OP)?;
        let n = client
            .execute(
                &stmt,
                &[
                    &message.id.as_str(),
                    &message.encode(),
                    &ts(now),
                    &ts(message.expires_at),
                ],
            )
            .await
            .op(OP)?;
        Ok(n == 1)
    }

    async fn enqueue_batch(
        &self,
        messages: &[OutboundMessage],
        now: Timestamp,
    ) -> Result<Vec<bool>, OutboxError> {
        const OP: &str = "outbox enqueue batch";
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.db.client(OP).await?;
        let tx = client.transaction().await.op(OP)?;
        let stmt = tx.prepare_cached(ENQUEUE).await.op(OP)?;
        let mut created = Vec::with_capacity(messages.len());
        for message in messages {
            let n = tx
                .execute(
                    &stmt,
                    &[
                        &message.id.as_str(),
                        &message.encode(),
                        &ts(now),
                        &ts(message.expires_at),
                    ],
                )
                .await
                .op(OP)?;
            created.push(n == 1);
        }
        tx.commit().await.op(OP)?;
        Ok(created)
    }

    async fn settle(
        &self,
        settlements: &[Settlement],
        _now: Timestamp,
    ) -> Result<Vec<Result<(), OutboxError>>, OutboxError> {
        const OP: &str = "outbox settle";
        if settlements.is_empty() {
            return Ok(Vec::new());
        }
        let nexts: Vec<i64> = settlements
            .iter()
            .map(|s| match s {
                Settlement::Retry {
                    next_attempt_at, ..
                } => ts(*next_attempt_at),
                _ => 0,
            })
            .collect();
        let changes = settlements
            .iter()
            .zip(&nexts)
            .map(|(s, next)| Change::of(s, next))
            .collect::<Result<Vec<_>, _>>()?;
        let mut client = self.db.client(OP).await?;
        let tx = client.transaction().await.op(OP)?;
        let mut results = Vec::with_capacity(changes.len());
        for change in &changes {
            results.push(apply(&tx, OP, change).await?);
        }
        tx.commit().await.op(OP)?;
        Ok(results)
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claim>, OutboxError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        Ok(self.claim_inner(now, lease, limit).await?)
    }

    async fn mark_sent(
        &self,
        claim: &ClaimToken,
        provider: &str,
        delivery_id: &str,
        _now: Timestamp,
    ) -> Result<(), OutboxError> {
        let change = Change {
            claim,
            set: "state = 'sent', provider = $3, delivery_id = $4",
            params: vec![&provider, &delivery_id],
        };
        self.transition("outbox mark_sent", change).await
    }

    async fn mark_retry(
        &self,
        claim: &ClaimToken,
        next_attempt_at: Timestamp,
        reason: &str,
    ) -> Result<(), OutboxError> {
        let next = ts(next_attempt_at);
        let change = Change {
            claim,
            set: "state = 'pending', next_attempt_at = $3, lease_until = 0, last_error = $4",
            params: vec![&next, &reason],
        };
        self.transition("outbox mark_retry", change).await
    }

    async fn mark_failed(
        &self,
        claim: &ClaimToken,
        reason: &str,
        _now: Timestamp,
    ) -> Result<(), OutboxError> {
        let change = Change {
            claim,
            set: "state = 'failed', last_error = $3",
            params: vec![&reason],
        };
        self.transition("outbox mark_failed", change).await
    }

    async fn expire_due(&self, now: Timestamp) -> Result<Vec<MessageId>, OutboxError> {
        const OP: &str = "outbox expire";
        let client = self.db.client(OP).await?;
        let rows = client
            .query(
                &format!(
                    "UPDATE outbox SET state = 'expired' \
                     WHERE {NOT_TERMINAL} AND expires_at <= $1 RETURNING seq, id"
                ),
                &[&ts(now)],
            )
            .await
            .op(OP)?;
        let mut expired = Vec::with_capacity(rows.len());
        for row in rows {
            let seq: i64 = row.try_get(0).op(OP)?;
            let id: String = row.try_get(1).op(OP)?;
            let id = MessageId::new(id).map_err(|_| PgError::Corrupt { what: "outbox id" })?;
            expired.push((seq, id));
        }
        expired.sort_by_key(|(seq, _)| *seq);
        Ok(expired.into_iter().map(|(_, id)| id).collect())
    }

    async fn status(
        &self,
        id: &MessageId,
        now: Timestamp,
    ) -> Result<Option<OutboxStatus>, OutboxError> {
        const OP: &str = "outbox status";
        let client = self.db.client(OP).await?;
        let Some(row) = client
            .query_opt(
                "SELECT state, attempts, next_attempt_at, lease_until, provider, delivery_id, \
                        last_error FROM outbox WHERE id = $1",
                &[&id.as_str()],
            )
            .await
            .op(OP)?
        else {
            return Ok(None);
        };
        let state: String = row.try_get(0).op(OP)?;
        let mut state = parse_state(&state)?;
        let lease_until: i64 = row.try_get(3).op(OP)?;
        if state == OutboxState::InFlight && lease_until <= ts(now) {
            state = OutboxState::Pending;
        }
        Ok(Some(OutboxStatus {
            state,
            attempts: to_u32(row.try_get(1).op(OP)?, "outbox attempts")?,
            next_attempt_at: to_ts(row.try_get(2).op(OP)?, "outbox time")?,
            provider: row.try_get(4).op(OP)?,
            delivery_id: row.try_get(5).op(OP)?,
            last_error: row.try_get(6).op(OP)?,
        }))
    }

    async fn depth(&self) -> Result<usize, OutboxError> {
        const OP: &str = "outbox depth";
        let client = self.db.client(OP).await?;
        let n: i64 = client
            .query_one(
                &format!("SELECT count(*) FROM outbox WHERE {NOT_TERMINAL}"),
                &[],
            )
            .await
            .op(OP)?
            .try_get(0)
            .op(OP)?;
        Ok(count(u64::try_from(n).map_err(|_| PgError::Corrupt {
            what: "outbox count",
        })?)?)
    }
}
