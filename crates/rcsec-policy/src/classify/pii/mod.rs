//! Personal-data detectors in one byte scan: number runs (cards, SSNs, phones), IBANs, e-mail.
//!
//! Digits inside words (hashes, UUIDs, versions, host names) are skipped with their word, so
//! only free-standing numbers are examined. A free-standing number is split into groups at
//! single separators (` `, `-`, `.`, parentheses); sub-sequences of groups are matched against
//! the layouts each identifier is written in, and only then are checksums computed.

mod starts;

use super::finding::{Confidence, Finding, FindingKind};
use starts::BLOCK;

const MAX_GROUPS: usize = 12;

#[derive(Debug, Clone, Copy, Default)]
struct Group {
    start: usize,
    end: usize,
    digits: usize,
    /// The separator before this group (`0` for the first).
    sep: u8,
    paren: bool,
}

pub(super) fn scan(text: &str, out: &mut Vec<Finding>) {
    let b = text.as_bytes();
    // Where the byte-at-a-time scan would be: steps can consume several candidates at once.
    let mut i: usize = 0;
    let mut base = 0;
    while base < b.len() {
        let mut mask = starts::mask_at(b, base);
        loop {
            let consumed = i.saturating_sub(base);
            if consumed >= BLOCK {
                break;
            }
            mask &= u64::MAX << consumed;
            if mask == 0 {
                break;
            }
            let at = base + mask.trailing_zeros() as usize;
            i = step(text, at, out).max(at + 1);
        }
        base = (base + BLOCK).max(i);
    }
}

/// The specification of [`scan`]: one [`step`] after another over every byte. Between two
/// candidate positions a step only moves past a byte or a word, which is why [`scan`] may
/// jump from candidate to candidate (checked against this on every fuzz input).
pub(super) fn scan_reference(text: &str, out: &mut Vec<Finding>) {
    let mut i = 0;
    while i < text.len() {
        i = step(text, i, out);
    }
}

/// Examines what starts at `i` and returns where scanning resumes.
fn step(text: &str, i: usize, out: &mut Vec<Finding>) -> usize {
    let b = text.as_bytes();
    // One table look-up decides; words starting with a lower-case letter are the common
    // case and go straight to the word skip.
    match CLASS[usize::from(b[i])] {
        Class::Other => i + 1,
        Class::Word => skip_word(b, i),
        Class::Digit => number_run(text, i, out),
        Class::Upper if i > 0 && is_word_byte(b[i - 1]) => skip_word(b, i),
        Class::Upper => match iban(b, i) {
            Iban::Valid(end) => {
                out.push(Finding::new(FindingKind::Iban, Confidence::High, i..end));
                end
            }
            // An IBAN that fails its checks is still not a phone number or a card.
            Iban::Invalid(end) => end,
            Iban::Absent => skip_word(b, i),
        },
        Class::Open if b.get(i + 1).is_some_and(u8::is_ascii_digit) => number_run(text, i, out),
        Class::Open => i + 1,
        Class::At => email(text, i, out).unwrap_or(i + 1),
    }
}

/// What a byte can start, for [`step`].
#[derive(Clone, Copy)]
enum Class {
    Other,
    /// A word byte that starts nothing: lower-case letters, `_`, non-ASCII.
    Word,
    Digit,
    /// An upper-case letter: an IBAN may start here.
    Upper,
    /// `+` or `(`: a phone number may start here.
    Open,
    At,
}

const CLASS: [Class; 256] = {
    let mut table = [Class::Other; 256];
    let mut c: u8 = 0;
    loop {
        table[c as usize] = if c.is_ascii_digit() {
            Class::Digit
        } else if c.is_ascii_uppercase() {
            Class::Upper
        } else if c.is_ascii_lowercase() || c == b'_' || c >= 0x80 {
            Class::Word
        } else if c == b'+' || c == b'(' {
            Class::Open
        } else if c == b'@' {
            Class::At
        } else {
            Class::Other
        };
        if c == u8::MAX {
            break table;
        }
        c += 1;
    }
};

