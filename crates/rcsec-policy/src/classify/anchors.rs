//! The literal prefilter: every detector's anchors in a few SIMD multi-literal searchers.
//!
//! Anchors are matched case-sensitively, so the packed (Teddy) searcher of `aho-corasick` can
//! be used; credential keywords are listed in their three usual spellings (`token`, `Token`,
//! `TOKEN`) instead. At every start position the longest anchor starting there is reported
//! (the search resumes one byte later), and a pattern also triggers the detectors of every
//! anchor that is a prefix of it, so no detector misses an anchor hidden inside a longer one.
//!
//! Why several searchers, and which anchors share one: Teddy sorts its patterns into buckets
//! and verifies every position whose fingerprint (the first bytes of a pattern, as many as
//! the searcher's shortest pattern has, at most four) hits a bucket. Past 32 patterns it
//! switches to its "fat" variant (16 bytes per step instead of 32), and its buckets fill with
//! fingerprints that hex and base64 text hit constantly. So the anchors are split by length
//! — the three-byte ones (`key`, `://`, `eyJ`) in searchers of their own, so that every other
//! searcher verifies on four-byte fingerprints — and each length class into searchers of at
//! most [`GROUP_SIZE`] anchors. Measured with callgrind on 10 MB of benign logs: one searcher
//! over ~110 anchors costs 37 instructions per byte; three fat searchers of 42 mixed anchors
//! cost 9.4, five slim ones split by length 7.4. The searchers' matches are merged in order
//! of their start ([`Cursor`]).

use aho_corasick::packed::{Config, MatchKind as PackedKind, Searcher};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};

/// The most anchors one packed searcher holds: past 32, Teddy goes "fat" (see the module docs).
const GROUP_SIZE: usize = 32;
/// The shortest anchor length whose searchers verify on four-byte fingerprints.
const LONG_ANCHOR: usize = 4;
/// The most packed searchers; more anchors than this allows fall back to one automaton.
const MAX_GROUPS: usize = 8;

/// Multi-literal searchers over one pattern list: Teddy where the CPU has it, one automaton
/// otherwise.
#[derive(Debug)]
pub(super) enum Anchors {
    /// Each searcher with, per its pattern, that pattern's index in the whole list.
    Packed(Vec<(Vec<usize>, Searcher)>),
    Automaton(AhoCorasick),
}

impl Anchors {
    pub(super) fn new(patterns: &[&str]) -> Self {
        if let Some(searchers) = packed_searchers(patterns) {
            return Self::Packed(searchers);
        }
        match AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns)
        {
            Ok(ac) => Self::Automaton(ac),
            // The patterns are compile-time literals; a failure is a bug caught by every test.
            Err(err) => unreachable!("anchor automaton: {err}"),
        }
    }

    /// Every anchor in `haystack`, ordered by start: (pattern index, start, end).
    pub(super) fn cursor<'a>(&'a self, haystack: &'a [u8]) -> Cursor<'a> {
        let mut cursor = Cursor {
            anchors: self,
            haystack,
            pending: [None; MAX_GROUPS],
        };
        let groups = match self {
            Self::Packed(searchers) => searchers.len(),
            Self::Automaton(_) => 1,
        };
        for group in 0..groups {
            cursor.pending[group] = cursor.first_from(group, 0);
        }
        cursor
    }
}

/// The anchors split into Teddy searchers by length class (see the module docs), or `None`
/// where Teddy is unavailable or there are too many anchors for [`MAX_GROUPS`] searchers.
fn packed_searchers(patterns: &[&str]) -> Option<Vec<(Vec<usize>, Searcher)>> {
    let (short, long): (Vec<usize>, Vec<usize>) =
        (0..patterns.len()).partition(|&i| patterns[i].len() < LONG_ANCHOR);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for class in [short, long] {
        // As few searchers as the size cap allows, evenly filled: each one scans the whole
        // text, so a searcher for a handful of anchors costs as much as a full one.
        let count = class.len().div_ceil(GROUP_SIZE);
        if count > 0 {
            let size = class.len().div_ceil(count);
            groups.extend(class.chunks(size).map(<[usize]>::to_vec));
        }
    }
    if groups.len() > MAX_GROUPS {
        return None;
    }
    groups
        .into_iter()
        .map(|ids| {
            // The heuristic cap of 64 patterns is lifted because every anchor is at least
            // three bytes long, which keeps verification rare.
            Config::new()
                .match_kind(PackedKind::LeftmostLongest)
                .heuristic_pattern_limits(false)
                .builder()
                .extend(ids.iter().map(|&i| patterns[i]))
                .build()
                .map(|searcher| (ids, searcher))
        })
        .collect()
}

