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
use std::time::Duration;

use rcsec_core::{AlertId, DeviceId, Msisdn, Timestamp};
use sha2::{Digest, Sha256};

use crate::extended_access::{CodeDigest, ExtendedAccessPolicy, VerificationCode};
use crate::keyring::Keyring;
use crate::rng::{RandomError, RandomSource};
use crate::sealed::{PayloadKey, SealContext, SealError, seal_to_vec};
use crate::store::{
    BlobStore, ConsumeOutcome, ExtendOutcome, ExtensionGrant, LinkBinding, LinkRecord,
    RecipientPseudonym, StoreError, TakeOutcome, TokenStore,
};
use crate::token::{
    IpPrefix, LinkId, LinkToken, MintError, MintRequest, RejectReason, VerifyContext, VerifyError,
};

/// Why extended access was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionDenied {
    /// Wrong code; `attempts_left` more may be tried.
    #[error("wrong verification code ({attempts_left} attempts left)")]
    WrongCode {
        /// Attempts remaining.
        attempts_left: u8,
    },
    /// No attempts left.
    #[error("verification code attempts exhausted")]
    Locked,
    /// The one extension was already granted.
    #[error("link was already extended")]
    AlreadyExtended,
    /// This link offers no extended access.
    #[error("link offers no extended access")]
    NotOffered,
    /// Too late to claim.
    #[error("extended access claim period has ended")]
    ClaimExpired,
}

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

    fn verify(&self) -> VerifyContext<'a> {
        VerifyContext {
            now: self.now,
            recipient: self.recipient,
            client_ip: self.client_ip,
        }
    }
}

/// SHA-256 of a User-Agent string, as stored in [`LinkBinding::user_agent_hash`].
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

/// What to issue.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IssueRequest<'a> {
    /// The alert it belongs to.
    pub alert_id: AlertId,
    /// Who it is for.
    pub recipient: &'a Msisdn,
    /// The recipient's pseudonym, for the record.
    pub pseudonym: RecipientPseudonym,
    /// Link lifetime.
    pub ttl: Duration,
    /// Client address binding.
    pub bind_ip: Option<IpPrefix>,
    /// User-Agent hash and device bindings (its `ip_prefix` is taken from `bind_ip`).
    pub binding: LinkBinding,
    /// MIME type of the payload.
    pub content_type: &'a str,
    /// Offer extended access with a verification code.
    pub extended_access: bool,
}

impl<'a> IssueRequest<'a> {
    /// A single-use link without bindings or extended access.
    pub fn new(
        alert_id: AlertId,
        recipient: &'a Msisdn,
        pseudonym: RecipientPseudonym,
        ttl: Duration,
        content_type: &'a str,
    ) -> Self {
        Self {
            alert_id,
            recipient,
            pseudonym,
            ttl,
            bind_ip: None,
            binding: LinkBinding::default(),
            content_type,
            extended_access: false,
        }
    }

    /// Offers extended access.
    #[must_use]
    pub fn with_extended_access(mut self) -> Self {
        self.extended_access = true;
        self
    }

    /// Binds to a client prefix.
    #[must_use]
    pub fn bind_ip(mut self, prefix: IpPrefix) -> Self {
        self.bind_ip = Some(prefix);
        self
    }

    /// Sets the extra bindings.
    #[must_use]
    pub fn binding(mut self, binding: LinkBinding) -> Self {
        self.binding = binding;
        self
    }
}

/// An issued link: the token to send, the key for the fragment, and the code if offered.
#[derive(Debug)]
#[non_exhaustive]
pub struct IssuedLink {
    /// The link id.
    pub link_id: LinkId,
    /// The token (put it in the URL path).
    pub token: LinkToken,
    /// The payload key (put it in the URL fragment, or seal it to a device).
    pub key: PayloadKey,
    /// The verification code to send with the alert, when extended access is offered.
    pub code: Option<VerificationCode>,
    /// When the link expires.
    pub expires_at: Timestamp,
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
    keyring: Arc<Keyring>,
    tokens: Arc<dyn TokenStore>,
    blobs: Arc<dyn BlobStore>,
    rng: Arc<dyn RandomSource>,
    extended: ExtendedAccessPolicy,
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

