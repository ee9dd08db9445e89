//! The `TokenStore` trait: link records, atomic consumption, revocation, extension.

use std::fmt;

use async_trait::async_trait;
use hmac::Mac;
use rcsec_core::{AlertId, DeviceId, Msisdn, Secret, Timestamp};
use subtle::ConstantTimeEq;

use crate::extended_access::CodeDigest;
use crate::store::BlobId;
use crate::token::{IpPrefix, LinkId};

/// A store adapter failed. Carries the backend's error as a source; never link secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A record with this link id already exists.
    #[error("duplicate link id")]
    Duplicate,
    /// The backend failed (connection, constraint, serialization).
    #[error("store backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A recipient's pseudonym: 32 opaque bytes (a keyed hash of the number), never the number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecipientPseudonym([u8; 32]);

impl RecipientPseudonym {
    /// Wraps bytes computed elsewhere (the audit crate's pseudonymizer, a store row).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// HMAC-SHA256 of the E.164 form under `key` (a deployment secret, not a token key).
    pub fn keyed(key: &Secret<[u8; 32]>, recipient: &Msisdn) -> Self {
        let mac = crate::keyring::hmac_from_32(key.expose_secret())
            .chain_update(b"rcsec-link/v1/recipient-pseudonym")
            .chain_update(recipient.expose_e164().as_bytes())
            .finalize()
            .into_bytes();
        let mut out = [0u8; 32];
        out.copy_from_slice(&mac);
        Self(out)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for RecipientPseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecipientPseudonym({}…)", hex::encode(&self.0[..4]))
    }
}

/// Optional extra bindings checked at redemption (beyond what the token itself carries).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkBinding {
    /// Client address prefix.
    pub ip_prefix: Option<IpPrefix>,
    /// SHA-256 of the client's User-Agent.
    pub user_agent_hash: Option<[u8; 32]>,
    /// The enrolled device that must redeem.
    pub device_id: Option<DeviceId>,
}

/// The extended-access offer attached to a link (a hashed one-word code and its budget).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtensionGrant {
    /// Keyed hash of the verification code.
    pub code_digest: CodeDigest,
    /// Wrong guesses still allowed.
    pub attempts_left: u8,
    /// Last moment the code may be posted.
    pub claim_until: Timestamp,
    /// Whether the one extension was granted already.
    pub used: bool,
}

impl ExtensionGrant {
    /// An unused grant.
    pub fn new(code_digest: CodeDigest, attempts: u8, claim_until: Timestamp) -> Self {
        Self {
            code_digest,
            attempts_left: attempts,
            claim_until,
            used: false,
        }
    }
}

/// Everything the store keeps about one link. No phone number, no key, no plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkRecord {
    /// The token's link id (primary key).
    pub link_id: LinkId,
    /// The alert the link belongs to (for `revoke_alert`).
    pub alert_id: AlertId,
    /// Who it was sent to.
    pub recipient: RecipientPseudonym,
    /// The ciphertext it releases.
    pub blob_id: BlobId,
    /// Extra bindings.
    pub binding: LinkBinding,
    /// Redemptions allowed (default 1).
    pub max_uses: u32,
    /// Redemptions so far.
    pub uses: u32,
    /// First instant the link is refused.
    pub expires_at: Timestamp,
    /// Revoked links are refused for good.
    pub revoked: bool,
    /// Extended access, if offered.
    pub extension: Option<ExtensionGrant>,
}

impl LinkRecord {
    /// A fresh single-use record.
    pub fn new(
        link_id: LinkId,
        alert_id: AlertId,
        recipient: RecipientPseudonym,
        blob_id: BlobId,
        expires_at: Timestamp,
    ) -> Self {
        Self {
            link_id,
            alert_id,
            recipient,
            blob_id,
            binding: LinkBinding::default(),
            max_uses: 1,
            uses: 0,
            expires_at,
            revoked: false,
            extension: None,
        }
    }

    /// When `sweep_expired` may delete the record: its expiry, or the extension claim
    /// deadline while an extension can still be claimed. Adapters must use this rule.
    pub fn sweepable_at(&self) -> Timestamp {
        match &self.extension {
            Some(g) if !g.used && g.attempts_left > 0 => self.expires_at.max(g.claim_until),
            _ => self.expires_at,
        }
    }

