//! The record layer: `SealingWriter` (a `Write` adapter) and `OpeningReader` (a `Read` adapter).

use std::fmt;
use std::io::{self, Read, Write};

use hmac::Mac;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{PayloadKey, SealContext};
use crate::rng::{RandomError, RandomSource};

const MAGIC: &[u8; 4] = b"RCSP";
const VERSION: u8 = 1;
/// Plaintext bytes per record: 64 KiB.
pub const RECORD_SIZE: usize = 1 << RECORD_LOG2;
const RECORD_LOG2: u8 = 16;
const TAG_LEN: usize = 16;
const PREFIX_LEN: usize = 7;
/// Bytes of the header covered by the AAD (magic, version, record size, nonce prefix).
const HEADER_FIXED: usize = 4 + 1 + 1 + PREFIX_LEN;
const COMMIT_LEN: usize = 16;
const HEADER_LEN: usize = HEADER_FIXED + COMMIT_LEN;

/// Why sealing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The content type is empty, longer than 255 bytes or not printable ASCII.
    #[error("invalid content type")]
    ContentType,
    /// More than 2³² records (256 TiB).
    #[error("payload too large")]
    TooLarge,
    /// The random source failed.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// Writing the ciphertext failed.
    #[error("writing sealed payload failed")]
    Io(#[source] io::Error),
    /// The AEAD backend refused a valid key (cannot happen with a working backend).
    #[error("internal error in the aead backend")]
    Internal,
    /// An earlier write failed; the writer refuses further work rather than reuse a nonce.
    #[error("sealing writer failed earlier and cannot continue")]
    Poisoned,
}

/// Why opening failed. Opaque about content: no plaintext, no key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Not a sealed payload of a supported version.
    #[error("invalid sealed payload header")]
    BadHeader,
    /// Wrong key, link id or content type.
    #[error("sealed payload does not belong to this key, link and content type")]
    WrongContext,
    /// A record failed authentication: modified, reordered, duplicated, or cut inside a record.
    #[error("sealed payload record {record} failed authentication")]
    Corrupt {
        /// Index of the first bad record.
        record: u64,
    },
    /// The stream ends at a record boundary without its final record.
    #[error("sealed payload is truncated")]
    Truncated,
    /// Reading the ciphertext failed.
    #[error("reading sealed payload failed")]
    Io(#[source] io::Error),
    /// The AEAD backend refused a valid key (cannot happen with a working backend).
    #[error("internal error in the aead backend")]
    Internal,
}

impl OpenError {
    /// Recovers the typed error from an error returned by [`OpeningReader`]'s `Read` impl.
    pub fn from_io(err: io::Error) -> Self {
        if err.get_ref().is_some_and(|e| e.is::<Self>()) {
            if let Some(inner) = err.into_inner()
                && let Ok(typed) = inner.downcast::<Self>()
            {
                return *typed;
            }
            return Self::Io(io::Error::other("sealed payload error"));
        }
        Self::Io(err)
    }
}

struct Cipher {
    key: LessSafeKey,
    aad: Vec<u8>,
    prefix: [u8; PREFIX_LEN],
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher").finish_non_exhaustive()
    }
}

impl Cipher {
    fn nonce(&self, counter: u32, last: bool) -> Nonce {
        let mut n = [0u8; NONCE_LEN];
        n[..PREFIX_LEN].copy_from_slice(&self.prefix);
        n[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&counter.to_be_bytes());
        n[NONCE_LEN - 1] = u8::from(last);
        Nonce::assume_unique_for_key(n)
    }
}

