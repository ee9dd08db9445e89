//! [`PgAlertStateStore`]: the orchestrator's sealed per-alert records in `alert_state`.
//!
//! `put` is one `INSERT … ON CONFLICT DO UPDATE … WHERE alert_state.revision <
//! excluded.revision`: the revision check and the write are one atomic statement, so replicas
//! racing on an alert leave the higher revision. Rows hold the alert id, the revision, whether
//! the alert is open, the snapshot time and the sealed bytes, nothing readable without the
//! application's state key.

use async_trait::async_trait;
use rcsec::state::{AlertStateStore, StateRecord, StateStoreError};
use rcsec_core::{AlertId, Timestamp};

use crate::convert::{to_ts, ts};
use crate::db::PgDatabase;
use crate::error::{OpContext as _, PgError};

/// Alert state in PostgreSQL (table `alert_state`).
#[derive(Debug)]
pub struct PgAlertStateStore {
    db: PgDatabase,
}

impl PgAlertStateStore {
    /// A store on `db`.
    pub fn new(db: PgDatabase) -> Self {
        Self { db }
    }
}

fn revision(v: u64) -> Result<i64, PgError> {
    i64::try_from(v).map_err(|_| PgError::Corrupt { what: "revision" })
}

#[async_trait]
impl AlertStateStore for PgAlertStateStore {
    async fn put(&self, record: &StateRecord) -> Result<bool, StateStoreError> {
        const OP: &str = "alert state put";
        let client = self.db.client(OP).await?;
        let changed = client
            .execute(
                "INSERT INTO alert_state (alert_id, revision, open, updated_at, sealed) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (alert_id) DO UPDATE SET revision = excluded.revision, \
                     open = excluded.open, updated_at = excluded.updated_at, \
                     sealed = excluded.sealed \
                 WHERE alert_state.revision < excluded.revision",
                &[
                    &record.alert.as_str(),
                    &revision(record.revision)?,
                    &record.open,
                    &ts(record.updated_at),
                    &record.sealed.as_slice(),
                ],
            )
            .await
            .op(OP)?;
        Ok(changed == 1)
    }

    async fn load(&self) -> Result<Vec<StateRecord>, StateStoreError> {
        const OP: &str = "alert state load";
        let client = self.db.client(OP).await?;
        let rows = client
            .query(
                "SELECT alert_id, revision, open, updated_at, sealed FROM alert_state \
                 ORDER BY alert_id COLLATE \"C\"",
                &[],
            )
            .await
            .op(OP)?;
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            let alert: String = row.try_get(0).op(OP)?;
            let rev: i64 = row.try_get(1).op(OP)?;
            let updated: i64 = row.try_get(3).op(OP)?;
            records.push(StateRecord {
                alert: AlertId::new(alert).map_err(|_| PgError::Corrupt { what: "alert id" })?,
                revision: u64::try_from(rev).map_err(|_| PgError::Corrupt { what: "revision" })?,
                open: row.try_get(2).op(OP)?,
                updated_at: to_ts(updated, "alert state")?,
                sealed: row.try_get(4).op(OP)?,
            });
        }
        Ok(records)
    }

    async fn prune_closed(&self, before: Timestamp) -> Result<usize, StateStoreError> {
        const OP: &str = "alert state prune";
        let client = self.db.client(OP).await?;
        let n = client
            .execute(
                "DELETE FROM alert_state WHERE NOT open AND updated_at < $1",
                &[&ts(before)],
            )
            .await
            .op(OP)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}
