//! [`SqliteTokenStore`]: link records, consumed atomically across processes.
//!
//! `consume` is one conditional `UPDATE … WHERE NOT revoked AND expires_at > now AND uses <
//! max_uses RETURNING …` inside a `BEGIN IMMEDIATE` transaction: SQLite's single write lock
//! makes the check and the increment one step for every connection and process on the file,
//! and the follow-up read that explains a refusal sees the same state.

use async_trait::async_trait;
use rcsec_core::{AlertId, DeviceId, Timestamp};
use rcsec_link::{
    BlobId, CodeDigest, ConsumeOutcome, ExtendOutcome, ExtensionGrant, LinkId, LinkRecord,
    RecipientPseudonym, StoreError, TokenStore,
};
use rusqlite::{Connection, Row, TransactionBehavior, params};
use subtle::ConstantTimeEq as _;

use crate::convert::{bytes, count, from_ts, ts};
use crate::{SqliteError, SqliteStore};

const TABLE: &str = "links";
const COLUMNS: &str = "link_id, alert_id, recipient, blob_id, ip_prefix, user_agent_hash, \
     device_id, max_uses, uses, expires_at, revoked, ext_code_digest, ext_attempts_left, \
     ext_claim_until, ext_used";

/// A [`TokenStore`] in the `links` table of a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteTokenStore {
    store: SqliteStore,
}

impl SqliteTokenStore {
    /// The token store of `store`.
    pub fn new(store: SqliteStore) -> Self {
        Self { store }
    }

    /// A token store on a fresh temporary database (see [`SqliteStore::open_temporary`]).
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

fn read_record(row: &Row<'_>) -> Result<LinkRecord, SqliteError> {
    let link_id = LinkId::from_bytes(bytes(&row.get::<_, Vec<u8>>(0)?, TABLE, "link_id")?);
    let alert_id = AlertId::new(row.get::<_, String>(1)?).map_err(|_| corrupt("alert_id"))?;
    let recipient =
        RecipientPseudonym::from_bytes(bytes(&row.get::<_, Vec<u8>>(2)?, TABLE, "recipient")?);
    let blob_id = BlobId::from_bytes(bytes(&row.get::<_, Vec<u8>>(3)?, TABLE, "blob_id")?);
    let mut record = LinkRecord::new(
        link_id,
        alert_id,
        recipient,
        blob_id,
        from_ts(row.get(9)?, TABLE, "expires_at")?,
    );
    record.binding.ip_prefix = row
        .get::<_, Option<String>>(4)?
        .map(|p| p.parse().map_err(|_| corrupt("ip_prefix")))
        .transpose()?;
    record.binding.user_agent_hash = row
        .get::<_, Option<Vec<u8>>>(5)?
        .map(|h| bytes(&h, TABLE, "user_agent_hash"))
        .transpose()?;
    record.binding.device_id = row
        .get::<_, Option<String>>(6)?
        .map(|d| DeviceId::new(d).map_err(|_| corrupt("device_id")))
        .transpose()?;
    record.max_uses = count(row.get(7)?, TABLE, "max_uses")?;
    record.uses = count(row.get(8)?, TABLE, "uses")?;
    record.revoked = row.get::<_, i64>(10)? != 0;
    record.extension = match row.get::<_, Option<Vec<u8>>>(11)? {
        None => None,
        Some(digest) => {
            let mut grant = ExtensionGrant::new(
                CodeDigest::from_bytes(bytes(&digest, TABLE, "ext_code_digest")?),
                count(
                    row.get::<_, Option<i64>>(12)?
                        .ok_or(corrupt("ext_attempts_left"))?,
                    TABLE,
                    "ext_attempts_left",
                )?,
                from_ts(
                    row.get::<_, Option<i64>>(13)?
                        .ok_or(corrupt("ext_claim_until"))?,
                    TABLE,
                    "ext_claim_until",
                )?,
            );
            grant.used = row.get::<_, Option<i64>>(14)?.ok_or(corrupt("ext_used"))? != 0;
            Some(grant)
        }
    };
    Ok(record)
}

fn select(conn: &Connection, link_id: &LinkId) -> Result<Option<LinkRecord>, SqliteError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM {TABLE} WHERE link_id = ?1"))?;
    let mut rows = stmt.query([link_id.as_bytes().as_slice()])?;
    rows.next()?.map(read_record).transpose()
}

fn insert(conn: &Connection, r: &LinkRecord) -> Result<(), StoreError> {
    let ext = r.extension.as_ref();
    let claim_until = ext.map(|g| ts(g.claim_until)).transpose()?;
    let expires_at = ts(r.expires_at)?;
    let result = conn
        .prepare_cached(&format!(
            "INSERT INTO {TABLE} ({COLUMNS}) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
        ))
        .and_then(|mut stmt| {
            stmt.execute(params![
                r.link_id.as_bytes().as_slice(),
                r.alert_id.as_str(),
                r.recipient.as_bytes().as_slice(),
                r.blob_id.as_bytes().as_slice(),
                r.binding.ip_prefix.map(|p| p.to_string()),
                r.binding.user_agent_hash.map(Vec::from),
                r.binding.device_id.as_ref().map(|d| d.as_str().to_owned()),
                r.max_uses,
                r.uses,
                expires_at,
                r.revoked,
                ext.map(|g| g.code_digest.as_bytes().to_vec()),
                ext.map(|g| g.attempts_left),
                claim_until,
                ext.map(|g| g.used),
            ])
        });
    match result {
        Ok(_) => Ok(()),
        Err(e) if SqliteError::is_unique_violation(&e) => Err(StoreError::Duplicate),
        Err(e) => Err(SqliteError::from(e).into()),
    }
}

