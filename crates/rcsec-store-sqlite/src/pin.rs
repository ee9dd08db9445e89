//! [`SqlitePinStore`]: E2EE pins, keyed by a keyed hash of the number.
//!
//! The table never holds a phone number: rows are keyed by `HMAC-SHA256(pin key, E.164)`, so a
//! copy of the database does not list who is on call. `pin_if_absent` is `INSERT … ON CONFLICT
//! DO NOTHING` followed by a read of the row in force, both inside one `BEGIN IMMEDIATE`
//! transaction, so concurrent callers in any process agree on the first pin.

use async_trait::async_trait;
use hmac::{Hmac, KeyInit as _, Mac as _};
use rcsec_capability::{Pin, PinStore, Source, StoreError, UnpinRequest};
use rcsec_core::{Msisdn, Secret};
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};
use sha2::Sha256;
use zeroize::Zeroize as _;

use crate::convert::{from_ts, ts};
use crate::{SqliteError, SqliteStore};

/// A [`PinStore`] in the `pins` table of a [`SqliteStore`].
#[derive(Clone)]
pub struct SqlitePinStore {
    store: SqliteStore,
    /// Zeroized on drop.
    key: Secret<[u8; 32]>,
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
            key: key.clone(),
        }
    }

    /// A pin store on a fresh temporary database with a fixed test key.
    ///
    /// # Errors
    /// As [`SqliteStore::open_temporary`].
    pub fn open_temporary() -> Result<Self, SqliteError> {
        SqliteStore::open_temporary().map(|s| Self::new(s, &Secret::new([0x70; 32])))
    }

    /// `HMAC-SHA256(key, label || E.164)`. The 32-byte key is zero-padded to the block size,
    /// exactly what RFC 2104 does with a short key, so keying cannot fail.
    fn number_key(&self, number: &Msisdn) -> Vec<u8> {
        let mut block = hmac::digest::Key::<Hmac<Sha256>>::default();
        block[..32].copy_from_slice(self.key.expose_secret());
        let mac = <Hmac<Sha256>>::new(&block);
        block.as_mut_slice().zeroize();
        mac.chain_update(b"rcsec-store-sqlite/v1/pin-number")
            .chain_update(number.expose_e164().as_bytes())
            .finalize()
            .into_bytes()
            .to_vec()
    }
}

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
