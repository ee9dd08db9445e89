//! Shared inputs for rcsec's criterion benches.
//!
//! The benches themselves live in `benches/*.rs`, one file per area. Inputs are generated
//! deterministically here so every run (and every peer) measures the same bytes.

#![forbid(unsafe_code)]

/// `len` bytes of deterministic filler: a xorshift stream, so compressors and caches see no
/// artificial patterns, yet every run measures the same input.
pub fn filler(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn filler_is_deterministic() {
        assert_eq!(super::filler(64, 7), super::filler(64, 7));
        assert_ne!(super::filler(64, 7), super::filler(64, 8));
    }
}