/// Bytes that belong to words: ASCII letters and digits, `_`, and all of UTF-8's non-ASCII
/// bytes (letters of other scripts).
const WORD: [bool; 256] = {
    let mut table = [false; 256];
    let mut c: u8 = 0;
    loop {
        table[c as usize] = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        if c == u8::MAX {
            break table;
        }
        c += 1;
    }
};

fn is_word_byte(c: u8) -> bool {
    WORD[usize::from(c)]
}

fn skip_word(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_word_byte(b[i]) {
        i += 1;
    }
    i
}

/// Parses the number run starting at `start`, reports what it contains, and returns where
/// scanning resumes.
fn number_run(text: &str, start: usize, out: &mut Vec<Finding>) -> usize {
    let b = text.as_bytes();
    // Attached to a word or a dotted/dashed token (`v1.2`, `id-42`): not a free-standing number.
    if start > 0
        && (is_word_byte(b[start - 1])
            || matches!(b[start - 1], b'.' | b'-' | b'/' | b':' | b'#' | b'=')
                && attached(b, start))
    {
        return skip_token(b, start);
    }
    let plus = b[start] == b'+';
    // Fast path, the common case in logs: a short bare number (`200`, `2026`, `0.023`)
    // followed by no separator-and-digit can be nothing we look for.
    if !plus && b[start] != b'(' {
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        let continues = matches!(b.get(end), Some(b' ' | b'-' | b'.'))
            && b.get(end + 1)
                .is_some_and(|c| c.is_ascii_digit() || *c == b'(');
        if end - start < 9 && !continues {
            if end < b.len() && is_word_byte(b[end]) {
                return skip_token(b, start);
            }
            return end;
        }
    }
    let mut pos = start + usize::from(plus);
    let mut groups = [Group::default(); MAX_GROUPS];
    let mut n = 0;
    let mut sep = 0u8;
    while n < MAX_GROUPS {
        let paren = b.get(pos) == Some(&b'(');
        let digits_at = pos + usize::from(paren);
        let mut end = digits_at;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == digits_at || (paren && b.get(end) != Some(&b')')) {
            break;
        }
        groups[n] = Group {
            start: pos,
            end: end + usize::from(paren),
            digits: end - digits_at,
            sep,
            paren,
        };
        n += 1;
        pos = end + usize::from(paren);
        // One separator, then another group must follow.
        let next = b.get(pos).copied();
        let (s, skip) = match next {
            Some(c @ (b' ' | b'-' | b'.')) => (c, 1),
            _ if paren => (b' ', 0),
            _ => break,
        };
        let after = pos + skip;
        let continues = b.get(after).is_some_and(u8::is_ascii_digit)
            || (b.get(after) == Some(&b'(') && b.get(after + 1).is_some_and(u8::is_ascii_digit));
        if !continues {
            break;
        }
        sep = s;
        pos = after;
    }
    if n == 0 {
        return start + 1;
    }
    let end = groups[n - 1].end;
    // A number glued to a word on its right (`123abc`, `4.2GHz`) is part of that word.
    if end < b.len()
        && (is_word_byte(b[end])
            || (matches!(b[end], b'.' | b'-')
                && b.get(end + 1).is_some_and(|c| c.is_ascii_alphanumeric())))
    {
        return skip_token(b, start);
    }
    // Nothing is shorter than eight digits (E.164 with a plus) or nine (everything else).
    let total: usize = groups[..n].iter().map(|g| g.digits).sum();
    if total >= if plus { 8 } else { 9 } {
        shapes(text, &groups[..n], plus, out);
    }
    end
}

/// Whether a separator before a digit joins it to a preceding token (`v1.2`, `id-42`).
fn attached(b: &[u8], start: usize) -> bool {
    start >= 2 && (is_word_byte(b[start - 2]) || b[start - 2] == b'.')
}