    /// Takes one use of this record at `now`, in the order [`TokenStore::consume`] must
    /// check: revoked, then expired (`now >= expires_at`), then used up.
    ///
    /// For adapters that keep whole records under a lock or a compare-and-swap (a map, a
    /// key-value store, a file): load, call this, store the record back if the outcome is
    /// [`ConsumeOutcome::Consumed`] — all inside the one critical section, so the atomicity
    /// is the adapter's and the rules are this crate's. [`MemoryTokenStore`] is built on it.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use rcsec_core::{AlertId, Timestamp};
    /// # use rcsec_link::{BlobId, ConsumeOutcome, LinkId, LinkRecord, RecipientPseudonym};
    /// let now = Timestamp::from_secs(1_800_000_000);
    /// let mut record = LinkRecord::new(
    ///     LinkId::from_bytes([1; 16]),
    ///     AlertId::new("a1")?,
    ///     RecipientPseudonym::from_bytes([7; 32]),
    ///     BlobId::from_bytes([2; 16]),
    ///     now.saturating_add(Duration::from_secs(600)),
    /// );
    /// assert!(matches!(record.try_consume(now), ConsumeOutcome::Consumed { remaining: 0, .. }));
    /// assert_eq!(record.try_consume(now), ConsumeOutcome::AlreadyConsumed);
    /// record.revoked = true;
    /// assert_eq!(record.try_consume(now), ConsumeOutcome::Revoked);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [`MemoryTokenStore`]: crate::MemoryTokenStore
    pub fn try_consume(&mut self, now: Timestamp) -> ConsumeOutcome {
        if self.revoked {
            ConsumeOutcome::Revoked
        } else if now >= self.expires_at {
            ConsumeOutcome::Expired
        } else if self.uses >= self.max_uses {
            ConsumeOutcome::AlreadyConsumed
        } else {
            self.uses += 1;
            ConsumeOutcome::Consumed {
                remaining: self.max_uses - self.uses,
                record: Box::new(self.clone()),
            }
        }
    }

    /// Redeems the extension code against this record at `now`, in the order
    /// [`TokenStore::extend`] must check (revoked, not offered, already extended, locked,
    /// past `claim_until`, then the code, compared in constant time).
    ///
    /// A wrong code spends one attempt and the record must be stored back; so must an
    /// [`ExtendOutcome::Extended`] one. The other outcomes leave it unchanged. As with
    /// [`LinkRecord::try_consume`], the caller provides the atomicity.
    pub fn try_extend(
        &mut self,
        code_digest: &CodeDigest,
        new_expires_at: Timestamp,
        now: Timestamp,
    ) -> ExtendOutcome {
        if self.revoked {
            return ExtendOutcome::Revoked;
        }
        let Some(grant) = self.extension.as_mut() else {
            return ExtendOutcome::NotOffered;
        };
        if grant.used {
            return ExtendOutcome::AlreadyExtended;
        }
        if grant.attempts_left == 0 {
            return ExtendOutcome::Locked;
        }
        if now > grant.claim_until {
            return ExtendOutcome::Expired;
        }
        if !bool::from(grant.code_digest.as_bytes().ct_eq(code_digest.as_bytes())) {
            grant.attempts_left -= 1;
            return ExtendOutcome::WrongCode {
                attempts_left: grant.attempts_left,
            };
        }
        grant.used = true;
        self.expires_at = new_expires_at;
        self.max_uses = self.uses.saturating_add(1);
        ExtendOutcome::Extended {
            record: Box::new(self.clone()),
        }
    }
}

/// What [`TokenStore::consume`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsumeOutcome {
    /// This caller won a use; `record` is the state after it.
    Consumed {
        /// The record with `uses` incremented.
        record: Box<LinkRecord>,
        /// Uses left after this one.
        remaining: u32,
    },
    /// No such record (never inserted, or swept).
    NotFound,
    /// Every use is taken.
    AlreadyConsumed,
    /// Revoked.
    Revoked,
    /// Past `expires_at`.
    Expired,
}

/// What [`TokenStore::extend`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtendOutcome {
    /// Code matched: one more use until the new expiry; `record` is the new state.
    Extended {
        /// The updated record.
        record: Box<LinkRecord>,
    },
    /// Wrong code; this many attempts remain.
    WrongCode {
        /// Attempts left (0 means now locked).
        attempts_left: u8,
    },
    /// No attempts left.
    Locked,
    /// The one extension was granted already.
    AlreadyExtended,
    /// The link offers no extended access.
    NotOffered,
    /// Past the claim deadline.
    Expired,
    /// Revoked.
    Revoked,
    /// No such record.
    NotFound,
}

