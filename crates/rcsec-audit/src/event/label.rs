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

pub(crate) fn valid_label(raw: &[u8], rule: LabelRule) -> bool {
    let max = if rule == LabelRule::Code {
        MAX_CODE_LEN
    } else {
        MAX_LABEL_LEN
    };
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
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'@' | b'-')
            }
        };
        if !allowed {
            return false;
        }
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        if rule != LabelRule::Id && run > MAX_DIGIT_RUN {
            return false;
        }
    }
    true
}

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
