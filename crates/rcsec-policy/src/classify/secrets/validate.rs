//! Validators for the detectors whose format alone is not enough, and the keyword logic of
//! the assignment detectors: which identifiers name a credential, which values are secrets.

use regex::Captures;

use crate::classify::finding::Confidence;
use crate::classify::text::{classes, entropy, is_placeholder, is_uuid, looks_random};

/// The secret part of a match: the `v` group, or the quoted value groups `dq`, `sq`, `bq`.
pub(super) fn value<'h>(caps: &Captures<'h>) -> Option<regex::Match<'h>> {
    ["v", "dq", "sq", "bq"].iter().find_map(|g| caps.name(g))
}

pub(super) fn check_private_key(caps: &Captures<'_>) -> Option<Confidence> {
    let body = caps.name("body").map_or("", |m| m.as_str());
    let has_end = caps.name("end").is_some();
    let content = body.chars().filter(|c| !c.is_whitespace()).count();
    // "-----BEGIN PRIVATE KEY-----\nanything\n-----END…" is documentation; a header followed by
    // real content, or cut off before its end line, is a key.
    let ok = if has_end { content >= 16 } else { content >= 1 };
    ok.then_some(Confidence::High)
}

pub(super) fn check_slack(caps: &Captures<'_>) -> Option<Confidence> {
    let token = caps.get(0)?.as_str();
    let last = token.rsplit('-').next().unwrap_or("");
    let has_digit = last.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = last.bytes().any(|b| b.is_ascii_alphabetic());
    (token.len() >= 24 && has_digit && has_alpha && !is_placeholder(token))
        .then_some(Confidence::High)
}

pub(super) fn check_url(caps: &Captures<'_>) -> Option<Confidence> {
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

pub(super) fn check_user_pass(caps: &Captures<'_>) -> Option<Confidence> {
    let user = caps
        .name("user")?
        .as_str()
        .trim_matches(['"', '\'', '{', '}']);
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

pub(super) fn check_auth_header(caps: &Captures<'_>) -> Option<Confidence> {
    let value = caps.name("v")?.as_str();
    (!is_placeholder(value) && value.len() >= 8 && entropy(value.as_bytes()) >= 2.5)
        .then_some(Confidence::High)
}

pub(super) fn check_bundler(caps: &Captures<'_>) -> Option<Confidence> {
    let value = caps.name("v")?.as_str();
    (!is_placeholder(value)).then_some(Confidence::High)
}

/// Words that, ending a key, make it describe a credential rather than hold one:
/// `token_type`, `secret_name`, `password_file`, `api_key_id`.
const METADATA_WORDS: &[&str] = &[
    "name",
    "names",
    "type",
    "id",
    "ids",
    "file",
    "path",
    "url",
    "uri",
    "endpoint",
    "count",
    "length",
    "len",
    "ttl",
    "expiry",
    "expires",
    "expiration",
    "expire",
    "policy",
    "manager",
    "ref",
    "arn",
    "version",
    "hash",
    "header",
    "prefix",
    "format",
    "field",
    "param",
    "size",
    "min",
    "max",
    "required",
    "enabled",
    "enable",
    "mode",
    "source",
    "store",
    "provider",
    "label",
    "kind",
    "dir",
    "location",
    "timeout",
    "rotation",
    "hint",
    "reset",
    "strength",
    "regex",
    "pattern",
    "input",
    "limit",
    "scope",
    "scopes",
    "server",
    "host",
    "method",
    "algorithm",
    "alg",
    "key",
    "keys",
    "error",
    "errors",
    "status",
    "valid",
    "invalid",
    "expired",
    "missing",
    "changed",
    "updated",
    "created",
    "length",
    "policies",
    "vault",
    "class",
    "service",
    "mount",
    "template",
    "generator",
    "store",
    "request",
    "response",
    "retries",
    "attempts",
    "cache",
    "check",
    "column",
    "table",
];

/// Words that make a key a credential, strong (always a secret) or weak (needs a random value).
const STRONG_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pw",
    "pass",
    "passphrase",
    "secret",
];
const STRONG_SUFFIXES: &[&str] = &["password", "passwd", "secret"];
const WEAK_WORDS: &[&str] = &[
    "token",
    "apikey",
    "key",
    "auth",
    "credential",
    "credentials",
    "creds",
    "cred",
    "login",
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

/// The words of an identifier, split at `_ - . :`, spaces, other non-alphanumeric bytes and
/// camelCase humps, each without trailing digits (`bot_token4`, `password2`: a numbered
/// credential is still one). Words keep their case; compare them with
/// `eq_ignore_ascii_case`.
///
/// Borrowed, not collected: the keyword gates call this for every credential keyword in the
/// text, and an allocation per word was a tenth of the classifier's time on benign logs.
struct Words<'a> {
    key: &'a [u8],
    pos: usize,
}

fn words(key: &str) -> Words<'_> {
    Words {
        key: key.as_bytes(),
        pos: 0,
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let key = self.key;
        while self.pos < key.len() && !key[self.pos].is_ascii_alphanumeric() {
            self.pos += 1;
        }
        let start = self.pos;
        if start == key.len() {
            return None;
        }
        let mut end = start + 1;
        // A word ends at a hump: an upper-case letter after a lower-case letter or a digit.
        let hump = |at: usize| key[at].is_ascii_uppercase() && !key[at - 1].is_ascii_uppercase();
        while end < key.len() && key[end].is_ascii_alphanumeric() && !hump(end) {
            end += 1;
        }
        self.pos = end;
        let word = &key[start..end];
        let trimmed = word.len() - word.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        Some(if trimmed > 0 { &word[..trimmed] } else { word })
    }
}

