//! Where the personal-data scan has work to do, 64 bytes at a time.
//!
//! The byte scan ([`super::scan_reference`]) does something other than step over a byte or a
//! word only where a number, an IBAN, a phone number or an e-mail address could start: at a
//! digit or an upper-case letter that does not continue a word, and at `+`, `(` and `@`. In
//! benign logs that is one byte in fourteen, and the rest are words, so the byte-at-a-time
//! loop spent most of its time on per-word branches it mostly mispredicted.
//!
//! [`StartBits`] computes those positions as a bit mask per 64-byte block with branch-free
//! byte tests the compiler vectorises (SSE2 on every x86-64), so the scan only visits
//! candidates. The reference loop stays as the specification: the tests and the
//! `classify_text` fuzz target check that both give the same findings on every input.

/// Bytes per mask.
pub(super) const BLOCK: usize = 64;

/// Letters and digits of ASCII, `_`, and every byte of a multi-byte UTF-8 character: the
/// bytes a word is made of (the same set as the scan's word table).
fn is_word(c: u8) -> bool {
    (c.wrapping_sub(b'0') < 10) | ((c | 0x20).wrapping_sub(b'a') < 26) | (c == b'_') | (c >= 0x80)
}

/// Whether the scan has work at a byte `c` preceded by `prev`: a digit or an upper-case letter
/// starting a word, or `+`, `(`, `@` anywhere.
fn starts_here(prev: u8, c: u8) -> bool {
    let number_or_iban = (c.wrapping_sub(b'0') < 10) | (c.wrapping_sub(b'A') < 26);
    let open_or_at = (c == b'+') | (c == b'(') | (c == b'@');
    (number_or_iban & !is_word(prev)) | open_or_at
}

/// The mask of one block: bit `k` is set when the scan has work at `cur[k]`, whose preceding
/// byte is `prev[k]`.
fn block_mask(prev: &[u8; BLOCK], cur: &[u8; BLOCK]) -> u64 {
    // Branch-free per byte, so this loop becomes vector compares.
    let mut flags = [0u8; BLOCK];
    for ((flag, &c), &p) in flags.iter_mut().zip(cur).zip(prev) {
        *flag = u8::from(starts_here(p, c));
    }
    // Eight 0/1 bytes to eight bits: the multiplication moves byte k's bit to bit 56 + k
    // without carries (every partial product lands on a distinct bit).
    let mut mask = 0u64;
    for (k, eight) in flags.chunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(eight);
        let bits = u64::from_le_bytes(word).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        mask |= bits << (8 * k);
    }
    mask
}

/// The candidate mask of the block of `b` starting at `base` (bits past the end are clear).
pub(super) fn mask_at(b: &[u8], base: usize) -> u64 {
    // Blocks at the start and the end are copied into padded buffers; a space starts nothing
    // and ends any word, which is what the start and the end of the text do too.
    let full = base
        .checked_sub(1)
        .and_then(|from| b.get(from..base + BLOCK))
        .and_then(|window| {
            let prev: &[u8; BLOCK] = window[..BLOCK].try_into().ok()?;
            let cur: &[u8; BLOCK] = window[1..].try_into().ok()?;
            Some((prev, cur))
        });
    if let Some((prev, cur)) = full {
        return block_mask(prev, cur);
    }
    let mut padded = [b' '; BLOCK + 1];
    let from = base.saturating_sub(1);
    let end = b.len().min(base + BLOCK);
    let at = usize::from(base == 0);
    if let Some(src) = b.get(from..end) {
        padded[at..at + src.len()].copy_from_slice(src);
    }
    let (prev, cur) = (&padded[..BLOCK], &padded[1..]);
    match (prev.try_into(), cur.try_into()) {
        (Ok(prev), Ok(cur)) => block_mask(prev, cur),
        // Both slices are BLOCK long by construction.
        _ => u64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mask against the definition, byte by byte, at every block boundary case.
    #[test]
    fn masks_follow_the_definition() {
        let alphabet = b"ab1 X(+@_9\xc3\xa9Z-7.Q\n";
        let text: Vec<u8> = (0..300)
            .map(|i| alphabet[(i * 7) % alphabet.len()])
            .collect();
        for len in [0, 1, 5, 63, 64, 65, 127, 128, 200, 300] {
            let b = &text[..len];
            let mut base = 0;
            while base < len.max(1) {
                let mask = mask_at(b, base);
                for k in 0..BLOCK {
                    let pos = base + k;
                    let want =
                        pos < len && starts_here(if pos == 0 { b' ' } else { b[pos - 1] }, b[pos]);
                    assert_eq!(mask >> k & 1 == 1, want, "len {len} pos {pos}");
                }
                base += BLOCK;
            }
        }
    }

    #[test]
    fn word_bytes_match_the_scan_table() {
        for c in 0..=u8::MAX {
            assert_eq!(is_word(c), super::super::is_word_byte(c), "{c}");
        }
    }
}