fn check_content_type(ct: &str) -> bool {
    !ct.is_empty() && ct.len() <= 255 && ct.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// The header's fixed part, the AAD, and the commitment.
fn derive(
    key: &PayloadKey,
    ctx: &SealContext<'_>,
    fixed: &[u8; HEADER_FIXED],
) -> (Vec<u8>, [u8; COMMIT_LEN]) {
    let mut aad = Vec::with_capacity(HEADER_FIXED + 16 + 1 + ctx.content_type.len());
    aad.extend_from_slice(fixed);
    aad.extend_from_slice(ctx.link_id.as_bytes());
    // Length-prefixed so no two (link, type) pairs share an encoding; checked to fit a byte.
    aad.push(u8::try_from(ctx.content_type.len()).unwrap_or(u8::MAX));
    aad.extend_from_slice(ctx.content_type.as_bytes());
    let mac = crate::keyring::hmac_from_32(key.expose_secret())
        .chain_update(b"rcsec-sealed/v1/commit")
        .chain_update(&aad)
        .finalize()
        .into_bytes();
    let mut commit = [0u8; COMMIT_LEN];
    commit.copy_from_slice(&mac[..COMMIT_LEN]);
    (aad, commit)
}

/// AES-256 takes exactly the 32 bytes a `PayloadKey` holds, so `None` means a broken crypto
/// backend, reported as an internal error.
fn aead_key(key: &PayloadKey) -> Option<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, key.expose_secret())
        .ok()
        .map(LessSafeKey::new)
}

/// Encrypts everything written to it into `inner`, one record per [`RECORD_SIZE`] bytes.
///
/// Call [`SealingWriter::finish`] to write the final record: a writer dropped without it
/// leaves a stream that fails to open as [`OpenError::Truncated`].
pub struct SealingWriter<W: Write> {
    inner: W,
    cipher: Cipher,
    counter: u32,
    buf: Zeroizing<Vec<u8>>,
    /// Set by any failure. A record that failed to be written has already been encrypted in
    /// place; sealing it again would reuse its nonce (and re-encrypting ciphertext under the
    /// same keystream yields the plaintext), so a failed writer refuses all further work.
    poisoned: bool,
}

impl<W: Write> fmt::Debug for SealingWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingWriter")
            .field("records", &self.counter)
            .finish_non_exhaustive()
    }
}

impl<W: Write> SealingWriter<W> {
    /// Writes the header to `inner` and returns the writer.
    ///
    /// # Errors
    /// [`SealError::ContentType`], [`SealError::Random`], [`SealError::Io`].
    pub fn new(
        key: &PayloadKey,
        ctx: &SealContext<'_>,
        mut inner: W,
        rng: &dyn RandomSource,
    ) -> Result<Self, SealError> {
        if !check_content_type(ctx.content_type) {
            return Err(SealError::ContentType);
        }
        let mut prefix = [0u8; PREFIX_LEN];
        rng.fill(&mut prefix)?;
        let mut fixed = [0u8; HEADER_FIXED];
        fixed[..4].copy_from_slice(MAGIC);
        fixed[4] = VERSION;
        fixed[5] = RECORD_LOG2;
        fixed[6..].copy_from_slice(&prefix);
        let (aad, commit) = derive(key, ctx, &fixed);
        let aead = aead_key(key).ok_or(SealError::Internal)?;
        inner.write_all(&fixed).map_err(SealError::Io)?;
        inner.write_all(&commit).map_err(SealError::Io)?;
        Ok(Self {
            inner,
            cipher: Cipher {
                key: aead,
                aad,
                prefix,
            },
            counter: 0,
            buf: Zeroizing::new(Vec::with_capacity(RECORD_SIZE)),
            poisoned: false,
        })
    }