    /// Seals `payload` under a fresh key, stores the ciphertext, mints the token and stores
    /// the record.
    ///
    /// # Errors
    /// [`RedeemError::Mint`], [`RedeemError::Seal`], [`RedeemError::Store`],
    /// [`RedeemError::Random`].
    pub async fn issue(
        &self,
        req: IssueRequest<'_>,
        payload: &[u8],
        now: Timestamp,
    ) -> Result<IssuedLink, RedeemError> {
        let rng = &*self.rng;
        let link_id = LinkId::random(rng)?;
        let mut mint = MintRequest::new(req.recipient, req.ttl);
        mint.bind_ip = req.bind_ip;
        let minted = self.keyring.mint_for_link(link_id, &mint, now)?;
        let key = PayloadKey::generate(rng)?;
        let sealed = seal_to_vec(
            &key,
            &SealContext::new(&link_id, req.content_type),
            payload,
            rng,
        )?;

        let (blob_ttl, reads) = if req.extended_access {
            let extra = self
                .extended
                .claim_period
                .saturating_add(self.extended.window);
            (req.ttl.saturating_add(extra), 2)
        } else {
            (req.ttl, 1)
        };
        let blob_id = self.blobs.put(sealed, blob_ttl, reads, now).await?;

        let expires_at = minted.claims.expires_at;
        let mut record = LinkRecord::new(link_id, req.alert_id, req.pseudonym, blob_id, expires_at);
        record.binding = req.binding;
        record.binding.ip_prefix = req.bind_ip;
        let code = if req.extended_access {
            let code = VerificationCode::generate(rng)?;
            let digest = self
                .keyring
                .code_digest(minted.claims.key_id, &link_id, &code, now)
                .ok_or(MintError::NoActiveKey)?;
            record.extension = Some(ExtensionGrant::new(
                digest,
                self.extended.max_attempts,
                self.extended.claim_until(expires_at),
            ));
            Some(code)
        } else {
            None
        };
        if let Err(e) = self.tokens.insert(record).await {
            let _ = self.blobs.delete(&blob_id).await;
            return Err(e.into());
        }
        Ok(IssuedLink {
            link_id,
            token: minted.token,
            key,
            code,
            expires_at,
        })
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

    /// Extended access: the recipient posts the (possibly expired) token and the verification
    /// code; on a match the link gets one more use for the policy's window, under a new token.
    ///
    /// Each wrong code, malformed ones included, costs one attempt.
    ///
    /// # Errors
    /// [`RedeemError::ExtensionDenied`], [`RedeemError::Rejected`] (token or record refused),
    /// [`RedeemError::Mint`] (`RecipientRequired` after a key rotation if no recipient is
    /// given), [`RedeemError::Store`].
    pub async fn extend(
        &self,
        token: &str,
        code: &str,
        ctx: &RedeemContext<'_>,
    ) -> Result<ExtendedLink, RedeemError> {
        let verified = self.keyring.verify_ignoring_expiry(token, &ctx.verify())?;
        let link_id = verified.claims.link_id;
        let record = self
            .tokens
            .get(&link_id)
            .await?
            .ok_or(RedeemError::Rejected(RejectReason::Revoked))?;
        check_record_binding(&record, ctx)?;
        // Find out before spending the grant whether a new token can be minted.
        if !self.keyring.can_mint_extension(&verified, ctx.recipient) {
            return Err(MintError::RecipientRequired.into());
        }
        // A code that cannot be one still spends an attempt: this digest never matches.
        let digest = match VerificationCode::parse(code) {
            Some(code) => self
                .keyring
                .code_digest(verified.claims.key_id, &link_id, &code, ctx.now)
                .ok_or(RedeemError::Rejected(RejectReason::UnknownKey))?,
            None => CodeDigest::from_bytes([0u8; 32]),
        };
        // The window never exceeds what the keyring may mint (checked before the grant is
        // spent, so minting below cannot fail on the TTL).
        let window = self.extended.window.min(self.keyring.policy().max_ttl);
        let new_expiry = ctx.now.saturating_add(window);
        // Tokens carry whole seconds; store the same expiry the new token will carry.
        let new_expiry = Timestamp::from_secs(new_expiry.as_secs());
        match self
            .tokens
            .extend(&link_id, &digest, new_expiry, ctx.now)
            .await?
        {
            ExtendOutcome::Extended { record } => {
                let ttl = Duration::from_secs(new_expiry.as_secs() - ctx.now.as_secs());
                let minted = self.keyring.mint_extension(
                    &verified,
                    ctx.recipient,
                    record.binding.ip_prefix,
                    ttl,
                    ctx.now,
                )?;
                Ok(ExtendedLink {
                    expires_at: minted.claims.expires_at,
                    token: minted.token,
                })
            }
            ExtendOutcome::WrongCode { attempts_left } => {
                Err(RedeemError::ExtensionDenied(ExtensionDenied::WrongCode {
                    attempts_left,
                }))
            }
            ExtendOutcome::Locked => Err(RedeemError::ExtensionDenied(ExtensionDenied::Locked)),
            ExtendOutcome::AlreadyExtended => Err(RedeemError::ExtensionDenied(
                ExtensionDenied::AlreadyExtended,
            )),
            ExtendOutcome::NotOffered => {
                Err(RedeemError::ExtensionDenied(ExtensionDenied::NotOffered))
            }
            ExtendOutcome::Expired => {
                Err(RedeemError::ExtensionDenied(ExtensionDenied::ClaimExpired))
            }
            _ => Err(RedeemError::Rejected(RejectReason::Revoked)),
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

fn check_record_binding(record: &LinkRecord, ctx: &RedeemContext<'_>) -> Result<(), RedeemError> {
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
