//! In-memory `TokenStore` and `BlobStore`: for tests, the demo and single-process deployments.
//!
//! Each holds its map behind one mutex, taken for the whole of every operation (never across
//! an `.await`), which is what makes `consume`, `extend` and `take` atomic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rcsec_core::{AlertId, Timestamp};

use crate::extended_access::CodeDigest;
use crate::rng::OsRandom;
use crate::store::{
    BlobId, BlobStore, ConsumeOutcome, ExtendOutcome, LinkRecord, StoreError, TakeOutcome,
    TokenStore,
};
use crate::token::LinkId;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves the map consistent (every update is a
    // single assignment), so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A `TokenStore` in a `HashMap`. Clones share the same map.
#[derive(Debug, Clone, Default)]
pub struct MemoryTokenStore {
    records: Arc<Mutex<HashMap<LinkId, LinkRecord>>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records are held (swept ones excluded).
    pub fn len(&self) -> usize {
        lock(&self.records).len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn insert(&self, record: LinkRecord) -> Result<(), StoreError> {
        let mut map = lock(&self.records);
        if map.contains_key(&record.link_id) {
            return Err(StoreError::Duplicate);
        }
        map.insert(record.link_id, record);
        Ok(())
    }

    async fn get(&self, link_id: &LinkId) -> Result<Option<LinkRecord>, StoreError> {
        Ok(lock(&self.records).get(link_id).cloned())
    }

    async fn consume(
        &self,
        link_id: &LinkId,
        now: Timestamp,
    ) -> Result<ConsumeOutcome, StoreError> {
        Ok(match lock(&self.records).get_mut(link_id) {
            Some(record) => record.try_consume(now),
            None => ConsumeOutcome::NotFound,
        })
    }

    async fn revoke(&self, link_id: &LinkId) -> Result<bool, StoreError> {
        Ok(lock(&self.records)
            .get_mut(link_id)
            .map(|r| r.revoked = true)
            .is_some())
    }

    async fn revoke_alert(&self, alert_id: &AlertId) -> Result<usize, StoreError> {
        let mut changed = 0;
        for record in lock(&self.records).values_mut() {
            if &record.alert_id == alert_id && !record.revoked {
                record.revoked = true;
                changed += 1;
            }
        }
        Ok(changed)
    }

    async fn extend(
        &self,
        link_id: &LinkId,
        code_digest: &CodeDigest,
        new_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<ExtendOutcome, StoreError> {
        Ok(match lock(&self.records).get_mut(link_id) {
            Some(record) => record.try_extend(code_digest, new_expires_at, now),
            None => ExtendOutcome::NotFound,
        })
    }

    async fn sweep_expired(&self, now: Timestamp) -> Result<usize, StoreError> {
        let mut map = lock(&self.records);
        let before = map.len();
        map.retain(|_, r| r.sweepable_at() > now);
        Ok(before - map.len())
    }
}

#[derive(Debug)]
struct Blob {
    ciphertext: Vec<u8>,
    expires_at: Timestamp,
    reads_left: u32,
}

/// A `BlobStore` in a `HashMap`. Clones share the same map.
#[derive(Debug, Clone, Default)]
pub struct MemoryBlobStore {
    blobs: Arc<Mutex<HashMap<BlobId, Blob>>>,
}

impl MemoryBlobStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many blobs are held.
    pub fn len(&self) -> usize {
        lock(&self.blobs).len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl BlobStore for MemoryBlobStore {
    async fn put(
        &self,
        ciphertext: Vec<u8>,
        ttl: Duration,
        max_reads: u32,
        now: Timestamp,
    ) -> Result<BlobId, StoreError> {
        let blob = Blob {
            ciphertext,
            expires_at: now.saturating_add(ttl),
            reads_left: max_reads.max(1),
        };
        let mut map = lock(&self.blobs);
        loop {
            let id = BlobId::random(&OsRandom).map_err(|e| StoreError::Backend(Box::new(e)))?;
            if let std::collections::hash_map::Entry::Vacant(slot) = map.entry(id) {
                slot.insert(blob);
                return Ok(id);
            }
        }
    }

    async fn take(&self, id: &BlobId, now: Timestamp) -> Result<TakeOutcome, StoreError> {
        let mut map = lock(&self.blobs);
        let Some(blob) = map.get_mut(id) else {
            return Ok(TakeOutcome::Gone);
        };
        if now >= blob.expires_at {
            map.remove(id);
            return Ok(TakeOutcome::Gone);
        }
        blob.reads_left -= 1;
        let reads_left = blob.reads_left;
        let ciphertext = if reads_left == 0 {
            map.remove(id).map(|b| b.ciphertext).unwrap_or_default()
        } else {
            blob.ciphertext.clone()
        };
        Ok(TakeOutcome::Taken {
            ciphertext,
            reads_left,
        })
    }

    async fn delete(&self, id: &BlobId) -> Result<bool, StoreError> {
        Ok(lock(&self.blobs).remove(id).is_some())
    }

    async fn sweep_expired(&self, now: Timestamp) -> Result<usize, StoreError> {
        let mut map = lock(&self.blobs);
        let before = map.len();
        map.retain(|_, b| b.expires_at > now);
        Ok(before - map.len())
    }
}
