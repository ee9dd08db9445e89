//! Protecting the payload of the `encrypted_push` route.
//!
//! # Interim design, stated plainly
//! The MLS group session for a responder's devices (issue 13) does not exist yet. Until it
//! does, [`HpkeDeviceEnvelope`] seals each push payload with HPKE base mode (RFC 9180,
//! DHKEM(X25519, HKDF-SHA256), AES-256-GCM) to the recipient's one enrolled device key. That
//! is end-to-end encrypted to that device — the push gateway sees ciphertext only — but it has
//! none of MLS's properties: no forward secrecy across messages beyond HPKE's ephemeral key, no
//! post-compromise security, one device per recipient. [`PushProtector`] is the seam the MLS
//! group session will replace it through.

use std::fmt;

use rcsec_core::AlertId;
use rcsec_keying::hpke::{self, Aead, PrivateKey, PublicKey};

use crate::message::MessageId;

/// Why a payload could not be protected or opened. Opaque on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtectError {
    /// Sealing failed (a low-order device key, or the RNG).
    #[error("push payload could not be sealed")]
    Seal,
    /// The envelope is malformed, for another device, message or alert, or was modified.
    #[error("push payload could not be opened")]
    Open,
}

/// Turns a push payload into ciphertext only the recipient's device(s) can read.
///
/// # Contract
/// - The output is readable by the holder of `device`'s private key and nobody else: the
///   push gateway, the provider and rcsec's own stores see ciphertext only.
/// - It is bound to `alert` and `message`: an envelope replayed as another alert or message
///   fails to open on the device.
/// - It is authenticated encryption with fresh randomness per call; the same plaintext twice
///   gives different ciphertexts.
/// - Failures are the opaque [`ProtectError::Seal`]; the pipeline then falls back to a route
///   that carries a one-time link instead of content.
///
/// ```
/// use rcsec::core::AlertId;
/// use rcsec::keying::hpke;
/// use rcsec::{HpkeDeviceEnvelope, MessageId, ProtectError, PushProtector};
///
/// let (device_sk, device_pk) = hpke::generate_key_pair()?;
/// let (alert, message) = (AlertId::new("a1")?, MessageId::new("a1-alice-0")?);
/// let protector: &dyn PushProtector = &HpkeDeviceEnvelope;
/// let envelope = protector.protect(&device_pk, &alert, &message, b"db-7 password rotated")?;
/// assert_ne!(protector.protect(&device_pk, &alert, &message, b"db-7 password rotated")?, envelope);
///
/// // What the phone does:
/// assert_eq!(HpkeDeviceEnvelope::open(&device_sk, &alert, &message, &envelope)?,
///            b"db-7 password rotated");
/// let other = MessageId::new("a1-alice-1")?;
/// assert_eq!(HpkeDeviceEnvelope::open(&device_sk, &alert, &other, &envelope),
///            Err(ProtectError::Open));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait PushProtector: Send + Sync + fmt::Debug + 'static {
    /// A short name for audit events (`hpke_device_envelope`, later `mls`).
    fn name(&self) -> &str;

    /// Seals `plaintext` for `device`, bound to the alert and message.
    ///
    /// # Errors
    /// [`ProtectError::Seal`].
    fn protect(
        &self,
        device: &PublicKey,
        alert: &AlertId,
        message: &MessageId,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ProtectError>;
}

#[cfg(test)]
fn _obj_safe(_: &dyn PushProtector) {}

const INFO_PREFIX: &[u8] = b"rcsec/v1/push-envelope/";

/// The interim protector: HPKE base mode to one enrolled device key. The output is
/// `enc (32 bytes) || ciphertext`; the HPKE `info` binds the alert id and the `aad` binds the
/// message id, so an envelope cannot be replayed as another alert or message.
#[derive(Debug, Clone, Copy, Default)]
pub struct HpkeDeviceEnvelope;

fn info(alert: &AlertId) -> Vec<u8> {
    let mut info = INFO_PREFIX.to_vec();
    info.extend_from_slice(alert.as_str().as_bytes());
    info
}

impl PushProtector for HpkeDeviceEnvelope {
    fn name(&self) -> &str {
        "hpke_device_envelope"
    }

    fn protect(
        &self,
        device: &PublicKey,
        alert: &AlertId,
        message: &MessageId,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ProtectError> {
        let (enc, ct) = hpke::seal_base(
            Aead::Aes256Gcm,
            device,
            &info(alert),
            message.as_str().as_bytes(),
            plaintext,
        )
        .map_err(|_| ProtectError::Seal)?;
        let mut out = enc;
        out.extend_from_slice(&ct);
        Ok(out)
    }
}

impl HpkeDeviceEnvelope {
    /// What the device does: opens an envelope made by [`PushProtector::protect`].
    ///
    /// # Errors
    /// [`ProtectError::Open`] for anything but an intact envelope for this device, alert and
    /// message.
    pub fn open(
        device: &PrivateKey,
        alert: &AlertId,
        message: &MessageId,
        envelope: &[u8],
    ) -> Result<Vec<u8>, ProtectError> {
        if envelope.len() < hpke::KEY_LEN {
            return Err(ProtectError::Open);
        }
        let (enc, ct) = envelope.split_at(hpke::KEY_LEN);
        hpke::open_base(
            Aead::Aes256Gcm,
            enc,
            device,
            &info(alert),
            message.as_str().as_bytes(),
            ct,
        )
        .map_err(|_| ProtectError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_opens_only_for_its_device_alert_and_message() {
        let (sk, pk) = hpke::generate_key_pair().unwrap();
        let (other_sk, _) = hpke::generate_key_pair().unwrap();
        let alert = AlertId::new("a1").unwrap();
        let msg = MessageId::new("m1").unwrap();
        let sealed = HpkeDeviceEnvelope
            .protect(&pk, &alert, &msg, b"db down")
            .unwrap();
        assert_eq!(
            HpkeDeviceEnvelope::open(&sk, &alert, &msg, &sealed).unwrap(),
            b"db down"
        );
        let other_alert = AlertId::new("a2").unwrap();
        let other_msg = MessageId::new("m2").unwrap();
        assert!(HpkeDeviceEnvelope::open(&other_sk, &alert, &msg, &sealed).is_err());
        assert!(HpkeDeviceEnvelope::open(&sk, &other_alert, &msg, &sealed).is_err());
        assert!(HpkeDeviceEnvelope::open(&sk, &alert, &other_msg, &sealed).is_err());
        assert!(HpkeDeviceEnvelope::open(&sk, &alert, &msg, &sealed[..10]).is_err());
    }
}
