//! HKDF-SHA256 with RFC 9180's labels: `LabeledExtract` and `LabeledExpand` (§4).
//!
//! Both functions take their inputs as lists of slices and feed them straight into HMAC, so the
//! labelled strings (`"HPKE-v1" || suite_id || label || ikm`) are never assembled in a buffer:
//! no allocation, and no extra copy of secret input that would need wiping.

use hkdf::{Hkdf, HkdfExtract};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use super::HpkeError;

/// `Nh`: the output length of HKDF-SHA256's extract step, in bytes.
pub(crate) const NH: usize = 32;

/// The longest output one HKDF-SHA256 expand can give: `255 * Nh`.
pub(crate) const MAX_EXPAND: usize = 255 * NH;

/// The version label every labelled input starts with.
const VERSION: &[u8] = b"HPKE-v1";

/// A pseudorandom key from `LabeledExtract`: its bytes (wiped on drop) and the HMAC state keyed
/// by them, ready for any number of expands without re-keying.
pub(crate) struct Prk {
    bytes: Zeroizing<[u8; NH]>,
    hkdf: Hkdf<Sha256>,
}

impl Prk {
    /// Wraps a key that is already pseudorandom (an exporter secret) for expanding.
    pub(crate) fn from_bytes(bytes: &[u8; NH]) -> Result<Self, HpkeError> {
        let hkdf = Hkdf::<Sha256>::from_prk(bytes).map_err(|_| HpkeError::Internal)?;
        Ok(Self {
            bytes: Zeroizing::new(*bytes),
            hkdf,
        })
    }

    /// The key itself (the vector runner compares it; nothing else should need it).
    pub(crate) fn bytes(&self) -> &[u8; NH] {
        &self.bytes
    }

    /// `LabeledExpand(prk, label, info, L)` into `out` (`L = out.len()`), with `info` given as
    /// parts that are concatenated.
    ///
    /// # Errors
    /// [`HpkeError::ExportTooLong`] when `out` is longer than [`MAX_EXPAND`].
    pub(crate) fn expand(
        &self,
        suite_id: &[u8],
        label: &[u8],
        info: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), HpkeError> {
        let too_long = HpkeError::ExportTooLong {
            requested: out.len(),
            max: MAX_EXPAND,
        };
        if out.len() > MAX_EXPAND {
            return Err(too_long);
        }
        let length = u16::try_from(out.len())
            .map_err(|_| too_long)?
            .to_be_bytes();
        let mut parts: [&[u8]; 8] = [&length, VERSION, suite_id, label, &[], &[], &[], &[]];
        let Some(slots) = parts.get_mut(4..4 + info.len()) else {
            return Err(HpkeError::Internal);
        };
        slots.copy_from_slice(info);
        self.hkdf
            .expand_multi_info(&parts[..4 + info.len()], out)
            .map_err(|_| too_long)
    }

    /// A fixed-size `LabeledExpand` whose result is wiped on drop.
    pub(crate) fn expand_array<const N: usize>(
        &self,
        suite_id: &[u8],
        label: &[u8],
        info: &[&[u8]],
    ) -> Result<Zeroizing<[u8; N]>, HpkeError> {
        let mut out = Zeroizing::new([0u8; N]);
        self.expand(suite_id, label, info, out.as_mut())?;
        Ok(out)
    }
}

/// `LabeledExtract(salt, label, ikm)` with `ikm` given as parts that are concatenated.
pub(crate) fn labeled_extract(salt: &[u8], suite_id: &[u8], label: &[u8], ikm: &[&[u8]]) -> Prk {
    let mut extract = HkdfExtract::<Sha256>::new(Some(salt));
    extract.input_ikm(VERSION);
    extract.input_ikm(suite_id);
    extract.input_ikm(label);
    for part in ikm {
        extract.input_ikm(part);
    }
    let (mut raw, hkdf) = extract.finalize();
    let mut bytes = Zeroizing::new([0u8; NH]);
    bytes.copy_from_slice(&raw);
    raw.as_mut_slice().zeroize();
    Prk { bytes, hkdf }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `LabeledExtract` of `ikm` split anywhere equals the extract of the whole, and equals a
    /// plain HKDF-Extract over the labelled string built by hand (RFC 9180 §4).
    #[test]
    fn labelled_inputs_are_concatenated() {
        let suite = b"KEM\x00\x20";
        let whole = labeled_extract(b"salt", suite, b"lbl", &[b"abcdef"]);
        let split = labeled_extract(b"salt", suite, b"lbl", &[b"ab", b"", b"cdef"]);
        assert_eq!(whole.bytes(), split.bytes());
        let (manual, _) = Hkdf::<Sha256>::extract(Some(b"salt"), b"HPKE-v1KEM\x00\x20lblabcdef");
        assert_eq!(whole.bytes().as_slice(), manual.as_slice());

        let mut ours = [0u8; 42];
        whole
            .expand(suite, b"x", &[b"in", b"fo"], &mut ours)
            .unwrap();
        let mut plain = [0u8; 42];
        Hkdf::<Sha256>::from_prk(whole.bytes())
            .unwrap()
            .expand(b"\x00\x2aHPKE-v1KEM\x00\x20xinfo", &mut plain)
            .unwrap();
        assert_eq!(ours, plain);
    }

    #[test]
    fn expand_limits_are_typed_errors() {
        let prk = labeled_extract(b"", b"s", b"l", &[]);
        let mut max = vec![0u8; MAX_EXPAND];
        assert!(prk.expand(b"s", b"l", &[], &mut max).is_ok());
        let mut over = vec![0u8; MAX_EXPAND + 1];
        assert_eq!(
            prk.expand(b"s", b"l", &[], &mut over),
            Err(HpkeError::ExportTooLong {
                requested: MAX_EXPAND + 1,
                max: MAX_EXPAND
            })
        );
        assert_eq!(
            prk.expand(b"s", b"l", &[b"1", b"2", b"3", b"4", b"5"], &mut [0u8; 4]),
            Err(HpkeError::Internal)
        );
    }
}
