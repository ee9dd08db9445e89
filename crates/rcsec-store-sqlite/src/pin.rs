//! [`SqlitePinStore`]: E2EE pins, keyed by a keyed hash of the number.
//!
//! The table never holds a phone number: rows are keyed by `HMAC-SHA256(pin key, E.164)`, so a
//! copy of the database does not list who is on call. `pin_if_absent` is `INSERT … ON CONFLICT
//! DO NOTHING` followed by a read of the row in force, both inside one `BEGIN IMMEDIATE`
//! transaction, so concurrent callers in any process agree on the first pin.

use async_trait::async_trait;
use rcsec_capability::{NumberKeyer, Pin, PinStore, Source, StoreError, UnpinRequest};
use rcsec_core::{Msisdn, Secret};
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};

use crate::convert::{from_ts, ts};
use crate::{SqliteError, SqliteStore};

/// A [`PinStore`] in the `pins` table of a [`SqliteStore`].
#[derive(Clone)]
pub struct SqlitePinStore {
    store: SqliteStore,
    keyer: NumberKeyer,
}

impl std::fmt::Debug for SqlitePinStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlitePinStore")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl SqlitePinStore {
    /// The pin store of `store`, pseudonymizing numbers under `key` (a deployment secret; the
    /// same key must be used for the life of the database, or existing pins are not found).
    pub fn new(store: SqliteStore, key: &Secret<[u8; 32]>) -> Self {
        Self {
            store,
            keyer: NumberKeyer::with_domain(key, PIN_DOMAIN),
        }
    }

    /// A pin store on a fresh temporary database with a fixed test key.
    ///
    /// # Errors
    /// As [`SqliteStore::open_temporary`].
    pub fn open_temporary() -> Result<Self, SqliteError> {
        SqliteStore::open_temporary().map(|s| Self::new(s, &Secret::new([0x70; 32])))
    }

    /// `HMAC-SHA256(key, label || E.164)` ([`NumberKeyer`]).
    fn number_key(&self, number: &Msisdn) -> [u8; 32] {
        self.keyer.key(number)
    }
}

/// The domain label pins have always been keyed under in this store; changing it would
/// orphan every pin in existing databases.
const PIN_DOMAIN: &[u8] = b"rcsec-store-sqlite/v1/pin-number";

const SOURCES: [Source; 3] = [
    Source::Provider,
    Source::ClientReport,
    Source::DeliveryEvent,
];

fn select(conn: &Connection, key: &[u8]) -> Result<Option<Pin>, SqliteError> {
    let row: Option<(i64, String)> = conn
        .prepare_cached("SELECT pinned_at, source FROM pins WHERE number_key = ?1")?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(at, source)| {
        Ok(Pin {
            pinned_at: from_ts(at, "pins", "pinned_at")?,
            source: SOURCES.into_iter().find(|s| s.as_str() == source).ok_or(
                SqliteError::CorruptRow {
                    table: "pins",
                    what: "source",
                },
            )?,
        })
    })
    .transpose()
}

fn pin_if_absent(conn: &mut Connection, key: &[u8], pin: Pin) -> Result<Pin, SqliteError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO pins (number_key, pinned_at, source) VALUES (?1, ?2, ?3) \
         ON CONFLICT (number_key) DO NOTHING",
        params![key, ts(pin.pinned_at)?, pin.source.as_str()],
    )?;
    let current = select(&tx, key)?.ok_or(SqliteError::Internal)?;
    tx.commit()?;
    Ok(current)
}

fn unpin(conn: &mut Connection, key: &[u8]) -> Result<Option<Pin>, SqliteError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let removed = select(&tx, key)?;
    if removed.is_some() {
        tx.execute("DELETE FROM pins WHERE number_key = ?1", [key])?;
    }
    tx.commit()?;
    Ok(removed)
}

#[async_trait]
impl PinStore for SqlitePinStore {
    async fn get(&self, number: &Msisdn) -> Result<Option<Pin>, StoreError> {
        let key = self.number_key(number);
        Ok(self.store.read(move |conn| select(conn, &key)).await?)
    }

    async fn pin_if_absent(&self, number: &Msisdn, pin: Pin) -> Result<Pin, StoreError> {
        let key = self.number_key(number);
        Ok(self
            .store
            .write(move |conn| pin_if_absent(conn, &key, pin))
            .await?)
    }

    /// Removes the pin. The request (actor, reason, time) is the caller's to audit: free-text
    /// reasons may quote a number, so this store does not persist them.
    async fn unpin(
        &self,
        number: &Msisdn,
        _request: &UnpinRequest,
    ) -> Result<Option<Pin>, StoreError> {
        let key = self.number_key(number);
        Ok(self.store.write(move |conn| unpin(conn, &key)).await?)
    }
}
