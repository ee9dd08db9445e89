//! The link gateway's logic, sans HTTP: issue a link, preview it (GET, consumes nothing),
//! confirm it (POST, consumes one use atomically), and extended access.
//!
//! # Preview safety
//! Link previewers and mail/chat scanners fetch every URL they see. [`Gateway::preview`] only
//! verifies the token and reads the record, so any number of fetches leave the link intact;
//! only [`Gateway::confirm`] — an explicit POST from the page — spends a use.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use rcsec_core::{DeviceId, Msisdn, Timestamp};
use sha2::{Digest, Sha256};

use crate::extended_access::{ExtendedAccessPolicy, ExtensionDenied};
use crate::keyring::Keyring;
use crate::rng::{RandomError, RandomSource};
use crate::sealed::SealError;
use crate::store::{BlobStore, ConsumeOutcome, LinkRecord, StoreError, TakeOutcome, TokenStore};
use crate::token::{LinkId, LinkToken, MintError, RejectReason, VerifyContext, VerifyError};

/// Why a gateway operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedeemError {
    /// The link is refused for this reason (see [`RejectReason::reason_code`]).
    #[error("link refused: {0}")]
    Rejected(RejectReason),
    /// Extended access refused.
    #[error("{0}")]
    ExtensionDenied(ExtensionDenied),
    /// The use was consumed but the ciphertext is no longer stored (expired or read out).
    #[error("payload is no longer stored")]
    PayloadGone,
    /// A store failed.
    #[error("link store failed")]
    Store(#[from] StoreError),
    /// Minting failed.
    #[error(transparent)]
    Mint(#[from] MintError),
    /// Sealing failed.
    #[error("sealing the payload failed")]
    Seal(#[from] SealError),
    /// The random source failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}

impl RedeemError {
    /// The rejection reason, when this is a refusal of the link itself.
    pub fn reason(&self) -> Option<RejectReason> {
        match self {
            Self::Rejected(r) => Some(*r),
            _ => None,
        }
    }
}

impl From<VerifyError> for RedeemError {
    fn from(e: VerifyError) -> Self {
        Self::Rejected(e.reason())
    }
}

/// What the gateway knows about an incoming request.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RedeemContext<'a> {
    /// Current time.
    pub now: Timestamp,
    /// Client address (required for IP-bound links).
    pub client_ip: Option<IpAddr>,
    /// Recipient, when the request is authenticated as someone.
    pub recipient: Option<&'a Msisdn>,
    /// The client's User-Agent header (compared by SHA-256 with a UA-bound record).
    pub user_agent: Option<&'a str>,
    /// The enrolled device making the request.
    pub device_id: Option<&'a DeviceId>,
}

impl<'a> RedeemContext<'a> {
    /// A context with only the time.
    pub fn at(now: Timestamp) -> Self {
        Self {
            now,
            client_ip: None,
            recipient: None,
            user_agent: None,
            device_id: None,
        }
    }

    /// With the client address.
    #[must_use]
    pub fn client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }

    /// With the recipient.
    #[must_use]
    pub fn recipient(mut self, r: &'a Msisdn) -> Self {
        self.recipient = Some(r);
        self
    }

    /// With the User-Agent.
    #[must_use]
    pub fn user_agent(mut self, ua: &'a str) -> Self {
        self.user_agent = Some(ua);
        self
    }

    /// With the device.
    #[must_use]
    pub fn device(mut self, d: &'a DeviceId) -> Self {
        self.device_id = Some(d);
        self
    }

    pub(crate) fn verify(&self) -> VerifyContext<'a> {
        VerifyContext {
            now: self.now,
            recipient: self.recipient,
            client_ip: self.client_ip,
        }
    }
}

/// SHA-256 of a User-Agent string, as stored in
/// [`LinkBinding::user_agent_hash`](crate::LinkBinding::user_agent_hash).
pub fn user_agent_hash(user_agent: &str) -> [u8; 32] {
    Sha256::digest(user_agent.as_bytes()).into()
}

/// A link's state as a preview reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkState {
    /// Can be confirmed.
    Valid {
        /// Uses left.
        uses_left: u32,
    },
    /// Past its window (extended access may still be offered).
    Expired,
    /// Every use is spent.
    Used,
    /// Revoked, or its record is gone.
    Revoked,
}

/// What a preview shows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Preview {
    /// The link.
    pub link_id: LinkId,
    /// Its state.
    pub state: LinkState,
    /// When it expires (or expired).
    pub expires_at: Timestamp,
    /// Whether a verification code can still buy an extended window.
    pub extension_available: bool,
}

/// A confirmed redemption: the ciphertext, to be opened in the browser with the fragment key.
#[derive(Clone)]
#[non_exhaustive]
pub struct Redeemed {
    /// The link.
    pub link_id: LinkId,
    /// The sealed payload.
    pub ciphertext: Vec<u8>,
    /// Uses left on the link.
    pub uses_left: u32,
}

impl fmt::Debug for Redeemed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redeemed")
            .field("link_id", &self.link_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .field("uses_left", &self.uses_left)
            .finish()
    }
}

/// A new window granted by extended access.
#[derive(Debug)]
#[non_exhaustive]
pub struct ExtendedLink {
    /// The new token for the same link (same payload key).
    pub token: LinkToken,
    /// Its expiry.
    pub expires_at: Timestamp,
}

/// The gateway: keyring + stores, and the policy for extended access.
#[derive(Debug, Clone)]
pub struct Gateway {
    pub(crate) keyring: Arc<Keyring>,
    pub(crate) tokens: Arc<dyn TokenStore>,
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) rng: Arc<dyn RandomSource>,
    pub(crate) extended: ExtendedAccessPolicy,
}

