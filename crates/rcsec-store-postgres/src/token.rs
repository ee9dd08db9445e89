//! [`PgTokenStore`]: link records with race-free consumption.
//!
//! `consume` is one statement: a conditional `UPDATE … RETURNING` that takes a use only if
//! the link exists, is not revoked, has not expired and has uses left. PostgreSQL re-checks
//! the condition on the newest row version after waiting for a concurrent writer's lock, so
//! of any number of concurrent callers (in any number of processes) exactly as many win as
//! there were uses. Only a loser pays a second query, to say why it lost.

use async_trait::async_trait;
use rcsec_core::{AlertId, DeviceId, Timestamp};
use rcsec_link::{
    BlobId, CodeDigest, ConsumeOutcome, ExtendOutcome, ExtensionGrant, LinkId, LinkRecord,
    RecipientPseudonym, StoreError, TokenStore,
};
use subtle::ConstantTimeEq as _;
use tokio_postgres::Row;

use crate::convert::{count, to_array, to_ts, to_u32, ts};
use crate::db::PgDatabase;
use crate::error::{OpContext as _, PgError};

const COLUMNS: &str = "link_id, alert_id, recipient, blob_id, ip_prefix, user_agent_hash, \
     device_id, max_uses, uses, expires_at, revoked, ext_digest, ext_attempts, ext_claim_until, \
     ext_used";

/// Link records in PostgreSQL (table `links`).
#[derive(Debug, Clone)]
pub struct PgTokenStore {
    db: PgDatabase,
}

impl PgTokenStore {
    /// A store on `db`.
    pub fn new(db: PgDatabase) -> Self {
        Self { db }
    }
}

fn record_from_row(row: &Row) -> Result<LinkRecord, PgError> {
    const WHAT: &str = "link record";
    let bad = |_| PgError::Corrupt { what: WHAT };
    let link_id: Vec<u8> = row.try_get("link_id").map_err(bad)?;
    let alert_id: String = row.try_get("alert_id").map_err(bad)?;
    let recipient: Vec<u8> = row.try_get("recipient").map_err(bad)?;
    let blob_id: Vec<u8> = row.try_get("blob_id").map_err(bad)?;
    let mut record = LinkRecord::new(
        LinkId::from_bytes(to_array(&link_id, WHAT)?),
        AlertId::new(alert_id).map_err(|_| PgError::Corrupt { what: WHAT })?,
        RecipientPseudonym::from_bytes(to_array(&recipient, WHAT)?),
        BlobId::from_bytes(to_array(&blob_id, WHAT)?),
        to_ts(row.try_get("expires_at").map_err(bad)?, WHAT)?,
    );
    let ip: Option<String> = row.try_get("ip_prefix").map_err(bad)?;
    record.binding.ip_prefix = ip
        .map(|s| s.parse().map_err(|_| PgError::Corrupt { what: WHAT }))
        .transpose()?;
    let ua: Option<Vec<u8>> = row.try_get("user_agent_hash").map_err(bad)?;
    record.binding.user_agent_hash = ua.map(|v| to_array(&v, WHAT)).transpose()?;
    let device: Option<String> = row.try_get("device_id").map_err(bad)?;
    record.binding.device_id = device
        .map(|d| DeviceId::new(d).map_err(|_| PgError::Corrupt { what: WHAT }))
        .transpose()?;
    record.max_uses = to_u32(row.try_get("max_uses").map_err(bad)?, WHAT)?;
    record.uses = to_u32(row.try_get("uses").map_err(bad)?, WHAT)?;
    record.revoked = row.try_get("revoked").map_err(bad)?;
    let digest: Option<Vec<u8>> = row.try_get("ext_digest").map_err(bad)?;
    if let Some(digest) = digest {
        let attempts: Option<i16> = row.try_get("ext_attempts").map_err(bad)?;
        let claim_until: Option<i64> = row.try_get("ext_claim_until").map_err(bad)?;
        let used: Option<bool> = row.try_get("ext_used").map_err(bad)?;
        let (Some(attempts), Some(claim_until), Some(used)) = (attempts, claim_until, used) else {
            return Err(PgError::Corrupt { what: WHAT });
        };
        let mut grant = ExtensionGrant::new(
            CodeDigest::from_bytes(to_array(&digest, WHAT)?),
            u8::try_from(attempts).map_err(|_| PgError::Corrupt { what: WHAT })?,
            to_ts(claim_until, WHAT)?,
        );
        grant.used = used;
        record.extension = Some(grant);
    }
    Ok(record)
}