fn skip_token(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (is_word_byte(b[i]) || matches!(b[i], b'.' | b'-' | b'+' | b'(' | b')')) {
        i += 1;
    }
    i
}

/// Matches sub-sequences of groups, longest first, against the known layouts.
fn shapes(text: &str, groups: &[Group], plus: bool, out: &mut Vec<Finding>) {
    let mut s = 0;
    while s < groups.len() {
        let mut matched = false;
        for len in (1..=(groups.len() - s).min(6)).rev() {
            let g = &groups[s..s + len];
            let leading_plus = plus && s == 0;
            let whole_run = s == 0 && len == groups.len();
            if let Some(f) = classify_groups(text, g, leading_plus, whole_run) {
                out.push(f);
                s += len;
                matched = true;
                break;
            }
        }
        if !matched {
            s += 1;
        }
    }
}

fn digits_of(text: &str, g: &[Group]) -> ([u8; 32], usize) {
    let mut d = [0u8; 32];
    let mut n = 0;
    for group in g {
        for &c in &text.as_bytes()[group.start..group.end] {
            if c.is_ascii_digit() && n < d.len() {
                d[n] = c - b'0';
                n += 1;
            }
        }
    }
    (d, n)
}

/// `whole_run`: `g` is the entire number run. National phone layouts must be, so that a
/// phone-like tail of a longer number (`51 824 753 5564`) is not reported.
fn classify_groups(text: &str, g: &[Group], plus: bool, whole_run: bool) -> Option<Finding> {
    let total: usize = g.iter().map(|x| x.digits).sum();
    // Every layout below needs eight digits (E.164 with its plus) or nine; most sub-sequences
    // of an IP address or a version string stop here.
    if total < if plus { 8 } else { 9 } {
        return None;
    }
    let (d, n) = digits_of(text, g);
    let digits = &d[..n];
    let span_start = if plus { g[0].start - 1 } else { g[0].start };
    let span = span_start..g[g.len() - 1].end;
    let same_sep = g
        .iter()
        .skip(1)
        .all(|x| x.sep == g.get(1).map_or(0, |y| y.sep));
    let any_paren = g.iter().any(|x| x.paren);
    if plus {
        // International format: +CC then groups, 8 to 15 digits (E.164).
        return ((8..=15).contains(&total) && digits[0] != 0)
            .then(|| Finding::new(FindingKind::Phone, Confidence::Medium, span));
    }
    // US SSN: AAA-GG-SSSS with one separator, or bare nine digits after an SSN keyword.
    let ssn_layout = g.len() == 3
        && [g[0].digits, g[1].digits, g[2].digits] == [3, 2, 4]
        && same_sep
        && !any_paren;
    let bare_ssn = g.len() == 1 && total == 9 && ssn_context(text, g[0].start);
    if ssn_layout || bare_ssn {
        // SSN-shaped but invalid is still not a phone number.
        return valid_ssn(digits)
            .then(|| Finding::new(FindingKind::UsSsn, Confidence::Medium, span));
    }
    // Payment cards: 13-19 digits, ungrouped or in the printed groupings.
    if (13..=19).contains(&total)
        && !any_paren
        && same_sep
        && card_layout(g)
        && luhn(digits)
        && iin_matches(digits)
    {
        let mut last4 = [0u8; 4];
        for (slot, digit) in last4.iter_mut().zip(&digits[n - 4..]) {
            *slot = b'0' + digit;
        }
        return Some(Finding::card(span, last4));
    }
    (whole_run && phone_layout(g, digits, same_sep))
        .then(|| Finding::new(FindingKind::Phone, Confidence::Low, span))
}

/// The digit counts of (at most six) groups.
fn sizes(g: &[Group]) -> ([usize; 6], usize) {
    let mut out = [0; 6];
    for (slot, group) in out.iter_mut().zip(g) {
        *slot = group.digits;
    }
    (out, g.len().min(6))
}

