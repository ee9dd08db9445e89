//! `GroupContext` (RFC 9420 §8.1): the summary of a group's state that every key derivation
//! and signature of an epoch is bound to.

use super::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use super::crypto::CIPHER_SUITE;

/// The only protocol version, `mls10`.
pub const PROTOCOL_VERSION: u16 = 1;

/// A generic extension: type and opaque data (RFC 9420 §13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The registered extension type.
    pub extension_type: u16,
    /// Its encoded body.
    pub extension_data: Vec<u8>,
}

impl Encode for Extension {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.extension_type.to_be_bytes());
        out.put_vector(&self.extension_data)
    }
}

impl Decode for Extension {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            extension_type: r.u16()?,
            extension_data: r.vector()?.to_vec(),
        })
    }
}

/// The group context of one epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupContext {
    /// Protocol version; [`PROTOCOL_VERSION`].
    pub version: u16,
    /// Cipher suite; 1 here.
    pub cipher_suite: u16,
    /// The application-chosen group identifier.
    pub group_id: Vec<u8>,
    /// The epoch number.
    pub epoch: u64,
    /// Root hash of the ratchet tree.
    pub tree_hash: Vec<u8>,
    /// Confirmed transcript hash after the commit that started this epoch.
    pub confirmed_transcript_hash: Vec<u8>,
    /// Group context extensions.
    pub extensions: Vec<Extension>,
}

impl GroupContext {
    /// A suite-1, `mls10` context without extensions.
    pub fn new(
        group_id: Vec<u8>,
        epoch: u64,
        tree_hash: Vec<u8>,
        confirmed_transcript_hash: Vec<u8>,
    ) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            cipher_suite: CIPHER_SUITE,
            group_id,
            epoch,
            tree_hash,
            confirmed_transcript_hash,
            extensions: Vec::new(),
        }
    }
}

impl Encode for GroupContext {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.cipher_suite.to_be_bytes());
        out.put_vector(&self.group_id)?;
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.put_vector(&self.tree_hash)?;
        out.put_vector(&self.confirmed_transcript_hash)?;
        out.put_vector_of(&self.extensions)
    }
}

impl Decode for GroupContext {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            version: r.u16()?,
            cipher_suite: r.u16()?,
            group_id: r.vector()?.to_vec(),
            epoch: r.u64()?,
            tree_hash: r.vector()?.to_vec(),
            confirmed_transcript_hash: r.vector()?.to_vec(),
            extensions: r.vector_of()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_extensions() {
        let mut gc = GroupContext::new(b"g".to_vec(), 7, vec![1; 32], vec![2; 32]);
        gc.extensions.push(Extension {
            extension_type: 2,
            extension_data: vec![9, 9],
        });
        let bytes = gc.to_bytes().unwrap();
        assert_eq!(&bytes[..6], &[0, 1, 0, 1, 1, b'g']);
        assert_eq!(GroupContext::from_bytes(&bytes).unwrap(), gc);
        assert!(GroupContext::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    }
}