/// Merges the matches of the searchers in order of their start.
#[derive(Debug)]
pub(super) struct Cursor<'a> {
    anchors: &'a Anchors,
    haystack: &'a [u8],
    /// Per searcher, its first match not yet returned.
    pending: [Option<(usize, usize, usize)>; MAX_GROUPS],
}

impl Cursor<'_> {
    /// The first match of searcher `group` starting at or after `at`.
    fn first_from(&self, group: usize, at: usize) -> Option<(usize, usize, usize)> {
        let hay = self.haystack;
        if at >= hay.len() {
            return None;
        }
        match self.anchors {
            Anchors::Packed(searchers) => {
                let (ids, searcher) = searchers.get(group)?;
                searcher
                    .find_in(hay, aho_corasick::Span::from(at..hay.len()))
                    .and_then(|m| Some((*ids.get(m.pattern().as_usize())?, m.start(), m.end())))
            }
            Anchors::Automaton(ac) => ac
                .find(Input::new(hay).span(at..hay.len()))
                .map(|m| (m.pattern().as_usize(), m.start(), m.end())),
        }
    }
}

impl Iterator for Cursor<'_> {
    type Item = (usize, usize, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.pending.iter().flatten().map(|m| m.1).min()?;
        // The longest anchor starting here, whichever searcher holds it: the result does not
        // depend on how the anchors are split. Every searcher with a match here resumes one
        // byte later, so anchors starting inside this one are reported too.
        let mut longest: Option<(usize, usize, usize)> = None;
        for group in 0..MAX_GROUPS {
            let Some(found) = self.pending[group].filter(|m| m.1 == start) else {
                continue;
            };
            if longest.is_none_or(|l| found.2 > l.2) {
                longest = Some(found);
            }
            self.pending[group] = self.first_from(group, start + 1);
        }
        longest
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

/// Where a credential keyword at `start..end` sits, as far as the bytes around it tell.
///
/// Each keyword detector's expression needs one of these forms, so a keyword in prose or in
/// a path (`token refreshed`, `/login/42`, `auth-gateway-7c9d`) runs no expression at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Forms {
    /// `key = v`, `key: v`, `"key": v`, `key := v`, `--key v`, `key is v`, `var key T = v`.
    pub(super) assignment: bool,
    /// `"v" == key`.
    pub(super) comparison: bool,
    /// `<key>v</key>`.
    pub(super) xml_tag: bool,
    /// `setProperty("KEY", "v")`, `["key", "v"]`.
    pub(super) call_argument: bool,
    /// `key="KEY" value="v"`.
    pub(super) xml_setting: bool,
    /// The whole identifier the keyword is part of (`db_password` around `pass`).
    pub(super) ident: (usize, usize),
    /// For the assignment form, the length of the value after the operator (a quoted
    /// value up to its closing quote); `usize::MAX` when it cannot be told.
    pub(super) value_len: usize,
}

#[cfg(test)]
impl Forms {
    /// Whether any form is possible.
    pub(super) fn any(self) -> bool {
        self.assignment || self.comparison || self.xml_tag || self.call_argument || self.xml_setting
    }
}

