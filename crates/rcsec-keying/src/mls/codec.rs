//! The TLS presentation language as MLS uses it (RFC 9420 §2.1): big-endian integers,
//! QUIC-style variable-length vectors, optional values and structs.
//!
//! Decoding is bounds-checked everywhere: a length prefix longer than the remaining input is
//! [`CodecError::Truncated`], one above [`MAX_VECTOR_LEN`] is [`CodecError::LengthOverLimit`],
//! a length prefix that is not minimal is [`CodecError::NonMinimalVarint`] (RFC 9420 requires
//! the minimum encoding), and [`Decode::from_bytes`] rejects [`CodecError::TrailingBytes`].
//! Nothing here allocates more than the input it has already seen.

/// The largest vector (in bytes) this codec accepts or produces.
///
/// MLS allows up to 2^30 - 1; rcsec messages are far smaller, so a tighter bound keeps
/// hostile length prefixes from reserving memory. 1 MiB covers every structure rcsec uses.
pub const MAX_VECTOR_LEN: usize = 1 << 20;

/// The largest length the varint prefix can express (30 bits).
const VARINT_MAX: u64 = (1 << 30) - 1;

/// Why bytes could not be decoded, or a value encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The input ended before the structure did.
    #[error("input truncated")]
    Truncated,
    /// A vector length exceeds [`MAX_VECTOR_LEN`] (or the varint range when encoding).
    #[error("vector length over limit")]
    LengthOverLimit,
    /// Bytes remained after a complete structure.
    #[error("trailing bytes after structure")]
    TrailingBytes,
    /// A varint used more bytes than needed, or the reserved `11` prefix.
    #[error("non-minimal or invalid varint")]
    NonMinimalVarint,
    /// An enum or presence byte had a value this implementation does not know.
    #[error("unknown value {value} for {field}")]
    UnknownValue {
        /// Which field.
        field: &'static str,
        /// The value seen.
        value: u64,
    },
    /// A structurally valid field carried a value that is not allowed here.
    #[error("invalid value for {0}")]
    Invalid(&'static str),
}

/// A cursor over input bytes that never reads past its end.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> &'a [u8] {
        self.buf
    }

    /// True when everything was read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Fails with [`CodecError::TrailingBytes`] unless everything was read.
    ///
    /// # Errors
    /// [`CodecError::TrailingBytes`].
    pub fn finish(&self) -> Result<(), CodecError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(CodecError::TrailingBytes)
        }
    }

    /// Takes the next `n` bytes.
    ///
    /// # Errors
    /// [`CodecError::Truncated`] when fewer remain.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let (head, tail) = self.buf.split_at_checked(n).ok_or(CodecError::Truncated)?;
        self.buf = tail;
        Ok(head)
    }

    /// Takes exactly `N` bytes as an array.
    ///
    /// # Errors
    /// [`CodecError::Truncated`].
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Reads a `uint8`.
    ///
    /// # Errors
    /// [`CodecError::Truncated`].
    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a big-endian `uint16`.
    ///
    /// # Errors
    /// [`CodecError::Truncated`].
    pub fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `uint32`.
    ///
    /// # Errors
    /// [`CodecError::Truncated`].
    pub fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `uint64`.
    ///
    /// # Errors
    /// [`CodecError::Truncated`].
    pub fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Reads a QUIC-style variable-length integer as MLS uses it for vector lengths
    /// (1, 2 or 4 bytes, minimal encoding required).
    ///
    /// # Errors
    /// [`CodecError::Truncated`], [`CodecError::NonMinimalVarint`].
    pub fn varint(&mut self) -> Result<u64, CodecError> {
        let first = self.u8()?;
        let (len, min) = match first >> 6 {
            0 => return Ok(u64::from(first)),
            1 => (2, 1 << 6),
            2 => (4, 1 << 14),
            _ => return Err(CodecError::NonMinimalVarint),
        };
        let mut value = u64::from(first & 0x3f);
        for b in self.take(len - 1)? {
            value = (value << 8) | u64::from(*b);
        }
        if value < min {
            return Err(CodecError::NonMinimalVarint);
        }
        Ok(value)
    }

    /// Reads a variable-length vector `opaque data<V>` and returns its bytes.
    ///
    /// # Errors
    /// [`CodecError::Truncated`], [`CodecError::NonMinimalVarint`],
    /// [`CodecError::LengthOverLimit`].
    pub fn vector(&mut self) -> Result<&'a [u8], CodecError> {
        let len = usize::try_from(self.varint()?).map_err(|_| CodecError::LengthOverLimit)?;
        if len > MAX_VECTOR_LEN {
            return Err(CodecError::LengthOverLimit);
        }
        self.take(len)
    }

    /// Reads a vector of structs `T items<V>`: the vector must hold whole items, nothing more.
    ///
    /// # Errors
    /// As [`Reader::vector`], plus any error decoding an item.
    pub fn vector_of<T: Decode>(&mut self) -> Result<Vec<T>, CodecError> {
        let mut inner = Reader::new(self.vector()?);
        let mut items = Vec::new();
        while !inner.is_empty() {
            let before = inner.buf.len();
            items.push(T::decode(&mut inner)?);
            // An item that consumes nothing would loop forever on hostile input.
            if inner.buf.len() == before {
                return Err(CodecError::Invalid("zero-length vector item"));
            }
        }
        Ok(items)
    }

    /// Reads `optional<T>`: a presence byte 0 or 1, then `T` if present.
    ///
    /// # Errors
    /// [`CodecError::UnknownValue`] for a presence byte other than 0 or 1, plus item errors.
    pub fn optional<T: Decode>(&mut self) -> Result<Option<T>, CodecError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(self)?)),
            value => Err(CodecError::UnknownValue {
                field: "optional presence",
                value: u64::from(value),
            }),
        }
    }
}

