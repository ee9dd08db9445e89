//! Identifiers that cross crate and process boundaries: alert fingerprints and device ids.

use std::fmt;

/// Longest identifier accepted; Alertmanager fingerprints are 16 hex characters, ticket and
/// device ids from other systems are longer but never near this.
const MAX_ID_LEN: usize = 128;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// Empty identifiers are never meaningful.
    #[error("identifier is empty")]
    Empty,
    /// Longer than 128 bytes.
    #[error("identifier is longer than 128 bytes")]
    TooLong,
    /// Only ASCII letters, digits and `.` `_` `:` `-` are allowed, so ids are safe in URLs, log
    /// lines, SQL keys and file names without escaping.
    #[error("identifier contains a character outside [A-Za-z0-9._:-]")]
    InvalidCharacter,
}

fn validate(raw: &str) -> Result<(), IdError> {
    if raw.is_empty() {
        return Err(IdError::Empty);
    }
    if raw.len() > MAX_ID_LEN {
        return Err(IdError::TooLong);
    }
    if !raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
    {
        return Err(IdError::InvalidCharacter);
    }
    Ok(())
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps an identifier.
            ///
            /// # Errors
            /// [`IdError`] when it is empty, too long or has characters outside `[A-Za-z0-9._:-]`.
            pub fn new(raw: impl Into<String>) -> Result<Self, IdError> {
                let raw = raw.into();
                validate(&raw)?;
                Ok(Self(raw))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::new(raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

identifier! {
    /// An alert's stable identity: its fingerprint (Alertmanager's `fingerprint`, or one the
    /// caller computes). Deduplication, links, tickets and audit events all key on it.
    ///
    /// Not secret: it is derived from label names and values, never from the alert text.
    AlertId
}

identifier! {
    /// An enrolled device (a phone running the rcsec companion app, or a push endpoint).
    DeviceId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_fingerprints_and_rejects_junk() {
        assert_eq!(
            AlertId::new("a1b2c3d4e5f60718").unwrap().as_str(),
            "a1b2c3d4e5f60718"
        );
        assert_eq!(
            DeviceId::new("pixel-8:alice").unwrap().to_string(),
            "pixel-8:alice"
        );
        assert_eq!(AlertId::new(""), Err(IdError::Empty));
        assert_eq!(AlertId::new("x".repeat(129)), Err(IdError::TooLong));
        assert_eq!(AlertId::new("a b"), Err(IdError::InvalidCharacter));
        assert_eq!(
            DeviceId::new("dev/../../etc"),
            Err(IdError::InvalidCharacter)
        );
        assert_eq!(
            format!("{:?}", AlertId::new("f00").unwrap()),
            "AlertId(f00)"
        );
    }

    #[test]
    fn serde_round_trip_validates() {
        let id: AlertId = serde_json::from_str("\"abc-1\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"abc-1\"");
        assert!(serde_json::from_str::<DeviceId>("\"a b\"").is_err());
    }
}