impl PgTokenStore {
    async fn insert_record(&self, r: &LinkRecord) -> Result<(), PgError> {
        const OP: &str = "link insert";
        let client = self.db.client(OP).await?;
        let stmt = client
            .prepare_cached(&format!(
                "INSERT INTO links ({COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            ))
            .await
            .op(OP)?;
        let ext = r.extension.as_ref();
        client
            .execute(
                &stmt,
                &[
                    &r.link_id.as_bytes().as_slice(),
                    &r.alert_id.as_str(),
                    &r.recipient.as_bytes().as_slice(),
                    &r.blob_id.as_bytes().as_slice(),
                    &r.binding.ip_prefix.as_ref().map(ToString::to_string),
                    &r.binding.user_agent_hash.as_ref().map(<[u8; 32]>::as_slice),
                    &r.binding.device_id.as_ref().map(DeviceId::as_str),
                    &i64::from(r.max_uses),
                    &i64::from(r.uses),
                    &ts(r.expires_at),
                    &r.revoked,
                    &ext.map(|g| g.code_digest.as_bytes().as_slice()),
                    &ext.map(|g| i16::from(g.attempts_left)),
                    &ext.map(|g| ts(g.claim_until)),
                    &ext.map(|g| g.used),
                ],
            )
            .await
            .op(OP)
            .map(|_| ())
    }

    async fn fetch(
        &self,
        link_id: &LinkId,
        op: &'static str,
    ) -> Result<Option<LinkRecord>, PgError> {
        let client = self.db.client(op).await?;
        let stmt = client
            .prepare_cached(&format!("SELECT {COLUMNS} FROM links WHERE link_id = $1"))
            .await
            .op(op)?;
        client
            .query_opt(&stmt, &[&link_id.as_bytes().as_slice()])
            .await
            .op(op)?
            .as_ref()
            .map(record_from_row)
            .transpose()
    }

    async fn consume_inner(
        &self,
        link_id: &LinkId,
        now: Timestamp,
    ) -> Result<ConsumeOutcome, PgError> {
        const OP: &str = "link consume";
        let client = self.db.client(OP).await?;
        let stmt = client
            .prepare_cached(&format!(
                "UPDATE links SET uses = uses + 1 \
                 WHERE link_id = $1 AND NOT revoked AND expires_at > $2 AND uses < max_uses \
                 RETURNING {COLUMNS}"
            ))
            .await
            .op(OP)?;
        let won = client
            .query_opt(&stmt, &[&link_id.as_bytes().as_slice(), &ts(now)])
            .await
            .op(OP)?;
        if let Some(row) = won {
            let record = record_from_row(&row)?;
            return Ok(ConsumeOutcome::Consumed {
                remaining: record.max_uses.saturating_sub(record.uses),
                record: Box::new(record),
            });
        }
        drop(client);
        // Lost: say why, in the documented order. The row read here is at least as new as
        // the one the UPDATE judged, so a loser never reports a state that did not happen.
        Ok(match self.fetch(link_id, OP).await? {
            None => ConsumeOutcome::NotFound,
            Some(r) if r.revoked => ConsumeOutcome::Revoked,
            Some(r) if now >= r.expires_at => ConsumeOutcome::Expired,
            Some(_) => ConsumeOutcome::AlreadyConsumed,
        })
    }

    async fn extend_inner(
        &self,
        link_id: &LinkId,
        code_digest: &CodeDigest,
        new_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<ExtendOutcome, PgError> {
        const OP: &str = "link extend";
        let mut client = self.db.client(OP).await?;
        let tx = client.transaction().await.op(OP)?;
        let select = tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM links WHERE link_id = $1 FOR UPDATE"
            ))
            .await
            .op(OP)?;
        let id = link_id.as_bytes().as_slice();
        let Some(row) = tx.query_opt(&select, &[&id]).await.op(OP)? else {
            return Ok(ExtendOutcome::NotFound);
        };
        let mut record = record_from_row(&row)?;
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
        if !bool::from(grant.code_digest.as_bytes().ct_eq(code_digest.as_bytes())) {
            grant.attempts_left -= 1;
            let left = grant.attempts_left;
            tx.execute(
                "UPDATE links SET ext_attempts = $2 WHERE link_id = $1",
                &[&id, &i16::from(left)],
            )
            .await
            .op(OP)?;
            tx.commit().await.op(OP)?;
            return Ok(ExtendOutcome::WrongCode {
                attempts_left: left,
            });
        }
        grant.used = true;
        record.expires_at = new_expires_at;
        record.max_uses = record.uses.saturating_add(1);
        tx.execute(
            "UPDATE links SET ext_used = true, expires_at = $2, max_uses = $3 \
             WHERE link_id = $1",
            &[&id, &ts(new_expires_at), &i64::from(record.max_uses)],
        )
        .await
        .op(OP)?;
        tx.commit().await.op(OP)?;
        Ok(ExtendOutcome::Extended {
            record: Box::new(record),
        })
    }

    async fn execute(
        &self,
        op: &'static str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, PgError> {
        let client = self.db.client(op).await?;
        let stmt = client.prepare_cached(sql).await.op(op)?;
        client.execute(&stmt, params).await.op(op)
    }
}

#[async_trait]
impl TokenStore for PgTokenStore {
    async fn insert(&self, record: LinkRecord) -> Result<(), StoreError> {
        match self.insert_record(&record).await {
            Err(e) if e.is_unique_violation() => Err(StoreError::Duplicate),
            other => Ok(other?),
        }
    }

