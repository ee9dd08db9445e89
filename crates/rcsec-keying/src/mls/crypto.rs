//! The cryptographic primitives of cipher suite 1,
//! `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519` (RFC 9420 §5): SHA-256, HKDF-SHA256,
//! HMAC-SHA256, AES-128-GCM and Ed25519, with MLS's labelled constructions on top.
//!
//! Every label gets the `"MLS 1.0 "` prefix here, so callers pass the bare RFC label
//! (`"encryption"`, `"FramedContentTBS"`, ...). Failures are deliberately opaque.

use std::fmt;

use aes_gcm::{
    Aes128Gcm,
    aead::{Aead, KeyInit, Payload},
};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use rcsec_core::Secret;
use sha2::{Digest, Sha256};

use super::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use crate::hpke::{self, HpkeError};

pub use crate::hpke::{PrivateKey as HpkeSecretKey, PublicKey as HpkePublicKey};

/// Output length of the suite's hash and KDF (`KDF.Nh`).
pub const NH: usize = 32;
/// Key length of the suite's AEAD (`AEAD.Nk`).
pub const NK: usize = 16;
/// Nonce length of the suite's AEAD (`AEAD.Nn`).
pub const NN: usize = 12;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// The cipher suite this module implements.
pub const CIPHER_SUITE: u16 = 1;
/// Prefix added to every label.
const LABEL_PREFIX: &[u8] = b"MLS 1.0 ";

/// A 32-byte secret (an MLS `Nh`-sized value), zeroized on drop and never printed.
pub type HashSecret = Secret<[u8; NH]>;

/// Why a cryptographic operation failed. Deliberately carries no detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A requested output or input length is not allowed.
    #[error("invalid length")]
    InvalidLength,
    /// Authenticated decryption failed.
    #[error("decryption failed")]
    Decrypt,
    /// Authenticated encryption failed.
    #[error("encryption failed")]
    Encrypt,
    /// A signature did not verify.
    #[error("invalid signature")]
    BadSignature,
    /// A MAC did not verify.
    #[error("invalid mac")]
    BadMac,
    /// A key was malformed.
    #[error("invalid key")]
    InvalidKey,
    /// The OS random number generator failed.
    #[error("random number generator failed")]
    Random,
    /// HPKE failed (opaque; see [`HpkeError`] for the causes).
    #[error("hpke failed: {0}")]
    Hpke(#[from] HpkeError),
    /// A labelled input could not be encoded.
    #[error("encoding failed: {0}")]
    Encoding(#[from] CodecError),
}

/// SHA-256 of `data`.
pub fn hash(data: &[u8]) -> [u8; NH] {
    Sha256::digest(data).into()
}

/// Copies a 32-byte secret from a slice.
///
/// # Errors
/// [`CryptoError::InvalidLength`] unless `bytes` is exactly [`NH`] bytes.
pub fn hash_secret(bytes: &[u8]) -> Result<HashSecret, CryptoError> {
    let mut out = Secret::new([0u8; NH]);
    if bytes.len() != NH {
        return Err(CryptoError::InvalidLength);
    }
    out.expose_secret_mut().copy_from_slice(bytes);
    Ok(out)
}

/// `RefHash(label, value) = Hash(V(label) || V(value))` (RFC 9420 §5.2); `label` is used as
/// given (the RFC's labels already carry the `"MLS 1.0 "` prefix).
///
/// # Errors
/// [`CryptoError::Encoding`] for inputs over the vector limit.
pub fn ref_hash(label: &[u8], value: &[u8]) -> Result<[u8; NH], CryptoError> {
    let mut input = Vec::with_capacity(label.len() + value.len() + 8);
    input.put_vector(label)?;
    input.put_vector(value)?;
    Ok(hash(&input))
}

/// HKDF-Extract with SHA-256.
pub fn extract(salt: &[u8], ikm: &[u8]) -> HashSecret {
    let (prk, _) = hkdf::Hkdf::<Sha256>::extract(Some(salt), ikm);
    let mut out = Secret::new([0u8; NH]);
    out.expose_secret_mut().copy_from_slice(&prk);
    out
}

/// `ExpandWithLabel(secret, label, context, N)` into a fixed-size secret (RFC 9420 §5.1.1):
/// HKDF-Expand with info `u16(N) || V("MLS 1.0 " + label) || V(context)`.
///
/// # Errors
/// [`CryptoError::InvalidLength`] when `secret` is not a valid PRK or `N` is too large.
pub fn expand_with_label<const N: usize>(
    secret: &[u8],
    label: &str,
    context: &[u8],
) -> Result<Secret<[u8; N]>, CryptoError> {
    let mut out = Secret::new([0u8; N]);
    expand_with_label_into(secret, label, context, out.expose_secret_mut())?;
    Ok(out)
}

/// [`expand_with_label`] with a length known only at run time.
///
/// # Errors
/// [`CryptoError::InvalidLength`] when `length` exceeds what HKDF-SHA256 can produce.
pub fn expand_with_label_vec(
    secret: &[u8],
    label: &str,
    context: &[u8],
    length: u16,
) -> Result<Secret<Vec<u8>>, CryptoError> {
    let mut out = Secret::new(vec![0u8; usize::from(length)]);
    expand_with_label_into(secret, label, context, out.expose_secret_mut())?;
    Ok(out)
}

fn expand_with_label_into(
    secret: &[u8],
    label: &str,
    context: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let length = u16::try_from(out.len()).map_err(|_| CryptoError::InvalidLength)?;
    let mut full_label = Vec::with_capacity(LABEL_PREFIX.len() + label.len());
    full_label.extend_from_slice(LABEL_PREFIX);
    full_label.extend_from_slice(label.as_bytes());
    let mut info = Vec::with_capacity(full_label.len() + context.len() + 10);
    info.extend_from_slice(&length.to_be_bytes());
    info.put_vector(&full_label)?;
    info.put_vector(context)?;
    let hkdf = hkdf::Hkdf::<Sha256>::from_prk(secret).map_err(|_| CryptoError::InvalidLength)?;
    hkdf.expand(&info, out)
        .map_err(|_| CryptoError::InvalidLength)
}

/// `DeriveSecret(secret, label) = ExpandWithLabel(secret, label, "", Nh)`.
///
/// # Errors
/// [`CryptoError::InvalidLength`] when `secret` is not a valid PRK.
pub fn derive_secret(secret: &[u8], label: &str) -> Result<HashSecret, CryptoError> {
    expand_with_label(secret, label, &[])
}

/// `DeriveTreeSecret(secret, label, generation, N)`: ExpandWithLabel with the generation as a
/// big-endian `u32` context (RFC 9420 §9).
///
/// # Errors
/// [`CryptoError::InvalidLength`].
pub fn derive_tree_secret<const N: usize>(
    secret: &[u8],
    label: &str,
    generation: u32,
) -> Result<Secret<[u8; N]>, CryptoError> {
    expand_with_label(secret, label, &generation.to_be_bytes())
}

/// HMAC-SHA256 of `data` under `key` (`MAC` in RFC 9420).
///
/// # Errors
/// [`CryptoError::InvalidKey`] (cannot happen for HMAC, which accepts any key length).
pub fn mac(key: &[u8], data: &[u8]) -> Result<[u8; NH], CryptoError> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).map_err(|_| CryptoError::InvalidKey)?;
    m.update(data);
    Ok(m.finalize().into_bytes().into())
}