    fn seal_record(&mut self, last: bool) -> Result<(), SealError> {
        if self.poisoned {
            return Err(SealError::Poisoned);
        }
        // Poisoned until the record is fully written: see `poisoned`.
        self.poisoned = true;
        let nonce = self.cipher.nonce(self.counter, last);
        let tag = self
            .cipher
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(&self.cipher.aad), &mut self.buf)
            .map_err(|_| SealError::TooLarge)?;
        self.inner.write_all(&self.buf).map_err(SealError::Io)?;
        self.inner.write_all(tag.as_ref()).map_err(SealError::Io)?;
        self.buf.clear();
        self.counter = self.counter.checked_add(1).ok_or(SealError::TooLarge)?;
        self.poisoned = false;
        Ok(())
    }

    /// Seals the buffered tail as the final record, flushes and returns the inner writer.
    ///
    /// # Errors
    /// [`SealError::Io`] or [`SealError::TooLarge`].
    pub fn finish(mut self) -> Result<W, SealError> {
        self.seal_record(true)?;
        self.inner.flush().map_err(SealError::Io)?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for SealingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.poisoned {
            return Err(io::Error::other(SealError::Poisoned));
        }
        let take = (RECORD_SIZE - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..take]);
        if self.buf.len() == RECORD_SIZE {
            self.seal_record(false).map_err(io::Error::other)?;
        }
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Decrypts a sealed stream from `inner`, releasing each record only after it authenticates.
///
/// # Security
/// Plaintext of early records is released before later ones are checked: treat the output as
/// untrusted until `read` returns `Ok(0)` (end of a complete stream). An error ends the stream.
pub struct OpeningReader<R: Read> {
    inner: R,
    cipher: Cipher,
    counter: u32,
    buf: Zeroizing<Vec<u8>>,
    /// The byte read past a full record to learn that more follows.
    lookahead: Option<u8>,
    /// Plaintext of the current record is `buf[pos..len]`.
    pos: usize,
    len: usize,
    done: bool,
    failed: bool,
}

impl<R: Read> fmt::Debug for OpeningReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpeningReader")
            .field("records", &self.counter)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: Read> OpeningReader<R> {
    /// Reads and checks the header.
    ///
    /// # Errors
    /// [`OpenError::BadHeader`], [`OpenError::WrongContext`], [`OpenError::Truncated`] (no
    /// complete header), [`OpenError::Io`].
    pub fn new(key: &PayloadKey, ctx: &SealContext<'_>, mut inner: R) -> Result<Self, OpenError> {
        let mut header = [0u8; HEADER_LEN];
        if read_full(&mut inner, &mut header).map_err(OpenError::Io)? < HEADER_LEN {
            return Err(OpenError::Truncated);
        }
        if &header[..4] != MAGIC || header[4] != VERSION || header[5] != RECORD_LOG2 {
            return Err(OpenError::BadHeader);
        }
        let mut fixed = [0u8; HEADER_FIXED];
        fixed.copy_from_slice(&header[..HEADER_FIXED]);
        if !check_content_type(ctx.content_type) {
            return Err(OpenError::WrongContext);
        }
        let (aad, commit) = derive(key, ctx, &fixed);
        if !bool::from(commit.ct_eq(&header[HEADER_FIXED..])) {
            return Err(OpenError::WrongContext);
        }
        let mut prefix = [0u8; PREFIX_LEN];
        prefix.copy_from_slice(&fixed[6..]);
        let aead = aead_key(key).ok_or(OpenError::Internal)?;
        Ok(Self {
            inner,
            cipher: Cipher {
                key: aead,
                aad,
                prefix,
            },
            counter: 0,
            buf: Zeroizing::new(vec![0u8; RECORD_SIZE + TAG_LEN]),
            lookahead: None,
            pos: 0,
            len: 0,
            done: false,
            failed: false,
        })
    }

    /// Reads, authenticates and decrypts the next record into `buf[..len]`.
    fn next_record(&mut self) -> Result<(), OpenError> {
        let full = RECORD_SIZE + TAG_LEN;
        let mut got = 0;
        if let Some(b) = self.lookahead.take() {
            self.buf[0] = b;
            got = 1;
        }
        got += read_full(&mut self.inner, &mut self.buf[got..full]).map_err(OpenError::Io)?;
        let more = if got == full {
            let mut one = [0u8; 1];
            let n = read_full(&mut self.inner, &mut one).map_err(OpenError::Io)?;
            if n == 1 {
                self.lookahead = Some(one[0]);
            }
            n == 1
        } else {
            false
        };
        if got < TAG_LEN {
            return Err(OpenError::Truncated);
        }
        let record = u64::from(self.counter);
        // Honest non-final records are exactly full; an honest final record is shorter. A
        // full record at end of input is authenticated as non-final: if that succeeds the
        // final record was cut off.
        let last = got < full;
        let nonce = self.cipher.nonce(self.counter, last);
        let opened =
            self.cipher
                .key
                .open_in_place(nonce, Aad::from(&self.cipher.aad), &mut self.buf[..got]);
        let plain_len = match opened {
            Ok(p) => p.len(),
            Err(_) => return Err(OpenError::Corrupt { record }),
        };
        if !last && !more {
            return Err(OpenError::Truncated);
        }
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or(OpenError::Corrupt { record })?;
        self.pos = 0;
        self.len = plain_len;
        self.done = last;
        Ok(())
    }
}