fn consume(
    conn: &mut Connection,
    link_id: &LinkId,
    now: Timestamp,
) -> Result<ConsumeOutcome, SqliteError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let won = {
        let mut stmt = tx.prepare_cached(&format!(
            "UPDATE {TABLE} SET uses = uses + 1 \
             WHERE link_id = ?1 AND revoked = 0 AND expires_at > ?2 AND uses < max_uses \
             RETURNING {COLUMNS}"
        ))?;
        let mut rows = stmt.query(params![link_id.as_bytes().as_slice(), ts(now)?])?;
        rows.next()?.map(read_record).transpose()?
    };
    let outcome = match won {
        Some(record) => ConsumeOutcome::Consumed {
            remaining: record.max_uses.saturating_sub(record.uses),
            record: Box::new(record),
        },
        None => match select(&tx, link_id)? {
            None => ConsumeOutcome::NotFound,
            Some(r) if r.revoked => ConsumeOutcome::Revoked,
            Some(r) if now >= r.expires_at => ConsumeOutcome::Expired,
            Some(_) => ConsumeOutcome::AlreadyConsumed,
        },
    };
    tx.commit()?;
    Ok(outcome)
}

fn extend(
    conn: &mut Connection,
    link_id: &LinkId,
    code_digest: &CodeDigest,
    new_expires_at: Timestamp,
    now: Timestamp,
) -> Result<ExtendOutcome, SqliteError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(mut record) = select(&tx, link_id)? else {
        return Ok(ExtendOutcome::NotFound);
    };
    if record.revoked {
        return Ok(ExtendOutcome::Revoked);
    }
    let Some(grant) = record.extension.as_mut() else {
        return Ok(ExtendOutcome::NotOffered);
    };
    if grant.used {
        return Ok(ExtendOutcome::AlreadyExtended);
    }
    if grant.attempts_left == 0 {
        return Ok(ExtendOutcome::Locked);
    }
    if now > grant.claim_until {
        return Ok(ExtendOutcome::Expired);
    }
    let id = link_id.as_bytes().as_slice();
    let outcome = if bool::from(grant.code_digest.as_bytes().ct_eq(code_digest.as_bytes())) {
        grant.used = true;
        record.expires_at = new_expires_at;
        record.max_uses = record.uses.saturating_add(1);
        tx.execute(
            &format!(
                "UPDATE {TABLE} SET ext_used = 1, expires_at = ?2, max_uses = ?3 \
                 WHERE link_id = ?1"
            ),
            params![id, ts(new_expires_at)?, record.max_uses],
        )?;
        ExtendOutcome::Extended {
            record: Box::new(record),
        }
    } else {
        grant.attempts_left -= 1;
        tx.execute(
            &format!("UPDATE {TABLE} SET ext_attempts_left = ?2 WHERE link_id = ?1"),
            params![id, grant.attempts_left],
        )?;
        ExtendOutcome::WrongCode {
            attempts_left: grant.attempts_left,
        }
    };
    tx.commit()?;
    Ok(outcome)
}

#[async_trait]
impl TokenStore for SqliteTokenStore {
    async fn insert(&self, record: LinkRecord) -> Result<(), StoreError> {
        // Duplicate must survive the trip through the pool, so carry the trait error inside.
        self.store
            .write(move |conn| Ok(insert(conn, &record)))
            .await?
    }

    async fn get(&self, link_id: &LinkId) -> Result<Option<LinkRecord>, StoreError> {
        let link_id = *link_id;
        Ok(self.store.read(move |conn| select(conn, &link_id)).await?)
    }

    async fn consume(
        &self,
        link_id: &LinkId,
        now: Timestamp,
    ) -> Result<ConsumeOutcome, StoreError> {
        let link_id = *link_id;
        Ok(self
            .store
            .write(move |conn| consume(conn, &link_id, now))
            .await?)
    }

    async fn revoke(&self, link_id: &LinkId) -> Result<bool, StoreError> {
        let link_id = *link_id;
        Ok(self
            .store
            .write(move |conn| {
                let n = conn.execute(
                    &format!("UPDATE {TABLE} SET revoked = 1 WHERE link_id = ?1"),
                    [link_id.as_bytes().as_slice()],
                )?;
                Ok(n > 0)
            })
            .await?)
    }

    async fn revoke_alert(&self, alert_id: &AlertId) -> Result<usize, StoreError> {
        let alert_id = alert_id.as_str().to_owned();
        Ok(self
            .store
            .write(move |conn| {
                Ok(conn.execute(
                    &format!("UPDATE {TABLE} SET revoked = 1 WHERE alert_id = ?1 AND revoked = 0"),
                    [alert_id],
                )?)
            })
            .await?)
    }

    async fn extend(
        &self,
        link_id: &LinkId,
        code_digest: &CodeDigest,
        new_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<ExtendOutcome, StoreError> {
        let (link_id, code_digest) = (*link_id, *code_digest);
        Ok(self
            .store
            .write(move |conn| extend(conn, &link_id, &code_digest, new_expires_at, now))
            .await?)
    }

    async fn sweep_expired(&self, now: Timestamp) -> Result<usize, StoreError> {
        Ok(self
            .store
            .write(move |conn| {
                // LinkRecord::sweepable_at, in SQL: an extension that can still be claimed
                // keeps the record until its claim deadline.
                Ok(conn.execute(
                    &format!(
                        "DELETE FROM {TABLE} WHERE \
                         CASE WHEN ext_code_digest IS NOT NULL AND ext_used = 0 \
                                   AND ext_attempts_left > 0 \
                              THEN max(expires_at, ext_claim_until) \
                              ELSE expires_at END <= ?1"
                    ),
                    [ts(now)?],
                )?)
            })
            .await?)
    }
}
