//! Credential detectors: an Aho-Corasick prefilter over literal anchors, then per-line regexes.
//!
//! Every detector names the literals that must occur near a match (a token prefix, or a
//! credential keyword) and the documented shape of the credential. The prefilter runs once
//! over the text; a detector's regex runs only on the lines where one of its anchors occurs.

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Captures, Regex};

use super::finding::{Confidence, Finding, FindingKind};
use super::text::{classes, entropy, is_placeholder, is_uuid, looks_random};

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

struct Spec {
    kind: FindingKind,
    anchors: &'static [&'static str],
    pattern: &'static str,
    check: Check,
    window: Window,
}

#[derive(Debug)]
struct Detector {
    kind: FindingKind,
    regex: Regex,
    check: Check,
    window: Window,
}

/// The compiled detectors and the anchor automaton.
#[derive(Debug)]
pub(super) struct SecretScanner {
    anchors: AhoCorasick,
    /// For each anchor pattern, the detectors it triggers.
    triggers: Vec<Vec<usize>>,
    detectors: Vec<Detector>,
}

impl SecretScanner {
    pub(super) fn new() -> Self {
        let mut patterns: Vec<String> = Vec::new();
        let mut triggers: Vec<Vec<usize>> = Vec::new();
        let mut detectors = Vec::new();
        for (index, spec) in specs().iter().enumerate() {
            for anchor in spec.anchors {
                let anchor = anchor.to_ascii_lowercase();
                if let Some(pos) = patterns.iter().position(|p| *p == anchor) {
                    triggers[pos].push(index);
                } else {
                    patterns.push(anchor);
                    triggers.push(vec![index]);
                }
            }
            detectors.push(Detector {
                kind: spec.kind,
                regex: compile(spec.pattern),
                check: spec.check,
                window: spec.window,
            });
        }
        Self {
            anchors: build_anchors(&patterns),
            triggers,
            detectors,
        }
    }

    pub(super) fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        // Per detector, the end of the last window scanned, so a line with several anchors
        // is scanned once per detector.
        let mut scanned_to = vec![0usize; self.detectors.len()];
        let mut seen = vec![false; self.detectors.len()];
        for m in self.anchors.find_overlapping_iter(text) {
            for &d in &self.triggers[m.pattern().as_usize()] {
                if seen[d] && m.start() < scanned_to[d] {
                    continue;
                }
                let detector = &self.detectors[d];
                let window = window(text, m.start(), m.end(), detector.window);
                seen[d] = true;
                scanned_to[d] = window.end;
                detector.run(text, window, out);
            }
        }
    }
}