impl<R: Read> Read for OpeningReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::other(OpenError::Corrupt {
                record: u64::from(self.counter),
            }));
        }
        while self.pos == self.len {
            if self.done {
                return Ok(0);
            }
            if let Err(e) = self.next_record() {
                self.failed = true;
                self.len = 0;
                self.pos = 0;
                return Err(io::Error::other(e));
            }
        }
        let n = (self.len - self.pos).min(out.len());
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Reads until `buf` is full or end of input; returns how many bytes were read.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Seals `plaintext` in memory, encrypting each record in place in the output buffer (one copy
/// of the plaintext instead of the two a `Write` adapter needs). The bytes are exactly what
/// [`SealingWriter`] produces for the same input.
///
/// # Errors
/// As [`SealingWriter::new`] and [`SealingWriter::finish`].
pub fn seal_to_vec(
    key: &PayloadKey,
    ctx: &SealContext<'_>,
    plaintext: &[u8],
    rng: &dyn RandomSource,
) -> Result<Vec<u8>, SealError> {
    let records = plaintext.len() / RECORD_SIZE + 1;
    let out = Vec::with_capacity(HEADER_LEN + plaintext.len() + records * TAG_LEN);
    let mut w = SealingWriter::new(key, ctx, out, rng)?;
    // Every full chunk is a non-final record (as the streaming writer seals eagerly); the
    // remainder, possibly empty, is the final one.
    let full = plaintext.len() / RECORD_SIZE * RECORD_SIZE;
    let (body, tail) = plaintext.split_at(full);
    for chunk in body.chunks_exact(RECORD_SIZE) {
        w.seal_into_inner(chunk, false)?;
    }
    w.seal_into_inner(tail, true)?;
    Ok(w.inner)
}

impl SealingWriter<Vec<u8>> {
    /// Appends `chunk` to the output and seals it there as the next record.
    fn seal_into_inner(&mut self, chunk: &[u8], last: bool) -> Result<(), SealError> {
        if self.poisoned {
            return Err(SealError::Poisoned);
        }
        let nonce = self.cipher.nonce(self.counter, last);
        let start = self.inner.len();
        self.inner.extend_from_slice(chunk);
        let tag = self
            .cipher
            .key
            .seal_in_place_separate_tag(
                nonce,
                Aad::from(&self.cipher.aad),
                &mut self.inner[start..],
            )
            .map_err(|_| SealError::TooLarge)?;
        self.inner.extend_from_slice(tag.as_ref());
        self.counter = self.counter.checked_add(1).ok_or(SealError::TooLarge)?;
        Ok(())
    }
}

/// Opens a sealed payload held in memory.
///
/// # Errors
/// Any [`OpenError`].
pub fn open_to_vec(
    key: &PayloadKey,
    ctx: &SealContext<'_>,
    sealed: &[u8],
) -> Result<Vec<u8>, OpenError> {
    let mut r = OpeningReader::new(key, ctx, sealed)?;
    let mut out = Vec::with_capacity(sealed.len());
    r.read_to_end(&mut out).map_err(OpenError::from_io)?;
    Ok(out)
}
