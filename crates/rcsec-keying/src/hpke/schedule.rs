//! Modes, pre-shared keys and the key schedule (RFC 9180 §5.1).

use std::fmt;

use zeroize::Zeroizing;

use super::HpkeError;
use super::aead::{Aead, NONCE_LEN};
use super::kdf::{NH, Prk, labeled_extract};
use super::kem::KEM_ID;

/// The KDF identifier of HKDF-SHA256.
pub(crate) const KDF_ID: u16 = 0x0001;

/// Length of `key_schedule_context`: `mode || psk_id_hash || info_hash`.
pub(crate) const CONTEXT_LEN: usize = 1 + 2 * NH;

/// Longest AEAD key of this suite (AES-256-GCM).
const MAX_KEY_LEN: usize = 32;

/// An HPKE mode (RFC 9180 §5): how the sender is authenticated, if at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// `mode_base` (0x00): the recipient's key only.
    Base,
    /// `mode_psk` (0x01): both sides also hold a pre-shared key.
    Psk,
    /// `mode_auth` (0x02): the sender proves possession of its private key.
    Auth,
    /// `mode_auth_psk` (0x03): both of the above.
    AuthPsk,
}

impl Mode {
    /// Every mode, in identifier order.
    pub const ALL: [Self; 4] = [Self::Base, Self::Psk, Self::Auth, Self::AuthPsk];

    /// The RFC 9180 mode identifier.
    pub const fn id(self) -> u8 {
        match self {
            Self::Base => 0x00,
            Self::Psk => 0x01,
            Self::Auth => 0x02,
            Self::AuthPsk => 0x03,
        }
    }

    /// The mode with this identifier.
    pub fn from_id(id: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.id() == id)
    }

    const fn uses_psk(self) -> bool {
        matches!(self, Self::Psk | Self::AuthPsk)
    }
}

/// A pre-shared key and its identifier, for the psk and auth_psk modes.
///
/// # Security
/// RFC 9180 §9.5 asks for at least 32 bytes of entropy in `psk`; it is not checked here, so a
/// low-entropy psk (a password) is the caller's mistake to avoid. `Debug` shows only lengths.
#[derive(Clone, Copy)]
pub struct Psk<'a> {
    psk: &'a [u8],
    id: &'a [u8],
}

impl<'a> Psk<'a> {
    /// A psk and its identifier. Both must be non-empty (checked when a context is set up).
    pub fn new(psk: &'a [u8], id: &'a [u8]) -> Self {
        Self { psk, id }
    }
}

impl fmt::Debug for Psk<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Psk {{ psk: [REDACTED; {} bytes], id: [{} bytes] }}",
            self.psk.len(),
            self.id.len()
        )
    }
}

/// `suite_id = "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2)`.
pub(crate) fn suite_id(aead: Aead) -> [u8; 10] {
    let [k0, k1] = KEM_ID.to_be_bytes();
    let [d0, d1] = KDF_ID.to_be_bytes();
    let [a0, a1] = aead.id().to_be_bytes();
    [b'H', b'P', b'K', b'E', k0, k1, d0, d1, a0, a1]
}

/// `VerifyPSKInputs(mode, psk, psk_id)` (RFC 9180 §5.1), with the empty string as the default.
pub(crate) fn verify_psk_inputs(mode: Mode, psk: &[u8], psk_id: &[u8]) -> Result<(), HpkeError> {
    let got_psk = !psk.is_empty();
    let got_psk_id = !psk_id.is_empty();
    if got_psk != got_psk_id {
        return Err(HpkeError::InconsistentPsk);
    }
    match (got_psk, mode.uses_psk()) {
        (true, false) => Err(HpkeError::UnexpectedPsk),
        (false, true) => Err(HpkeError::MissingPsk),
        _ => Ok(()),
    }
}

/// Everything the key schedule derives. Contexts keep only what they need; the vector runner
/// checks every field.
pub(crate) struct Schedule {
    pub(crate) aead: Aead,
    pub(crate) suite_id: [u8; 10],
    pub(crate) context: [u8; CONTEXT_LEN],
    pub(crate) secret: Prk,
    key: Zeroizing<[u8; MAX_KEY_LEN]>,
    pub(crate) base_nonce: [u8; NONCE_LEN],
    pub(crate) exporter_secret: Zeroizing<[u8; NH]>,
}

