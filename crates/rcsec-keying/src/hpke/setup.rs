//! Setting up contexts in each mode (RFC 9180 §5.1.1-§5.1.4) and single-shot seal/open (§6.1).

use super::HpkeError;
use super::aead::Aead;
use super::context::{ReceiverContext, SenderContext};
use super::kem::{self, KEY_LEN, KemSecret, PrivateKey, PublicKey};
use super::schedule::{Mode, Psk, Schedule, key_schedule};

/// The sender's mode and the inputs it needs besides the recipient's public key.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum SenderMode<'a> {
    /// `mode_base`: anyone holding the recipient's public key could have sent the message.
    Base,
    /// `mode_psk`: only a holder of the pre-shared key could have sent it.
    Psk(Psk<'a>),
    /// `mode_auth`: only the holder of this sender private key could have sent it.
    Auth(&'a PrivateKey),
    /// `mode_auth_psk`: both.
    AuthPsk(Psk<'a>, &'a PrivateKey),
}

impl SenderMode<'_> {
    /// The RFC 9180 mode this selects.
    pub fn mode(&self) -> Mode {
        match self {
            Self::Base => Mode::Base,
            Self::Psk(_) => Mode::Psk,
            Self::Auth(_) => Mode::Auth,
            Self::AuthPsk(..) => Mode::AuthPsk,
        }
    }
}

/// The recipient's mode and the inputs it needs besides its own private key: the same psk, or
/// the public key of the sender it expects.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ReceiverMode<'a> {
    /// `mode_base`.
    Base,
    /// `mode_psk`: the pre-shared key the sender must have used.
    Psk(Psk<'a>),
    /// `mode_auth`: the public key of the sender that must have sent the message.
    Auth(&'a PublicKey),
    /// `mode_auth_psk`: both.
    AuthPsk(Psk<'a>, &'a PublicKey),
}

impl ReceiverMode<'_> {
    /// The RFC 9180 mode this selects.
    pub fn mode(&self) -> Mode {
        match self {
            Self::Base => Mode::Base,
            Self::Psk(_) => Mode::Psk,
            Self::Auth(_) => Mode::Auth,
            Self::AuthPsk(..) => Mode::AuthPsk,
        }
    }
}

/// What a sender setup derives before it becomes a context (the vector runner checks it all).
pub(crate) struct SenderSetup {
    pub(crate) enc: [u8; KEY_LEN],
    pub(crate) shared_secret: KemSecret,
    pub(crate) schedule: Schedule,
}

/// `SetupS` with a given ephemeral key (fresh in production, `skEm` in the vectors).
pub(crate) fn sender_setup(
    ephemeral: &PrivateKey,
    aead: Aead,
    recipient: &PublicKey,
    info: &[u8],
    mode: SenderMode<'_>,
) -> Result<SenderSetup, HpkeError> {
    let (psk, sender) = match mode {
        SenderMode::Base => (None, None),
        SenderMode::Psk(psk) => (Some(psk), None),
        SenderMode::Auth(sender) => (None, Some(sender)),
        SenderMode::AuthPsk(psk, sender) => (Some(psk), Some(sender)),
    };
    let (enc, shared_secret) = kem::encap(ephemeral, recipient, sender)?;
    let schedule = key_schedule(mode.mode(), aead, shared_secret.as_ref(), info, psk)?;
    Ok(SenderSetup {
        enc,
        shared_secret,
        schedule,
    })
}

/// `SetupR` up to the key schedule.
pub(crate) fn receiver_schedule(
    aead: Aead,
    enc: &[u8],
    recipient: &PrivateKey,
    info: &[u8],
    mode: ReceiverMode<'_>,
) -> Result<(KemSecret, Schedule), HpkeError> {
    let (psk, sender) = match mode {
        ReceiverMode::Base => (None, None),
        ReceiverMode::Psk(psk) => (Some(psk), None),
        ReceiverMode::Auth(sender) => (None, Some(sender)),
        ReceiverMode::AuthPsk(psk, sender) => (Some(psk), Some(sender)),
    };
    let shared_secret = kem::decap(enc, recipient, sender)?;
    let schedule = key_schedule(mode.mode(), aead, shared_secret.as_ref(), info, psk)?;
    Ok((shared_secret, schedule))
}

