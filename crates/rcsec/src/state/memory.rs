//! [`MemoryAlertStateStore`]: the state store for tests and single-process embedding.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use rcsec_core::{AlertId, Timestamp};

use super::store::{AlertStateStore, StateRecord, StateStoreError};

/// Records in a map: survives rebuilding an orchestrator inside one process (what the restart
/// tests need), not a process restart.
#[derive(Debug, Default)]
pub struct MemoryAlertStateStore {
    records: Mutex<BTreeMap<AlertId, StateRecord>>,
}

impl MemoryAlertStateStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn records(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, BTreeMap<AlertId, StateRecord>>, StateStoreError> {
        self.records
            .lock()
            .map_err(|_| StateStoreError::Backend("memory state store lock poisoned".into()))
    }
}

#[async_trait]
impl AlertStateStore for MemoryAlertStateStore {
    async fn put(&self, record: &StateRecord) -> Result<bool, StateStoreError> {
        let mut records = self.records()?;
        if records
            .get(&record.alert)
            .is_some_and(|stored| stored.revision >= record.revision)
        {
            return Ok(false);
        }
        records.insert(record.alert.clone(), record.clone());
        Ok(true)
    }

    async fn load(&self) -> Result<Vec<StateRecord>, StateStoreError> {
        Ok(self.records()?.values().cloned().collect())
    }

    async fn prune_closed(&self, before: Timestamp) -> Result<usize, StateStoreError> {
        let mut records = self.records()?;
        let len = records.len();
        records.retain(|_, r| r.open || r.updated_at >= before);
        Ok(len - records.len())
    }
}

#[cfg(test)]
mod tests {
    crate::alert_state_store_tests!(super::MemoryAlertStateStore::new);
}