impl Schedule {
    /// The AEAD key: `Nk` bytes, empty for export-only.
    pub(crate) fn key(&self) -> &[u8] {
        self.key.get(..self.aead.key_len()).unwrap_or_default()
    }
}

/// `KeySchedule(mode, shared_secret, info, psk, psk_id)`; `psk` is `None` outside psk modes.
///
/// For export-only, `key` and `base_nonce` are left empty (zero) rather than derived: nothing
/// can use them.
pub(crate) fn key_schedule(
    mode: Mode,
    aead: Aead,
    shared_secret: &[u8],
    info: &[u8],
    psk: Option<Psk<'_>>,
) -> Result<Schedule, HpkeError> {
    let (psk, psk_id) = psk.map_or((&[][..], &[][..]), |p| (p.psk, p.id));
    verify_psk_inputs(mode, psk, psk_id)?;
    let suite_id = suite_id(aead);

    let mut context = [0u8; CONTEXT_LEN];
    context[0] = mode.id();
    let psk_id_hash = labeled_extract(b"", &suite_id, b"psk_id_hash", &[psk_id]);
    context[1..=NH].copy_from_slice(psk_id_hash.bytes());
    let info_hash = labeled_extract(b"", &suite_id, b"info_hash", &[info]);
    context[1 + NH..].copy_from_slice(info_hash.bytes());

    let secret = labeled_extract(shared_secret, &suite_id, b"secret", &[psk]);
    let mut key = Zeroizing::new([0u8; MAX_KEY_LEN]);
    let mut base_nonce = [0u8; NONCE_LEN];
    if aead != Aead::ExportOnly {
        let key_out = key.get_mut(..aead.key_len()).ok_or(HpkeError::Internal)?;
        secret.expand(&suite_id, b"key", &[&context], key_out)?;
        secret.expand(&suite_id, b"base_nonce", &[&context], &mut base_nonce)?;
    }
    let exporter_secret = secret.expand_array(&suite_id, b"exp", &[&context])?;
    Ok(Schedule {
        aead,
        suite_id,
        context,
        secret,
        key,
        base_nonce,
        exporter_secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psk_inputs_follow_rfc_9180_5_1() {
        use HpkeError::*;
        for mode in Mode::ALL {
            let ok_with_psk = matches!(mode, Mode::Psk | Mode::AuthPsk);
            let expected = |with_psk: bool| match (with_psk, ok_with_psk) {
                (true, false) => Err(UnexpectedPsk),
                (false, true) => Err(MissingPsk),
                _ => Ok(()),
            };
            assert_eq!(verify_psk_inputs(mode, b"k", b"id"), expected(true));
            assert_eq!(verify_psk_inputs(mode, b"", b""), expected(false));
            assert_eq!(verify_psk_inputs(mode, b"k", b""), Err(InconsistentPsk));
            assert_eq!(verify_psk_inputs(mode, b"", b"id"), Err(InconsistentPsk));
        }
    }

    #[test]
    fn ids_and_suite() {
        for mode in Mode::ALL {
            assert_eq!(Mode::from_id(mode.id()), Some(mode));
        }
        assert_eq!(Mode::from_id(4), None);
        assert_eq!(&suite_id(Aead::ExportOnly), b"HPKE\x00\x20\x00\x01\xff\xff");
        let psk = Psk::new(b"super secret psk", b"id");
        assert_eq!(
            format!("{psk:?}"),
            "Psk { psk: [REDACTED; 16 bytes], id: [2 bytes] }"
        );
    }

    #[test]
    fn export_only_derives_no_aead_key() {
        let s = key_schedule(Mode::Base, Aead::ExportOnly, &[1; 32], b"", None).unwrap();
        assert!(s.key().is_empty());
        assert_eq!(s.base_nonce, [0; NONCE_LEN]);
        let s = key_schedule(Mode::Base, Aead::Aes128Gcm, &[1; 32], b"", None).unwrap();
        assert_eq!(s.key().len(), 16);
        assert_ne!(s.base_nonce, [0; NONCE_LEN]);
    }
}
