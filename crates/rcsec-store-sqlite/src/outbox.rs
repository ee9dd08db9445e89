//! [`SqliteOutbox`]: the pipeline's durable queue, claimed under leases.
//!
//! `claim_due` selects due rows and marks them in flight (attempt + 1, lease) in one `BEGIN
//! IMMEDIATE` transaction, so across every process on the file each due message goes to one
//! worker per lease. A row whose stored message no longer decodes stops the claim with
//! [`SqliteError::CorruptMessage`] naming its id, and nothing is claimed; `mark_failed` on
//! that id (which does not decode the message), under the attempt count `status` reports,
//! takes it out of the queue.
//!
//! `mark_*` are single compare-and-set `UPDATE`s on `(message_id, attempts)`: a worker whose
//! lease ran out and whose message another worker claimed cannot overwrite that claim.

use std::time::Duration;

use async_trait::async_trait;
use rcsec::message::{MessageId, OutboundMessage};
use rcsec::{Claim, ClaimToken, Outbox, OutboxError, OutboxState, OutboxStatus, Settlement};
use rcsec_core::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};

use crate::convert::{count, from_ts, ts};
use crate::{SqliteError, SqliteStore};

const TABLE: &str = "outbox";

/// An [`Outbox`] in the `outbox` table of a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteOutbox {
    store: SqliteStore,
}

impl SqliteOutbox {
    /// The outbox of `store`.
    pub fn new(store: SqliteStore) -> Self {
        Self { store }
    }

    /// An outbox on a fresh temporary database (see [`SqliteStore::open_temporary`]).
    ///
    /// # Errors
    /// As [`SqliteStore::open_temporary`].
    pub fn open_temporary() -> Result<Self, SqliteError> {
        SqliteStore::open_temporary().map(Self::new)
    }
}

fn corrupt(what: &'static str) -> SqliteError {
    SqliteError::CorruptRow { table: TABLE, what }
}

fn state(raw: &str) -> Result<OutboxState, SqliteError> {
    OutboxState::parse(raw).ok_or(corrupt("state"))
}

/// Whether any message is due at `?1` (the condition of [`claim_due`]'s select).
const DUE_EXISTS: &str = "SELECT 1 FROM outbox WHERE expires_at > ?1 AND ( \
     (state = 'pending' AND next_attempt_at <= ?1) \
     OR (state = 'in_flight' AND lease_until <= ?1)) LIMIT 1";

