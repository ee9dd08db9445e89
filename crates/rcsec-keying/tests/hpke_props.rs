//! Properties of HPKE over generated inputs: any message round-trips in any mode and AEAD,
//! and any single flipped bit of `enc || ct` is refused.
//!
//! Inputs come from a fixed-seed xorshift stream, so every run checks the same cases and a
//! failure names the case that reproduces it.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use rcsec_keying::hpke::{self, Aead, HpkeError, Psk, ReceiverMode, SenderMode};

struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }

    fn bytes(&mut self, min: usize, max: usize) -> Vec<u8> {
        let len = min + self.below(max - min + 1);
        (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
    }
}

#[test]
fn any_message_round_trips_and_any_bit_flip_is_refused() {
    let mut rng = Stream(0x9E37_79B9_7F4A_7C15);
    for case in 0..64 {
        let aead = [Aead::Aes128Gcm, Aead::Aes256Gcm][rng.below(2)];
        let (info, aad, pt) = (rng.bytes(0, 64), rng.bytes(0, 64), rng.bytes(0, 300));
        let (psk, psk_id) = (rng.bytes(1, 48), rng.bytes(1, 16));
        let (sk_r, pk_r) = hpke::derive_key_pair(&rng.bytes(32, 32)).unwrap();
        let (sk_s, pk_s) = hpke::derive_key_pair(&rng.bytes(32, 32)).unwrap();
        let psk = Psk::new(&psk, &psk_id);
        let (sender_mode, receiver_mode) = [
            (SenderMode::Base, ReceiverMode::Base),
            (SenderMode::Psk(psk), ReceiverMode::Psk(psk)),
            (SenderMode::Auth(&sk_s), ReceiverMode::Auth(&pk_s)),
            (
                SenderMode::AuthPsk(psk, &sk_s),
                ReceiverMode::AuthPsk(psk, &pk_s),
            ),
        ][rng.below(4)];

        let (enc, ct) = hpke::seal(aead, &pk_r, &info, &aad, &pt, sender_mode).unwrap();
        assert_eq!(ct.len(), pt.len() + hpke::TAG_LEN, "case {case}");
        let opened = hpke::open(aead, &enc, &sk_r, &info, &aad, &ct, receiver_mode).unwrap();
        assert_eq!(opened, pt, "case {case}");

        let mut message = [enc, ct].concat();
        let at = rng.below(message.len());
        message[at] ^= 1 << rng.below(8);
        let (enc, ct) = message.split_at(hpke::KEY_LEN);
        let refused = hpke::open(aead, enc, &sk_r, &info, &aad, ct, receiver_mode);
        assert!(
            matches!(
                refused,
                Err(HpkeError::OpenFailed | HpkeError::ZeroSharedSecret)
            ),
            "case {case}: flipped byte {at} gave {refused:?}"
        );
    }
}