fn is_any_of(word: &[u8], list: &[&str]) -> bool {
    list.iter().any(|w| word.eq_ignore_ascii_case(w.as_bytes()))
}

fn ends_with_any_of(word: &[u8], suffixes: &[&str]) -> bool {
    suffixes.iter().any(|s| {
        word.len() >= s.len() && word[word.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes())
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strength {
    Strong,
    Weak,
}

pub(super) fn key_strength(key: &str) -> Option<Strength> {
    let strong = |w: &[u8]| is_any_of(w, STRONG_WORDS) || ends_with_any_of(w, STRONG_SUFFIXES);
    let weak = |w: &[u8]| is_any_of(w, WEAK_WORDS) || ends_with_any_of(w, WEAK_SUFFIXES);
    let (mut count, mut last, mut public, mut any_strong) = (0usize, None, false, false);
    for word in words(key) {
        count += 1;
        last = Some(word);
        public |= is_any_of(word, &["public", "pub"]);
        any_strong |= strong(word);
    }
    let last = last?;
    // A key that ends in a metadata word describes a credential (`token_type`), unless that
    // word is itself the credential (`api_key`, `secret_key`).
    if is_any_of(last, METADATA_WORDS) && !weak(last) && !strong(last) {
        return None;
    }
    if public {
        return None;
    }
    if count == 1 && last.eq_ignore_ascii_case(b"key") {
        // A bare `key` is too common (cache keys, map keys) to count as a credential keyword.
        return None;
    }
    if any_strong {
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
    "true",
    "false",
    "null",
    "none",
    "nil",
    "undefined",
    "required",
    "optional",
    "string",
    "str",
    "int",
    "bool",
    "boolean",
    "password",
    "secret",
    "token",
    "bearer",
    "basic",
    "yes",
    "no",
    "on",
    "off",
    "empty",
    "unset",
    "default",
    "hidden",
    "masked",
    "function",
    "new",
    "this",
    "self",
    "self.",
    "return",
    "value",
    "object",
    "env",
    "file",
    "text",
    "number",
];

pub(super) fn check_assignment(caps: &Captures<'_>) -> Option<Confidence> {
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
    let starts_ident = value
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    starts_ident
        && (rest.starts_with('(')
            || rest.starts_with('[')
            || rest.is_empty()
                && value.contains('.')
                && !value.contains(|c: char| c.is_ascii_digit()))
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

pub(super) fn check_xml_setting(caps: &Captures<'_>) -> Option<Confidence> {
    let key = caps.name("key")?.as_str();
    let value = value(caps)?.as_str();
    match key_strength(key)? {
        Strength::Strong => {
            (!is_placeholder(value) && value.chars().count() >= 4).then_some(Confidence::Medium)
        }
        Strength::Weak => weak_value_is_secret(value).then_some(Confidence::Low),
    }
}

/// The `data:` values of a Kubernetes `Secret` manifest (base64 of the secret itself).
pub(super) const K8S_SECRET_DATA: &str = r#"(?m)^[ \t]+[A-Za-z0-9_.\-]+:[ \t]*(?:[|>]-?[ \t]*\n[ \t]+)?"?(?P<v>[A-Za-z0-9+/]{8,}={0,2})"?[ \t]*$"#;

pub(super) fn check_k8s_data(caps: &Captures<'_>) -> Option<Confidence> {
    let v = caps.name("v")?.as_str();
    // Base64 of anything has mixed classes or padding; plain words and numbers do not.
    // Kubernetes stores data values padded, so their length is a multiple of four.
    (!is_placeholder(v) && classes(v) >= 2 && v.len() >= 8 && v.len() % 4 == 0)
        .then_some(Confidence::Medium)
}

/// A value assigned to a vendor's name: not a placeholder, and random-looking (hex digests of
/// 32 or more characters reach 3.5 bits per byte, words and counters do not reach 3). A hex
/// value under a key that names a digest or an id (`SOURCEGRAPH_COMMIT`, `cloudflare_zone_id`)
/// is that digest or id.
pub(super) fn check_vendor_value(caps: &Captures<'_>) -> Option<Confidence> {
    let v = value(caps)?.as_str();
    if let Some(key) = caps.name("key") {
        let describes = words(key.as_str()).last().is_some_and(|w| {
            !is_any_of(w, &["key", "keys"])
                && (is_any_of(w, METADATA_WORDS) || is_any_of(w, DIGEST_WORDS))
        });
        if describes && v.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
    }
    (!is_placeholder(v) && entropy(v.as_bytes()) >= 3.0).then_some(Confidence::High)
}

/// Words naming a digest or a revision: hex values under them are not secrets.
const DIGEST_WORDS: &[&str] = &[
    "sha",
    "commit",
    "digest",
    "revision",
    "rev",
    "checksum",
    "etag",
    "fingerprint",
    "build",
];

pub(super) fn check_twilio(caps: &Captures<'_>) -> Option<Confidence> {
    let v = caps.get(0)?.as_str();
    (entropy(v.as_bytes()) >= 3.0).then_some(Confidence::High)
}

/// `key = value` in its many spellings: `=`, `:`, `:=`, `::=`, `?=`, `.=`, `=>`, `->`, `is`,
/// a CLI flag's space, an optional type (`var k string = …`), quoted or bare values.
pub(super) const ASSIGNMENT: &str = concat!(
    r#"(?i)(?P<key>[a-z0-9_.\-]*(?:pass|pwd|secret|token|key|auth|cred|login)[a-z0-9_.\-]*)["'\]]?"#,
    r#"(?:\s+(?:string|str|const|final|char\[\]))?"#,
    r#"(?P<sep>\s*(?:=>|:{1,3}=|[?.+]=|===|!==|==|!=|=|:|->)\s*|\s+is\s+|\s+)"#,
    r#"@?(?P<q>\$?(?:"(?P<dq>[^"\n]{1,256})"|'(?P<sq>[^'\n]{1,256})'|`(?P<bq>[^`\n]{1,256})`))?"#,
    r#"(?P<v>[^\s"'`,;\\]{1,256})?"#,
);

/// `<apiToken>value</apiToken>`, across lines.
pub(super) const XML_ELEMENT: &str = r#"(?i)<(?P<key>[a-z0-9_.\-]*(?:pass|pwd|secret|token|key|auth|cred)[a-z0-9_.\-]*)>\s*(?P<v>[^<\s]{1,256})\s*</"#;

/// `setProperty("API_TOKEN", "value")`, `["password", "value"]`.
pub(super) const KEY_VALUE_ARGS: &str = r#"(?i)["'](?P<key>[a-z0-9_.\-]*(?:pass|pwd|secret|token|key|auth|cred)[a-z0-9_.\-]*)["']\s*,\s*(?P<q>["'])(?P<v>[^"'\n]{1,256})["']"#;

/// `"literal" == password`: a hard-coded credential compared with a variable.
pub(super) const COMPARISON: &str = r#"(?i)(?P<q>["'])(?P<v>[^"'\n]{4,256})["']\s*(?:===|!==|==|!=)\s*(?P<key>[a-z0-9_.\-]*(?:pass|pwd|secret|token|key|auth|cred|login)[a-z0-9_.\-]*)"#;

/// Keywords that anchor the assignment detectors, in their three usual spellings (anchors
/// are case-sensitive; see `anchors`).
pub(super) const KEYWORDS: &[&str] = &[
    "pass", "Pass", "PASS", "pwd", "Pwd", "PWD", "secret", "Secret", "SECRET", "token", "Token",
    "TOKEN", "key", "Key", "KEY", "auth", "Auth", "AUTH", "cred", "Cred", "CRED", "login", "Login",
    "LOGIN",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_into_words() {
        let split = |key: &str| -> Vec<String> {
            words(key)
                .map(|w| String::from_utf8_lossy(w).to_ascii_lowercase())
                .collect()
        };
        assert_eq!(split("sonarToken"), ["sonar", "token"]);
        assert_eq!(split("SUMOLOGIC_ACCESSKEY"), ["sumologic", "accesskey"]);
        assert_eq!(split("--softlayer-api-key"), ["softlayer", "api", "key"]);
        assert_eq!(split("bot_token4"), ["bot", "token"]);
        assert_eq!(split("ClearTextPassword"), ["clear", "text", "password"]);
        assert_eq!(split("APIKey2x9"), ["apikey2x"]);
        assert_eq!(split("v2Token"), ["v", "token"]);
        assert_eq!(split("42"), ["42"]);
        assert_eq!(split("é_key"), ["key"]);
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
        assert_eq!(key_strength("public_key"), None);
        assert_eq!(key_strength("KeyPair"), None);
    }
}
