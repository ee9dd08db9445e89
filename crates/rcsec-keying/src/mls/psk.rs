//! Pre-shared keys and the `psk_secret` that injects them into the key schedule
//! (RFC 9420 §8.4).

use std::fmt;

use rcsec_core::Secret;

use super::codec::{CodecError, Decode, Encode, Reader, WriteExt};
use super::crypto::{CryptoError, HashSecret, NH, expand_with_label, extract};

/// What a resumption PSK is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumptionPskUsage {
    /// Application-defined resumption (1).
    Application,
    /// Re-initialisation of a group (2).
    Reinit,
    /// Branching a subgroup (3).
    Branch,
}

/// The source of a PSK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Psk {
    /// A PSK distributed out of band, named by `psk_id`.
    External {
        /// Its identifier.
        psk_id: Vec<u8>,
    },
    /// The `resumption_psk` of an earlier epoch of some group.
    Resumption {
        /// Why it is used.
        usage: ResumptionPskUsage,
        /// The group it comes from.
        psk_group_id: Vec<u8>,
        /// The epoch it comes from.
        psk_epoch: u64,
    },
}

/// `PreSharedKeyID`: which PSK, plus a fresh nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreSharedKeyId {
    /// The PSK's source and name.
    pub psk: Psk,
    /// A fresh random nonce of length `Nh`.
    pub psk_nonce: Vec<u8>,
}

impl Encode for PreSharedKeyId {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        match &self.psk {
            Psk::External { psk_id } => {
                out.push(1);
                out.put_vector(psk_id)?;
            }
            Psk::Resumption {
                usage,
                psk_group_id,
                psk_epoch,
            } => {
                out.push(2);
                out.push(match usage {
                    ResumptionPskUsage::Application => 1,
                    ResumptionPskUsage::Reinit => 2,
                    ResumptionPskUsage::Branch => 3,
                });
                out.put_vector(psk_group_id)?;
                out.extend_from_slice(&psk_epoch.to_be_bytes());
            }
        }
        out.put_vector(&self.psk_nonce)
    }
}

impl Decode for PreSharedKeyId {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let psk = match r.u8()? {
            1 => Psk::External {
                psk_id: r.vector()?.to_vec(),
            },
            2 => Psk::Resumption {
                usage: match r.u8()? {
                    1 => ResumptionPskUsage::Application,
                    2 => ResumptionPskUsage::Reinit,
                    3 => ResumptionPskUsage::Branch,
                    value => {
                        return Err(CodecError::UnknownValue {
                            field: "resumption_psk_usage",
                            value: u64::from(value),
                        });
                    }
                },
                psk_group_id: r.vector()?.to_vec(),
                psk_epoch: r.u64()?,
            },
            value => {
                return Err(CodecError::UnknownValue {
                    field: "psk_type",
                    value: u64::from(value),
                });
            }
        };
        Ok(Self {
            psk,
            psk_nonce: r.vector()?.to_vec(),
        })
    }
}

/// A PSK identifier together with its secret value.
pub struct PskInput {
    /// Which PSK.
    pub id: PreSharedKeyId,
    /// The PSK's value.
    pub secret: Secret<Vec<u8>>,
}

impl fmt::Debug for PskInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PskInput")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Why a `psk_secret` could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PskError {
    /// More than 65535 PSKs.
    #[error("too many psks")]
    TooMany,
    /// A PSK identifier could not be encoded.
    #[error("psk id encoding failed: {0}")]
    Encoding(#[from] CodecError),
    /// A derivation failed.
    #[error("psk derivation failed: {0}")]
    Crypto(#[from] CryptoError),
}

/// Folds the PSKs of a commit or welcome into `psk_secret`; no PSKs give `Nh` zero bytes.
///
/// For each PSK `i` of `n`: `input = ExpandWithLabel(Extract("", psk), "derived psk",
/// PreSharedKeyID || u16(i) || u16(n), Nh)`, then `acc = Extract(input, acc)`.
///
/// # Errors
/// [`PskError::TooMany`] above 65535 PSKs; encoding errors for oversized identifiers.
pub fn psk_secret(psks: &[PskInput]) -> Result<HashSecret, PskError> {
    let count = u16::try_from(psks.len()).map_err(|_| PskError::TooMany)?;
    let mut acc = Secret::new([0u8; NH]);
    for (index, psk) in (0..count).zip(psks) {
        let mut label = psk.id.to_bytes()?;
        label.extend_from_slice(&index.to_be_bytes());
        label.extend_from_slice(&count.to_be_bytes());
        let extracted = extract(&[], psk.secret.expose_secret());
        let input: HashSecret =
            expand_with_label(extracted.expose_secret(), "derived psk", &label)?;
        acc = extract(input.expose_secret(), acc.expose_secret());
    }
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn external(id: &[u8], value: &[u8]) -> PskInput {
        PskInput {
            id: PreSharedKeyId {
                psk: Psk::External {
                    psk_id: id.to_vec(),
                },
                psk_nonce: vec![0; NH],
            },
            secret: Secret::new(value.to_vec()),
        }
    }

    #[test]
    fn order_and_values_matter() {
        assert_eq!(psk_secret(&[]).unwrap().expose_secret(), &[0u8; NH]);
        let a = external(b"a", b"1");
        let b = external(b"b", b"2");
        let ab = psk_secret(&[external(b"a", b"1"), external(b"b", b"2")]).unwrap();
        let ba = psk_secret(&[b, a]).unwrap();
        assert_ne!(ab, ba);
        let changed = psk_secret(&[external(b"a", b"1"), external(b"b", b"3")]).unwrap();
        assert_ne!(ab, changed);
    }

    #[test]
    fn ids_round_trip_and_reject_unknown_types() {
        let id = PreSharedKeyId {
            psk: Psk::Resumption {
                usage: ResumptionPskUsage::Branch,
                psk_group_id: b"g".to_vec(),
                psk_epoch: 9,
            },
            psk_nonce: vec![5; 4],
        };
        let bytes = id.to_bytes().unwrap();
        assert_eq!(PreSharedKeyId::from_bytes(&bytes).unwrap(), id);
        assert!(PreSharedKeyId::from_bytes(&[3, 0, 0]).is_err());
        assert!(PreSharedKeyId::from_bytes(&[2, 4, 0]).is_err());
        assert!(!format!("{:?}", external(b"a", b"secretvalue")).contains("secretvalue"));
    }
}
