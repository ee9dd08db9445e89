//! The `BlobStore` trait: ciphertext with a TTL and a read budget.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use rcsec_core::Timestamp;

use crate::store::StoreError;

crate::random_id::random_id! {
    /// A random 128-bit blob identifier.
    BlobId
}

impl FromStr for BlobId {
    type Err = crate::token::LinkIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut id = [0u8; 16];
        hex::decode_to_slice(s, &mut id).map_err(|_| crate::token::LinkIdError)?;
        Ok(Self(id))
    }
}

/// What [`BlobStore::take`] found.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TakeOutcome {
    /// The ciphertext; the blob is deleted when `reads_left` is 0.
    Taken {
        /// The stored bytes.
        ciphertext: Vec<u8>,
        /// Reads left after this one.
        reads_left: u32,
    },
    /// Never stored, read out, or expired (expired blobs are deleted when found).
    Gone,
}

impl fmt::Debug for TakeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Taken {
                ciphertext,
                reads_left,
            } => f
                .debug_struct("Taken")
                .field("ciphertext_len", &ciphertext.len())
                .field("reads_left", reads_left)
                .finish(),
            Self::Gone => f.write_str("Gone"),
        }
    }
}

/// Ciphertext storage: only sealed payloads, never plaintext or keys.
///
/// # Contract
/// - A blob is gone after its last read or at expiry, whichever comes first: `take` at or
///   after `now + ttl` returns [`TakeOutcome::Gone`] (and may delete it then).
/// - `take` is atomic across every process sharing the store: no two callers both get the
///   last read, and `max_reads` reads in total are ever handed out.
/// - `put` stores the bytes exactly; ids are random ([`BlobId::random`]) so they cannot be
///   guessed from another blob's id.
/// - Nothing but the ciphertext and its bookkeeping is stored or logged: the store never
///   sees a key (keys travel in the link's URL fragment or sealed to a device).
///
/// The conformance suite (`blob_store_tests!`, feature `test-utils`) checks these, including
/// a concurrent race for the last read.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use std::time::Duration;
/// use rcsec_core::Timestamp;
/// use rcsec_link::{BlobStore, MemoryBlobStore, TakeOutcome};
///
/// let store = MemoryBlobStore::new();
/// let now = Timestamp::from_secs(1_800_000_000);
/// let id = store.put(b"sealed bytes".to_vec(), Duration::from_secs(600), 1, now).await?;
///
/// let TakeOutcome::Taken { ciphertext, reads_left } = store.take(&id, now).await? else {
///     panic!("first read");
/// };
/// assert_eq!((ciphertext.as_slice(), reads_left), (&b"sealed bytes"[..], 0));
/// assert_eq!(store.take(&id, now).await?, TakeOutcome::Gone);
///
/// let later = store.put(b"x".to_vec(), Duration::from_secs(600), 5, now).await?;
/// let expired = now.saturating_add(Duration::from_secs(600));
/// assert_eq!(store.take(&later, expired).await?, TakeOutcome::Gone);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug + 'static {
    /// Stores `ciphertext` for `ttl` from `now` and at most `max_reads` reads (at least 1).
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    async fn put(
        &self,
        ciphertext: Vec<u8>,
        ttl: Duration,
        max_reads: u32,
        now: Timestamp,
    ) -> Result<BlobId, StoreError>;

    /// Reads the blob once at `now`.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    async fn take(&self, id: &BlobId, now: Timestamp) -> Result<TakeOutcome, StoreError>;

    /// Deletes a blob now; `false` if it was not there.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    async fn delete(&self, id: &BlobId) -> Result<bool, StoreError>;

    /// Deletes every blob expired at `now`; returns how many.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    async fn sweep_expired(&self, now: Timestamp) -> Result<usize, StoreError>;
}

#[cfg(test)]
fn _obj_safe(_: &dyn BlobStore) {}
