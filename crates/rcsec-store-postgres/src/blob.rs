//! [`PgBlobStore`]: ciphertext with a TTL and a read budget.
//!
//! `take` is one transaction: a conditional `UPDATE … RETURNING` spends a read (row-locked,
//! so concurrent readers queue and re-check), and the same transaction deletes the row when
//! that was the last read, or deletes an expired row it finds. No reader can get a read that
//! was not there, and the last read's ciphertext leaves the table in the same commit.

use std::time::Duration;

use async_trait::async_trait;
use rcsec_core::Timestamp;
use rcsec_link::{BlobId, BlobStore, OsRandom, StoreError, TakeOutcome};

use crate::convert::{count, to_u32, ts};
use crate::db::PgDatabase;
use crate::error::{OpContext as _, PgError};

/// Ciphertext blobs in PostgreSQL (table `blobs`).
#[derive(Debug, Clone)]
pub struct PgBlobStore {
    db: PgDatabase,
}

impl PgBlobStore {
    /// A store on `db`.
    pub fn new(db: PgDatabase) -> Self {
        Self { db }
    }

    async fn put_inner(
        &self,
        ciphertext: &[u8],
        expires_at: Timestamp,
        max_reads: u32,
    ) -> Result<BlobId, StoreError> {
        const OP: &str = "blob put";
        let client = self.db.client(OP).await?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO blobs (blob_id, ciphertext, expires_at, reads_left) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (blob_id) DO NOTHING",
            )
            .await
            .op(OP)?;
        // A 128-bit random id collides with negligible probability; retry rather than assume.
        for _ in 0..4 {
            let id = BlobId::random(&OsRandom).map_err(|e| StoreError::Backend(Box::new(e)))?;
            let n = client
                .execute(
                    &stmt,
                    &[
                        &id.as_bytes().as_slice(),
                        &ciphertext,
                        &ts(expires_at),
                        &i64::from(max_reads.max(1)),
                    ],
                )
                .await
                .op(OP)?;
            if n == 1 {
                return Ok(id);
            }
        }
        Err(PgError::Internal("random blob ids keep colliding").into())
    }

    async fn take_inner(&self, id: &BlobId, now: Timestamp) -> Result<TakeOutcome, PgError> {
        const OP: &str = "blob take";
        let mut client = self.db.client(OP).await?;
        let tx = client.transaction().await.op(OP)?;
        let take = tx
            .prepare_cached(
                "UPDATE blobs SET reads_left = reads_left - 1 \
                 WHERE blob_id = $1 AND expires_at > $2 AND reads_left > 0 \
                 RETURNING ciphertext, reads_left",
            )
            .await
            .op(OP)?;
        let key = id.as_bytes().as_slice();
        let outcome = match tx.query_opt(&take, &[&key, &ts(now)]).await.op(OP)? {
            Some(row) => {
                let ciphertext: Vec<u8> = row.try_get(0).op(OP)?;
                let reads_left = to_u32(row.try_get(1).op(OP)?, "blob")?;
                if reads_left == 0 {
                    tx.execute("DELETE FROM blobs WHERE blob_id = $1", &[&key])
                        .await
                        .op(OP)?;
                }
                TakeOutcome::Taken {
                    ciphertext,
                    reads_left,
                }
            }
            None => {
                // Expired blobs are deleted when found.
                tx.execute(
                    "DELETE FROM blobs WHERE blob_id = $1 AND expires_at <= $2",
                    &[&key, &ts(now)],
                )
                .await
                .op(OP)?;
                TakeOutcome::Gone
            }
        };
        tx.commit().await.op(OP)?;
        Ok(outcome)
    }
}

#[async_trait]
impl BlobStore for PgBlobStore {
    async fn put(
        &self,
        ciphertext: Vec<u8>,
        ttl: Duration,
        max_reads: u32,
        now: Timestamp,
    ) -> Result<BlobId, StoreError> {
        self.put_inner(&ciphertext, now.saturating_add(ttl), max_reads)
            .await
    }

    async fn take(&self, id: &BlobId, now: Timestamp) -> Result<TakeOutcome, StoreError> {
        Ok(self.take_inner(id, now).await?)
    }

    async fn delete(&self, id: &BlobId) -> Result<bool, StoreError> {
        const OP: &str = "blob delete";
        let client = self.db.client(OP).await?;
        let n = client
            .execute(
                "DELETE FROM blobs WHERE blob_id = $1",
                &[&id.as_bytes().as_slice()],
            )
            .await
            .op(OP)?;
        Ok(n > 0)
    }

    async fn sweep_expired(&self, now: Timestamp) -> Result<usize, StoreError> {
        const OP: &str = "blob sweep";
        let client = self.db.client(OP).await?;
        let n = client
            .execute("DELETE FROM blobs WHERE expires_at <= $1", &[&ts(now)])
            .await
            .op(OP)?;
        Ok(count(n)?)
    }
}
