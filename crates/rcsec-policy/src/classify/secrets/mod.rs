//! Credential detectors: a multi-literal prefilter over anchors, then per-line expressions.
//!
//! Every detector names the literals that must occur near a match (a token prefix, or a
//! credential keyword) and the documented shape of the credential ([`specs`]). The prefilter
//! runs once over the text; a detector's expression runs only on the lines where one of its
//! anchors occurs, and keyword detectors only where the keyword could be assigned a value
//! ([`forms`]). Validators ([`validate`]) then reject placeholders, templates
//! and values that do not look like secrets.

mod specs;
mod validate;

use std::ops::Range;

use regex::{Captures, Regex};

use super::anchors::{Anchors, Forms, forms, url_has_userinfo};
use super::finding::{Confidence, Finding, FindingKind};
use super::text::{entropy, is_placeholder};

/// How far a line window reaches on each side of an anchor, and a key block's length.
const LINE_REACH: usize = 4096;
const BLOCK_REACH: usize = 16 * 1024;
const BLOCK_BACK: usize = 2048;

/// How a candidate match is confirmed.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// The format is distinctive enough on its own.
    Format,
    /// Not a placeholder, and at least this many bits of entropy per byte.
    Entropy(f64),
    /// A hand-written validator.
    Custom(fn(&Captures<'_>) -> Option<Confidence>),
}

/// Where a detector looks around an anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    Line,
    Block,
}

/// A cheap test of the bytes around an anchor before the expression runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Always,
    /// A credential keyword that could be assigned a value (`key = v`).
    Assignment,
    /// The same, and the identifier names a credential (`db_password = v`, not `key = v`).
    KeyedAssignment,
    /// A keyword compared with a literal (`"v" == key`).
    Comparison,
    /// A keyword naming an XML element (`<key>v</key>`).
    XmlTag,
    /// A keyword as a quoted call argument (`set("KEY", "v")`).
    CallArgument,
    /// A keyword as an XML setting's key (`key="KEY" value="v"`).
    XmlSetting,
    /// `://` followed by user information.
    Userinfo,
}

struct Spec {
    kind: FindingKind,
    anchors: &'static [&'static str],
    pattern: &'static str,
    check: Check,
    window: Window,
    gate: Gate,
}

#[derive(Debug)]
struct Detector {
    kind: FindingKind,
    regex: Regex,
    check: Check,
    window: Window,
    gate: Gate,
}

/// The compiled detectors and the anchor searcher.
#[derive(Debug)]
pub(super) struct SecretScanner {
    anchors: Anchors,
    /// For each anchor pattern, the detectors it triggers (its own and those of every anchor
    /// that is a prefix of it).
    triggers: Vec<Vec<usize>>,
    detectors: Vec<Detector>,
    #[cfg(test)]
    patterns: usize,
}

impl SecretScanner {
    pub(super) fn new() -> Self {
        let specs = specs::specs();
        let mut patterns: Vec<&'static str> = Vec::new();
        let mut own: Vec<Vec<usize>> = Vec::new();
        for (index, spec) in specs.iter().enumerate() {
            for &anchor in spec.anchors {
                if let Some(pos) = patterns.iter().position(|p| *p == anchor) {
                    own[pos].push(index);
                } else {
                    patterns.push(anchor);
                    own.push(vec![index]);
                }
            }
        }
        let triggers = patterns
            .iter()
            .map(|p| {
                let mut t: Vec<usize> = patterns
                    .iter()
                    .zip(&own)
                    .filter(|(q, _)| p.starts_with(**q))
                    .flat_map(|(_, d)| d.iter().copied())
                    .collect();
                t.sort_unstable();
                t.dedup();
                t
            })
            .collect();
        let detectors = specs
            .iter()
            .map(|spec| Detector {
                kind: spec.kind,
                regex: compile(spec.pattern),
                check: spec.check,
                window: spec.window,
                gate: spec.gate,
            })
            .collect();
        Self {
            anchors: Anchors::new(&patterns),
            triggers,
            detectors,
            #[cfg(test)]
            patterns: patterns.len(),
        }
    }

    pub(super) fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        let bytes = text.as_bytes();
        // Per detector, the end of the last window scanned, so a line with several anchors
        // is scanned once per detector.
        let mut scanned_to: Vec<Option<usize>> = Vec::new();
        for (pattern, start, end) in self.anchors.cursor(bytes) {
            let mut around: Option<Forms> = None;
            // What the identifier around the keyword names, computed once per anchor: up to
            // five keyword detectors ask.
            let mut named: Option<Option<validate::Strength>> = None;
            for &d in &self.triggers[pattern] {
                let detector = &self.detectors[d];
                if scanned_to
                    .get(d)
                    .copied()
                    .flatten()
                    .is_some_and(|e| start < e)
                {
                    continue;
                }
                let open = match detector.gate {
                    Gate::Always => true,
                    Gate::Userinfo => url_has_userinfo(bytes, end),
                    gate => {
                        let f = *around.get_or_insert_with(|| forms(bytes, start, end));
                        // The keyword detectors' validators all require the identifier to
                        // name a credential (in at most 64 bytes); that is read once per anchor.
                        let strength = || {
                            *named.get_or_insert_with(|| {
                                text.get(f.ident.0..f.ident.1)
                                    .filter(|k| k.len() <= 64)
                                    .and_then(validate::key_strength)
                            })
                        };
                        keyword_gate_open(gate, f, strength)
                    }
                };
                if !open {
                    continue;
                }
                let window = window(text, start, end, detector.window);
                if scanned_to.len() <= d {
                    scanned_to.resize(self.detectors.len(), None);
                }
                scanned_to[d] = Some(window.end);
                detector.run(text, window, out);
            }
        }
    }
}

