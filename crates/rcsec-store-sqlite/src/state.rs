//! [`SqliteAlertStateStore`]: the orchestrator's sealed per-alert records in `alert_state`.
//!
//! `put` is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE revision < excluded.revision`
//! statement: the revision check and the write are atomic for every connection on the file, so
//! two processes (or two steps of one) racing on an alert leave the higher revision. The row
//! holds the alert id, the revision, whether the alert is open, the snapshot time and the
//! sealed bytes; nothing in it is readable without the application's state key.

use async_trait::async_trait;
use rcsec::state::{AlertStateStore, StateRecord, StateStoreError};
use rcsec_core::{AlertId, Timestamp};
use rusqlite::params;

use crate::convert::{from_ts, ts};
use crate::{SqliteError, SqliteStore};

const TABLE: &str = "alert_state";

/// An [`AlertStateStore`] in the `alert_state` table of a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteAlertStateStore {
    store: SqliteStore,
}

impl SqliteAlertStateStore {
    /// The alert state store of `store`.
    pub fn new(store: SqliteStore) -> Self {
        Self { store }
    }

    /// A store on a fresh temporary database (see [`SqliteStore::open_temporary`]).
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

fn revision(v: u64) -> Result<i64, SqliteError> {
    i64::try_from(v).map_err(|_| SqliteError::OutOfRange("revision"))
}

#[async_trait]
impl AlertStateStore for SqliteAlertStateStore {
    async fn put(&self, record: &StateRecord) -> Result<bool, StateStoreError> {
        let alert = record.alert.as_str().to_owned();
        let rev = revision(record.revision)?;
        let open = i64::from(record.open);
        let updated = ts(record.updated_at)?;
        let sealed = record.sealed.clone();
        Ok(self
            .store
            .write(move |conn| {
                let changed = conn
                    .prepare_cached(
                        "INSERT INTO alert_state (alert_id, revision, open, updated_at, sealed) \
                         VALUES (?1, ?2, ?3, ?4, ?5) \
                         ON CONFLICT (alert_id) DO UPDATE SET revision = excluded.revision, \
                             open = excluded.open, updated_at = excluded.updated_at, \
                             sealed = excluded.sealed \
                         WHERE alert_state.revision < excluded.revision",
                    )?
                    .execute(params![alert, rev, open, updated, sealed])?;
                Ok(changed == 1)
            })
            .await?)
    }

    async fn load(&self) -> Result<Vec<StateRecord>, StateStoreError> {
        Ok(self
            .store
            .read(|conn| {
                let rows: Vec<(String, i64, i64, i64, Vec<u8>)> = conn
                    .prepare_cached(
                        "SELECT alert_id, revision, open, updated_at, sealed FROM alert_state \
                         ORDER BY alert_id",
                    )?
                    .query_map([], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?
                    .collect::<Result<_, _>>()?;
                rows.into_iter()
                    .map(|(alert, rev, open, updated, sealed)| {
                        Ok(StateRecord {
                            alert: AlertId::new(alert).map_err(|_| corrupt("alert_id"))?,
                            revision: u64::try_from(rev).map_err(|_| corrupt("revision"))?,
                            open: open != 0,
                            updated_at: from_ts(updated, TABLE, "updated_at")?,
                            sealed,
                        })
                    })
                    .collect::<Result<Vec<_>, SqliteError>>()
            })
            .await?)
    }

    async fn prune_closed(&self, before: Timestamp) -> Result<usize, StateStoreError> {
        let before = ts(before)?;
        Ok(self
            .store
            .write(move |conn| {
                Ok(conn
                    .prepare_cached("DELETE FROM alert_state WHERE open = 0 AND updated_at < ?1")?
                    .execute([before])?)
            })
            .await?)
    }
}