/// Appends TLS-presentation-language encodings to a byte buffer.
///
/// Implemented for `Vec<u8>`; every method appends a complete encoding or returns an error
/// (possibly after appending part of one: encode into a scratch buffer when that matters).
/// Lengths are always written in their minimal varint form, which decoders require.
///
/// ```
/// use rcsec_keying::mls::codec::{CodecError, WriteExt};
///
/// let mut out = Vec::new();
/// out.put_varint(37)?;            // 1 byte
/// out.put_varint(15_293)?;        // 2 bytes: 0x7b 0xbd (RFC 9000 §A.1)
/// out.put_vector(b"rcs")?;        // length prefix, then the bytes
/// out.put_optional::<u16>(None)?; // presence byte 0
/// assert_eq!(out, [0x25, 0x7b, 0xbd, 0x03, b'r', b'c', b's', 0x00]);
/// assert_eq!(out.put_varint(1 << 30), Err(CodecError::LengthOverLimit));
/// # Ok::<(), CodecError>(())
/// ```
pub trait WriteExt {
    /// Appends a varint (1, 2 or 4 bytes, minimal).
    ///
    /// # Errors
    /// [`CodecError::LengthOverLimit`] above 2^30 - 1.
    fn put_varint(&mut self, value: u64) -> Result<(), CodecError>;
    /// Appends `opaque data<V>`.
    ///
    /// # Errors
    /// [`CodecError::LengthOverLimit`] above [`MAX_VECTOR_LEN`].
    fn put_vector(&mut self, data: &[u8]) -> Result<(), CodecError>;
    /// Appends `T items<V>`.
    ///
    /// # Errors
    /// As [`WriteExt::put_vector`], plus item errors.
    fn put_vector_of<T: Encode>(&mut self, items: &[T]) -> Result<(), CodecError>;
    /// Appends `optional<T>`.
    ///
    /// # Errors
    /// Item errors.
    fn put_optional<T: Encode>(&mut self, item: Option<&T>) -> Result<(), CodecError>;
}

impl WriteExt for Vec<u8> {
    fn put_varint(&mut self, value: u64) -> Result<(), CodecError> {
        let bytes = value.to_be_bytes();
        match value {
            0..0x40 => self.push(bytes[7]),
            0x40..0x4000 => self.extend_from_slice(&[0x40 | bytes[6], bytes[7]]),
            0x4000..=VARINT_MAX => {
                self.extend_from_slice(&[0x80 | bytes[4], bytes[5], bytes[6], bytes[7]]);
            }
            _ => return Err(CodecError::LengthOverLimit),
        }
        Ok(())
    }