impl Detector {
    fn run(&self, text: &str, window: Range<usize>, out: &mut Vec<Finding>) {
        let Some(slice) = text.get(window.clone()) else {
            return;
        };
        for caps in self.regex.captures_iter(slice) {
            let Some(whole) = value(&caps).or_else(|| caps.get(0)) else {
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

/// The secret part of a match: the `v` group, or the quoted value groups `dq`, `sq`, `bq`.
fn value<'h>(caps: &Captures<'h>) -> Option<regex::Match<'h>> {
    ["v", "dq", "sq", "bq"].iter().find_map(|g| caps.name(g))
}

fn build_anchors(patterns: &[String]) -> AhoCorasick {
    match AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(patterns)
    {
        Ok(ac) => ac,
        // The patterns are compile-time literals; a failure is a bug caught by every test.
        Err(err) => unreachable!("anchor automaton: {err}"),
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

// ---------------------------------------------------------------------------------------------
// Validators for the detectors whose format alone is not enough.

fn check_private_key(caps: &Captures<'_>) -> Option<Confidence> {
    let body = caps.name("body").map_or("", |m| m.as_str());
    let has_end = caps.name("end").is_some();
    let content = body.chars().filter(|c| !c.is_whitespace()).count();
    // "-----BEGIN PRIVATE KEY-----\nanything\n-----END…" is documentation; a header followed by
    // real content, or cut off before its end line, is a key.
    let ok = if has_end { content >= 16 } else { content >= 1 };
    ok.then_some(Confidence::High)
}

fn check_slack(caps: &Captures<'_>) -> Option<Confidence> {
    let token = caps.get(0)?.as_str();
    let last = token.rsplit('-').next().unwrap_or("");
    let has_digit = last.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = last.bytes().any(|b| b.is_ascii_alphabetic());
    (token.len() >= 24 && has_digit && has_alpha && !is_placeholder(token))
        .then_some(Confidence::High)
}

fn check_url(caps: &Captures<'_>) -> Option<Confidence> {
    let password = caps.name("pw")?.as_str();
    let user = caps.name("user").map_or("", |m| m.as_str());
    if is_placeholder(password) || password.starts_with(['$', '{', '<', '%']) {
        return None;
    }
    if user.starts_with(['$', '{', '<', '%']) {
        return None;
    }
    Some(Confidence::High)
}

fn check_user_pass(caps: &Captures<'_>) -> Option<Confidence> {
    let user = caps.name("user")?.as_str().trim_matches(['"', '\'', '{', '}']);
    let password = caps.name("pw").map_or("", |m| m.as_str());
    let password = password.trim_matches(['"', '\'', '{', '}']);
    let templated = |s: &str| {
        s.starts_with(['$', '<', '%'])
            || is_placeholder(s)
            || NON_VALUES.contains(&s.to_ascii_lowercase().as_str())
    };
    if password.is_empty() {
        // `-u KEY:` passes an API key as the user name (Stripe, Elastic).
        return looks_random(user, 12, 3.0).then_some(Confidence::High);
    }
    (!templated(user) && !templated(password) && user != password && password.len() >= 3)
        .then_some(Confidence::High)
}

fn check_auth_header(caps: &Captures<'_>) -> Option<Confidence> {
    let value = caps.name("v")?.as_str();
    (!is_placeholder(value) && value.len() >= 8 && entropy(value.as_bytes()) >= 2.5)
        .then_some(Confidence::High)
}

fn check_bundler(caps: &Captures<'_>) -> Option<Confidence> {
    let value = caps.name("v")?.as_str();
    (!is_placeholder(value)).then_some(Confidence::High)
}

/// Words that, ending a key, make it describe a credential rather than hold one:
/// `token_type`, `secret_name`, `password_file`, `api_key_id`.
const METADATA_WORDS: &[&str] = &[
    "name", "names", "type", "id", "ids", "file", "path", "url", "uri", "endpoint", "count",
    "length", "len", "ttl", "expiry", "expires", "expiration", "expire", "policy", "manager",
    "ref", "arn", "version", "hash", "header", "prefix", "format", "field", "param", "size",
    "min", "max", "required", "enabled", "enable", "mode", "source", "store", "provider",
    "label", "kind", "dir", "location", "timeout", "rotation", "hint", "reset", "strength",
    "regex", "pattern", "input", "limit", "scope", "scopes", "server", "host", "method",
    "algorithm", "alg", "key", "keys", "error", "errors", "status", "valid", "invalid",
    "expired", "missing", "changed", "updated", "created", "length", "policies", "vault",
    "class", "service", "mount", "template", "generator", "store", "request", "response",
    "retries", "attempts", "cache", "check", "column", "table",
];

/// Words that make a key a credential, strong (always a secret) or weak (needs a random value).
const STRONG_WORDS: &[&str] = &["password", "passwd", "pwd", "pw", "pass", "passphrase", "secret"];
const STRONG_SUFFIXES: &[&str] = &["password", "passwd", "secret"];
const WEAK_WORDS: &[&str] = &[
    "token", "apikey", "key", "auth", "credential", "credentials", "creds", "cred", "login",
];
const WEAK_SUFFIXES: &[&str] = &[
    "token",
    "apikey",
    "accesskey",
    "secretkey",
    "authkey",
    "privatekey",
    "licensekey",
    "authtoken",
];

/// Splits an identifier into lowercase words at `_ - . :`, spaces and camelCase humps.
fn words(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    // `bot_token4`, `password2`: a numbered credential is still one.
    for w in &mut out {
        let trimmed = w.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if trimmed > 0 {
            w.truncate(trimmed);
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strength {
    Strong,
    Weak,
}

fn key_strength(key: &str) -> Option<Strength> {
    let words = words(key);
    let last = words.last()?;
    let strong = |w: &String| {
        STRONG_WORDS.contains(&w.as_str()) || STRONG_SUFFIXES.iter().any(|s| w.ends_with(s))
    };
    let weak = |w: &String| {
        WEAK_WORDS.contains(&w.as_str()) || WEAK_SUFFIXES.iter().any(|s| w.ends_with(s))
    };
    // A key that ends in a metadata word describes a credential (`token_type`), unless that
    // word is itself the credential (`api_key`, `secret_key`).
    if METADATA_WORDS.contains(&last.as_str()) && !weak(last) && !strong(last) {
        return None;
    }
    if words.iter().any(|w| w == "public" || w == "pub") {
        return None;
    }
    if last == "key" && words.len() == 1 {
        // A bare `key` is too common (cache keys, map keys) to count as a credential keyword.
        return None;
    }
    if words.iter().any(strong) {
        Some(Strength::Strong)
    } else if weak(last) {
        // `maxmindToken`, `SNYK_API_KEY`; not `KeyPair` or `keyVaultName`.
        Some(Strength::Weak)
    } else {
        None
    }
}

/// Values that are words of the language, not secrets.
const NON_VALUES: &[&str] = &[
    "true", "false", "null", "none", "nil", "undefined", "required", "optional", "string",
    "str", "int", "bool", "boolean", "password", "secret", "token", "bearer", "basic", "yes",
    "no", "on", "off", "empty", "unset", "default", "hidden", "masked", "function", "new",
    "this", "self", "self.", "return", "value", "object", "env", "file", "text", "number",
];

fn check_assignment(caps: &Captures<'_>) -> Option<Confidence> {
    let key = caps.name("key")?.as_str();
    let sep = caps.name("sep").map_or("", |m| m.as_str());
    let quoted = caps.name("q").is_some();
    let value = value(caps)?.as_str();
    let strength = key_strength(key)?;
    let lower = value.to_ascii_lowercase();
    if is_placeholder(value) || NON_VALUES.contains(&lower.as_str()) {
        return None;
    }
    // Lower-case dotted names are host names or attribute paths (`auth: sso.example.com`).
    if value.contains('.')
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return None;
    }
    if value.starts_with("http") || value.contains("://") || is_code(value) {
        return None;
    }
    let sep = sep.trim();
    // A space (CLI flag) or `is` separates loosely, and so does a colon (logs write
    // "password: invalid"): the value must then look like a value, not a word.
    let explicit = sep.ends_with('=') || sep == "->";
    let word_like = classes(value) < 2 && value.bytes().all(|b| b.is_ascii_alphabetic());
    if sep.is_empty() || sep == "is" {
        if !key.starts_with('-') && sep.is_empty() {
            return None;
        }
        if word_like {
            return None;
        }
    }
    match strength {
        Strength::Strong => {
            if value.chars().count() < 4 {
                return None;
            }
            if !explicit && !quoted && word_like {
                return None;
            }
            Some(Confidence::Medium)
        }
        Strength::Weak => weak_value_is_secret(value).then_some(Confidence::Low),
    }
}

/// A call, an index or an attribute path (`getPassword()`, `cfg[key]`, `self.token`): code
/// that fetches the credential, not the credential.
fn is_code(value: &str) -> bool {
    let ident_len = value
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
        .count();
    let rest = &value[ident_len..];
    let starts_ident = value.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    starts_ident && (rest.starts_with('(') || rest.starts_with('[') || rest.is_empty() && value.contains('.') && !value.contains(|c: char| c.is_ascii_digit()))
}

/// A value next to a weak keyword (`token`, `api_key`) must look generated: long, varied, and
/// either alphanumeric with digits or sprinkled with symbols (identifiers have neither).
fn weak_value_is_secret(value: &str) -> bool {
    if is_uuid(value) {
        return true;
    }
    let digit = value.bytes().any(|b| b.is_ascii_digit());
    let symbols = value
        .bytes()
        .filter(|b| !b.is_ascii_alphanumeric() && !matches!(b, b'_' | b'.' | b'-' | b'/'))
        .count();
    value.len() >= 12
        && !is_placeholder(value)
        && entropy(value.as_bytes()) >= 3.0
        && ((digit && classes(value) >= 2) || symbols >= 2)
}

fn check_xml_setting(caps: &Captures<'_>) -> Option<Confidence> {
    let key = caps.name("key")?.as_str();
    let value = value(caps)?.as_str();
    match key_strength(key)? {
        Strength::Strong => (!is_placeholder(value) && value.chars().count() >= 4)
            .then_some(Confidence::Medium),
        Strength::Weak => weak_value_is_secret(value).then_some(Confidence::Low),
    }
}

/// The `data:` values of a Kubernetes `Secret` manifest (base64 of the secret itself).
const K8S_SECRET_DATA: &str = r#"(?m)^[ \t]+[A-Za-z0-9_.\-]+:[ \t]*(?:[|>]-?[ \t]*\n[ \t]+)?"?(?P<v>[A-Za-z0-9+/]{8,}={0,2})"?[ \t]*$"#;

fn check_k8s_data(caps: &Captures<'_>) -> Option<Confidence> {
    let v = caps.name("v")?.as_str();
    // Base64 of anything has mixed classes or padding; plain words and numbers do not.
    // Kubernetes stores data values padded, so their length is a multiple of four.
    (!is_placeholder(v) && classes(v) >= 2 && v.len() >= 8 && v.len() % 4 == 0)
        .then_some(Confidence::Medium)
}

fn check_twilio(caps: &Captures<'_>) -> Option<Confidence> {
    let v = caps.get(0)?.as_str();
    (entropy(v.as_bytes()) >= 3.0).then_some(Confidence::High)
}

/// `key = value` in its many spellings: `=`, `:`, `:=`, `::=`, `?=`, `.=`, `=>`, `->`, `is`,
/// a CLI flag's space, an optional type (`var k string = …`), quoted or bare values.
const ASSIGNMENT: &str = concat!(
    r#"(?i)(?P<key>[a-z0-9_.\-]*(?:pass|pwd|secret|token|key|auth|cred|login)[a-z0-9_.\-]*)["'\]]?"#,
    r#"(?:\s+(?:string|str|const|final|char\[\]))?"#,
    r#"(?P<sep>\s*(?:=>|:{1,3}=|[?.+]=|===|!==|==|!=|=|:|->)\s*|\s+is\s+|\s+)"#,
    r#"@?(?P<q>\$?(?:"(?P<dq>[^"\n]{1,256})"|'(?P<sq>[^'\n]{1,256})'|`(?P<bq>[^`\n]{1,256})`))?"#,
    r#"(?P<v>[^\s"'`,;\\]{1,256})?"#,
);

/// `<apiToken>value</apiToken>`, across lines.
const XML_ELEMENT: &str = r#"(?i)<(?P<key>[a-z0-9_.\-]*(?:pass|pwd|secret|token|key|auth|cred)[a-z0-9_.\-]*)>\s*(?P<v>[^<\s]{1,256})\s*</"#;

/// `setProperty("API_TOKEN", "value")`, `["password", "value"]`.
const KEY_VALUE_ARGS: &str = r#"(?i)["'](?P<key>[a-z0-9_.\-]*(?:pass|pwd|secret|token|key|auth|cred)[a-z0-9_.\-]*)["']\s*,\s*(?P<q>["'])(?P<v>[^"'\n]{1,256})["']"#;

/// `"literal" == password`: a hard-coded credential compared with a variable.
const COMPARISON: &str = r#"(?i)(?P<q>["'])(?P<v>[^"'\n]{4,256})["']\s*(?:===|!==|==|!=)\s*(?P<key>[a-z0-9_.\-]*(?:pass|pwd|secret|token|key|auth|cred|login)[a-z0-9_.\-]*)"#;

/// Keywords that anchor the assignment detector.
const KEYWORDS: &[&str] = &[
    "pass", "pwd", "secret", "token", "key", "auth", "credential", "cred", "login",
];

#[allow(clippy::too_many_lines, reason = "one table, one entry per documented format")]
fn specs() -> Vec<Spec> {
    use FindingKind as K;
    use Window::{Block, Line};
    let spec = |kind, anchors, pattern, check| Spec {
        kind,
        anchors,
        pattern,
        check,
        window: Line,
    };
    vec![
        Spec {
            kind: K::PrivateKey,
            anchors: &["-----BEGIN"],
            pattern: r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?P<body>(?s:.)*?)(?:(?P<end>-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)|\z)",
            check: Check::Custom(check_private_key),
            window: Block,
        },
        spec(
            K::AwsAccessKeyId,
            &["AKIA", "ASIA", "ABIA", "ACCA", "A3T", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA"],
            r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z2-7]{16}\b",
            Check::Custom(|caps| (!is_placeholder(caps.get(0)?.as_str())).then_some(Confidence::High)),
        ),
        spec(
            K::AwsSecretKey,
            &["secret_access_key", "secretaccesskey", "aws_secret"],
            r#"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key)["']?\s*(?:=|:|=>|:=)\s*["']?(?P<v>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
            Check::Entropy(3.0),
        ),
        spec(
            K::GcpKey,
            &["AIza"],
            r"\bAIza[0-9A-Za-z_\-]{35}(?:[^0-9A-Za-z_\-]|$)",
            Check::Custom(|caps| {
                let v = caps.get(0)?.as_str();
                let key = v.get(..39)?;
                (!is_placeholder(key) && entropy(key.as_bytes()) >= 3.5 && classes(key) == 3)
                    .then_some(Confidence::High)
            }),
        ),
        spec(
            K::GcpKey,
            &["service_account"],
            r#""type"\s*:\s*"service_account""#,
            Check::Format,
        ),
        spec(
            K::AzureKey,
            &["AccountKey="],
            r"AccountKey=(?P<v>[A-Za-z0-9+/]{86}==)",
            Check::Entropy(4.0),
        ),
        spec(
            K::AzureKey,
            &["Q~"],
            r"(?:^|[^A-Za-z0-9_~.\-])(?P<v>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)",
            Check::Entropy(3.5),
        ),
        spec(
            K::GithubToken,
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::GitlabToken,
            &["glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "gloas-", "glsoat-", "glffct-", "glft-", "glimt-", "glagent-", "GR1348941"],
            r"\b(?:glpat-[A-Za-z0-9_\-]{20,}|glptt-[0-9a-f]{40}|gl(?:dt|rt|soat|ffct|ft)-[A-Za-z0-9_\-]{20}|glcbt-[0-9a-fA-F]{1,5}_[A-Za-z0-9_\-]{20}|gloas-[A-Za-z0-9_\-]{64}|glimt-[A-Za-z0-9_\-]{25}|glagent-[A-Za-z0-9_\-]{50}|GR1348941[A-Za-z0-9_\-]{20})(?:[^A-Za-z0-9_\-]|$)",
            Check::Entropy(3.0),
        ),
        spec(
            K::SlackToken,
            &["xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xoxe", "xapp-"],
            r"\b(?:xox[abposr]|xoxe\.xox[bp]|xoxe|xapp)-(?:[0-9A-Za-z]+-)+[0-9A-Za-z]{6,}",
            Check::Custom(check_slack),
        ),
        spec(
            K::SlackWebhook,
            &["hooks.slack.com"],
            r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,}",
            Check::Format,
        ),
        spec(
            K::StripeKey,
            &["sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"],
            r"\b(?:[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{32,})",
            Check::Entropy(3.0),
        ),
        spec(
            K::TwilioKey,
            &["twilio"],
            r"\b(?:AC|SK)[0-9a-fA-F]{32}\b",
            Check::Custom(check_twilio),
        ),
        spec(
            K::SendgridKey,
            &["SG."],
            r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b",
            Check::Entropy(3.5),
        ),
        spec(
            K::NpmToken,
            &["npm_", "_authToken"],
            r"\bnpm_[A-Za-z0-9]{36}\b|//[A-Za-z0-9.\-]+(?::\d+)?(?:/[^\s:]*)?/:_authToken=(?P<v>[A-Za-z0-9_\-.]{8,})",
            Check::Entropy(3.0),
        ),
        spec(
            K::PypiToken,
            &["pypi-Ag"],
            r"\bpypi-Ag[A-Za-z0-9_\-]{50,}",
            Check::Format,
        ),
        spec(
            K::Jwt,
            &["eyJ"],
            r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}(?:\.[A-Za-z0-9_\-]*)?",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["T3BlbkFJ"],
            r"\bsk-(?:[A-Za-z0-9]+-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["sk-ant-"],
            r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{93}AA\b",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["hf_", "api_org_"],
            r"\b(?:hf_|api_org_)[A-Za-z]{34}\b",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["AGE-SECRET-KEY-1"],
            r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["ops_eyJ"],
            r"\bops_eyJ[A-Za-z0-9+/=_\-]{100,}",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["A3-"],
            r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["dapi"],
            r"\bdapi[a-f0-9]{32}(?:-\d)?\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["ATATT3"],
            r"\bATATT3[A-Za-z0-9_\-=]{186}",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["sntrys_", "sntryu_"],
            r"\b(?:sntrys_eyJ[A-Za-z0-9+/=_\-]{50,}|sntryu_[a-f0-9]{64})",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["ntn_"],
            r"\bntn_\d{11}[A-Za-z0-9]{35}\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["pplx-"],
            r"\bpplx-[A-Za-z0-9]{48}\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["hvs.", "hvb.", "hvr."],
            r"\bhv[sbr]\.[A-Za-z0-9_\-]{24,}",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["HRKU-"],
            r"\bHRKU-AA[0-9A-Za-z_\-]{58}",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["sha256~"],
            r"sha256~[A-Za-z0-9_\-]{43}",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["ABSKQmVkcm9ja0FQSUtleS", "bedrock-api-key-"],
            r"ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{110,}={0,2}|bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%&\-]*",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["v1.0-"],
            r"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["s-s4t2"],
            r"\bs-s4t2(?:ud|af)-[a-f0-9]{64}\b",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &["tk-us-"],
            r"\btk-us-[A-Za-z0-9_\-]{48}",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["ico-"],
            r"(?:^|[^A-Za-z0-9_.\-])(?P<v>ico-[A-Za-z0-9]{32})\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["sq0atp-", "sq0csp-", "EAAA"],
            r"\b(?:sq0(?:atp|csp)-[A-Za-z0-9_\-]{22,43}|EAAA[A-Za-z0-9_\-]{60})\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["EAAM", "EAAC"],
            r"\bEAA[MC][A-Za-z0-9]{80,}",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["shpat_", "shpca_", "shppa_", "shpss_"],
            r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["dp.pt.", "dop_v1_", "doo_v1_", "dor_v1_", "lin_api_", "PMAK-", "NRAK-", "glsa_", "glc_"],
            r"\b(?:dp\.pt\.[A-Za-z0-9]{43}|do[por]_v1_[a-f0-9]{64}|lin_api_[A-Za-z0-9]{40}|PMAK-[a-f0-9]{24}-[a-f0-9]{34}|NRAK-[A-Z0-9]{27}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,2})\b",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["sgp_"],
            r"\bsgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["FlyV1 fm", "fo1_"],
            r"FlyV1 fm[12]r?_[A-Za-z0-9+/=,_\-]{100,}|\bfo1_[A-Za-z0-9_\-]{43}",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["atlasv1"],
            r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9\-_=]{60,70}",
            Check::Format,
        ),
        spec(
            K::VendorToken,
            &[":AA"],
            r"(?:^|[^A-Za-z0-9_])(?P<v>\d{8,10}:AA[A-Za-z0-9_\-]{33})(?:[^A-Za-z0-9_\-]|$)",
            Check::Entropy(3.5),
        ),
        spec(
            K::VendorToken,
            &["-us"],
            r"\b[0-9a-f]{32}-us\d{1,2}\b",
            Check::Entropy(3.0),
        ),
        spec(
            K::VendorToken,
            &["AKCp"],
            r"\bAKCp[A-Za-z0-9]{69}\b",
            Check::Entropy(3.5),
        ),
        spec(
            K::UrlCredentials,
            &["://"],
            r#"[A-Za-z][A-Za-z0-9+.\-]{1,30}://(?P<v>(?P<user>[^\s:/@"'<>]{0,128}):(?P<pw>[^\s@/"'<>]{1,256}))@[A-Za-z0-9.\-_\[\]%]+"#,
            Check::Custom(check_url),
        ),
        spec(
            K::CredentialAssignment,
            &["-u", "--user"],
            r#"(?:^|\s)(?:-u|--user)\s*(?P<v>["']?(?P<user>[^\s:"']{1,64})["']?:["']?(?P<pw>[^\s"']*)["']?)"#,
            Check::Custom(check_user_pass),
        ),
        spec(
            K::CredentialAssignment,
            &["authorization"],
            r#"(?i)\bauthorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|apikey|sso-key)\s+)?(?P<v>[A-Za-z0-9._~+/=\-:]{8,})"#,
            Check::Custom(check_auth_header),
        ),
        spec(
            K::CredentialAssignment,
            &["BUNDLE_"],
            r#"\bBUNDLE_[A-Z0-9_]+__[A-Z]+\s*[:=]\s*["']?(?P<v>[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]+)"#,
            Check::Custom(check_bundler),
        ),
        spec(
            K::CredentialAssignment,
            KEYWORDS,
            r#"(?i)key\s*=\s*"(?P<key>[^"]{1,64})"\s+value\s*=\s*"(?P<v>[^"]{1,256})""#,
            Check::Custom(check_xml_setting),
        ),
        Spec {
            kind: K::CredentialAssignment,
            anchors: KEYWORDS,
            pattern: XML_ELEMENT,
            check: Check::Custom(check_xml_setting),
            window: Block,
        },
        spec(
            K::CredentialAssignment,
            KEYWORDS,
            KEY_VALUE_ARGS,
            Check::Custom(check_xml_setting),
        ),
        Spec {
            kind: K::CredentialAssignment,
            anchors: &["kind: secret", "kind: \"secret\""],
            pattern: K8S_SECRET_DATA,
            check: Check::Custom(check_k8s_data),
            window: Block,
        },
        spec(
            K::CredentialAssignment,
            KEYWORDS,
            COMPARISON,
            Check::Custom(check_xml_setting),
        ),
        spec(
            K::CredentialAssignment,
            KEYWORDS,
            ASSIGNMENT,
            Check::Custom(check_assignment),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_into_words() {
        assert_eq!(words("sonarToken"), ["sonar", "token"]);
        assert_eq!(words("SUMOLOGIC_ACCESSKEY"), ["sumologic", "accesskey"]);
        assert_eq!(words("--softlayer-api-key"), ["softlayer", "api", "key"]);
    }

    #[test]
    fn key_strength_reads_the_identifier() {
        assert_eq!(key_strength("db_password"), Some(Strength::Strong));
        assert_eq!(key_strength("ClearTextPassword"), Some(Strength::Strong));
        assert_eq!(key_strength("api_key"), Some(Strength::Weak));
        assert_eq!(key_strength("maxmindToken"), Some(Strength::Weak));
        assert_eq!(key_strength("token_type"), None);
        assert_eq!(key_strength("secret_name"), None);
        assert_eq!(key_strength("monkey"), None);
        assert_eq!(key_strength("key"), None);
    }

    #[test]
    fn windows_stay_on_the_anchor_line() {
        let text = "first line\nsecond password=x line\nthird";
        let at = text.find("password").unwrap_or(0);
        let w = window(text, at, at + 8, Window::Line);
        assert_eq!(&text[w], "second password=x line");
    }
}