    async fn get(&self, link_id: &LinkId) -> Result<Option<LinkRecord>, StoreError> {
        Ok(self.fetch(link_id, "link get").await?)
    }

    async fn consume(
        &self,
        link_id: &LinkId,
        now: Timestamp,
    ) -> Result<ConsumeOutcome, StoreError> {
        Ok(self.consume_inner(link_id, now).await?)
    }

    async fn revoke(&self, link_id: &LinkId) -> Result<bool, StoreError> {
        let n = self
            .execute(
                "link revoke",
                "UPDATE links SET revoked = true WHERE link_id = $1",
                &[&link_id.as_bytes().as_slice()],
            )
            .await?;
        Ok(n > 0)
    }

    async fn revoke_alert(&self, alert_id: &AlertId) -> Result<usize, StoreError> {
        let n = self
            .execute(
                "link revoke_alert",
                "UPDATE links SET revoked = true WHERE alert_id = $1 AND NOT revoked",
                &[&alert_id.as_str()],
            )
            .await?;
        Ok(count(n)?)
    }

    async fn extend(
        &self,
        link_id: &LinkId,
        code_digest: &CodeDigest,
        new_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<ExtendOutcome, StoreError> {
        Ok(self
            .extend_inner(link_id, code_digest, new_expires_at, now)
            .await?)
    }

    async fn sweep_expired(&self, now: Timestamp) -> Result<usize, StoreError> {
        let n = self
            .execute(
                "link sweep",
                "DELETE FROM links WHERE sweep_at <= $1",
                &[&ts(now)],
            )
            .await?;
        Ok(count(n)?)
    }
}