    fn put_vector(&mut self, data: &[u8]) -> Result<(), CodecError> {
        if data.len() > MAX_VECTOR_LEN {
            return Err(CodecError::LengthOverLimit);
        }
        self.put_varint(data.len() as u64)?;
        self.extend_from_slice(data);
        Ok(())
    }

    fn put_vector_of<T: Encode>(&mut self, items: &[T]) -> Result<(), CodecError> {
        let mut inner = Self::new();
        for item in items {
            item.encode(&mut inner)?;
        }
        self.put_vector(&inner)
    }

    fn put_optional<T: Encode>(&mut self, item: Option<&T>) -> Result<(), CodecError> {
        match item {
            None => self.push(0),
            Some(item) => {
                self.push(1);
                item.encode(self)?;
            }
        }
        Ok(())
    }
}

/// A structure with a TLS-presentation-language encoding.
///
/// An implementation writes its fields in declaration order with the [`WriteExt`] helpers
/// and must be the exact inverse of its [`Decode`]: MLS signs and hashes these bytes, so
/// two encodings of one value would be two different signatures.
///
/// ```
/// use rcsec_keying::mls::codec::{CodecError, Decode, Encode, Reader, VarBytes, WriteExt};
///
/// /// `struct { uint16 epoch; opaque device_id<V>; } Enrolment;`
/// #[derive(Debug, PartialEq)]
/// struct Enrolment { epoch: u16, device_id: Vec<u8> }
///
/// impl Encode for Enrolment {
///     fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
///         self.epoch.encode(out)?;
///         out.put_vector(&self.device_id)
///     }
/// }
/// impl Decode for Enrolment {
///     fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
///         Ok(Self { epoch: u16::decode(r)?, device_id: VarBytes::decode(r)?.0 })
///     }
/// }
///
/// let e = Enrolment { epoch: 7, device_id: b"phone-1".to_vec() };
/// let bytes = e.to_bytes()?;
/// assert_eq!(bytes[..3], [0x00, 0x07, 0x07]);
/// assert_eq!(Enrolment::from_bytes(&bytes)?, e);
/// # Ok::<(), CodecError>(())
/// ```
pub trait Encode {
    /// Appends the encoding to `out`.
    ///
    /// # Errors
    /// [`CodecError::LengthOverLimit`] when a vector is too long to encode.
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError>;

    /// The encoding as a fresh buffer.
    ///
    /// # Errors
    /// As [`Encode::encode`].
    fn to_bytes(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }
}

/// A structure that can be read from its TLS-presentation-language encoding.
///
/// Input is untrusted: an implementation reads through the bounds-checked [`Reader`], returns
/// a [`CodecError`] (never panics) on anything malformed, and rejects values outside the
/// field's range with [`CodecError::UnknownValue`] or [`CodecError::Invalid`] rather than
/// mapping them to a default. [`Decode::from_bytes`] also refuses trailing bytes, so one
/// encoding has one meaning.
///
/// ```
/// use rcsec_keying::mls::codec::{CodecError, Decode, VarBytes};
///
/// assert_eq!(VarBytes::from_bytes(&[0x02, 0xaa, 0xbb])?, VarBytes(vec![0xaa, 0xbb]));
/// assert_eq!(VarBytes::from_bytes(&[0x03, 0xaa]), Err(CodecError::Truncated));
/// assert_eq!(VarBytes::from_bytes(&[0x01, 0xaa, 0xff]), Err(CodecError::TrailingBytes));
/// assert_eq!(VarBytes::from_bytes(&[0x40, 0x01, 0xaa]), Err(CodecError::NonMinimalVarint));
/// assert_eq!(u16::from_bytes(&[0x01, 0x02])?, 0x0102);
/// # Ok::<(), CodecError>(())
/// ```
pub trait Decode: Sized {
    /// Reads one value from `r`, leaving what follows it.
    ///
    /// # Errors
    /// A [`CodecError`] describing the first problem.
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError>;

    /// Reads one value that must span `bytes` exactly.
    ///
    /// # Errors
    /// As [`Decode::decode`], plus [`CodecError::TrailingBytes`].
    fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(bytes);
        let value = Self::decode(&mut r)?;
        r.finish()?;
        Ok(value)
    }
}

