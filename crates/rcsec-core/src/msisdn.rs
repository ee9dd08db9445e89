//! E.164 phone numbers that refuse to be printed.

use std::fmt;
use std::str::FromStr;

/// Fewest digits (country code included) we accept. The shortest numbers in service,
/// e.g. Saint Helena's `+290 XXXX`, have seven.
const MIN_DIGITS: usize = 7;
/// E.164 §6.1: at most 15 digits, country code included.
const MAX_DIGITS: usize = 15;
/// How many trailing digits a masked rendering keeps, so people can tell numbers apart.
const VISIBLE_DIGITS: usize = 2;

/// Why a string is not a usable E.164 number.
///
/// The variants never carry the input: it is a phone number, and errors end up in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MsisdnError {
    /// The input holds nothing but separators.
    #[error("phone number is empty")]
    Empty,
    /// A letter or symbol that is not a digit or a separator (vanity numbers, extensions).
    #[error("phone number contains a character that is not a digit or separator")]
    InvalidCharacter,
    /// A `+` anywhere but at the very start.
    #[error("phone number has a misplaced '+'")]
    MisplacedPlus,
    /// No `+` or `00` prefix, and no default region to interpret a national number.
    #[error("phone number has no country code and no default region was given")]
    MissingCountryCode,
    /// Country codes never start with 0.
    #[error("country code cannot start with 0")]
    InvalidCountryCode,
    /// Fewer than seven digits.
    #[error("phone number is too short")]
    TooShort,
    /// More than fifteen digits.
    #[error("phone number is too long (E.164 allows at most 15 digits)")]
    TooLong,
}

/// The region used to read numbers written without an international prefix.
///
/// Only the country calling code and the national trunk prefix matter for normalisation:
/// `020 7946 0000` read in the United Kingdom (`44`, trunk `0`) is `+442079460000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultRegion {
    calling_code: u16,
    trunk_prefix: Option<u8>,
}

impl DefaultRegion {
    /// North American Numbering Plan (`+1`, trunk prefix `1`).
    pub const NANP: Self = Self {
        calling_code: 1,
        trunk_prefix: Some(1),
    };
    /// United Kingdom (`+44`, trunk prefix `0`).
    pub const UK: Self = Self {
        calling_code: 44,
        trunk_prefix: Some(0),
    };

    /// A region with the given country calling code whose national numbers may start with the
    /// common trunk prefix `0`.
    ///
    /// # Errors
    /// [`MsisdnError::InvalidCountryCode`] when the code is 0 or longer than three digits.
    pub fn new(calling_code: u16) -> Result<Self, MsisdnError> {
        Self::with_trunk_prefix(calling_code, Some(0))
    }

    /// A region with an explicit trunk prefix digit (or none, as in Italy or Spain).
    ///
    /// # Errors
    /// [`MsisdnError::InvalidCountryCode`] when the code is 0 or longer than three digits.
    pub fn with_trunk_prefix(
        calling_code: u16,
        trunk_prefix: Option<u8>,
    ) -> Result<Self, MsisdnError> {
        if calling_code == 0 || calling_code > 999 || trunk_prefix.is_some_and(|d| d > 9) {
            return Err(MsisdnError::InvalidCountryCode);
        }
        Ok(Self {
            calling_code,
            trunk_prefix,
        })
    }

    /// The country calling code, e.g. `44`.
    pub fn calling_code(&self) -> u16 {
        self.calling_code
    }
}

/// A mobile number in normalised E.164 form (`+` followed by 7–15 digits).
///
/// `Display` and `Debug` mask every digit but the last two (`+*********99`), so a number can be
/// logged by accident without being disclosed. The full number is available only through
/// [`Msisdn::expose_e164`], which providers call at the moment they dial.
///
/// # Security
/// Masking is about logs, not anonymity: audit records use a keyed pseudonym instead
/// (see `rcsec-audit`), because the last two digits plus context can still narrow a person down.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msisdn(String);

