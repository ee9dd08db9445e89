//! Hints about the recipient's network and client: carrier, region, client name and version.

use std::fmt;

use crate::error::HintError;

/// Longest carrier, client or OS label kept; providers send free text and we store it.
const MAX_LABEL: usize = 64;

/// An ISO 3166-1 alpha-2 region code such as `DE`, stored upper-case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region([u8; 2]);

impl Region {
    /// Parses two ASCII letters, in either case.
    ///
    /// # Errors
    /// [`HintError::InvalidRegion`] for anything else.
    pub fn parse(code: &str) -> Result<Self, HintError> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(HintError::InvalidRegion),
        }
    }

    /// The code, e.g. `"DE"`.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters by construction, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Normalises a free-text label from a provider: trimmed, ASCII-lowercased, control characters
/// dropped, at most 64 characters. Labels are matched against the carrier matrix, so two
/// spellings of one carrier should compare equal.
pub(crate) fn normalize_label(raw: &str) -> Box<str> {
    raw.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_LABEL)
        .map(|c| c.to_ascii_lowercase())
        .collect::<String>()
        .into_boxed_str()
}

/// The recipient's mobile carrier as a provider named it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Carrier {
    name: Box<str>,
    region: Option<Region>,
}

impl Carrier {
    /// A carrier by name (normalised: trimmed, lower-case, no control characters, ≤ 64 chars).
    pub fn new(name: &str) -> Self {
        Self {
            name: normalize_label(name),
            region: None,
        }
    }

    /// The region the carrier operates the number in.
    #[must_use]
    pub fn with_region(mut self, region: Region) -> Self {
        self.region = Some(region);
        self
    }

    /// The normalised name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The region, if reported.
    pub fn region(&self) -> Option<Region> {
        self.region
    }
}

/// A client version: one to four dot-separated numbers, compared numerically (`1.10 > 1.9`),
/// with missing trailing components read as zero (`2 == 2.0.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientVersion([u32; 4]);

impl ClientVersion {
    /// Parses `"20240311"`, `"1.2"`, `"10.4.1.7"`.
    ///
    /// # Errors
    /// [`HintError::InvalidVersion`] for empty parts, non-digits, more than four parts, or a
    /// part above `u32::MAX`.
    pub fn parse(text: &str) -> Result<Self, HintError> {
        let mut parts = [0u32; 4];
        for (i, part) in text.trim().split('.').enumerate() {
            let slot = parts.get_mut(i).ok_or(HintError::InvalidVersion)?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HintError::InvalidVersion);
            }
            *slot = part.parse().map_err(|_| HintError::InvalidVersion)?;
        }
        Ok(Self(parts))
    }
}

impl fmt::Display for ClientVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// What the recipient's messaging client and operating system are, when known.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ClientHints {
    client: Option<Box<str>>,
    version: Option<ClientVersion>,
    os: Option<Box<str>>,
}

impl ClientHints {
    /// Hints naming the messaging client (normalised like [`Carrier::new`]).
    pub fn client(name: &str) -> Self {
        Self {
            client: Some(normalize_label(name)),
            ..Self::default()
        }
    }

    /// Adds the client's version.
    #[must_use]
    pub fn with_version(mut self, version: ClientVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// Adds the operating system (normalised like [`Carrier::new`]).
    #[must_use]
    pub fn with_os(mut self, os: &str) -> Self {
        self.os = Some(normalize_label(os));
        self
    }

    /// The client name.
    pub fn client_name(&self) -> Option<&str> {
        self.client.as_deref()
    }

    /// The client version.
    pub fn version(&self) -> Option<ClientVersion> {
        self.version
    }

    /// The operating system.
    pub fn os(&self) -> Option<&str> {
        self.os.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        let v = |s| ClientVersion::parse(s).unwrap();
        assert!(v("1.10") > v("1.9"));
        assert_eq!(v("2"), v("2.0.0"));
        assert!(v("20240311") > v("20231231.9"));
        for bad in ["", "1..2", "1.2.3.4.5", "v1", "1.-2", "99999999999"] {
            assert_eq!(
                ClientVersion::parse(bad),
                Err(HintError::InvalidVersion),
                "{bad}"
            );
        }
        assert_eq!(v("1.2").to_string(), "1.2.0.0");
    }

    #[test]
    fn labels_are_normalised() {
        let c = Carrier::new("  Acme\u{7}Mobile ").with_region(Region::parse("de").unwrap());
        assert_eq!(c.name(), "acmemobile");
        assert_eq!(c.region().unwrap().as_str(), "DE");
        assert_eq!(Carrier::new(&"x".repeat(500)).name().len(), MAX_LABEL);
        assert_eq!(Region::parse("DEU"), Err(HintError::InvalidRegion));
        assert_eq!(Region::parse("D1"), Err(HintError::InvalidRegion));
        let hints = ClientHints::client("Google-Messages").with_os("Android 15");
        assert_eq!(hints.client_name(), Some("google-messages"));
        assert_eq!(hints.os(), Some("android 15"));
    }
}
