//! Encryption contexts (RFC 9180 §5.2, §5.3): sequence-numbered seal/open and `Export`.

use std::fmt;

use rcsec_core::Secret;
use zeroize::Zeroizing;

use super::HpkeError;
use super::aead::{Aead, Cipher, NONCE_LEN};
use super::kdf::{MAX_EXPAND, NH, Prk};
use super::schedule::Schedule;

/// One past the last usable sequence number: `2^(8*Nn) - 1` (RFC 9180 §5.2, `IncrementSeq`).
const SEQ_LIMIT: u128 = (1 << (8 * NONCE_LEN)) - 1;

/// What sender and receiver contexts share: the keyed AEAD, the nonce base, the exporter
/// secret and the sequence number. Keys are derived once, at setup.
struct Context {
    aead: Aead,
    cipher: Cipher,
    suite_id: [u8; 10],
    base_nonce: Zeroizing<[u8; NONCE_LEN]>,
    exporter_secret: Zeroizing<[u8; NH]>,
    seq: u128,
}

impl Context {
    fn new(schedule: &Schedule) -> Result<Self, HpkeError> {
        Ok(Self {
            aead: schedule.aead,
            cipher: Cipher::new(schedule.aead, schedule.key())?,
            suite_id: schedule.suite_id,
            base_nonce: Zeroizing::new(schedule.base_nonce),
            exporter_secret: schedule.exporter_secret.clone(),
            seq: 0,
        })
    }

    /// `ComputeNonce(seq)`: `base_nonce XOR I2OSP(seq, Nn)`, or the typed error once the
    /// sequence is exhausted. Checking before use (rather than after, as the RFC's pseudocode
    /// does) wastes no encryption and returns the same error at the same point.
    fn nonce(&self) -> Result<[u8; NONCE_LEN], HpkeError> {
        check_seq(self.seq)?;
        let seq = self.seq.to_be_bytes();
        let mut nonce = *self.base_nonce;
        for (n, s) in nonce.iter_mut().zip(&seq[seq.len() - NONCE_LEN..]) {
            *n ^= s;
        }
        Ok(nonce)
    }

    fn export(&self, exporter_context: &[u8], out: &mut [u8]) -> Result<(), HpkeError> {
        Prk::from_bytes(&self.exporter_secret)?.expand(
            &self.suite_id,
            b"sec",
            &[exporter_context],
            out,
        )
    }

    fn export_secret(
        &self,
        exporter_context: &[u8],
        len: usize,
    ) -> Result<Secret<Vec<u8>>, HpkeError> {
        if len > MAX_EXPAND {
            return Err(HpkeError::ExportTooLong {
                requested: len,
                max: MAX_EXPAND,
            });
        }
        let mut out = Secret::new(vec![0u8; len]);
        self.export(exporter_context, out.expose_secret_mut())?;
        Ok(out)
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("aead", &self.aead)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

/// Fails with [`HpkeError::MessageLimitReached`] once `seq` has reached `2^96 - 1`.
fn check_seq(seq: u128) -> Result<(), HpkeError> {
    if seq >= SEQ_LIMIT {
        Err(HpkeError::MessageLimitReached)
    } else {
        Ok(())
    }
}

macro_rules! common_methods {
    () => {
        /// The AEAD this context was set up with.
        pub fn aead(&self) -> Aead {
            self.0.aead
        }

        /// The sequence number the next message will use (the count of messages so far).
        pub fn sequence_number(&self) -> u128 {
            self.0.seq
        }

        /// The nonce the next message will use (checked by the vector runner).
        pub(crate) fn next_nonce(&self) -> Result<[u8; NONCE_LEN], HpkeError> {
            self.0.nonce()
        }

        /// `Export(exporter_context, L)` into `out` (`L = out.len()`): a secret bound to this
        /// context, equal on both sides. Works with every AEAD, including export-only.
        ///
        /// # Errors
        /// [`HpkeError::ExportTooLong`] when `out` is longer than 8160 bytes (`255 * Nh`).
        pub fn export_into(
            &self,
            exporter_context: &[u8],
            out: &mut [u8],
        ) -> Result<(), HpkeError> {
            self.0.export(exporter_context, out)
        }

        /// `Export(exporter_context, len)` as a [`Secret`] that is wiped on drop.
        ///
        /// # Errors
        /// [`HpkeError::ExportTooLong`] when `len` is more than 8160 bytes (`255 * Nh`).
        pub fn export(
            &self,
            exporter_context: &[u8],
            len: usize,
        ) -> Result<Secret<Vec<u8>>, HpkeError> {
            self.0.export_secret(exporter_context, len)
        }
    };
}

/// The sender's side of an HPKE context: seals messages in order.
///
/// `Debug` shows the AEAD and the sequence number, never key material.
pub struct SenderContext(Context);

impl SenderContext {
    pub(crate) fn new(schedule: &Schedule) -> Result<Self, HpkeError> {
        Context::new(schedule).map(Self)
    }

    /// `ContextS.Seal(aad, pt)`: encrypts `pt` at the current sequence number, then advances it.
    ///
    /// # Errors
    /// [`HpkeError::ExportOnly`] for an export-only context, [`HpkeError::MessageLimitReached`]
    /// once `2^96 - 1` messages have been sealed, [`HpkeError::SealFailed`] for input beyond
    /// AES-GCM's limits. The sequence number advances only on success.
    pub fn seal(&mut self, aad: &[u8], pt: &[u8]) -> Result<Vec<u8>, HpkeError> {
        let ct = self.0.cipher.seal(&self.0.nonce()?, aad, pt)?;
        self.0.seq += 1;
        Ok(ct)
    }

    common_methods!();
}

impl fmt::Debug for SenderContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SenderContext").field(&self.0).finish()
    }
}