fn card_layout(g: &[Group]) -> bool {
    let (buf, len) = sizes(g);
    let sizes = &buf[..len];
    if g.len() > 1 && !matches!(g[1].sep, b' ' | b'-') {
        return false;
    }
    match sizes {
        [_] => true,
        [4, 6, 4] | [4, 6, 5] => true,
        [rest @ .., last] => rest.iter().all(|&s| s == 4) && (1..=4).contains(last),
        [] => false,
    }
}

fn phone_layout(g: &[Group], digits: &[u8], same_sep: bool) -> bool {
    let (buf, len) = sizes(g);
    let sizes = &buf[..len];
    let total = digits.len();
    let seps_ok = g
        .iter()
        .skip(1)
        .all(|x| matches!(x.sep, b' ' | b'-' | b'.'));
    // North American: (NXX) NXX-XXXX, NXX-NXX-XXXX, optionally after a 1.
    let nanp = |area: usize| {
        digits.get(area).is_some_and(|&c| c >= 2) && digits.get(area + 3).is_some_and(|&c| c >= 2)
    };
    match sizes {
        [3, 3, 4] if (g[0].paren || same_sep) && nanp(0) => return true,
        [1, 3, 3, 4] if digits[0] == 1 && (g[1].paren || same_sep) && nanp(1) => return true,
        // Mobile numbers written without a trunk prefix in 3-3-2-2 (Turkey: 5XX XXX XX XX).
        [3, 3, 2, 2] if same_sep && digits[0] != 0 => return true,
        _ => {}
    }
    // National format with a trunk prefix: 0X… in two or more groups (09-7625400,
    // 0917 123 4567, 0 (917) 123 4567), or eleven bare digits 0X…
    if digits.first() == Some(&0) && digits.get(1).is_some_and(|&c| c != 0) {
        if g.len() == 1 {
            // Trunk prefix plus a ten-digit national number, written without separators.
            return total == 11;
        }
        let first_ok = g[0].digits >= 2 || (g[0].digits == 1 && g.len() >= 3);
        let rest_ok = g.iter().skip(1).all(|x| x.digits >= 2);
        return (9..=12).contains(&total)
            && first_ok
            && rest_ok
            && (seps_ok || g.iter().any(|x| x.paren))
            && (same_sep || g.iter().any(|x| x.paren) || g.iter().skip(1).all(|x| x.sep != b'.'));
    }
    false
}

fn ssn_context(text: &str, start: usize) -> bool {
    let from = start.saturating_sub(32);
    let Some(before) = text.as_bytes().get(from..start) else {
        return false;
    };
    let has = |needle: &[u8]| {
        before
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    };
    has(b"ssn") || has(b"social security")
}

/// SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000; and not the numbers
/// the SSA lists as publicly misused (078-05-1120, 219-09-9999).
fn valid_ssn(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
    let group = u32::from(d[3]) * 10 + u32::from(d[4]);
    let serial = d[5..].iter().fold(0u32, |acc, &x| acc * 10 + u32::from(x));
    let whole = d.iter().fold(0u64, |acc, &x| acc * 10 + u64::from(x));
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && whole != 78_051_120
        && whole != 219_099_999
}

pub(super) fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Issuer identification ranges and the lengths each network issues.
fn iin_matches(d: &[u8]) -> bool {
    let n = d.len();
    let prefix = |k: usize| d[..k].iter().fold(0u32, |acc, &x| acc * 10 + u32::from(x));
    let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6));
    match p1 {
        1 => n == 15,                                // UATP
        2 => (2221..=2720).contains(&p4) && n == 16, // Mastercard 2-series
        3 => {
            ((p2 == 34 || p2 == 37) && n == 15)                  // American Express
                || ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && (14..=19).contains(&n) // Diners
                || (3528..=3589).contains(&p4) && (16..=19).contains(&n) // JCB
        }
        4 => matches!(n, 13 | 16 | 19), // Visa
        5 => {
            ((51..=55).contains(&p2) && n == 16)                 // Mastercard
                || (matches!(p2, 50 | 56..=58) && (12..=19).contains(&n)) // Maestro
        }
        6 => {
            (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622_126..=622_925).contains(&p6))
                && (16..=19).contains(&n)                        // Discover
                || p2 == 62 && (16..=19).contains(&n)            // UnionPay
                || matches!(p4, 6304 | 6759 | 6761..=6763) && (12..=19).contains(&n) // Maestro
        }
        _ => false,
    }
}