/// Checks `tag == MAC(key, data)` in constant time.
///
/// # Errors
/// [`CryptoError::BadMac`] on mismatch (including a tag of the wrong length).
pub fn verify_mac(key: &[u8], data: &[u8], tag: &[u8]) -> Result<(), CryptoError> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).map_err(|_| CryptoError::InvalidKey)?;
    m.update(data);
    m.verify_slice(tag).map_err(|_| CryptoError::BadMac)
}

/// An AES-128-GCM key and base nonce pair, as the secret tree and welcome derive them.
#[derive(Clone)]
pub struct AeadKey {
    key: Secret<[u8; NK]>,
    nonce: Secret<[u8; NN]>,
}

impl fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AeadKey").finish_non_exhaustive()
    }
}

impl AeadKey {
    /// Wraps a key and nonce.
    pub fn new(key: Secret<[u8; NK]>, nonce: Secret<[u8; NN]>) -> Self {
        Self { key, nonce }
    }

    /// The key bytes. Do not log or store.
    pub fn key(&self) -> &[u8; NK] {
        self.key.expose_secret()
    }

    /// The base nonce bytes. Do not log or store.
    pub fn nonce(&self) -> &[u8; NN] {
        self.nonce.expose_secret()
    }

    /// Seals `plaintext` with `nonce` (which may differ from the base nonce, e.g. after the
    /// reuse guard is applied).
    ///
    /// # Errors
    /// [`CryptoError::Encrypt`].
    pub fn seal_with_nonce(
        &self,
        nonce: &[u8; NN],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let cipher = Aes128Gcm::new_from_slice(self.key()).map_err(|_| CryptoError::InvalidKey)?;
        cipher
            .encrypt(
                &(*nonce).into(),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Encrypt)
    }