/// The recipient's side of an HPKE context: opens messages in the order they were sealed.
///
/// `Debug` shows the AEAD and the sequence number, never key material.
pub struct ReceiverContext(Context);

impl ReceiverContext {
    pub(crate) fn new(schedule: &Schedule) -> Result<Self, HpkeError> {
        Context::new(schedule).map(Self)
    }

    /// `ContextR.Open(aad, ct)`: decrypts `ct` at the current sequence number, then advances it.
    ///
    /// # Errors
    /// [`HpkeError::OpenFailed`] (opaque) for a wrong key, a message out of order or tampered
    /// input; [`HpkeError::ExportOnly`] and [`HpkeError::MessageLimitReached`] as for
    /// [`SenderContext::seal`]. The sequence number advances only on success.
    pub fn open(&mut self, aad: &[u8], ct: &[u8]) -> Result<Vec<u8>, HpkeError> {
        let pt = self.0.cipher.open(&self.0.nonce()?, aad, ct)?;
        self.0.seq += 1;
        Ok(pt)
    }

    common_methods!();
}

impl fmt::Debug for ReceiverContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReceiverContext").field(&self.0).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::schedule::{Mode, key_schedule};
    use super::*;

    fn pair(aead: Aead) -> (SenderContext, ReceiverContext) {
        let schedule = key_schedule(Mode::Base, aead, &[3; 32], b"info", None).unwrap();
        (
            SenderContext::new(&schedule).unwrap(),
            ReceiverContext::new(&schedule).unwrap(),
        )
    }

    #[test]
    fn sequence_limit_is_a_typed_error_and_does_not_advance() {
        assert_eq!(check_seq(0), Ok(()));
        assert_eq!(check_seq(SEQ_LIMIT - 1), Ok(()));
        assert_eq!(check_seq(SEQ_LIMIT), Err(HpkeError::MessageLimitReached));
        assert_eq!(check_seq(u128::MAX), Err(HpkeError::MessageLimitReached));

        let (mut s, mut r) = pair(Aead::Aes128Gcm);
        s.0.seq = SEQ_LIMIT - 1;
        r.0.seq = SEQ_LIMIT - 1;
        let ct = s.seal(b"", b"last").unwrap();
        assert_eq!(r.open(b"", &ct).unwrap(), b"last");
        assert_eq!(s.sequence_number(), SEQ_LIMIT);
        assert_eq!(
            s.seal(b"", b"one more"),
            Err(HpkeError::MessageLimitReached)
        );
        assert_eq!(r.open(b"", &ct), Err(HpkeError::MessageLimitReached));
        assert_eq!(s.sequence_number(), SEQ_LIMIT);
    }

    #[test]
    fn nonce_is_base_xor_sequence() {
        let (mut s, _) = pair(Aead::Aes256Gcm);
        let base = *s.0.base_nonce;
        assert_eq!(s.0.nonce().unwrap(), base);
        s.0.seq = 0x0102;
        let mut expected = base;
        expected[10] ^= 0x01;
        expected[11] ^= 0x02;
        assert_eq!(s.0.nonce().unwrap(), expected);
        // The last usable sequence number, 2^96 - 2: all ones but the lowest bit.
        s.0.seq = SEQ_LIMIT - 1;
        let mut expected = base;
        for b in &mut expected {
            *b ^= 0xff;
        }
        expected[11] ^= 0x01;
        assert_eq!(s.0.nonce().unwrap(), expected);
    }

    #[test]
    fn failed_open_does_not_advance() {
        let (mut s, mut r) = pair(Aead::Aes128Gcm);
        let first = s.seal(b"a", b"1").unwrap();
        let second = s.seal(b"a", b"2").unwrap();
        assert_eq!(r.open(b"a", &second), Err(HpkeError::OpenFailed));
        assert_eq!(r.sequence_number(), 0);
        assert_eq!(r.open(b"a", &first).unwrap(), b"1");
        assert_eq!(r.open(b"a", &second).unwrap(), b"2");
    }
}
