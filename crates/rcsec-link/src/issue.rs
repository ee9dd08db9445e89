//! Issuing a link: seal the artifact, store the ciphertext, mint the token, store the record.

use std::time::Duration;

use rcsec_core::{AlertId, Msisdn, Timestamp};

use crate::extended_access::VerificationCode;
use crate::redeem::{Gateway, RedeemError};
use crate::sealed::{PayloadKey, SealContext, seal_to_vec};
use crate::store::{ExtensionGrant, LinkBinding, LinkRecord, RecipientPseudonym};
use crate::token::{IpPrefix, LinkId, LinkToken, MintError, MintRequest};

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

impl Gateway {
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
}