/// Persistent state of one-time links.
///
/// The token itself is verified without storage ([`Keyring::verify`]); this store is what
/// makes a link *one-time*, revocable and extendable.
///
/// # Atomicity
/// `consume` and `extend` must be atomic across every process sharing the store: under any
/// concurrency, each use is won by exactly one caller, and each wrong code costs exactly one
/// attempt. `extend` compares `code_digest` with the stored one (the digest is keyed, so a
/// plain comparison leaks nothing useful, but in-process adapters should still compare in
/// constant time). The conformance suite (`token_store_tests!`, feature `test-utils`) checks
/// all of this, including a 64-way race.
///
/// # Contract
/// - `consume` checks in the order of [`LinkRecord::try_consume`] (revoked, expired, used
///   up); an adapter that keeps whole records under a lock or compare-and-swap should call it
///   rather than restate it. SQL and Lua adapters implement the same order in one statement.
/// - Revocation is final: a revoked record never yields `Consumed` or `Extended` again.
/// - `sweep_expired` follows [`LinkRecord::sweepable_at`], so a link whose extension can
///   still be claimed is not deleted early.
/// - Records hold no phone number, key or plaintext ([`LinkRecord`] has no field for them);
///   errors carry the backend's failure, never a record.
///
/// Implementations in the workspace: [`MemoryTokenStore`] (one process), and the SQLite,
/// PostgreSQL and Redis store crates; `examples/embed` builds one on sharded maps.
///
/// ```
/// # tokio::runtime::Builder::new_multi_thread().worker_threads(2).build()?.block_on(async {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use rcsec_core::{AlertId, Timestamp};
/// use rcsec_link::*;
///
/// let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
/// let now = Timestamp::from_secs(1_800_000_000);
/// let link = LinkId::random(&OsRandom)?;
/// store.insert(LinkRecord::new(link, AlertId::new("a1")?, RecipientPseudonym::from_bytes([7; 32]),
///                              BlobId::random(&OsRandom)?, now.saturating_add(Duration::from_secs(900))))
///     .await?;
///
/// // Eight redemptions race for a single-use link: exactly one wins.
/// let racers: Vec<_> = (0..8)
///     .map(|_| { let s = store.clone(); tokio::spawn(async move { s.consume(&link, now).await }) })
///     .collect();
/// let mut won = 0;
/// for r in racers {
///     match r.await?? {
///         ConsumeOutcome::Consumed { .. } => won += 1,
///         other => assert_eq!(other, ConsumeOutcome::AlreadyConsumed),
///     }
/// }
/// assert_eq!(won, 1);
/// assert!(store.revoke(&link).await?);
/// assert_eq!(store.consume(&link, now).await?, ConsumeOutcome::Revoked);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`Keyring::verify`]: crate::Keyring::verify
/// [`MemoryTokenStore`]: crate::MemoryTokenStore
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    /// Stores a new record.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the link id exists; [`StoreError::Backend`].
    async fn insert(&self, record: LinkRecord) -> Result<(), StoreError>;

    /// Reads a record without changing it (previews).
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    async fn get(&self, link_id: &LinkId) -> Result<Option<LinkRecord>, StoreError>;

    /// Atomically takes one use of the link at `now`.
    ///
    /// Checks in order: exists, not revoked, `now < expires_at`, `uses < max_uses`.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    async fn consume(&self, link_id: &LinkId, now: Timestamp)
    -> Result<ConsumeOutcome, StoreError>;

    /// Revokes one link; `false` if there was no such record.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    async fn revoke(&self, link_id: &LinkId) -> Result<bool, StoreError>;

    /// Revokes every link of an alert; returns how many records changed.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    async fn revoke_alert(&self, alert_id: &AlertId) -> Result<usize, StoreError>;

    /// Atomically redeems the extension code: on a match (and an unused grant, attempts left,
    /// `now <= claim_until`, not revoked) sets `expires_at = new_expires_at`,
    /// `max_uses = uses + 1` and marks the grant used; on a mismatch spends one attempt.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    async fn extend(
        &self,
        link_id: &LinkId,
        code_digest: &CodeDigest,
        new_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<ExtendOutcome, StoreError>;

    /// Deletes records whose [`LinkRecord::sweepable_at`] is at or before `now`; returns how
    /// many.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    async fn sweep_expired(&self, now: Timestamp) -> Result<usize, StoreError>;
}

#[cfg(test)]
fn _obj_safe(_: &dyn TokenStore) {}
