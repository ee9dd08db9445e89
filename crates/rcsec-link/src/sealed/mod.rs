//! Sealed payloads: client-side AES-256-GCM in fixed-size records (the STREAM construction),
//! so the server stores only ciphertext and a 1 GiB bundle seals and opens in constant memory.
//!
//! # Format
//! ```text
//! header (29 bytes): "RCSP" | version 1 | log2(record size) | nonce prefix (7 random bytes)
//!                    | commitment: HMAC-SHA256(key, "rcsec-sealed/v1/commit" | header[..13]
//!                                   | link id | content type)[..16]
//! records:           AES-256-GCM(key, nonce = prefix | counter u32 BE | final flag,
//!                                aad = header[..13] | link id | len | content type)
//!                    every record but the last holds exactly `record size` plaintext bytes;
//!                    the last (flag 1) holds fewer, possibly none.
//! ```
//! Artifacts are sealed as self-describing items ([`encode_item`]): their file name and MIME
//! type ride inside the ciphertext, under the sealing content type [`ITEM_CONTENT_TYPE`].
//!
//! The commitment makes a wrong key, link id or content type fail up front
//! ([`OpenError::WrongContext`]) and makes the ciphertext key-committing (GCM alone is not).
//! The counter in each nonce detects reordering and duplication, the final flag truncation.

mod item;
mod key_transport;
mod stream;

use std::fmt;

use rcsec_core::Secret;

pub use item::{
    ITEM_CONTENT_TYPE, ItemError, ItemMeta, MAX_NAME_BYTES, MAX_TYPE_BYTES, decode_item,
    encode_item,
};
pub use key_transport::{DeviceKeyEnvelope, FragmentError, LinkUrl, link_url};
pub use stream::{
    OpenError, OpeningReader, RECORD_SIZE, SealError, SealingWriter, open_to_vec, seal_to_vec,
};

use crate::rng::{RandomError, RandomSource};
use crate::token::LinkId;

/// A payload key: 256 random bits, fresh for every payload. Wiped on drop; `Debug` redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PayloadKey(Secret<[u8; 32]>);

impl PayloadKey {
    /// A fresh key from `rng`.
    ///
    /// # Errors
    /// [`RandomError`].
    pub fn generate(rng: &dyn RandomSource) -> Result<Self, RandomError> {
        let mut key = Secret::new([0u8; 32]);
        rng.fill(key.expose_secret_mut())?;
        Ok(Self(key))
    }

    /// Wraps key bytes (from a fragment or an HPKE envelope).
    pub fn from_secret(key: Secret<[u8; 32]>) -> Self {
        Self(key)
    }

    /// The key bytes.
    ///
    /// # Security
    /// Never log or store them server-side.
    pub fn expose_secret(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for PayloadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PayloadKey(<redacted>)")
    }
}

/// What a payload is bound to: its link and its content type (both authenticated).
#[derive(Debug, Clone, Copy)]
pub struct SealContext<'a> {
    /// The link that releases the payload.
    pub link_id: &'a LinkId,
    /// MIME type shown to the recipient, at most 255 bytes of printable ASCII.
    pub content_type: &'a str,
}

impl<'a> SealContext<'a> {
    /// A context for `link_id` and `content_type`.
    pub fn new(link_id: &'a LinkId, content_type: &'a str) -> Self {
        Self {
            link_id,
            content_type,
        }
    }
}
