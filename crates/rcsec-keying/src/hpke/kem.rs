//! DHKEM(X25519, HKDF-SHA256) (RFC 9180 §4.1, §7.1): keys, `DeriveKeyPair`, `Encap`/`Decap`
//! and their authenticated variants.

use std::fmt;

use rcsec_core::Secret;
use subtle::ConstantTimeEq;
use x25519_dalek::{SharedSecret, StaticSecret};
use zeroize::Zeroizing;

use super::HpkeError;
use super::kdf::labeled_extract;

/// The KEM identifier of DHKEM(X25519, HKDF-SHA256).
pub(crate) const KEM_ID: u16 = 0x0020;

/// `suite_id` for the KEM's own labelled derivations: `"KEM" || I2OSP(kem_id, 2)`.
const SUITE_ID: &[u8] = b"KEM\x00\x20";

/// Length of a serialized public key, private key, encapsulated key and shared secret (`Npk`,
/// `Nsk`, `Nenc`, `Nsecret`): all 32 bytes for this KEM.
pub const KEY_LEN: usize = 32;

/// An X25519 public key (a Montgomery u-coordinate).
///
/// Every 32-byte string is accepted, as RFC 7748 requires; a low-order point is caught where it
/// matters, when a Diffie-Hellman exchange with it yields the all-zero secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; KEY_LEN]);

impl PublicKey {
    /// Reads a serialized public key (`DeserializePublicKey`).
    ///
    /// # Errors
    /// [`HpkeError::KeyLength`] unless `bytes` is 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HpkeError> {
        <[u8; KEY_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| HpkeError::KeyLength {
                expected: KEY_LEN,
                actual: bytes.len(),
            })
    }

    /// The serialized key (`SerializePublicKey`).
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn point(&self) -> x25519_dalek::PublicKey {
        x25519_dalek::PublicKey::from(self.0)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.0))
    }
}

/// An X25519 private key, with its public key computed once at construction.
///
/// # Security
/// The scalar is wiped when the key is dropped and never appears in `Debug` output; reading it
/// takes an explicit [`PrivateKey::to_bytes`].
#[derive(Clone)]
pub struct PrivateKey {
    secret: StaticSecret,
    public: PublicKey,
}