impl Gateway {
    /// A gateway over these stores.
    pub fn new(
        keyring: Arc<Keyring>,
        tokens: Arc<dyn TokenStore>,
        blobs: Arc<dyn BlobStore>,
        rng: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            keyring,
            tokens,
            blobs,
            rng,
            extended: ExtendedAccessPolicy::default(),
        }
    }

    /// Replaces the extended-access policy. A window longer than the keyring's `max_ttl` is
    /// shortened to it.
    #[must_use]
    pub fn with_extended_access(mut self, policy: ExtendedAccessPolicy) -> Self {
        self.extended = policy;
        self
    }

    /// The keyring in use.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Verifies the token and reports the link's state. Consumes nothing.
    ///
    /// An expired but authentic token is reported as [`LinkState::Expired`] (so the page can
    /// offer extended access); every other verification failure is an error.
    ///
    /// # Errors
    /// [`RedeemError::Rejected`] (any verification reason, or `binding_mismatch` for a
    /// record binding), [`RedeemError::Store`].
    pub async fn preview(
        &self,
        token: &str,
        ctx: &RedeemContext<'_>,
    ) -> Result<Preview, RedeemError> {
        let verified = match self.keyring.verify(token, &ctx.verify()) {
            Ok(v) => v,
            Err(VerifyError::Expired) => {
                self.keyring.verify_ignoring_expiry(token, &ctx.verify())?
            }
            Err(e) => return Err(e.into()),
        };
        let link_id = verified.claims.link_id;
        let Some(record) = self.tokens.get(&link_id).await? else {
            return Ok(Preview {
                link_id,
                state: LinkState::Revoked,
                expires_at: verified.claims.expires_at,
                extension_available: false,
            });
        };
        check_record_binding(&record, ctx)?;
        let token_expired = ctx.now >= verified.claims.expires_at;
        let state = if record.revoked {
            LinkState::Revoked
        } else if token_expired || ctx.now >= record.expires_at {
            LinkState::Expired
        } else if record.uses >= record.max_uses {
            LinkState::Used
        } else {
            LinkState::Valid {
                uses_left: record.max_uses - record.uses,
            }
        };
        let extension_available = !record.revoked
            && record
                .extension
                .as_ref()
                .is_some_and(|g| !g.used && g.attempts_left > 0 && ctx.now <= g.claim_until);
        Ok(Preview {
            link_id,
            state,
            expires_at: verified.claims.expires_at.min(record.expires_at),
            extension_available,
        })
    }

    /// Verifies the token, checks record bindings, consumes one use atomically and returns
    /// the ciphertext.
    ///
    /// # Errors
    /// [`RedeemError::Rejected`] with `consumed`, `revoked`, `expired`, a binding or any
    /// verification reason; [`RedeemError::PayloadGone`]; [`RedeemError::Store`].
    pub async fn confirm(
        &self,
        token: &str,
        ctx: &RedeemContext<'_>,
    ) -> Result<Redeemed, RedeemError> {
        let verified = self.keyring.verify(token, &ctx.verify())?;
        let link_id = verified.claims.link_id;
        // Bindings are checked before consuming, so a wrong device cannot burn the link.
        let record = self
            .tokens
            .get(&link_id)
            .await?
            .ok_or(RedeemError::Rejected(RejectReason::Revoked))?;
        check_record_binding(&record, ctx)?;
        let (record, uses_left) = match self.tokens.consume(&link_id, ctx.now).await? {
            ConsumeOutcome::Consumed { record, remaining } => (record, remaining),
            ConsumeOutcome::AlreadyConsumed => {
                return Err(RedeemError::Rejected(RejectReason::Consumed));
            }
            ConsumeOutcome::Expired => return Err(RedeemError::Rejected(RejectReason::Expired)),
            _ => return Err(RedeemError::Rejected(RejectReason::Revoked)),
        };
        match self.blobs.take(&record.blob_id, ctx.now).await? {
            TakeOutcome::Taken { ciphertext, .. } => Ok(Redeemed {
                link_id,
                ciphertext,
                uses_left,
            }),
            _ => Err(RedeemError::PayloadGone),
        }
    }

    /// Revokes one link (chain-of-custody event) and deletes its ciphertext.
    ///
    /// # Errors
    /// [`RedeemError::Store`].
    pub async fn revoke(&self, link_id: &LinkId) -> Result<bool, RedeemError> {
        let record = self.tokens.get(link_id).await?;
        let found = self.tokens.revoke(link_id).await?;
        if let Some(r) = record {
            self.blobs.delete(&r.blob_id).await?;
        }
        Ok(found)
    }
}

pub(crate) fn check_record_binding(
    record: &LinkRecord,
    ctx: &RedeemContext<'_>,
) -> Result<(), RedeemError> {
    use subtle::ConstantTimeEq;
    let mismatch = RedeemError::Rejected(RejectReason::BindingMismatch);
    if let Some(prefix) = &record.binding.ip_prefix
        && !ctx.client_ip.is_some_and(|ip| prefix.contains(ip))
    {
        return Err(mismatch);
    }
    if let Some(expected) = &record.binding.user_agent_hash {
        let ok = ctx
            .user_agent
            .is_some_and(|ua| bool::from(user_agent_hash(ua).ct_eq(expected)));
        if !ok {
            return Err(mismatch);
        }
    }
    if let Some(device) = &record.binding.device_id
        && ctx.device_id != Some(device)
    {
        return Err(mismatch);
    }
    Ok(())
}
