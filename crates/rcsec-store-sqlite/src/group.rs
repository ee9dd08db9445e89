//! [`SqliteGroupStore`]: sealed MLS group states with compare-and-set on their version.
//!
//! Rows hold what [`rcsec::protect::GroupStateKey`] sealed: ciphertext bound to the group id
//! and version, never a serialized group. `save` reads the current version and writes the new
//! row inside one `BEGIN IMMEDIATE` transaction, so two processes that encrypted from the same
//! state cannot both store a successor (and so cannot both release a page from it); with the
//! default [`Durability::Full`](crate::Durability::Full) a returned save survives power loss.

use async_trait::async_trait;
use rcsec::protect::{GroupStore, GroupStoreError, SealedGroupState, check_next_version};
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};

use crate::{SqliteError, SqliteStore};

/// A [`GroupStore`] in the `mls_groups` table of a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteGroupStore {
    store: SqliteStore,
}

impl SqliteGroupStore {
    /// The group store of `store`.
    pub fn new(store: SqliteStore) -> Self {
        Self { store }
    }

    /// A group store on a fresh temporary database.
    ///
    /// # Errors
    /// As [`SqliteStore::open_temporary`].
    pub fn open_temporary() -> Result<Self, SqliteError> {
        SqliteStore::open_temporary().map(Self::new)
    }
}

fn version_of(row: i64) -> Result<u64, SqliteError> {
    u64::try_from(row).map_err(|_| SqliteError::CorruptRow {
        table: "mls_groups",
        what: "version",
    })
}

fn select(conn: &Connection, group: &[u8]) -> Result<Option<SealedGroupState>, SqliteError> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT version, sealed FROM mls_groups WHERE group_id = ?1")?
        .query_row([group], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(version, sealed)| {
        Ok(SealedGroupState {
            version: version_of(version)?,
            sealed,
        })
    })
    .transpose()
}

/// `Ok(false)`: the stored version was not `expected`; nothing written.
fn save(
    conn: &mut Connection,
    group: &[u8],
    expected: Option<u64>,
    state: &SealedGroupState,
) -> Result<bool, SqliteError> {
    let version = i64::try_from(state.version).map_err(|_| SqliteError::Internal)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: Option<i64> = tx
        .prepare_cached("SELECT version FROM mls_groups WHERE group_id = ?1")?
        .query_row([group], |r| r.get(0))
        .optional()?;
    if current.map(version_of).transpose()? != expected {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO mls_groups (group_id, version, sealed) VALUES (?1, ?2, ?3) \
         ON CONFLICT (group_id) DO UPDATE SET version = excluded.version, sealed = excluded.sealed",
        params![group, version, state.sealed],
    )?;
    tx.commit()?;
    Ok(true)
}

fn list(conn: &Connection) -> Result<Vec<Vec<u8>>, SqliteError> {
    let mut stmt = conn.prepare_cached("SELECT group_id FROM mls_groups ORDER BY group_id")?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn backend(e: SqliteError) -> GroupStoreError {
    GroupStoreError::Backend(Box::new(e))
}

#[async_trait]
impl GroupStore for SqliteGroupStore {
    async fn load(&self, group: &[u8]) -> Result<Option<SealedGroupState>, GroupStoreError> {
        let group = group.to_vec();
        self.store
            .read(move |conn| select(conn, &group))
            .await
            .map_err(backend)
    }

    async fn save(
        &self,
        group: &[u8],
        expected: Option<u64>,
        state: &SealedGroupState,
    ) -> Result<(), GroupStoreError> {
        check_next_version(expected, state)?;
        let (group, state) = (group.to_vec(), state.clone());
        let saved = self
            .store
            .write(move |conn| save(conn, &group, expected, &state))
            .await
            .map_err(backend)?;
        if saved {
            Ok(())
        } else {
            Err(GroupStoreError::Conflict)
        }
    }

    async fn groups(&self) -> Result<Vec<Vec<u8>>, GroupStoreError> {
        self.store.read(|conn| list(conn)).await.map_err(backend)
    }
}
