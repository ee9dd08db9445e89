//! Bearer-token authentication for Alertmanager, which signs nothing.
//!
//! Only a SHA-256 digest of the configured token is kept, and presented tokens are hashed
//! and compared in constant time, so neither the comparison nor the token's length leaks
//! through timing, and a memory dump of the process does not hand out the token.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The expected bearer token, held as its digest.
#[derive(Clone)]
pub struct BearerToken {
    digest: [u8; 32],
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl BearerToken {
    /// Accepts 16 to 4096 visible ASCII characters (RFC 6750 `b64token` is a subset), so a
    /// truncated or empty token file is an error at start-up rather than a weak secret.
    pub fn new(token: &str) -> Option<Self> {
        let ok = (16..=4096).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| Self {
            digest: Sha256::digest(token.as_bytes()).into(),
        })
    }

    /// Whether an `Authorization` header value carries this token (`Bearer <token>`; the
    /// scheme is case-insensitive per RFC 9110).
    pub fn verify_header(&self, header: Option<&[u8]>) -> bool {
        let Some(value) = header else {
            return false;
        };
        let Some((scheme, token)) = split_scheme(value) else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case(b"bearer") {
            return false;
        }
        let presented: [u8; 32] = Sha256::digest(token).into();
        bool::from(presented.ct_eq(&self.digest))
    }
}

fn split_scheme(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = value.iter().position(|b| *b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some((scheme, token))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn accepts_only_the_exact_token() {
        let t = BearerToken::new("s3cret-token-0123456789").unwrap();
        assert!(t.verify_header(Some(b"Bearer s3cret-token-0123456789")));
        assert!(t.verify_header(Some(b"bearer s3cret-token-0123456789")));
        assert!(!t.verify_header(Some(b"Bearer s3cret-token-012345678")));
        assert!(!t.verify_header(Some(b"Bearer s3cret-token-01234567890")));
        assert!(!t.verify_header(Some(b"Basic s3cret-token-0123456789")));
        assert!(!t.verify_header(Some(b"Bearer ")));
        assert!(!t.verify_header(Some(b"Bearer")));
        assert!(!t.verify_header(Some(b"")));
        assert!(!t.verify_header(None));
    }

    #[test]
    fn weak_tokens_are_refused() {
        assert!(BearerToken::new("short").is_none());
        assert!(BearerToken::new("has a space in it ok").is_none());
        assert!(BearerToken::new(&"x".repeat(4097)).is_none());
    }

    #[test]
    fn debug_hides_the_token() {
        let t = BearerToken::new("s3cret-token-0123456789").unwrap();
        assert_eq!(format!("{t:?}"), "BearerToken(<redacted>)");
    }
}