fn claim_due(
    conn: &mut Connection,
    now: Timestamp,
    lease: Duration,
    limit: usize,
) -> Result<Vec<Claim>, SqliteError> {
    let lease_until = now.saturating_add(lease);
    let (now_ms, lease_ms) = (ts(now)?, ts(lease_until)?);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    // Most polls find nothing due (the pipeline claims its own messages as it enqueues them):
    // answer those from a read, without taking the write lock or writing a commit. A message
    // that becomes due just after this read is claimed by the next poll, as if it had become
    // due after the claim.
    if !conn.prepare_cached(DUE_EXISTS)?.exists(params![now_ms])? {
        return Ok(Vec::new());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let due: Vec<(i64, String, Vec<u8>, i64)> = tx
        .prepare_cached(
            "SELECT seq, message_id, message, attempts FROM outbox \
             WHERE expires_at > ?1 AND ( \
                 (state = 'pending' AND next_attempt_at <= ?1) \
                 OR (state = 'in_flight' AND lease_until <= ?1)) \
             ORDER BY next_attempt_at, seq LIMIT ?2",
        )?
        .query_map(params![now_ms, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut claims = Vec::with_capacity(due.len());
    {
        let mut mark = tx.prepare_cached(
            "UPDATE outbox SET state = 'in_flight', attempts = ?2, lease_until = ?3 \
             WHERE seq = ?1",
        )?;
        for (seq, id, bytes, attempts) in due {
            // On a corrupt row the transaction is dropped: nothing of this claim is applied.
            let message = OutboundMessage::decode(&bytes)
                .map_err(|source| SqliteError::CorruptMessage { id, source })?;
            let attempt = count::<u32>(attempts, TABLE, "attempts")?
                .checked_add(1)
                .ok_or(corrupt("attempts"))?;
            mark.execute(params![seq, attempt, lease_ms])?;
            claims.push(Claim {
                message,
                attempt,
                lease_until,
            });
        }
    }
    tx.commit()?;
    Ok(claims)
}

/// Applies `set` (an SQL `SET` list whose parameters start at `?3`) to the message of
/// `claim` as one compare-and-set statement: only while its attempt count still equals the
/// claim's (no newer claim) and it is not terminal. When nothing matched, a read names why.
fn transition(
    conn: &Connection,
    claim: &(String, u32),
    set: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Result<(), OutboxError>, SqliteError> {
    let (id, attempt) = (&claim.0, claim.1);
    let sql = format!(
        "UPDATE outbox SET {set} WHERE message_id = ?1 AND attempts = ?2 \
         AND state IN ('pending', 'in_flight')"
    );
    let mut all: Vec<&dyn rusqlite::ToSql> = vec![id, &attempt];
    all.extend_from_slice(params);
    if conn.prepare_cached(&sql)?.execute(all.as_slice())? == 1 {
        return Ok(Ok(()));
    }
    let current: Option<(String, i64)> = conn
        .prepare_cached("SELECT state, attempts FROM outbox WHERE message_id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(Err(match current {
        None => OutboxError::NotFound,
        Some((_, attempts)) if count::<u32>(attempts, TABLE, "attempts")? != attempt => {
            OutboxError::StaleClaim
        }
        Some((raw, _)) if state(&raw)?.is_terminal() => OutboxError::AlreadyTerminal,
        // Matched on every condition yet not updated: the row changed under us, which the
        // write gate and SQLite's locking rule out.
        Some(_) => return Err(SqliteError::Internal),
    }))
}

/// A message encoded for its row, ready to move into a blocking closure.
struct Pending {
    id: String,
    bytes: Vec<u8>,
    expires_at: i64,
}

impl Pending {
    fn of(message: &OutboundMessage) -> Result<Self, SqliteError> {
        Ok(Self {
            id: message.id.as_str().to_owned(),
            bytes: message.encode(),
            expires_at: ts(message.expires_at)?,
        })
    }
}

/// Inserts `row` as pending, due at `now`; `false` if its id was already stored.
fn insert(conn: &Connection, row: &Pending, now: i64) -> Result<bool, SqliteError> {
    let n = conn
        .prepare_cached(
            "INSERT INTO outbox (message_id, message, expires_at, state, attempts, \
             next_attempt_at, lease_until) VALUES (?1, ?2, ?3, 'pending', 0, ?4, 0) \
             ON CONFLICT (message_id) DO NOTHING",
        )?
        .execute(params![row.id, row.bytes, row.expires_at, now])?;
    Ok(n == 1)
}

/// Inserts `row` as already claimed (in flight, attempt 1, leased until `lease_until`); `false`
/// if its id was already stored.
fn insert_claimed(
    conn: &Connection,
    row: &Pending,
    now: i64,
    lease_until: i64,
) -> Result<bool, SqliteError> {
    let n = conn
        .prepare_cached(
            "INSERT INTO outbox (message_id, message, expires_at, state, attempts, \
             next_attempt_at, lease_until) VALUES (?1, ?2, ?3, 'in_flight', 1, ?4, ?5) \
             ON CONFLICT (message_id) DO NOTHING",
        )?
        .execute(params![row.id, row.bytes, row.expires_at, now, lease_until])?;
    Ok(n == 1)
}

/// Messages to store and claim in one transaction, encoded and ready to move into a blocking
/// closure (also used by [`crate::SqliteJournal`]).
pub(crate) struct ClaimedBatch {
    rows: Vec<Pending>,
    messages: Vec<OutboundMessage>,
    now: i64,
    lease_until: Timestamp,
}

impl ClaimedBatch {
    pub(crate) fn new(
        messages: &[OutboundMessage],
        now: Timestamp,
        lease: Duration,
    ) -> Result<Self, SqliteError> {
        let lease_until = now.saturating_add(lease);
        // Reject an unrepresentable lease here rather than inside the transaction.
        ts(lease_until)?;
        Ok(Self {
            rows: messages.iter().map(Pending::of).collect::<Result<_, _>>()?,
            messages: messages.to_vec(),
            now: ts(now)?,
            lease_until,
        })
    }

    /// Inserts every row inside the caller's transaction; the claim of each new one.
    pub(crate) fn apply(self, conn: &Connection) -> Result<Vec<Option<Claim>>, SqliteError> {
        let lease_ms = ts(self.lease_until)?;
        let mut out = Vec::with_capacity(self.rows.len());
        for (row, message) in self.rows.iter().zip(self.messages) {
            let created = insert_claimed(conn, row, self.now, lease_ms)?;
            out.push(created.then_some(Claim {
                message,
                attempt: 1,
                lease_until: self.lease_until,
            }));
        }
        Ok(out)
    }
}

/// One fenced state change, owned so it can move into a blocking closure.
pub(crate) enum Change {
    Sent {
        claim: (String, u32),
        provider: String,
        delivery_id: String,
    },
    Retry {
        claim: (String, u32),
        next: i64,
        reason: String,
    },
    Failed {
        claim: (String, u32),
        reason: String,
    },
}

fn owned(claim: &ClaimToken) -> (String, u32) {
    (claim.id.as_str().to_owned(), claim.attempt)
}

impl Change {
    fn sent(claim: &ClaimToken, provider: &str, delivery_id: &str) -> Self {
        Self::Sent {
            claim: owned(claim),
            provider: provider.to_owned(),
            delivery_id: delivery_id.to_owned(),
        }
    }

    fn retry(claim: &ClaimToken, next: Timestamp, reason: &str) -> Result<Self, SqliteError> {
        Ok(Self::Retry {
            claim: owned(claim),
            next: ts(next)?,
            reason: reason.to_owned(),
        })
    }

    fn failed(claim: &ClaimToken, reason: &str) -> Self {
        Self::Failed {
            claim: owned(claim),
            reason: reason.to_owned(),
        }
    }

    pub(crate) fn of(settlement: &Settlement) -> Result<Self, SqliteError> {
        Ok(match settlement {
            Settlement::Sent {
                claim,
                provider,
                delivery_id,
            } => Self::sent(claim, provider, delivery_id),
            Settlement::Retry {
                claim,
                next_attempt_at,
                reason,
            } => Self::retry(claim, *next_attempt_at, reason)?,
            Settlement::Failed { claim, reason } => Self::failed(claim, reason),
            // `Settlement` is non-exhaustive: a kind this adapter does not know is refused
            // rather than guessed at.
            _ => return Err(SqliteError::Internal),
        })
    }

    pub(crate) fn apply(&self, conn: &Connection) -> Result<Result<(), OutboxError>, SqliteError> {
        match self {
            Self::Sent {
                claim,
                provider,
                delivery_id,
            } => transition(
                conn,
                claim,
                "state = 'sent', provider = ?3, delivery_id = ?4",
                &[provider, delivery_id],
            ),
            Self::Retry {
                claim,
                next,
                reason,
            } => transition(
                conn,
                claim,
                "state = 'pending', next_attempt_at = ?3, lease_until = 0, last_error = ?4",
                &[next, reason],
            ),
            Self::Failed { claim, reason } => {
                transition(conn, claim, "state = 'failed', last_error = ?3", &[reason])
            }
        }
    }
}

fn status(
    conn: &Connection,
    id: &str,
    now: Timestamp,
) -> Result<Option<OutboxStatus>, SqliteError> {
    type Row = (
        String,
        i64,
        i64,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT state, attempts, next_attempt_at, lease_until, provider, delivery_id, \
             last_error FROM outbox WHERE message_id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .optional()?;
    let Some((raw, attempts, next, lease, provider, delivery_id, last_error)) = row else {
        return Ok(None);
    };
    let mut state = state(&raw)?;
    // An in-flight message whose lease ran out is pending again, as a reader sees it.
    if state == OutboxState::InFlight && from_ts(lease, TABLE, "lease_until")? <= now {
        state = OutboxState::Pending;
    }
    Ok(Some(OutboxStatus {
        state,
        attempts: count(attempts, TABLE, "attempts")?,
        next_attempt_at: from_ts(next, TABLE, "next_attempt_at")?,
        provider,
        delivery_id,
        last_error,
    }))
}

fn expire_due(conn: &mut Connection, now: i64) -> Result<Vec<MessageId>, SqliteError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut expired: Vec<(i64, String)> = tx
        .prepare_cached(
            "UPDATE outbox SET state = 'expired' \
             WHERE state IN ('pending', 'in_flight') AND expires_at <= ?1 \
             RETURNING seq, message_id",
        )?
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    tx.commit()?;
    expired.sort_unstable();
    expired
        .into_iter()
        .map(|(_, id)| MessageId::new(id).map_err(|_| corrupt("message_id")))
        .collect()
}

#[async_trait]
impl Outbox for SqliteOutbox {
    async fn enqueue(
        &self,
        message: &OutboundMessage,
        now: Timestamp,
    ) -> Result<bool, OutboxError> {
        let row = Pending::of(message)?;
        let now = ts(now)?;
        Ok(self
            .store
            .write(move |conn| insert(conn, &row, now))
            .await?)
    }

    async fn enqueue_batch(
        &self,
        messages: &[OutboundMessage],
        now: Timestamp,
    ) -> Result<Vec<bool>, OutboxError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let rows = messages
            .iter()
            .map(Pending::of)
            .collect::<Result<Vec<_>, _>>()?;
        let now = ts(now)?;
        Ok(self
            .store
            .write(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let created = rows
                    .iter()
                    .map(|row| insert(&tx, row, now))
                    .collect::<Result<Vec<_>, _>>()?;
                tx.commit()?;
                Ok(created)
            })
            .await?)
    }

    async fn enqueue_claimed(
        &self,
        messages: &[OutboundMessage],
        now: Timestamp,
        lease: Duration,
    ) -> Result<Vec<Option<Claim>>, OutboxError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let batch = ClaimedBatch::new(messages, now, lease)?;
        Ok(self
            .store
            .write(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let claims = batch.apply(&tx)?;
                tx.commit()?;
                Ok(claims)
            })
            .await?)
    }

    async fn settle(
        &self,
        settlements: &[Settlement],
        _now: Timestamp,
    ) -> Result<Vec<Result<(), OutboxError>>, OutboxError> {
        if settlements.is_empty() {
            return Ok(Vec::new());
        }
        let owned = settlements
            .iter()
            .map(Change::of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self
            .store
            .write(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let results = owned
                    .iter()
                    .map(|c| c.apply(&tx))
                    .collect::<Result<Vec<_>, _>>()?;
                tx.commit()?;
                Ok(results)
            })
            .await?)
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
        Ok(self
            .store
            .write(move |conn| claim_due(conn, now, lease, limit))
            .await?)
    }

    async fn mark_sent(
        &self,
        claim: &ClaimToken,
        provider: &str,
        delivery_id: &str,
        _now: Timestamp,
    ) -> Result<(), OutboxError> {
        let change = Change::sent(claim, provider, delivery_id);
        self.store.write(move |conn| change.apply(conn)).await?
    }

    async fn mark_retry(
        &self,
        claim: &ClaimToken,
        next_attempt_at: Timestamp,
        reason: &str,
    ) -> Result<(), OutboxError> {
        let change = Change::retry(claim, next_attempt_at, reason)?;
        self.store.write(move |conn| change.apply(conn)).await?
    }

    async fn mark_failed(
        &self,
        claim: &ClaimToken,
        reason: &str,
        _now: Timestamp,
    ) -> Result<(), OutboxError> {
        let change = Change::failed(claim, reason);
        self.store.write(move |conn| change.apply(conn)).await?
    }

    async fn expire_due(&self, now: Timestamp) -> Result<Vec<MessageId>, OutboxError> {
        let now = ts(now)?;
        Ok(self.store.write(move |conn| expire_due(conn, now)).await?)
    }

    async fn status(
        &self,
        id: &MessageId,
        now: Timestamp,
    ) -> Result<Option<OutboxStatus>, OutboxError> {
        let id = id.as_str().to_owned();
        Ok(self.store.read(move |conn| status(conn, &id, now)).await?)
    }

    async fn depth(&self) -> Result<usize, OutboxError> {
        Ok(self
            .store
            .read(|conn| {
                let n: i64 = conn.query_row(
                    "SELECT count(*) FROM outbox WHERE state IN ('pending', 'in_flight')",
                    [],
                    |r| r.get(0),
                )?;
                count(n, TABLE, "count")
            })
            .await?)
    }
}
