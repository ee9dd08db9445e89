//! [`PgPinStore`]: E2EE pins keyed by a keyed hash of the number, never the number.

use async_trait::async_trait;
use rcsec_capability::{NumberKeyer, Pin, PinStore, Source, StoreError, UnpinRequest};
use rcsec_core::Msisdn;
use tokio_postgres::Row;

use crate::convert::{to_ts, ts};
use crate::db::PgDatabase;
use crate::error::{OpContext as _, PgError};

/// Pins in PostgreSQL (tables `pins`, `pin_history`).
///
/// `pin_if_absent` is `INSERT … ON CONFLICT DO NOTHING`: of concurrent first pins for one
/// number, one row wins and every caller returns it. `unpin` deletes the pin and records who
/// removed it and when in `pin_history`, in one statement (the free-text reason is not
/// stored: it may quote a number).
#[derive(Debug)]
pub struct PgPinStore {
    db: PgDatabase,
    keyer: NumberKeyer,
}

fn source_name(s: Source) -> &'static str {
    s.as_str()
}

fn parse_source(s: &str) -> Result<Source, PgError> {
    [
        Source::Provider,
        Source::ClientReport,
        Source::DeliveryEvent,
    ]
    .into_iter()
    .find(|c| c.as_str() == s)
    .ok_or(PgError::Corrupt { what: "pin" })
}

fn pin_from_row(row: &Row) -> Result<Pin, PgError> {
    const OP: &str = "pin read";
    let at: i64 = row.try_get(0).op(OP)?;
    let source: String = row.try_get(1).op(OP)?;
    Ok(Pin {
        pinned_at: to_ts(at, "pin")?,
        source: parse_source(&source)?,
    })
}

impl PgPinStore {
    /// A store on `db`, keying numbers with `keyer`.
    pub fn new(db: PgDatabase, keyer: NumberKeyer) -> Self {
        Self { db, keyer }
    }

    async fn pin_inner(&self, number: &Msisdn, pin: Pin) -> Result<Pin, PgError> {
        const OP: &str = "pin";
        let key = self.keyer.key(number);
        let client = self.db.client(OP).await?;
        // Insert-or-read; loops only if an unpin slips between the two statements.
        for _ in 0..8 {
            let inserted = client
                .query_opt(
                    "INSERT INTO pins (number_key, pinned_at, source) VALUES ($1, $2, $3) \
                     ON CONFLICT (number_key) DO NOTHING RETURNING pinned_at, source",
                    &[
                        &key.as_slice(),
                        &ts(pin.pinned_at),
                        &source_name(pin.source),
                    ],
                )
                .await
                .op(OP)?;
            if let Some(row) = inserted {
                return pin_from_row(&row);
            }
            let existing = client
                .query_opt(
                    "SELECT pinned_at, source FROM pins WHERE number_key = $1",
                    &[&key.as_slice()],
                )
                .await
                .op(OP)?;
            if let Some(row) = existing {
                return pin_from_row(&row);
            }
        }
        Err(PgError::Internal(
            "pin kept vanishing between insert and read",
        ))
    }
}

#[async_trait]
impl PinStore for PgPinStore {
    async fn get(&self, number: &Msisdn) -> Result<Option<Pin>, StoreError> {
        const OP: &str = "pin get";
        let client = self.db.client(OP).await?;
        let row = client
            .query_opt(
                "SELECT pinned_at, source FROM pins WHERE number_key = $1",
                &[&self.keyer.key(number).as_slice()],
            )
            .await
            .op(OP)?;
        Ok(row.as_ref().map(pin_from_row).transpose()?)
    }

    async fn pin_if_absent(&self, number: &Msisdn, pin: Pin) -> Result<Pin, StoreError> {
        Ok(self.pin_inner(number, pin).await?)
    }

    async fn unpin(
        &self,
        number: &Msisdn,
        request: &UnpinRequest,
    ) -> Result<Option<Pin>, StoreError> {
        const OP: &str = "unpin";
        let client = self.db.client(OP).await?;
        let row = client
            .query_opt(
                "WITH gone AS (DELETE FROM pins WHERE number_key = $1 \
                               RETURNING number_key, pinned_at, source), \
                      logged AS (INSERT INTO pin_history \
                                   (number_key, pinned_at, source, actor, unpinned_at) \
                                 SELECT number_key, pinned_at, source, $2, $3 FROM gone) \
                 SELECT pinned_at, source FROM gone",
                &[
                    &self.keyer.key(number).as_slice(),
                    &request.actor(),
                    &ts(request.at()),
                ],
            )
            .await
            .op(OP)?;
        Ok(row.as_ref().map(pin_from_row).transpose()?)
    }
}
