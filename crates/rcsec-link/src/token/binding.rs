//! Client-address binding: an IP prefix a token may be tied to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An address family and prefix length: what a token records about its IP binding.
///
/// The token carries only this and a keyed 32-bit commitment to the prefix itself, never the
/// address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IpBinding {
    /// An IPv4 prefix of this many bits (1..=32).
    V4(u8),
    /// An IPv6 prefix of this many bits (1..=128).
    V6(u8),
}

impl IpBinding {
    /// One byte in the token: 0 none, 1..=32 IPv4 `/n`, 33..=160 IPv6 `/(n-32)`.
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::V4(len) => len,
            Self::V6(len) => 32 + len,
        }
    }

    /// Reads the token byte; `Ok(None)` is "not bound", `Err` an invalid code.
    pub(crate) fn from_code(code: u8) -> Result<Option<Self>, ()> {
        match code {
            0 => Ok(None),
            1..=32 => Ok(Some(Self::V4(code))),
            33..=160 => Ok(Some(Self::V6(code - 32))),
            _ => Err(()),
        }
    }
}

impl fmt::Display for IpBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::V4(len) => write!(f, "v4/{len}"),
            Self::V6(len) => write!(f, "v6/{len}"),
        }
    }
}

/// The text is not an IP address or prefix (`203.0.113.0/24`, `2001:db8::/48`, or an address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid ip prefix")]
pub struct IpPrefixError;

/// An IP network (address masked to its prefix length), e.g. `203.0.113.0/24`.
///
/// IPv4-mapped IPv6 addresses are treated as IPv4, so a dual-stack listener reporting
/// `::ffff:203.0.113.7` matches a `203.0.113.0/24` binding. A `/0` prefix is refused: it would
/// bind to nothing.
///
/// `Debug` shows the family and length only: client addresses are personal data.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpPrefix {
    network: IpAddr,
    len: u8,
}

impl IpPrefix {
    /// The prefix of `len` bits containing `addr`.
    ///
    /// # Errors
    /// [`IpPrefixError`] when `len` is 0 or longer than the address.
    pub fn new(addr: IpAddr, len: u8) -> Result<Self, IpPrefixError> {
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if len == 0 || len > max {
            return Err(IpPrefixError);
        }
        Ok(Self {
            network: mask(addr, len),
            len,
        })
    }

    /// The prefix `binding` describes around `addr`, if the families agree.
    pub(crate) fn around(addr: IpAddr, binding: IpBinding) -> Option<Self> {
        let addr = addr.to_canonical();
        match (addr, binding) {
            (IpAddr::V4(_), IpBinding::V4(len)) | (IpAddr::V6(_), IpBinding::V6(len)) => {
                Self::new(addr, len).ok()
            }
            _ => None,
        }
    }

    /// The family and length, as recorded in a token.
    pub fn binding(&self) -> IpBinding {
        match self.network {
            IpAddr::V4(_) => IpBinding::V4(self.len),
            IpAddr::V6(_) => IpBinding::V6(self.len),
        }
    }

    /// Whether `addr` lies in this prefix.
    pub fn contains(&self, addr: IpAddr) -> bool {
        Self::around(addr, self.binding()).is_some_and(|p| p == *self)
    }

    /// The masked network address.
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// Canonical bytes for MAC input: family/length code then the 16-byte (mapped) network.
    pub(crate) fn mac_bytes(&self) -> [u8; 17] {
        let mut out = [0u8; 17];
        out[0] = self.binding().code();
        let octets = match self.network {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        out[1..].copy_from_slice(&octets);
        out
    }
}

fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4) & u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

impl FromStr for IpPrefix {
    type Err = IpPrefixError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, len) = match s.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| IpPrefixError)?;
        let mapped = addr.is_ipv6() && addr.to_canonical().is_ipv4();
        let len = match len {
            Some(len) if !len.is_empty() && len.bytes().all(|b| b.is_ascii_digit()) => {
                let len = len.parse::<u8>().map_err(|_| IpPrefixError)?;
                // A mapped address written with a v6 length (::ffff:a.b.c.d/120) is v4 /24.
                match (mapped, len.checked_sub(96)) {
                    (false, _) => len,
                    (true, Some(v4_len)) => v4_len,
                    (true, None) => return Err(IpPrefixError),
                }
            }
            Some(_) => return Err(IpPrefixError),
            None if addr.to_canonical().is_ipv4() => 32,
            None => 128,
        };
        Self::new(addr, len)
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

impl fmt::Debug for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IpPrefix({})", self.binding())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_masks_and_matches() {
        let p: IpPrefix = "203.0.113.77/24".parse().unwrap();
        assert_eq!(p.to_string(), "203.0.113.0/24");
        assert!(p.contains("203.0.113.9".parse().unwrap()));
        assert!(p.contains("::ffff:203.0.113.9".parse().unwrap()));
        assert!(!p.contains("203.0.114.9".parse().unwrap()));
        assert!(!p.contains("2001:db8::1".parse().unwrap()));
        let v6: IpPrefix = "2001:db8:1:2::5/48".parse().unwrap();
        assert_eq!(v6.to_string(), "2001:db8:1::/48");
        assert_eq!(v6.binding(), IpBinding::V6(48));
        let host: IpPrefix = "198.51.100.1".parse().unwrap();
        assert_eq!(host.binding(), IpBinding::V4(32));
        let mapped: IpPrefix = "::ffff:198.51.100.1/120".parse().unwrap();
        assert_eq!(mapped.to_string(), "198.51.100.0/24");
        let mapped_host: IpPrefix = "::ffff:198.51.100.1".parse().unwrap();
        assert_eq!(mapped_host.to_string(), "198.51.100.1/32");
        assert!("::ffff:198.51.100.1/64".parse::<IpPrefix>().is_err());
        for bad in [
            "",
            "1.2.3.4/0",
            "1.2.3.4/33",
            "::/129",
            "1.2.3.4/",
            "1.2.3.4/+8",
            "x/8",
        ] {
            assert_eq!(bad.parse::<IpPrefix>(), Err(IpPrefixError), "{bad}");
        }
        assert_eq!(format!("{p:?}"), "IpPrefix(v4/24)");
    }

    #[test]
    fn binding_codes_round_trip() {
        for code in 0..=255u8 {
            match IpBinding::from_code(code) {
                Ok(Some(b)) => assert_eq!(b.code(), code),
                Ok(None) => assert_eq!(code, 0),
                Err(()) => assert!(code > 160),
            }
        }
    }
}
