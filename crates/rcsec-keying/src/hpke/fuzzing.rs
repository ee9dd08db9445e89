//! The property behind the `hpke_open` fuzz target (not a stable API).

use std::sync::OnceLock;

use super::{Aead, HpkeError, PrivateKey, TAG_LEN, derive_key_pair, open_base};

/// The input keying material of the fixed recipient key the target opens with. Seeds sealed to
/// its public key reach the success path.
pub const RECIPIENT_IKM: &[u8] = b"rcsec fuzz hpke_open recipient key";

/// Opens `data`, read as `enc || ct`, with a fixed recipient key under both AES-GCM variants.
///
/// Never panics on any input; an accepted ciphertext is exactly one tag longer than its
/// plaintext; a refusal is one of the errors opening can give (never an internal error).
///
/// # Panics
/// When the property fails: that is the bug the fuzzer is looking for.
pub fn hpke_open(data: &[u8]) {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    let sk = KEY.get_or_init(|| match derive_key_pair(RECIPIENT_IKM) {
        Ok((sk, _)) => sk,
        Err(e) => panic!("deriving the fixed key cannot fail: {e}"),
    });
    let (enc, ct) = data.split_at(data.len().min(32));
    for aead in [Aead::Aes128Gcm, Aead::Aes256Gcm] {
        match open_base(aead, enc, sk, b"rcsec fuzz", b"", ct) {
            Ok(pt) => assert_eq!(pt.len() + TAG_LEN, ct.len(), "plaintext length"),
            Err(HpkeError::BadEncapsulation) => assert!(enc.len() < 32, "32-byte enc refused"),
            Err(HpkeError::OpenFailed | HpkeError::ZeroSharedSecret) => {}
            Err(other) => panic!("unexpected error opening: {other}"),
        }
    }
}
