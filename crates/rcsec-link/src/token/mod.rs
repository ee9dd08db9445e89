//! Link tokens: minting and stateless verification against a [`Keyring`].
//!
//! Verification runs in a fixed order and touches no storage: decode → version → key lookup →
//! constant-time tag check → time checks → binding. Only a token that passes all of it is
//! worth a store round trip.

mod binding;
mod claims;
mod codec;
mod error;

use std::net::IpAddr;
use std::time::Duration;

use hmac::Mac;
use rcsec_core::{Msisdn, Timestamp};

pub use binding::{IpBinding, IpPrefix, IpPrefixError};
pub use claims::{Claims, KeyId, LinkId, LinkIdError, LinkToken, MintedToken, VerifiedToken};
pub use codec::{MAX_LIFETIME_SECS, TOKEN_CHARS};
pub use error::{MintError, RejectReason, VerifyError};

use crate::keyring::{KeyMaterial, Keyring};
use crate::rng::RandomSource;
use codec::{RawToken, SIGNED_BYTES, TAG_BYTES, TOKEN_BYTES, VERSION};

/// What to mint: a recipient, a lifetime and an optional client-address binding.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MintRequest<'a> {
    /// The person the link is for; only a keyed 32-bit commitment goes into the token.
    pub recipient: &'a Msisdn,
    /// How long the token is valid from `not_before`.
    pub ttl: Duration,
    /// Restrict redemption to clients in this prefix.
    pub bind_ip: Option<IpPrefix>,
    /// Start of validity; the minting time when `None`.
    pub not_before: Option<Timestamp>,
}

impl<'a> MintRequest<'a> {
    /// A token for `recipient`, valid for `ttl` from now.
    pub fn new(recipient: &'a Msisdn, ttl: Duration) -> Self {
        Self {
            recipient,
            ttl,
            bind_ip: None,
            not_before: None,
        }
    }

    /// Binds the token to clients in `prefix`.
    #[must_use]
    pub fn bind_ip(mut self, prefix: IpPrefix) -> Self {
        self.bind_ip = Some(prefix);
        self
    }

    /// Makes the token valid only from `at`.
    #[must_use]
    pub fn not_before(mut self, at: Timestamp) -> Self {
        self.not_before = Some(at);
        self
    }
}

/// What the verifier knows about the request: the time, and optionally who and where.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct VerifyContext<'a> {
    /// The verifier's current time.
    pub now: Timestamp,
    /// The recipient, when known; checked against the token's commitment.
    pub recipient: Option<&'a Msisdn>,
    /// The client's address. Required for an IP-bound token: without it the binding cannot
    /// be shown to hold, and the token is refused (`binding_mismatch`).
    pub client_ip: Option<IpAddr>,
}

impl<'a> VerifyContext<'a> {
    /// A context with only the time.
    pub fn at(now: Timestamp) -> Self {
        Self {
            now,
            recipient: None,
            client_ip: None,
        }
    }

    /// Also check the recipient.
    #[must_use]
    pub fn recipient(mut self, recipient: &'a Msisdn) -> Self {
        self.recipient = Some(recipient);
        self
    }

    /// Also check the client address.
    #[must_use]
    pub fn client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }
}

impl Keyring {
    /// Mints a token for a fresh random link id with the active key.
    ///
    /// # Errors
    /// [`MintError::TtlOutOfRange`] when `ttl` is zero or above the policy's `max_ttl`;
    /// [`MintError::ExpiryOutOfRange`]; [`MintError::Random`].
    pub fn mint(
        &self,
        req: &MintRequest<'_>,
        now: Timestamp,
        rng: &dyn RandomSource,
    ) -> Result<MintedToken, MintError> {
        let link_id = LinkId::random(rng)?;
        self.mint_for_link(link_id, req, now)
    }

