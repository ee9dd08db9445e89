//! Our token store: sixteen locked hash maps, so concurrent redemptions of different links
//! rarely wait on each other.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rcsec::async_trait;
use rcsec::core::{AlertId, Timestamp};
use rcsec::link::{
    CodeDigest, ConsumeOutcome, ExtendOutcome, LinkId, LinkRecord, StoreError, TokenStore,
};

const SHARDS: usize = 16;

type Shard = HashMap<LinkId, LinkRecord>;

/// A [`TokenStore`] for one process. Each operation on a link holds that link's shard lock
/// from read to write and never across an `.await`, which makes `consume` and `extend` atomic
/// — within this process. Replicas that share links need a shared store (the SQL and Redis
/// adapters).
#[derive(Debug)]
pub struct ShardedTokenStore {
    shards: [Mutex<Shard>; SHARDS],
}

impl ShardedTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::default()),
        }
    }

    fn shard(&self, link_id: &LinkId) -> MutexGuard<'_, Shard> {
        // Link ids are random, so their first byte spreads links evenly.
        lock(&self.shards[usize::from(link_id.as_bytes()[0]) % SHARDS])
    }
}

impl Default for ShardedTokenStore {
    fn default() -> Self {
        Self::new()
    }
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // Every update is one assignment under the lock, so a poisoned shard is still consistent.
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl TokenStore for ShardedTokenStore {
    async fn insert(&self, record: LinkRecord) -> Result<(), StoreError> {
        let mut shard = self.shard(&record.link_id);
        if shard.contains_key(&record.link_id) {
            return Err(StoreError::Duplicate);
        }
        shard.insert(record.link_id, record);
        Ok(())
    }

    async fn get(&self, link_id: &LinkId) -> Result<Option<LinkRecord>, StoreError> {
        Ok(self.shard(link_id).get(link_id).cloned())
    }

    async fn consume(
        &self,
        link_id: &LinkId,
        now: Timestamp,
    ) -> Result<ConsumeOutcome, StoreError> {
        Ok(match self.shard(link_id).get_mut(link_id) {
            Some(record) => record.try_consume(now),
            None => ConsumeOutcome::NotFound,
        })
    }

    async fn revoke(&self, link_id: &LinkId) -> Result<bool, StoreError> {
        Ok(self
            .shard(link_id)
            .get_mut(link_id)
            .map(|r| r.revoked = true)
            .is_some())
    }

    async fn revoke_alert(&self, alert_id: &AlertId) -> Result<usize, StoreError> {
        let mut changed = 0;
        for shard in &self.shards {
            for record in lock(shard).values_mut() {
                if &record.alert_id == alert_id && !record.revoked {
                    record.revoked = true;
                    changed += 1;
                }
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
        Ok(match self.shard(link_id).get_mut(link_id) {
            Some(record) => record.try_extend(code_digest, new_expires_at, now),
            None => ExtendOutcome::NotFound,
        })
    }

    async fn sweep_expired(&self, now: Timestamp) -> Result<usize, StoreError> {
        let mut swept = 0;
        for shard in &self.shards {
            let mut shard = lock(shard);
            let before = shard.len();
            shard.retain(|_, r| r.sweepable_at() > now);
            swept += before - shard.len();
        }
        Ok(swept)
    }
}