    /// Opens `ciphertext` with `nonce`; the plaintext is zeroized on drop.
    ///
    /// # Errors
    /// [`CryptoError::Decrypt`] on any authentication failure.
    pub fn open_with_nonce(
        &self,
        nonce: &[u8; NN],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret<Vec<u8>>, CryptoError> {
        let cipher = Aes128Gcm::new_from_slice(self.key()).map_err(|_| CryptoError::InvalidKey)?;
        cipher
            .decrypt(
                &(*nonce).into(),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Secret::new)
            .map_err(|_| CryptoError::Decrypt)
    }

    /// Seals with the base nonce.
    ///
    /// # Errors
    /// [`CryptoError::Encrypt`].
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.seal_with_nonce(self.nonce(), aad, plaintext)
    }

    /// Opens with the base nonce.
    ///
    /// # Errors
    /// [`CryptoError::Decrypt`].
    pub fn open(&self, aad: &[u8], ciphertext: &[u8]) -> Result<Secret<Vec<u8>>, CryptoError> {
        self.open_with_nonce(self.nonce(), aad, ciphertext)
    }
}

/// `V("MLS 1.0 " + label) || V(content)`: the signed content of SignWithLabel and the HPKE
/// info of EncryptWithLabel.
fn sign_content(label: &str, content: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut full_label = Vec::with_capacity(LABEL_PREFIX.len() + label.len());
    full_label.extend_from_slice(LABEL_PREFIX);
    full_label.extend_from_slice(label.as_bytes());
    let mut out = Vec::with_capacity(full_label.len() + content.len() + 8);
    out.put_vector(&full_label)?;
    out.put_vector(content)?;
    Ok(out)
}

/// An Ed25519 signing key (the 32-byte seed), zeroized on drop.
#[derive(Clone)]
pub struct SignatureSecretKey(SigningKey);

impl fmt::Debug for SignatureSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SignatureSecretKey")
            .field(&self.public_key())
            .finish()
    }
}

impl SignatureSecretKey {
    /// A key from its 32-byte seed.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] for a seed of the wrong length.
    pub fn from_seed(seed: &[u8]) -> Result<Self, CryptoError> {
        let seed: &[u8; 32] = seed.try_into().map_err(|_| CryptoError::InvalidKey)?;
        Ok(Self(SigningKey::from_bytes(seed)))
    }

    /// A fresh key from the OS random number generator.
    ///
    /// # Errors
    /// [`CryptoError::Random`].
    pub fn generate() -> Result<Self, CryptoError> {
        let mut seed = Secret::new([0u8; 32]);
        getrandom::fill(seed.expose_secret_mut()).map_err(|_| CryptoError::Random)?;
        Ok(Self(SigningKey::from_bytes(seed.expose_secret())))
    }

    /// The 32-byte seed, for persisting a group state; zeroized when the copy drops.
    pub fn to_seed(&self) -> Secret<[u8; 32]> {
        Secret::new(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> SignaturePublicKey {
        SignaturePublicKey(self.0.verifying_key())
    }

    /// `SignWithLabel(key, label, content)`: Ed25519 over `V("MLS 1.0 " + label) || V(content)`.
    ///
    /// # Errors
    /// [`CryptoError::Encoding`] for content over the vector limit.
    pub fn sign_with_label(
        &self,
        label: &str,
        content: &[u8],
    ) -> Result<[u8; SIGNATURE_LEN], CryptoError> {
        Ok(self.0.sign(&sign_content(label, content)?).to_bytes())
    }
}

/// An Ed25519 verification key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignaturePublicKey(VerifyingKey);

impl fmt::Debug for SignaturePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignaturePublicKey({})", hex::encode(self.0.as_bytes()))
    }
}

impl SignaturePublicKey {
    /// A key from its 32-byte encoding.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] for a wrong length or a point that does not decode.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let bytes: &[u8; 32] = bytes.try_into().map_err(|_| CryptoError::InvalidKey)?;
        VerifyingKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidKey)
    }

    /// The 32-byte encoding.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// `VerifyWithLabel(key, label, content, signature)`, using strict Ed25519 verification
    /// (rejects small-order keys and non-canonical signatures).
    ///
    /// # Errors
    /// [`CryptoError::BadSignature`].
    pub fn verify_with_label(
        &self,
        label: &str,
        content: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let signature = ed25519_dalek::Signature::from_slice(signature)
            .map_err(|_| CryptoError::BadSignature)?;
        self.0
            .verify_strict(&sign_content(label, content)?, &signature)
            .map_err(|_| CryptoError::BadSignature)
    }
}