/// Whether a keyword gate lets its detector run, given the keyword's surroundings and what
/// its identifier names (asked for only when the form allows a finding).
fn keyword_gate_open(
    gate: Gate,
    f: Forms,
    mut strength: impl FnMut() -> Option<validate::Strength>,
) -> bool {
    match gate {
        Gate::Always | Gate::Userinfo => true,
        Gate::Assignment => f.assignment,
        // Strong keys need a value of 4 characters, weak ones of 12.
        Gate::KeyedAssignment => {
            f.assignment
                && f.value_len >= 4
                && match strength() {
                    Some(validate::Strength::Strong) => true,
                    Some(validate::Strength::Weak) => f.value_len >= 12,
                    None => false,
                }
        }
        Gate::Comparison => f.comparison && strength().is_some(),
        Gate::XmlTag => f.xml_tag && strength().is_some(),
        Gate::CallArgument => f.call_argument && strength().is_some(),
        Gate::XmlSetting => f.xml_setting,
    }
}

impl Detector {
    fn run(&self, text: &str, window: Range<usize>, out: &mut Vec<Finding>) {
        let Some(slice) = text.get(window.clone()) else {
            return;
        };
        // On a short haystack the regex engine goes straight to its capturing backtracker;
        // most windows do not match at all, which the lazy DFA answers far more cheaply.
        if !self.regex.is_match(slice) {
            return;
        }
        for caps in self.regex.captures_iter(slice) {
            let Some(whole) = validate::value(&caps).or_else(|| caps.get(0)) else {
                continue;
            };
            let confidence = match self.check {
                Check::Format => Some(Confidence::High),
                Check::Entropy(bits) => (!is_placeholder(whole.as_str())
                    && entropy(whole.as_str().as_bytes()) >= bits)
                    .then_some(Confidence::High),
                Check::Custom(validate) => validate(&caps),
            };
            if let Some(confidence) = confidence {
                let span = window.start + whole.start()..window.start + whole.end();
                let kind = match (self.kind, confidence) {
                    // Keyword detectors report weak keywords as entropy findings.
                    (FindingKind::CredentialAssignment, Confidence::Low) => {
                        FindingKind::HighEntropySecret
                    }
                    (kind, _) => kind,
                };
                let confidence = confidence.max(Confidence::Medium);
                out.push(Finding::new(kind, confidence, span));
            }
        }
    }
}

fn compile(pattern: &str) -> Regex {
    match regex::RegexBuilder::new(pattern)
        .size_limit(1 << 24)
        .build()
    {
        Ok(re) => re,
        // The patterns are compile-time literals; a failure is a bug caught by every test.
        Err(err) => unreachable!("detector pattern {pattern:?}: {err}"),
    }
}

/// The window a detector scans around an anchor at `start..end`.
fn window(text: &str, start: usize, end: usize, kind: Window) -> Range<usize> {
    let bytes = text.as_bytes();
    // A block (a manifest, a key file) may begin before the line of its anchor.
    let reach = if kind == Window::Block { BLOCK_BACK } else { 0 };
    let start = start.saturating_sub(reach);
    let floor = start.saturating_sub(LINE_REACH);
    let line_start = bytes[floor..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(floor, |p| floor + p + 1);
    let line_end = match kind {
        Window::Line => {
            let ceil = (end + LINE_REACH).min(bytes.len());
            bytes[end..ceil]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(ceil, |p| end + p)
        }
        Window::Block => (start + BLOCK_REACH).min(bytes.len()),
    };
    floor_boundary(text, line_start)..floor_boundary(text, line_end)
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anchor_set_fits_the_packed_searcher() {
        let scanner = SecretScanner::new();
        assert!(scanner.patterns <= 160, "{} anchors", scanner.patterns);
        assert!(matches!(scanner.anchors, Anchors::Packed(_)) || !cfg!(target_arch = "x86_64"));
    }

    #[test]
    fn windows_stay_on_the_anchor_line() {
        let text = "first line\nsecond password=x line\nthird";
        let at = text.find("password").unwrap_or(0);
        let w = window(text, at, at + 8, Window::Line);
        assert_eq!(&text[w], "second password=x line");
    }
}