/// `opaque data<V>` as an owned value, for vectors of byte strings.
#[derive(Clone, PartialEq, Eq)]
pub struct VarBytes(pub Vec<u8>);

impl std::fmt::Debug for VarBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VarBytes({} bytes)", self.0.len())
    }
}

impl Encode for VarBytes {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.put_vector(&self.0)
    }
}

impl Decode for VarBytes {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        Ok(Self(r.vector()?.to_vec()))
    }
}

impl Encode for u16 {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.to_be_bytes());
        Ok(())
    }
}

impl Decode for u16 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.u16()
    }
}

impl Encode for u32 {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&self.to_be_bytes());
        Ok(())
    }
}

impl Decode for u32 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.u32()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(bytes: &[u8]) -> Result<u64, CodecError> {
        let mut r = Reader::new(bytes);
        let v = r.varint()?;
        r.finish()?;
        Ok(v)
    }

    #[test]
    fn varint_round_trips_at_the_boundaries() {
        for v in [0, 63, 64, 16383, 16384, VARINT_MAX] {
            let mut out = Vec::new();
            out.put_varint(v).unwrap();
            assert_eq!(varint(&out), Ok(v), "{v}");
        }
        assert_eq!(
            Vec::new().put_varint(VARINT_MAX + 1),
            Err(CodecError::LengthOverLimit)
        );
    }

    #[test]
    fn rejects_non_minimal_and_reserved_prefixes() {
        assert_eq!(varint(&[0x40, 0x3f]), Err(CodecError::NonMinimalVarint));
        assert_eq!(
            varint(&[0x80, 0x00, 0x3f, 0xff]),
            Err(CodecError::NonMinimalVarint)
        );
        assert_eq!(
            varint(&[0xc0, 0, 0, 0, 0, 0, 0, 1]),
            Err(CodecError::NonMinimalVarint)
        );
        assert_eq!(varint(&[0x40]), Err(CodecError::Truncated));
    }

    #[test]
    fn vectors_are_bounded_and_checked() {
        let mut r = Reader::new(&[0x03, 1, 2]);
        assert_eq!(r.vector(), Err(CodecError::Truncated));
        let mut huge = Vec::new();
        huge.put_varint(MAX_VECTOR_LEN as u64 + 1).unwrap();
        assert_eq!(
            Reader::new(&huge).vector(),
            Err(CodecError::LengthOverLimit)
        );
        assert_eq!(
            VarBytes::from_bytes(&[0x01, 7, 8]),
            Err(CodecError::TrailingBytes)
        );
        assert_eq!(VarBytes::from_bytes(&[0x01, 7]), Ok(VarBytes(vec![7])));
        assert!(Vec::new().put_vector(&vec![0; MAX_VECTOR_LEN + 1]).is_err());
    }

    #[test]
    fn items_that_consume_nothing_cannot_loop() {
        struct Nothing;
        impl Decode for Nothing {
            fn decode(_: &mut Reader<'_>) -> Result<Self, CodecError> {
                Ok(Self)
            }
        }
        let err = Reader::new(&[1, 0]).vector_of::<Nothing>().map(|v| v.len());
        assert_eq!(err, Err(CodecError::Invalid("zero-length vector item")));
    }

    #[test]
    fn optional_and_vector_of_structs() {
        let mut out = Vec::new();
        out.put_optional(Some(&VarBytes(vec![9]))).unwrap();
        out.put_optional::<VarBytes>(None).unwrap();
        out.put_vector_of(&[1u16, 2u16]).unwrap();
        assert_eq!(out, [1, 1, 9, 0, 4, 0, 1, 0, 2]);
        let mut r = Reader::new(&out);
        assert_eq!(r.optional::<VarBytes>().unwrap(), Some(VarBytes(vec![9])));
        assert_eq!(r.optional::<VarBytes>().unwrap(), None);
        assert_eq!(r.vector_of::<u16>().unwrap(), vec![1, 2]);
        assert!(r.is_empty());
        assert!(Reader::new(&[2]).optional::<VarBytes>().is_err());
        assert_eq!(
            Reader::new(&[3, 0, 1, 0]).vector_of::<u16>(),
            Err(CodecError::Truncated)
        );
    }
}