/// `HPKECiphertext`: an HPKE encapsulation and ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct HpkeCiphertext {
    /// The encapsulated key (`enc`).
    pub kem_output: Vec<u8>,
    /// The AEAD ciphertext.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for HpkeCiphertext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HpkeCiphertext")
            .field("kem_output_len", &self.kem_output.len())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

impl Encode for HpkeCiphertext {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.put_vector(&self.kem_output)?;
        out.put_vector(&self.ciphertext)
    }
}

impl Decode for HpkeCiphertext {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            kem_output: r.vector()?.to_vec(),
            ciphertext: r.vector()?.to_vec(),
        })
    }
}

/// `EncryptWithLabel(pk, label, context, plaintext)`: HPKE base-mode single-shot seal
/// (DHKEM-X25519, HKDF-SHA256, AES-128-GCM) with info `V("MLS 1.0 " + label) || V(context)`
/// and empty aad.
///
/// # Errors
/// [`CryptoError::Hpke`] (e.g. a low-order public key), [`CryptoError::Encoding`].
pub fn encrypt_with_label(
    public_key: &HpkePublicKey,
    label: &str,
    context: &[u8],
    plaintext: &[u8],
) -> Result<HpkeCiphertext, CryptoError> {
    let info = sign_content(label, context)?;
    let (kem_output, ciphertext) =
        hpke::seal_base(hpke::Aead::Aes128Gcm, public_key, &info, &[], plaintext)?;
    Ok(HpkeCiphertext {
        kem_output,
        ciphertext,
    })
}

/// `DecryptWithLabel(sk, label, context, kem_output, ciphertext)`; the plaintext is zeroized
/// on drop.
///
/// # Errors
/// [`CryptoError::Hpke`] for any failure (opaque).
pub fn decrypt_with_label(
    secret_key: &HpkeSecretKey,
    label: &str,
    context: &[u8],
    ciphertext: &HpkeCiphertext,
) -> Result<Secret<Vec<u8>>, CryptoError> {
    let info = sign_content(label, context)?;
    hpke::open_base(
        hpke::Aead::Aes128Gcm,
        &ciphertext.kem_output,
        secret_key,
        &info,
        &[],
        &ciphertext.ciphertext,
    )
    .map(Secret::new)
    .map_err(CryptoError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_label_and_content() {
        let sk = SignatureSecretKey::generate().unwrap();
        let pk = sk.public_key();
        let sig = sk.sign_with_label("A", b"content").unwrap();
        pk.verify_with_label("A", b"content", &sig).unwrap();
        assert!(pk.verify_with_label("B", b"content", &sig).is_err());
        assert!(pk.verify_with_label("A", b"contenT", &sig).is_err());
        assert!(pk.verify_with_label("A", b"content", &sig[..63]).is_err());
        assert!(!format!("{sk:?}").contains(&hex::encode(sk.0.to_bytes())));
    }

    #[test]
    fn mac_and_aead_reject_tampering() {
        let tag = mac(b"k", b"data").unwrap();
        verify_mac(b"k", b"data", &tag).unwrap();
        assert_eq!(verify_mac(b"k", b"datA", &tag), Err(CryptoError::BadMac));
        assert_eq!(
            verify_mac(b"k", b"data", &tag[..31]),
            Err(CryptoError::BadMac)
        );
        let key = AeadKey::new(Secret::new([1; NK]), Secret::new([2; NN]));
        let mut ct = key.seal(b"aad", b"hello").unwrap();
        assert_eq!(key.open(b"aad", &ct).unwrap().expose_secret(), b"hello");
        assert_eq!(key.open(b"aaD", &ct).unwrap_err(), CryptoError::Decrypt);
        ct[0] ^= 1;
        assert_eq!(key.open(b"aad", &ct).unwrap_err(), CryptoError::Decrypt);
        assert_eq!(format!("{key:?}"), "AeadKey { .. }");
    }

    #[test]
    fn expand_rejects_bad_prk_and_lengths() {
        assert!(expand_with_label::<16>(&[0; 8], "x", &[]).is_err());
        assert!(expand_with_label_vec(&[0; NH], "x", &[], 255 * 32 + 1).is_err());
        assert!(expand_with_label_vec(&[0; NH], "x", &[], 255 * 32).is_ok());
    }
}