    /// Mints a token for a given link id (a link whose record and blob already exist, or a
    /// new window granted by extended access).
    ///
    /// # Errors
    /// As [`Keyring::mint`].
    pub fn mint_for_link(
        &self,
        link_id: LinkId,
        req: &MintRequest<'_>,
        now: Timestamp,
    ) -> Result<MintedToken, MintError> {
        let key = self.active_material().ok_or(MintError::NoActiveKey)?;
        let commitment = recipient_commitment(key, &link_id, req.recipient);
        self.mint_raw(
            link_id,
            commitment,
            req.ttl,
            req.not_before,
            req.bind_ip,
            now,
        )
    }

    /// Mints the token of an extended window for a verified (possibly expired) token's link.
    ///
    /// The recipient commitment is carried over when the old token's key is still the active
    /// key; otherwise `recipient` is needed to compute it under the active key.
    pub(crate) fn mint_extension(
        &self,
        old: &VerifiedToken,
        recipient: Option<&Msisdn>,
        bind_ip: Option<IpPrefix>,
        ttl: Duration,
        now: Timestamp,
    ) -> Result<MintedToken, MintError> {
        let key = self.active_material().ok_or(MintError::NoActiveKey)?;
        let link_id = old.claims.link_id;
        let commitment = match recipient {
            Some(r) => recipient_commitment(key, &link_id, r),
            None if old.claims.key_id == self.active_key_id() => old.recipient_commitment,
            None => return Err(MintError::RecipientRequired),
        };
        self.mint_raw(link_id, commitment, ttl, None, bind_ip, now)
    }

    /// Whether [`Keyring::mint_extension`] can carry or recompute the recipient commitment.
    pub(crate) fn can_mint_extension(
        &self,
        old: &VerifiedToken,
        recipient: Option<&Msisdn>,
    ) -> bool {
        recipient.is_some() || old.claims.key_id == self.active_key_id()
    }

    fn mint_raw(
        &self,
        link_id: LinkId,
        commitment: [u8; 4],
        ttl: Duration,
        not_before: Option<Timestamp>,
        bind_ip: Option<IpPrefix>,
        now: Timestamp,
    ) -> Result<MintedToken, MintError> {
        let secs = ttl.as_secs();
        if secs == 0 || ttl > self.policy().max_ttl {
            return Err(MintError::TtlOutOfRange);
        }
        let key = self.active_material().ok_or(MintError::NoActiveKey)?;
        let ttl = secs;
        let nbf_secs = not_before.unwrap_or(now).as_secs();
        let exp_secs = nbf_secs
            .checked_add(ttl)
            .ok_or(MintError::ExpiryOutOfRange)?;
        let exp = u32::try_from(exp_secs).map_err(|_| MintError::ExpiryOutOfRange)?;
        let lifetime = codec::lifetime_code(ttl).ok_or(MintError::TtlOutOfRange)?;

        let mut raw = [0u8; TOKEN_BYTES];
        raw[0] = VERSION;
        raw[1] = self.active_key_id().0;
        raw[2..18].copy_from_slice(link_id.as_bytes());
        raw[18..22].copy_from_slice(&exp.to_be_bytes());
        raw[22] = lifetime;
        raw[23] = bind_ip.map_or(0, |p| p.binding().code());
        raw[24..28].copy_from_slice(&commitment);
        if let Some(prefix) = &bind_ip {
            raw[28..32].copy_from_slice(&ip_commitment(key, &link_id, prefix));
        }
        let tag = key
            .tag
            .clone()
            .chain_update(&raw[..SIGNED_BYTES])
            .finalize()
            .into_bytes();
        raw[SIGNED_BYTES..].copy_from_slice(&tag[..TAG_BYTES]);
        let raw = RawToken(raw);
        let claims = claims_of(&raw, bind_ip.map(|p| p.binding()));
        Ok(MintedToken {
            token: LinkToken::new(raw.encode()),
            claims,
        })
    }

    /// Verifies a token without touching any store.
    ///
    /// # Errors
    /// The first failing [`VerifyError`] in the order decode/version (`Malformed`), key
    /// (`UnknownKey`), tag (`BadSignature`), time (`Expired`, `NotYetValid`), binding
    /// (`BindingMismatch`).
    pub fn verify(
        &self,
        token: &str,
        ctx: &VerifyContext<'_>,
    ) -> Result<VerifiedToken, VerifyError> {
        self.verify_inner(token, ctx, false)
    }