impl Msisdn {
    /// Parses a number written in international form: `+1 (555) 010-9999`, `00 44 20 7946 0000`.
    ///
    /// Spaces, dashes, dots, slashes and parentheses are separators and are dropped.
    ///
    /// # Errors
    /// Any [`MsisdnError`]; a national number without a country code is
    /// [`MsisdnError::MissingCountryCode`] — use [`Msisdn::parse_with_region`] for those.
    pub fn parse(input: &str) -> Result<Self, MsisdnError> {
        Self::parse_inner(input, None)
    }

    /// Parses a number, reading one written without an international prefix in `region`.
    ///
    /// # Errors
    /// Any [`MsisdnError`].
    pub fn parse_with_region(input: &str, region: DefaultRegion) -> Result<Self, MsisdnError> {
        Self::parse_inner(input, Some(region))
    }

    fn parse_inner(input: &str, region: Option<DefaultRegion>) -> Result<Self, MsisdnError> {
        let mut digits = String::with_capacity(16);
        let mut plus = false;
        for (i, c) in input.trim().char_indices() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                '+' => return Err(MsisdnError::MisplacedPlus),
                ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}' => {}
                _ => return Err(MsisdnError::InvalidCharacter),
            }
        }
        if digits.is_empty() {
            return Err(MsisdnError::Empty);
        }
        let international = if plus {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_owned()
        } else {
            let region = region.ok_or(MsisdnError::MissingCountryCode)?;
            national_to_international(&digits, region)
        };
        if international.starts_with('0') {
            return Err(MsisdnError::InvalidCountryCode);
        }
        if international.len() < MIN_DIGITS {
            return Err(MsisdnError::TooShort);
        }
        if international.len() > MAX_DIGITS {
            return Err(MsisdnError::TooLong);
        }
        Ok(Self(format!("+{international}")))
    }

    /// The full number in E.164 form, e.g. `+15550109999`.
    ///
    /// # Security
    /// Call this only where the raw number must leave the process (a provider request, a
    /// pseudonymizer input); never log or store what it returns.
    pub fn expose_e164(&self) -> &str {
        &self.0
    }

    /// The digits only, without `+` (what some gateways, such as Kannel, expect).
    ///
    /// # Security
    /// Same rule as [`Msisdn::expose_e164`].
    pub fn expose_digits(&self) -> &str {
        &self.0[1..]
    }

    /// The last two digits, for display next to a pseudonym.
    pub fn last_digits(&self) -> &str {
        &self.0[self.0.len() - VISIBLE_DIGITS..]
    }

    /// The masked rendering also used by `Display`: `+` then `*` for each hidden digit.
    pub fn masked(&self) -> String {
        let hidden = self.0.len() - 1 - VISIBLE_DIGITS;
        format!("+{}{}", "*".repeat(hidden), self.last_digits())
    }
}

/// Reads a national number in `region`: drop the trunk prefix, prepend the calling code.
/// A number that already starts with the calling code at full international length (common
/// for NANP, where `1 555 010 9999` is written without `+`) is kept as it is.
fn national_to_international(digits: &str, region: DefaultRegion) -> String {
    let code = region.calling_code.to_string();
    if region == DefaultRegion::NANP && digits.len() == 11 && digits.starts_with('1') {
        return digits.to_owned();
    }
    let national = match region.trunk_prefix {
        Some(trunk) => {
            let trunk = char::from(b'0' + trunk);
            digits.strip_prefix(trunk).unwrap_or(digits)
        }
        None => digits,
    };
    format!("{code}{national}")
}

impl FromStr for Msisdn {
    type Err = MsisdnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Msisdn")
            .field(&format_args!("{}", self.masked()))
            .finish()
    }
}