/// IBAN lengths per country (ISO 13616 registry).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

enum Iban {
    /// A valid IBAN ending here.
    Valid(usize),
    /// IBAN-shaped (country code, check digits, groups) but failing length or mod-97; the
    /// whole grouped token ends here.
    Invalid(usize),
    /// Not IBAN-shaped.
    Absent,
}

/// An IBAN starting at `i`, compact or printed in groups of four separated by one space or
/// dash.
fn iban(b: &[u8], i: usize) -> Iban {
    let Some(head) = b.get(i..i + 4) else {
        return Iban::Absent;
    };
    if !(head[0].is_ascii_uppercase()
        && head[1].is_ascii_uppercase()
        && head[2].is_ascii_digit()
        && head[3].is_ascii_digit())
    {
        return Iban::Absent;
    }
    let Some(want) = IBAN_LENGTHS
        .iter()
        .find(|(cc, _)| cc[..] == head[..2])
        .map(|e| e.1)
    else {
        return Iban::Absent;
    };
    let mut chars = [0u8; 40];
    let mut n = 0;
    let mut pos = i;
    let mut sep = None;
    while n < chars.len() {
        let Some(&c) = b.get(pos) else { break };
        if c.is_ascii_uppercase() || c.is_ascii_digit() {
            chars[n] = c;
            n += 1;
            pos += 1;
        } else if matches!(c, b' ' | b'-')
            && n % 4 == 0
            && sep.is_none_or(|s| s == c)
            && b.get(pos + 1).is_some_and(u8::is_ascii_alphanumeric)
            && n < want
        {
            sep = Some(c);
            pos += 1;
        } else {
            break;
        }
    }
    if n < 8 {
        return Iban::Absent;
    }
    if n != want || b.get(pos).is_some_and(|&c| is_word_byte(c)) {
        return Iban::Invalid(skip_word(b, pos));
    }
    if mod97(&chars[..n]) {
        Iban::Valid(pos)
    } else {
        Iban::Invalid(pos)
    }
}

