//! What a token says: link id, key id, validity window, binding; and the token text itself.

use std::fmt;
use std::str::FromStr;

use rcsec_core::Timestamp;

use crate::token::binding::IpBinding;

crate::random_id::random_id! {
    /// A random 128-bit link identifier: the store's key for the one-time record.
    ///
    /// Not a credential by itself (a token also needs its tag), but it is printed as hex only in
    /// full by `Display`, for store keys; `Debug` shows the first four bytes.
    LinkId
}

/// The text is not 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid link id")]
pub struct LinkIdError;

impl FromStr for LinkId {
    type Err = LinkIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut id = [0u8; 16];
        hex::decode_to_slice(s, &mut id).map_err(|_| LinkIdError)?;
        Ok(Self(id))
    }
}

impl serde::Serialize for LinkId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A keyring key's identifier, carried in every token it minted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct KeyId(pub u8);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The authenticated content of a token.
///
/// Times are whole seconds (the token's precision). `not_before` is conservative: the token
/// stores its lifetime rounded *up* to a minute (an hour beyond two hours), so it may be
/// accepted up to that much before the minted not-before time, never after its expiry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Claims {
    /// Token format version (1).
    pub version: u8,
    /// The key that minted it.
    pub key_id: KeyId,
    /// The link it opens.
    pub link_id: LinkId,
    /// Earliest acceptance time.
    pub not_before: Timestamp,
    /// First instant at which the token is refused as expired.
    pub expires_at: Timestamp,
    /// The client-address binding, if any (family and length; the prefix is committed, not
    /// carried).
    pub ip_binding: Option<IpBinding>,
}

/// A token that passed verification, with what was and was not checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct VerifiedToken {
    /// The token's claims.
    #[serde(flatten)]
    pub claims: Claims,
    /// Whether a recipient was presented and matched (a token is always bound to one; when
    /// none is presented the recipient is simply not checked).
    pub recipient_checked: bool,
    /// The token's recipient commitment, carried into an extension token minted with the
    /// same key.
    #[serde(skip)]
    pub(crate) recipient_commitment: [u8; 4],
}

/// A link token: 64 URL-safe characters, a bearer credential for one link.
///
/// `Debug` prints only the length. The text is available through [`LinkToken::as_str`] for
/// building the URL. No `PartialEq`: compare credentials only through verification.
#[derive(Clone)]
pub struct LinkToken(String);

impl LinkToken {
    pub(crate) fn new(text: String) -> Self {
        Self(text)
    }

    /// The token text.
    ///
    /// # Security
    /// A bearer credential until consumed: put it in the link, never in a log.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LinkToken(<{} chars>)", self.0.len())
    }
}

/// A freshly minted token and its claims.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MintedToken {
    /// The token to send.
    pub token: LinkToken,
    /// What it says.
    pub claims: Claims,
}