impl PrivateKey {
    /// Reads a serialized private key (`DeserializePrivateKey`): 32 bytes, clamped when used.
    ///
    /// # Errors
    /// [`HpkeError::KeyLength`] unless `bytes` is 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HpkeError> {
        let array =
            Zeroizing::new(
                <[u8; KEY_LEN]>::try_from(bytes).map_err(|_| HpkeError::KeyLength {
                    expected: KEY_LEN,
                    actual: bytes.len(),
                })?,
            );
        Ok(Self::from_array(&array))
    }

    fn from_array(bytes: &[u8; KEY_LEN]) -> Self {
        let secret = StaticSecret::from(*bytes);
        let public = PublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes());
        Self { secret, public }
    }

    /// The matching public key (computed once, when this key was made).
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The serialized key (`SerializePrivateKey`), exactly as derived or given (unclamped).
    pub fn to_bytes(&self) -> Secret<[u8; KEY_LEN]> {
        Secret::new(self.secret.to_bytes())
    }

    /// X25519 with `peer`, refusing the all-zero result (RFC 9180 §7.1.4).
    fn dh(&self, peer: &PublicKey) -> Result<SharedSecret, HpkeError> {
        let shared = self.secret.diffie_hellman(&peer.point());
        if bool::from(shared.as_bytes().ct_eq(&[0u8; KEY_LEN])) {
            return Err(HpkeError::ZeroSharedSecret);
        }
        Ok(shared)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// `DeriveKeyPair(ikm)` (RFC 9180 §7.1.3): a deterministic key pair from input keying material.
///
/// `ikm` should hold at least 32 bytes of entropy; it is not checked, since protocols such as
/// MLS derive key pairs from secrets whose strength the caller vouches for.
///
/// # Errors
/// [`HpkeError::Internal`] only if HKDF fails, which cannot happen for these lengths.
pub fn derive_key_pair(ikm: &[u8]) -> Result<(PrivateKey, PublicKey), HpkeError> {
    let dkp_prk = labeled_extract(b"", SUITE_ID, b"dkp_prk", &[ikm]);
    let sk = dkp_prk.expand_array::<KEY_LEN>(SUITE_ID, b"sk", &[])?;
    let key = PrivateKey::from_array(&sk);
    let public = key.public;
    Ok((key, public))
}

/// `GenerateKeyPair()`: a fresh key pair from the operating system's random number generator.
///
/// # Errors
/// [`HpkeError::Rng`] when the OS RNG fails.
pub fn generate_key_pair() -> Result<(PrivateKey, PublicKey), HpkeError> {
    let mut sk = Zeroizing::new([0u8; KEY_LEN]);
    getrandom::fill(sk.as_mut()).map_err(|_| HpkeError::Rng)?;
    let key = PrivateKey::from_array(&sk);
    let public = key.public;
    Ok((key, public))
}

/// The KEM's shared secret, wiped on drop.
pub(crate) type KemSecret = Zeroizing<[u8; KEY_LEN]>;

/// `Encap(pkR)` with a given ephemeral key, or `AuthEncap(pkR, skS)` when `sender` is set.
///
/// Randomness is the caller's: production code passes a fresh [`generate_key_pair`] key; the
/// vector runner passes the vectors' `skEm`.
pub(crate) fn encap(
    ephemeral: &PrivateKey,
    recipient: &PublicKey,
    sender: Option<&PrivateKey>,
) -> Result<([u8; KEY_LEN], KemSecret), HpkeError> {
    let enc = ephemeral.public.0;
    let dh_e = ephemeral.dh(recipient)?;
    let shared = match sender {
        None => extract_and_expand(&[dh_e.as_bytes()], &[&enc, &recipient.0])?,
        Some(sender) => {
            let dh_s = sender.dh(recipient)?;
            extract_and_expand(
                &[dh_e.as_bytes(), dh_s.as_bytes()],
                &[&enc, &recipient.0, &sender.public.0],
            )?
        }
    };
    Ok((enc, shared))
}

/// `Decap(enc, skR)`, or `AuthDecap(enc, skR, pkS)` when `sender` is set.
pub(crate) fn decap(
    enc: &[u8],
    recipient: &PrivateKey,
    sender: Option<&PublicKey>,
) -> Result<KemSecret, HpkeError> {
    let ephemeral = PublicKey::from_bytes(enc).map_err(|_| HpkeError::BadEncapsulation)?;
    let dh_e = recipient.dh(&ephemeral)?;
    match sender {
        None => extract_and_expand(&[dh_e.as_bytes()], &[enc, &recipient.public.0]),
        Some(sender) => {
            let dh_s = recipient.dh(sender)?;
            extract_and_expand(
                &[dh_e.as_bytes(), dh_s.as_bytes()],
                &[enc, &recipient.public.0, &sender.0],
            )
        }
    }
}

/// `ExtractAndExpand(dh, kem_context)`, both given as parts that are concatenated.
fn extract_and_expand(dh: &[&[u8]], kem_context: &[&[u8]]) -> Result<KemSecret, HpkeError> {
    let eae_prk = labeled_extract(b"", SUITE_ID, b"eae_prk", dh);
    eae_prk.expand_array(SUITE_ID, b"shared_secret", kem_context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_lengths_are_typed_errors() {
        assert_eq!(
            PublicKey::from_bytes(&[1; 31]),
            Err(HpkeError::KeyLength {
                expected: 32,
                actual: 31
            })
        );
        assert_eq!(
            PrivateKey::from_bytes(&[1; 33]).map(|k| k.public_key()),
            Err(HpkeError::KeyLength {
                expected: 32,
                actual: 33
            })
        );
        let (sk, _) = generate_key_pair().unwrap();
        assert_eq!(
            decap(&[9; 31], &sk, None).map(|_| ()),
            Err(HpkeError::BadEncapsulation)
        );
    }

    #[test]
    fn keys_round_trip_and_pairs_agree() {
        let (sk, pk) = derive_key_pair(b"some input keying material of 32").unwrap();
        assert_eq!(sk.public_key(), pk);
        let again = PrivateKey::from_bytes(sk.to_bytes().expose_secret()).unwrap();
        assert_eq!(again.public_key(), pk);
        assert_eq!(PublicKey::from_bytes(pk.as_bytes()).unwrap(), pk);
        let (other, _) = generate_key_pair().unwrap();
        assert_ne!(other.public_key(), pk);
    }

    #[test]
    fn encap_and_decap_agree_with_and_without_sender() {
        let (sk_r, pk_r) = generate_key_pair().unwrap();
        let (sk_s, pk_s) = generate_key_pair().unwrap();
        let (sk_e, _) = generate_key_pair().unwrap();
        let (enc, ss) = encap(&sk_e, &pk_r, None).unwrap();
        assert_eq!(*decap(&enc, &sk_r, None).unwrap(), *ss);
        let (enc, ss_auth) = encap(&sk_e, &pk_r, Some(&sk_s)).unwrap();
        assert_eq!(*decap(&enc, &sk_r, Some(&pk_s)).unwrap(), *ss_auth);
        assert_ne!(*ss, *ss_auth);
        assert_ne!(*decap(&enc, &sk_r, Some(&pk_r)).unwrap(), *ss_auth);
    }
}