fn mod97(iban: &[u8]) -> bool {
    let mut rem = 0u32;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// An e-mail address around the `@` at `at`; returns where scanning resumes.
fn email(text: &str, at: usize, out: &mut Vec<Finding>) -> Option<usize> {
    // The domain first: it is cheaper, and in logs `@` mostly precedes versions and digests
    // (`nginx@1.25`, `image@sha256:…`), which fail it.
    let domain_end = domain_end(text, at + 1)?;
    let local_start = local_part_start(text, at)?;
    out.push(Finding::new(
        FindingKind::Email,
        Confidence::High,
        local_start..domain_end,
    ));
    Some(domain_end)
}

fn local_part_start(text: &str, at: usize) -> Option<usize> {
    let before = text.get(..at)?;
    if let Some(inner) = before.strip_suffix('"') {
        // Quoted local part: find the opening quote, honouring backslash escapes.
        for (steps, (idx, c)) in inner.char_indices().rev().enumerate() {
            if steps >= 128 || c == '\n' {
                return None;
            }
            if c == '"' {
                let escaped = inner[..idx].ends_with('\\') && !inner[..idx].ends_with("\\\\");
                if !escaped {
                    return Some(idx);
                }
            }
        }
        return None;
    }
    let mut start = at;
    for (idx, c) in before.char_indices().rev() {
        let ok = c.is_alphanumeric()
            || (!c.is_ascii() && !c.is_whitespace())
            || "!#$%&'*+-/=?^_`.{|}~".contains(c);
        if !ok || at - idx > 64 {
            break;
        }
        start = idx;
    }
    let local = &text[start..at];
    (!local.is_empty() && !local.starts_with('.') && !local.ends_with('.')).then_some(start)
}

fn domain_end(text: &str, from: usize) -> Option<usize> {
    let rest = text.get(from..)?;
    // The last complete label: (end offset, length in chars, has a letter), and how many.
    let mut last: Option<(usize, usize, bool)> = None;
    let mut labels = 0;
    let mut len = 0;
    let mut alpha = false;
    let mut end = from;
    for (idx, c) in rest.char_indices() {
        if idx > 253 {
            return None;
        }
        let label_char = c.is_alphanumeric()
            || c == '-'
            || (!c.is_ascii() && !c.is_whitespace() && c != '\u{3002}');
        if label_char {
            len += 1;
            alpha |= c.is_alphabetic() || !c.is_ascii();
            end = from + idx + c.len_utf8();
        } else if c == '.' && len > 0 {
            last = Some((end, len, alpha));
            labels += 1;
            len = 0;
            alpha = false;
        } else {
            break;
        }
    }
    if len > 0 {
        last = Some((end, len, alpha));
        labels += 1;
    }
    let (end, last_len, last_alpha) = last?;
    (labels >= 2 && last_len >= 2 && last_alpha).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<FindingKind> {
        let mut out = Vec::new();
        scan(text, &mut out);
        out.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn luhn_and_iin() {
        assert!(luhn(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]));
        assert!(!luhn(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]));
        assert_eq!(
            kinds("card 4111 1111 1111 1111 ok"),
            [FindingKind::PaymentCard]
        );
        assert_eq!(kinds("card 4111-1111-1111-1112"), []);
        // Epoch milliseconds pass no IIN rule.
        assert_eq!(kinds("ts=1716200000000 ok"), []);
    }

    #[test]
    fn iban_checks_length_and_mod97() {
        assert_eq!(
            kinds("pay to GB82 WEST 1234 5698 7654 32 now"),
            [FindingKind::Iban]
        );
        assert_eq!(kinds("DE89370400440532013000"), [FindingKind::Iban]);
        assert_eq!(kinds("DE89370400440532013001"), []);
        assert_eq!(kinds("GB82 WEST 1234 5698 7654 3"), []);
    }

    #[test]
    fn ssn_excludes_invalid_ranges() {
        assert_eq!(kinds("ssn 123-45-6789"), [FindingKind::UsSsn]);
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "123-00-4567",
            "123-45-0000",
            "078-05-1120",
        ] {
            assert!(!kinds(bad).contains(&FindingKind::UsSsn), "{bad}");
        }
        assert_eq!(kinds("id 123456789"), []);
        assert_eq!(kinds("SSN: 123456789"), [FindingKind::UsSsn]);
    }

    #[test]
    fn phones_follow_layouts() {
        for p in [
            "+44 7700 900123",
            "(415) 555-0132",
            "415-555-0132",
            "+4915123456789",
            "0917 123 4567",
            "09-7625400",
            "532 481 27 90",
            "532-481-27-90",
        ] {
            assert_eq!(kinds(p), [FindingKind::Phone], "{p}");
        }
        for not in [
            "2024-05-01",
            "10.0.12.34",
            "1.2.3",
            "v1.22.3",
            "415-555-01",
            "3636dd46-ea21-11e9",
            "200 1534 0.023",
            "532 481-27 90",
            "cpu 532 481 27 90 12 7",
        ] {
            assert_eq!(kinds(not), [], "{not}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(kinds("mail ops@example.com."), [FindingKind::Email]);
        assert_eq!(kinds("\"quoted local\"@example.org"), [FindingKind::Email]);
        assert_eq!(kinds("юзер@екзампл.ком"), [FindingKind::Email]);
        assert_eq!(kinds("image@sha256:abcd"), []);
        assert_eq!(kinds("nginx@1.25.3"), []);
    }
}
