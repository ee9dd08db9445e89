//! [`SqliteBlobStore`]: sealed ciphertext with a TTL and a read budget.
//!
//! `take` decrements the budget with one conditional `UPDATE … RETURNING` inside a `BEGIN
//! IMMEDIATE` transaction and deletes the row in the same transaction when it reaches zero, so
//! no two readers anywhere can both get the last read.

use std::time::Duration;

use async_trait::async_trait;
use rcsec_core::Timestamp;
use rcsec_link::{BlobId, BlobStore, OsRandom, StoreError, TakeOutcome};
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};

use crate::convert::{count, ts};
use crate::{SqliteError, SqliteStore};

/// A [`BlobStore`] in the `blobs` table of a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteBlobStore {
    store: SqliteStore,
}

impl SqliteBlobStore {
    /// The blob store of `store`.
    pub fn new(store: SqliteStore) -> Self {
        Self { store }
    }

    /// A blob store on a fresh temporary database (see [`SqliteStore::open_temporary`]).
    ///
    /// # Errors
    /// As [`SqliteStore::open_temporary`].
    pub fn open_temporary() -> Result<Self, SqliteError> {
        SqliteStore::open_temporary().map(Self::new)
    }
}

fn put(
    conn: &Connection,
    ciphertext: &[u8],
    expires_at: i64,
    reads: u32,
) -> Result<BlobId, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO blobs (blob_id, ciphertext, expires_at, reads_left) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(SqliteError::from)?;
    loop {
        let id = BlobId::random(&OsRandom).map_err(|e| StoreError::Backend(Box::new(e)))?;
        match stmt.execute(params![
            id.as_bytes().as_slice(),
            ciphertext,
            expires_at,
            reads
        ]) {
            Ok(_) => return Ok(id),
            // A 128-bit collision: astronomically unlikely, but never overwrite.
            Err(e) if SqliteError::is_unique_violation(&e) => {}
            Err(e) => return Err(SqliteError::from(e).into()),
        }
    }
}

fn take(conn: &mut Connection, id: &BlobId, now: i64) -> Result<TakeOutcome, SqliteError> {
    let key = id.as_bytes().as_slice();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let taken: Option<(Vec<u8>, i64)> = tx
        .prepare_cached(
            "UPDATE blobs SET reads_left = reads_left - 1 \
             WHERE blob_id = ?1 AND expires_at > ?2 AND reads_left > 0 \
             RETURNING ciphertext, reads_left",
        )?
        .query_row(params![key, now], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let outcome = match taken {
        Some((ciphertext, left)) => {
            let reads_left: u32 = count(left, "blobs", "reads_left")?;
            if reads_left == 0 {
                tx.execute("DELETE FROM blobs WHERE blob_id = ?1", [key])?;
            }
            TakeOutcome::Taken {
                ciphertext,
                reads_left,
            }
        }
        None => {
            // Expired (or an exhausted row left by hand): delete it when found.
            tx.execute("DELETE FROM blobs WHERE blob_id = ?1", [key])?;
            TakeOutcome::Gone
        }
    };
    tx.commit()?;
    Ok(outcome)
}

#[async_trait]
impl BlobStore for SqliteBlobStore {
    async fn put(
        &self,
        ciphertext: Vec<u8>,
        ttl: Duration,
        max_reads: u32,
        now: Timestamp,
    ) -> Result<BlobId, StoreError> {
        let expires_at = ts(now.saturating_add(ttl))?;
        let reads = max_reads.max(1);
        self.store
            .write(move |conn| Ok(put(conn, &ciphertext, expires_at, reads)))
            .await?
    }

    async fn take(&self, id: &BlobId, now: Timestamp) -> Result<TakeOutcome, StoreError> {
        let (id, now) = (*id, ts(now)?);
        Ok(self.store.write(move |conn| take(conn, &id, now)).await?)
    }

    async fn delete(&self, id: &BlobId) -> Result<bool, StoreError> {
        let id = *id;
        Ok(self
            .store
            .write(move |conn| {
                let n = conn.execute(
                    "DELETE FROM blobs WHERE blob_id = ?1",
                    [id.as_bytes().as_slice()],
                )?;
                Ok(n > 0)
            })
            .await?)
    }

    async fn sweep_expired(&self, now: Timestamp) -> Result<usize, StoreError> {
        let now = ts(now)?;
        Ok(self
            .store
            .write(move |conn| Ok(conn.execute("DELETE FROM blobs WHERE expires_at <= ?1", [now])?))
            .await?)
    }
}
