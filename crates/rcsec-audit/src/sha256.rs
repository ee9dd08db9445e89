//! SHA-256 of the log's inputs (chain links, Merkle leaves and nodes) on the stack.
//!
//! Every event costs about nine SHA-256 blocks (its chain link, its leaf, one node on
//! average), which with SHA-NI is most of what verifying and appending cost. The streaming
//! hasher of `sha2` adds a buffer, generic-array copies and a separate padding pass to each of
//! those three short hashes; this one feeds whole blocks straight from the input to `sha2`'s
//! block function (which picks SHA-NI at run time) and pads in one stack block. The padding is
//! FIPS 180-4 §5.1.1; the tests compare every length up to four blocks with `sha2::Sha256`.

use sha2::block_api::compress256;

/// FIPS 180-4 §5.3.3.
const INITIAL_STATE: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

const BLOCK: usize = 64;

/// An incremental SHA-256 whose state and partial block live on the stack.
pub(crate) struct Sha256 {
    state: [u32; 8],
    partial: [u8; BLOCK],
    filled: usize,
    /// Bytes absorbed so far.
    length: u64,
}

impl Sha256 {
    pub(crate) fn new() -> Self {
        Self {
            state: INITIAL_STATE,
            partial: [0; BLOCK],
            filled: 0,
            length: 0,
        }
    }

    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.length += data.len() as u64;
        if self.filled > 0 {
            let take = data.len().min(BLOCK - self.filled);
            self.partial[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled < BLOCK {
                return;
            }
            compress256(&mut self.state, &[self.partial]);
            self.filled = 0;
        }
        let (blocks, rest) = data.as_chunks::<BLOCK>();
        if !blocks.is_empty() {
            compress256(&mut self.state, blocks);
        }
        self.partial[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    pub(crate) fn finish(mut self) -> [u8; 32] {
        let bits = self.length.wrapping_mul(8).to_be_bytes();
        self.partial[self.filled] = 0x80;
        self.partial[self.filled + 1..].fill(0);
        if self.filled + 1 > BLOCK - bits.len() {
            // No room for the length: it goes in one more block of zeros.
            let mut last = [0u8; BLOCK];
            last[BLOCK - bits.len()..].copy_from_slice(&bits);
            compress256(&mut self.state, &[self.partial, last]);
        } else {
            self.partial[BLOCK - bits.len()..].copy_from_slice(&bits);
            compress256(&mut self.state, &[self.partial]);
        }
        let mut out = [0u8; 32];
        for (bytes, word) in out.chunks_exact_mut(4).zip(self.state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

/// SHA-256 of the concatenation of `parts`.
pub(crate) fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use sha2::Digest as _;

    use super::*;

    #[test]
    fn every_length_and_split_matches_sha2() {
        let data: Vec<u8> = (0..4 * BLOCK + 3)
            .map(|i| u8::try_from(i * 31 % 251).unwrap_or(0))
            .collect();
        for len in 0..data.len() {
            let input = &data[..len];
            let want: [u8; 32] = sha2::Sha256::digest(input).into();
            assert_eq!(digest(&[input]), want, "length {len}");
            for cut in [0, 1, 31, 32, 33, 63, 64, 65, 100] {
                if cut <= len {
                    let (a, b) = input.split_at(cut);
                    assert_eq!(digest(&[a, b]), want, "length {len} cut {cut}");
                    assert_eq!(digest(&[a, &[], b]), want, "length {len} cut {cut}");
                }
            }
        }
    }

    #[test]
    fn known_answers() {
        // FIPS 180-2 appendix B.1 and the empty string.
        assert_eq!(
            hex::encode(digest(&[b"abc"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex::encode(digest(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