/// Numbers deserialize through the same validation as [`Msisdn::parse`]. There is
/// deliberately no `Serialize`: writing a raw number out must be an explicit
/// [`Msisdn::expose_e164`] call.
impl<'de> serde::Deserialize<'de> for Msisdn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_formats_people_write() {
        for (input, expected) in [
            ("+1 (555) 010-9999", "+15550109999"),
            ("00 44 20 7946 0000", "+442079460000"),
            ("+44.20.7946.0000", "+442079460000"),
            ("  +49/30/1234567 ", "+49301234567"),
            ("+2904001", "+2904001"),
            ("+123456789012345", "+123456789012345"),
        ] {
            assert_eq!(
                Msisdn::parse(input).unwrap().expose_e164(),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn national_numbers_need_a_region() {
        assert_eq!(
            Msisdn::parse("020 7946 0000"),
            Err(MsisdnError::MissingCountryCode)
        );
        let uk = Msisdn::parse_with_region("020 7946 0000", DefaultRegion::UK).unwrap();
        assert_eq!(uk.expose_e164(), "+442079460000");
        let us = Msisdn::parse_with_region("(555) 010-9999", DefaultRegion::NANP).unwrap();
        assert_eq!(us.expose_e164(), "+15550109999");
        let us11 = Msisdn::parse_with_region("1 555 010 9999", DefaultRegion::NANP).unwrap();
        assert_eq!(us11.expose_e164(), "+15550109999");
        let it = DefaultRegion::with_trunk_prefix(39, None).unwrap();
        assert_eq!(
            Msisdn::parse_with_region("06 1234 5678", it)
                .unwrap()
                .expose_e164(),
            "+390612345678"
        );
        // An explicit international prefix wins over the region.
        assert_eq!(
            Msisdn::parse_with_region("+33 1 23 45 67 89", DefaultRegion::UK)
                .unwrap()
                .expose_e164(),
            "+33123456789"
        );
    }

    #[test]
    fn rejects_with_a_reason() {
        for (input, err) in [
            ("", MsisdnError::Empty),
            (" ( ) - ", MsisdnError::Empty),
            ("+1 800 FLOWERS", MsisdnError::InvalidCharacter),
            ("+1 555 010 9999 ext 12", MsisdnError::InvalidCharacter),
            ("+1 555 +010", MsisdnError::MisplacedPlus),
            ("+0 555 010 9999", MsisdnError::InvalidCountryCode),
            ("000 555 010 9999", MsisdnError::InvalidCountryCode),
            ("+12345", MsisdnError::TooShort),
            ("+1234567890123456", MsisdnError::TooLong),
            ("555 0109", MsisdnError::MissingCountryCode),
        ] {
            assert_eq!(Msisdn::parse(input), Err(err), "{input:?}");
        }
        assert!(DefaultRegion::new(0).is_err());
        assert!(DefaultRegion::new(1000).is_err());
    }

    #[test]
    fn formatting_masks_all_but_two_digits() {
        let n = Msisdn::parse("+1 (555) 010-9999").unwrap();
        assert_eq!(n.to_string(), "+*********99");
        assert_eq!(format!("{n:?}"), "Msisdn(+*********99)");
        assert_eq!(n.last_digits(), "99");
        assert_eq!(n.expose_digits(), "15550109999");
    }

    #[test]
    fn errors_never_echo_the_input() {
        let err = Msisdn::parse("+1555010999912345").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("555"));
    }

    #[test]
    fn deserializes_through_validation() {
        let n: Msisdn = serde_json::from_str("\"+44 20 7946 0000\"").unwrap();
        assert_eq!(n.expose_e164(), "+442079460000");
        let err = serde_json::from_str::<Msisdn>("\"+44 20 SECRET\"").unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Msisdn::parse(&s);
            let _ = Msisdn::parse_with_region(&s, DefaultRegion::UK);
        }

        #[test]
        fn normalised_form_is_a_fixed_point(cc in 1u16..999, rest in "[0-9]{6,12}") {
            let input = format!("+{cc} {rest}");
            if let Ok(n) = Msisdn::parse(&input) {
                let again = Msisdn::parse(n.expose_e164()).unwrap();
                proptest::prop_assert_eq!(&again, &n);
                proptest::prop_assert!(!n.to_string().contains(&rest[..rest.len() - 2]));
            }
        }
    }
}