pub(super) fn forms(b: &[u8], start: usize, end: usize) -> Forms {
    let mut s = start;
    while s > 0 && is_ident(b[s - 1]) {
        s -= 1;
    }
    let mut e = end;
    while e < b.len() && is_ident(b[e]) {
        e += 1;
    }
    let mut forms = Forms {
        ident: (s, e),
        ..Forms::default()
    };
    if b[s] == b'-' {
        forms.assignment = true; // a command-line flag
    }
    // Before the identifier.
    let before = if s > 0 { b[s - 1] } else { b'\n' };
    let mut p = s;
    while p > 0 && b[p - 1] == b' ' {
        p -= 1;
    }
    let opened_by = if p > 0 { b[p - 1] } else { b'\n' };
    forms.comparison = opened_by == b'=';
    forms.xml_tag = before == b'<' && b.get(e) == Some(&b'>');
    let quoted = matches!(before, b'"' | b'\'');
    forms.xml_setting = before == b'"' && s >= 5 && b[s - 5..s - 1].eq_ignore_ascii_case(b"key=");
    // After it: an optional closing quote or bracket, spaces, an optional word (a type, or
    // `value` in `key="K" value="v"`, or `is`), then an operator.
    let mut q = e;
    if matches!(b.get(q), Some(b'"' | b'\'' | b']')) {
        q += 1;
    }
    while matches!(b.get(q), Some(b' ' | b'\t')) {
        q += 1;
    }
    if quoted && b.get(q) == Some(&b',') && s >= 2 && matches!(b[s - 2], b'(' | b'[') {
        let mut r = q + 1;
        while matches!(b.get(r), Some(b' ')) {
            r += 1;
        }
        forms.call_argument = matches!(b.get(r), Some(b'"' | b'\''));
    }
    let word_start = q;
    while b.get(q).is_some_and(u8::is_ascii_alphabetic) {
        q += 1;
    }
    if &b[word_start..q] == b"is" {
        forms.assignment = true;
    }
    if q > word_start {
        while matches!(b.get(q), Some(b' ' | b'\t')) {
            q += 1;
        }
    }
    let operator = match b.get(q) {
        Some(b'=' | b':' | b'?' | b'.' | b'+' | b'!') => true,
        Some(b'-') => b.get(q + 1) == Some(&b'>'),
        _ => false,
    };
    forms.value_len = usize::MAX;
    if operator && !forms.assignment {
        forms.assignment = true;
        forms.value_len = value_len(b, q);
    }
    forms
}

/// The length of the value after the operator starting at `op`.
fn value_len(b: &[u8], op: usize) -> usize {
    let mut v = op;
    while matches!(
        b.get(v),
        Some(b'=' | b':' | b'?' | b'.' | b'+' | b'!' | b'>' | b'-' | b' ' | b'\t' | b'@' | b'$')
    ) {
        v += 1;
    }
    match b.get(v) {
        Some(&q @ (b'"' | b'\'' | b'`')) => b[v + 1..]
            .iter()
            .take(300)
            .position(|&c| c == q || c == b'\n')
            .unwrap_or(usize::MAX),
        Some(_) => b[v..]
            .iter()
            .take(300)
            .take_while(|&&c| {
                !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b',' | b';')
            })
            .count(),
        None => 0,
    }
}

