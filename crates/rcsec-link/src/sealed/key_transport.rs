//! Getting a payload key to the recipient: in the URL fragment, or HPKE-sealed to a device.
//!
//! The fragment (`#k=...`) is never sent to the server by browsers, so the gateway serves
//! ciphertext it cannot read. For an enrolled device the key is sealed with HPKE (RFC 9180,
//! base mode, DHKEM(X25519)/HKDF-SHA256/AES-256-GCM) to the device's public key, with the link
//! id as associated data so an envelope cannot be replayed onto another link.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rcsec_core::Secret;
use rcsec_keying::hpke::{self, Aead, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use super::PayloadKey;
use crate::token::{LinkId, LinkToken};

const HPKE_INFO: &[u8] = b"rcsec-link/v1/payload-key";

/// Why a key could not be carried or recovered. Never includes key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FragmentError {
    /// The fragment has no valid `k=` parameter.
    #[error("url fragment carries no valid payload key")]
    Fragment,
    /// The base URL cannot take path segments (e.g. `mailto:`).
    #[error("base url cannot carry a link path")]
    BaseUrl,
    /// HPKE sealing or opening failed (opaque).
    #[error("payload key envelope could not be sealed or opened")]
    Envelope,
}

impl PayloadKey {
    /// The fragment text `k=<base64url key>` (without `#`).
    pub fn to_fragment(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(2 + 43));
        out.push_str("k=");
        URL_SAFE_NO_PAD.encode_string(self.expose_secret(), &mut out);
        out
    }

    /// Reads the key from a fragment (`k=...`, optionally after `#`, among `&`-separated
    /// parameters).
    ///
    /// # Errors
    /// [`FragmentError::Fragment`].
    pub fn from_fragment(fragment: &str) -> Result<Self, FragmentError> {
        let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
        let value = fragment
            .split('&')
            .find_map(|p| p.strip_prefix("k="))
            .ok_or(FragmentError::Fragment)?;
        let mut buf = Zeroizing::new([0u8; 33]);
        match URL_SAFE_NO_PAD.decode_slice(value.as_bytes(), &mut buf[..]) {
            Ok(32) if value.len() == 43 => {
                let mut key = Secret::new([0u8; 32]);
                key.expose_secret_mut().copy_from_slice(&buf[..32]);
                Ok(Self::from_secret(key))
            }
            _ => Err(FragmentError::Fragment),
        }
    }

    /// Seals this key to an enrolled device's X25519 public key, bound to `link_id`.
    ///
    /// # Errors
    /// [`FragmentError::Envelope`] (an invalid or low-order device key).
    pub fn seal_for_device(
        &self,
        link_id: &LinkId,
        device: &PublicKey,
    ) -> Result<DeviceKeyEnvelope, FragmentError> {
        let (enc, ciphertext) = hpke::seal_base(
            Aead::Aes256Gcm,
            device,
            HPKE_INFO,
            link_id.as_bytes(),
            self.expose_secret(),
        )
        .map_err(|_| FragmentError::Envelope)?;
        Ok(DeviceKeyEnvelope { enc, ciphertext })
    }
}

/// A payload key HPKE-sealed to one device: `enc` (the encapsulated key) and the ciphertext.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceKeyEnvelope {
    /// HPKE `enc` (32 bytes for X25519).
    pub enc: Vec<u8>,
    /// The sealed 32-byte key plus a 16-byte tag.
    pub ciphertext: Vec<u8>,
}

impl DeviceKeyEnvelope {
    /// Opens the envelope with the device's private key.
    ///
    /// # Errors
    /// [`FragmentError::Envelope`] for a wrong key, another link id or tampering.
    pub fn open(&self, link_id: &LinkId, device: &PrivateKey) -> Result<PayloadKey, FragmentError> {
        let plain = Zeroizing::new(
            hpke::open_base(
                Aead::Aes256Gcm,
                &self.enc,
                device,
                HPKE_INFO,
                link_id.as_bytes(),
                &self.ciphertext,
            )
            .map_err(|_| FragmentError::Envelope)?,
        );
        let bytes: &[u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| FragmentError::Envelope)?;
        Ok(PayloadKey::from_secret(Secret::new(*bytes)))
    }
}

impl fmt::Debug for DeviceKeyEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKeyEnvelope")
            .field("enc_len", &self.enc.len())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// The full link: `<base>/l/<token>#k=<key>`, as text wiped on drop. `Debug` is redacted.
pub struct LinkUrl(Zeroizing<String>);

impl LinkUrl {
    /// The URL text.
    ///
    /// # Security
    /// Contains the payload key: send it to the recipient, never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LinkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkUrl(<redacted>)")
    }
}

/// Builds `<base>/l/<token>#k=<key>` with the `url` crate (the base keeps its own path, so
/// `https://x.example/alerts/` gives `https://x.example/alerts/l/...`).
///
/// # Errors
/// [`FragmentError::BaseUrl`] when `base` cannot have path segments.
pub fn link_url(
    base: &url::Url,
    token: &LinkToken,
    key: &PayloadKey,
) -> Result<LinkUrl, FragmentError> {
    let mut url = base.clone();
    url.set_query(None);
    {
        let mut segments = url
            .path_segments_mut()
            .map_err(|()| FragmentError::BaseUrl)?;
        segments.pop_if_empty().push("l").push(token.as_str());
    }
    url.set_fragment(Some(&key.to_fragment()));
    Ok(LinkUrl(Zeroizing::new(String::from(url))))
}
