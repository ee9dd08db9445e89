//! Labels: the only strings an event can hold, validated per field.

use std::fmt;

use super::EventError;

/// Longest name or id label accepted.
const MAX_LABEL_LEN: usize = 128;
/// Longest code label accepted.
const MAX_CODE_LEN: usize = 64;
/// A run of this many digits could be a phone number (E.164 numbers have at least seven), so
/// free-form labels refuse it.
const MAX_DIGIT_RUN: usize = 6;

/// A short, log-safe token. Which rules apply depends on the field:
///
/// - **codes** (`route`, `provider`, `outcome`, `reason`, `e2ee`, `fallback_reason`): 1-64
///   bytes of `[a-z0-9_.:-]`, like `carrier_no_e2ee`;
/// - **names** (`actor`): 1-128 bytes of `[A-Za-z0-9._:/@-]`, like `oncall:Alice@example.org`;
/// - **ids** (`link`, the log id): as names, minus the digit rule below.
///
/// Codes and names refuse runs of seven or more digits, so a phone number cannot be smuggled
/// in as a "reason"; codes also refuse capitals, which keeps out most mixed-case tokens and
/// API keys. No rule can tell a lowercase secret from a code, so callers pass codes from
/// their own vocabulary, never user or alert text. Every charset is free of characters that
/// JSON or syslog would escape.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(pub(crate) String);

/// Which rules a label field follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LabelRule {
    Code,
    Name,
    Id,
}

impl Label {
    /// Validates a code (`route`, `reason`, `e2ee`, ...).
    ///
    /// # Errors
    /// [`EventError::InvalidLabel`] (with field `"label"`) when the rules above are broken.
    pub fn new(raw: &str) -> Result<Self, EventError> {
        Self::checked(raw, "label", LabelRule::Code)
    }

    /// Validates a name (an actor).
    ///
    /// # Errors
    /// [`EventError::InvalidLabel`] (with field `"label"`) when the rules above are broken.
    pub fn name(raw: &str) -> Result<Self, EventError> {
        Self::checked(raw, "label", LabelRule::Name)
    }

    pub(crate) fn checked(
        raw: &str,
        field: &'static str,
        rule: LabelRule,
    ) -> Result<Self, EventError> {
        if valid_label(raw.as_bytes(), rule) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(EventError::InvalidLabel { field })
        }
    }

    /// The label text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A byte set as a table: one look-up per byte.
pub(crate) type ByteSet = [bool; 256];

/// The bytes a label of `rule` may hold (the parser checks them while it looks for the
/// closing quote).
pub(crate) fn label_bytes(rule: LabelRule) -> &'static ByteSet {
    match rule {
        LabelRule::Code => &CODE_BYTES,
        LabelRule::Name | LabelRule::Id => &NAME_BYTES,
    }
}

pub(crate) fn valid_label(raw: &[u8], rule: LabelRule) -> bool {
    let max = if rule == LabelRule::Code {
        MAX_CODE_LEN
    } else {
        MAX_LABEL_LEN
    };
    let allowed = label_bytes(rule);
    if raw.is_empty() || raw.len() > max {
        return false;
    }
    // One table look-up per byte: the verifier checks every label of every event.
    if !raw.iter().all(|&b| allowed[usize::from(b)]) {
        return false;
    }
    rule == LabelRule::Id || longest_digit_run(raw) <= MAX_DIGIT_RUN
}

fn longest_digit_run(raw: &[u8]) -> usize {
    let (mut run, mut longest) = (0, 0);
    for &b in raw {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// The bytes of [`LabelRule::Code`]: lower-case letters, digits, `.`, `_`, `:`, `-`.
const fn code_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b':' | b'-')
}

/// The bytes of [`LabelRule::Name`] and [`LabelRule::Id`]: letters, digits, `. _ : / @ -`.
const fn name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'@' | b'-')
}

#[allow(clippy::cast_possible_truncation, reason = "the index is below 256")]
const CODE_BYTES: ByteSet = {
    let mut set = [false; 256];
    let mut i = 0;
    while i < 256 {
        set[i] = code_byte(i as u8);
        i += 1;
    }
    set
};

#[allow(clippy::cast_possible_truncation, reason = "the index is below 256")]
const NAME_BYTES: ByteSet = {
    let mut set = [false; 256];
    let mut i = 0;
    while i < 256 {
        set[i] = name_byte(i as u8);
        i += 1;
    }
    set
};

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The label rules as first written, one byte at a time: the table-driven check must
    /// agree with it on every byte and on strings around the length and digit-run limits.
    fn valid_label_spec(raw: &[u8], rule: LabelRule) -> bool {
        let max = if rule == LabelRule::Code { 64 } else { 128 };
        if raw.is_empty() || raw.len() > max {
            return false;
        }
        let mut run = 0;
        for &b in raw {
            let allowed = match rule {
                LabelRule::Code => {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || matches!(b, b'.' | b'_' | b':' | b'-')
                }
                LabelRule::Name | LabelRule::Id => {
                    b.is_ascii_alphanumeric()
                        || matches!(b, b'.' | b'_' | b':' | b'/' | b'@' | b'-')
                }
            };
            if !allowed {
                return false;
            }
            run = if b.is_ascii_digit() { run + 1 } else { 0 };
            if rule != LabelRule::Id && run > 6 {
                return false;
            }
        }
        true
    }

    #[test]
    fn table_driven_labels_agree_with_the_rules() {
        let mut samples: Vec<Vec<u8>> = (0..=u8::MAX).map(|b| vec![b]).collect();
        for b in 0..=u8::MAX {
            samples.push(vec![b'a', b, b'9']);
        }
        for len in [6, 7, 63, 64, 65, 127, 128, 129] {
            samples.push(vec![b'7'; len]);
            samples.push(vec![b'x'; len]);
            samples.push(b"ab".iter().copied().cycle().take(len).collect());
        }
        samples.push(b"a123456b1234567".to_vec());
        samples.push(b"A123456:1234567".to_vec());
        for sample in &samples {
            for rule in [LabelRule::Code, LabelRule::Name, LabelRule::Id] {
                assert_eq!(
                    valid_label(sample, rule),
                    valid_label_spec(sample, rule),
                    "{sample:?} {rule:?}"
                );
            }
        }
    }

    #[test]
    fn labels_refuse_numbers_and_unsafe_characters() {
        assert!(Label::new("carrier_no_e2ee").is_ok());
        assert!(Label::name("oncall@example.org").is_ok());
        assert!(Label::name("ticket:INC-123456").is_ok());
        assert!(Label::new("Ticket").is_err());
        assert!(Label::new("sk_live_4eC39HqLyjWDarjtT1zdp7dc").is_err());
        for bad in [
            "",
            "a b",
            "x\"y",
            "back\\slash",
            "+447700900123",
            "ref-1234567",
            "é",
        ] {
            assert!(Label::new(bad).is_err(), "{bad}");
            assert!(Label::name(bad).is_err(), "{bad}");
        }
        assert!(Label::new(&"a".repeat(65)).is_err());
        assert!(Label::name(&"a".repeat(128)).is_ok());
        assert!(Label::name(&"a".repeat(129)).is_err());
        assert!(Label::checked("AbC1234567890xyz", "link", LabelRule::Id).is_ok());
        assert!(Label::checked("AbC1234567890xyz", "actor", LabelRule::Name).is_err());
    }
}