    /// As [`Keyring::verify`] but accepting an expired token (for extended access, which
    /// decides its own deadline). Every other check still applies.
    pub(crate) fn verify_ignoring_expiry(
        &self,
        token: &str,
        ctx: &VerifyContext<'_>,
    ) -> Result<VerifiedToken, VerifyError> {
        self.verify_inner(token, ctx, true)
    }

    fn verify_inner(
        &self,
        token: &str,
        ctx: &VerifyContext<'_>,
        ignore_expiry: bool,
    ) -> Result<VerifiedToken, VerifyError> {
        let raw = RawToken::decode(token)?;
        if raw.version() != VERSION {
            return Err(VerifyError::Malformed);
        }
        let ip_binding =
            IpBinding::from_code(raw.ip_code()).map_err(|()| VerifyError::Malformed)?;
        let key = self
            .verifying_key(KeyId(raw.key_id()), ctx.now)
            .ok_or(VerifyError::UnknownKey)?;
        key.tag
            .clone()
            .chain_update(raw.signed())
            .verify_truncated_left(raw.tag())
            .map_err(|_| VerifyError::BadSignature)?;

        let claims = claims_of(&raw, ip_binding);
        if !ignore_expiry && ctx.now >= claims.expires_at {
            return Err(VerifyError::Expired);
        }
        if ctx.now.saturating_add(self.policy().nbf_leeway) < claims.not_before {
            return Err(VerifyError::NotYetValid);
        }

        let link_id = claims.link_id;
        let recipient_checked = match ctx.recipient {
            Some(r) => {
                ct_eq4(
                    &recipient_commitment(key, &link_id, r),
                    raw.recipient_commitment(),
                )?;
                true
            }
            None => false,
        };
        if let Some(binding) = ip_binding {
            let prefix = ctx
                .client_ip
                .and_then(|ip| IpPrefix::around(ip, binding))
                .ok_or(VerifyError::BindingMismatch)?;
            ct_eq4(&ip_commitment(key, &link_id, &prefix), raw.ip_commitment())?;
        }
        let mut commitment = [0u8; 4];
        commitment.copy_from_slice(raw.recipient_commitment());
        Ok(VerifiedToken {
            claims,
            recipient_checked,
            recipient_commitment: commitment,
        })
    }
}

fn claims_of(raw: &RawToken, ip_binding: Option<IpBinding>) -> Claims {
    let exp = u64::from(raw.expires_secs());
    let nbf = exp.saturating_sub(codec::lifetime_secs(raw.lifetime_code()));
    Claims {
        version: raw.version(),
        key_id: KeyId(raw.key_id()),
        link_id: LinkId::from_bytes(raw.link_id()),
        not_before: Timestamp::from_secs(nbf),
        expires_at: Timestamp::from_secs(exp),
        ip_binding,
    }
}

fn recipient_commitment(key: &KeyMaterial, link_id: &LinkId, recipient: &Msisdn) -> [u8; 4] {
    let mac = key
        .recipient
        .clone()
        .chain_update(link_id.as_bytes())
        .chain_update(recipient.expose_e164().as_bytes())
        .finalize()
        .into_bytes();
    [mac[0], mac[1], mac[2], mac[3]]
}

fn ip_commitment(key: &KeyMaterial, link_id: &LinkId, prefix: &IpPrefix) -> [u8; 4] {
    let mac = key
        .ip
        .clone()
        .chain_update(link_id.as_bytes())
        .chain_update(prefix.mac_bytes())
        .finalize()
        .into_bytes();
    [mac[0], mac[1], mac[2], mac[3]]
}

fn ct_eq4(a: &[u8; 4], b: &[u8]) -> Result<(), VerifyError> {
    use subtle::ConstantTimeEq;
    if bool::from(a.as_slice().ct_eq(b)) {
        Ok(())
    } else {
        Err(VerifyError::BindingMismatch)
    }
}