/// Whether the URL whose `://` ends at `end` has user information (`user:pass@`).
pub(super) fn url_has_userinfo(b: &[u8], end: usize) -> bool {
    b[end..]
        .iter()
        .take(400)
        .take_while(|&&c| {
            !matches!(
                c,
                b'/' | b' ' | b'\t' | b'\n' | b'"' | b'\'' | b'<' | b'>' | b'?' | b'#'
            )
        })
        .any(|&c| c == b'@')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, keyword: &str) -> Forms {
        let start = text.find(keyword).unwrap_or(0);
        assert_eq!(&text[start..start + keyword.len()], keyword);
        forms(text.as_bytes(), start, start + keyword.len())
    }

    fn plausible(text: &str, keyword: &str) -> bool {
        at(text, keyword).any()
    }

    #[test]
    fn value_lengths() {
        assert_eq!(at("auth: ok", "auth").value_len, 2);
        assert_eq!(at("password = \"a b c\" x", "pass").value_len, 5);
        assert_eq!(at("token=abc123;", "token").value_len, 6);
    }

    #[test]
    fn forms_are_told_apart() {
        assert!(at("db_password = x", "pass").assignment);
        assert!(at("if (\"v\" == secret)", "secret").comparison);
        assert!(at("<apiToken>v</apiToken>", "Token").xml_tag);
        assert!(at("setProperty(\"SONAR_TOKEN\", \"v\")", "TOKEN").call_argument);
        assert!(at("<add key=\"Password\" value=\"v\" />", "Pass").xml_setting);
        assert!(!at("<add key=\"Password\" value=\"v\" />", "Pass").comparison);
    }

    #[test]
    fn assignments_pass_the_gate() {
        for (text, kw) in [
            ("db_password = x", "pass"),
            ("\"token\": \"x\"", "token"),
            ("API_KEY:=x", "KEY"),
            ("--softlayer-api-key abcd", "key"),
            ("if (\"v\" == secret)", "secret"),
            ("<apiToken>v</apiToken>", "Token"),
            ("the password is hunter2", "pass"),
            ("System.setProperty(\"SONAR_TOKEN\", \"v\")", "TOKEN"),
            ("<add key=\"Password\" value=\"v\" />", "Pass"),
            ("var genericToken string = \"v\"", "Token"),
            ("$token .= \"v\"", "token"),
            ("token -> v", "token"),
        ] {
            assert!(plausible(text, kw), "{text}");
        }
    }

    #[test]
    fn prose_and_paths_do_not() {
        for (text, kw) in [
            ("token refreshed for client", "token"),
            ("GET /login/42 HTTP/1.1", "login"),
            ("\"host\":\"auth-gateway-7c9d\",\"status\":200", "auth"),
            ("monkey business", "key"),
        ] {
            assert!(!plausible(text, kw), "{text}");
        }
    }

    #[test]
    fn userinfo() {
        let t = b"postgres://app:pw@db/x";
        assert!(url_has_userinfo(t, 11));
        let t = b"https://grafana.internal/d/x?u=a@b";
        assert!(!url_has_userinfo(t, 8));
    }

    #[test]
    fn every_start_position_is_reported() {
        let anchors = Anchors::new(&["auth", "_authToken", "Token"]);
        let found: Vec<(usize, usize)> = anchors
            .cursor(b"x _authToken=1")
            .map(|(p, s, _)| (p, s))
            .collect();
        assert_eq!(found, [(1, 2), (0, 3), (2, 7)]);
    }

    #[test]
    fn searchers_are_merged_in_order() {
        // More patterns than one group holds: the matches of different searchers interleave.
        let words: Vec<String> = (0..GROUP_SIZE * 2 + 5)
            .map(|i| format!("w{i:03}x"))
            .collect();
        let patterns: Vec<&str> = words.iter().map(String::as_str).collect();
        let anchors = Anchors::new(&patterns);
        if cfg!(target_arch = "x86_64") {
            assert!(matches!(&anchors, Anchors::Packed(s) if s.len() == 3));
        }
        let last = words.len() - 1;
        let hay = format!("{} {} {} {}", words[last], words[0], words[41], words[last]);
        let found: Vec<(usize, usize)> = anchors
            .cursor(hay.as_bytes())
            .map(|(p, s, _)| (p, s))
            .collect();
        assert_eq!(found, [(last, 0), (0, 6), (41, 12), (last, 18)]);
    }

    #[test]
    fn the_longest_anchor_at_a_start_wins_across_searchers() {
        // `EAA` and `key` go to the three-byte searcher, `EAAA` and `keys` to another; each
        // start is reported once, with its longest anchor.
        let anchors = Anchors::new(&["EAA", "EAAA", "key", "keys", "AAAB"]);
        if cfg!(target_arch = "x86_64") {
            assert!(matches!(&anchors, Anchors::Packed(s) if s.len() == 2));
        }
        let found: Vec<(usize, usize, usize)> = anchors.cursor(b"EAAAB keys key").collect();
        assert_eq!(found, [(1, 0, 4), (4, 1, 5), (3, 6, 10), (2, 11, 14)]);
    }
}
