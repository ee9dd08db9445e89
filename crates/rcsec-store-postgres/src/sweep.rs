//! Periodic clean-up of expired links and blobs in one transaction.

use rcsec_core::Timestamp;

use crate::convert::{count, ts};
use crate::db::PgDatabase;
use crate::error::{OpContext as _, PgError};

/// What [`sweep_expired`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Swept {
    /// Link records past [`rcsec_link::LinkRecord::sweepable_at`].
    pub links: usize,
    /// Blobs past their expiry.
    pub blobs: usize,
}

/// Deletes every link record whose sweep time (its expiry, or a still-claimable extension's
/// deadline) is at or before `now`, and every blob expired at `now`, in one transaction.
/// Run it from one replica on a timer (or from all: it is idempotent and row-locks only what
/// it deletes).
///
/// # Errors
/// [`PgError`] when the database fails; then nothing was deleted.
pub async fn sweep_expired(db: &PgDatabase, now: Timestamp) -> Result<Swept, PgError> {
    const OP: &str = "sweep";
    let mut client = db.client(OP).await?;
    let tx = client.transaction().await.op(OP)?;
    let links = tx
        .execute("DELETE FROM links WHERE sweep_at <= $1", &[&ts(now)])
        .await
        .op(OP)?;
    let blobs = tx
        .execute("DELETE FROM blobs WHERE expires_at <= $1", &[&ts(now)])
        .await
        .op(OP)?;
    tx.commit().await.op(OP)?;
    Ok(Swept {
        links: count(links)?,
        blobs: count(blobs)?,
    })
}