/// Sets up a sender context for `recipient` (`SetupBaseS`, `SetupPSKS`, `SetupAuthS` or
/// `SetupAuthPSKS`, by `mode`), with a fresh ephemeral key from the OS RNG.
///
/// Returns the encapsulated key `enc`, which the recipient needs, and the context.
///
/// # Errors
/// [`HpkeError::ZeroSharedSecret`] when `recipient` is a low-order point; psk consistency
/// errors ([`HpkeError::MissingPsk`], [`HpkeError::InconsistentPsk`]); [`HpkeError::Rng`].
pub fn setup_sender(
    aead: Aead,
    recipient: &PublicKey,
    info: &[u8],
    mode: SenderMode<'_>,
) -> Result<([u8; KEY_LEN], SenderContext), HpkeError> {
    let (ephemeral, _) = kem::generate_key_pair()?;
    let setup = sender_setup(&ephemeral, aead, recipient, info, mode)?;
    Ok((setup.enc, SenderContext::new(&setup.schedule)?))
}

/// Sets up a receiver context from the sender's `enc` (`SetupBaseR` ... `SetupAuthPSKR`).
///
/// A wrong psk or sender key is *not* detected here: the context simply derives other keys, and
/// the first [`ReceiverContext::open`] fails.
///
/// # Errors
/// [`HpkeError::BadEncapsulation`] unless `enc` is 32 bytes; [`HpkeError::ZeroSharedSecret`]
/// for a low-order `enc` or sender key; psk consistency errors.
pub fn setup_receiver(
    aead: Aead,
    enc: &[u8],
    recipient: &PrivateKey,
    info: &[u8],
    mode: ReceiverMode<'_>,
) -> Result<ReceiverContext, HpkeError> {
    let (_, schedule) = receiver_schedule(aead, enc, recipient, info, mode)?;
    ReceiverContext::new(&schedule)
}

/// Single-shot `Seal` in any mode: sets up a sender context and seals one message.
///
/// Returns `(enc, ct)`.
///
/// # Errors
/// As [`setup_sender`], plus [`HpkeError::ExportOnly`] for the export-only AEAD.
pub fn seal(
    aead: Aead,
    recipient: &PublicKey,
    info: &[u8],
    aad: &[u8],
    pt: &[u8],
    mode: SenderMode<'_>,
) -> Result<(Vec<u8>, Vec<u8>), HpkeError> {
    let (enc, mut ctx) = setup_sender(aead, recipient, info, mode)?;
    let ct = ctx.seal(aad, pt)?;
    Ok((enc.to_vec(), ct))
}

/// Single-shot `Open` in any mode.
///
/// # Errors
/// As [`setup_receiver`], plus the opaque [`HpkeError::OpenFailed`] for a wrong key, psk or
/// sender, or tampered `enc`, `ct`, `info` or `aad`.
pub fn open(
    aead: Aead,
    enc: &[u8],
    recipient: &PrivateKey,
    info: &[u8],
    aad: &[u8],
    ct: &[u8],
    mode: ReceiverMode<'_>,
) -> Result<Vec<u8>, HpkeError> {
    setup_receiver(aead, enc, recipient, info, mode)?.open(aad, ct)
}

/// Single-shot base-mode `Seal` (RFC 9180 §6.1): returns `(enc, ct)`.
///
/// # Errors
/// [`HpkeError::ZeroSharedSecret`] for a low-order `recipient`, [`HpkeError::ExportOnly`],
/// [`HpkeError::Rng`].
pub fn seal_base(
    aead: Aead,
    recipient: &PublicKey,
    info: &[u8],
    aad: &[u8],
    pt: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), HpkeError> {
    seal(aead, recipient, info, aad, pt, SenderMode::Base)
}

/// Single-shot base-mode `Open` (RFC 9180 §6.1).
///
/// # Errors
/// [`HpkeError::BadEncapsulation`] unless `enc` is 32 bytes, [`HpkeError::ZeroSharedSecret`],
/// [`HpkeError::ExportOnly`], and the opaque [`HpkeError::OpenFailed`].
pub fn open_base(
    aead: Aead,
    enc: &[u8],
    recipient: &PrivateKey,
    info: &[u8],
    aad: &[u8],
    ct: &[u8],
) -> Result<Vec<u8>, HpkeError> {
    open(aead, enc, recipient, info, aad, ct, ReceiverMode::Base)
}
