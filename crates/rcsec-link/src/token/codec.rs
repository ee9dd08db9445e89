//! The binary layout of a token and its base64url text form (sans-IO, allocation-free decode).
//!
//! ```text
//! offset size field
//!   0     1   version (1)
//!   1     1   key id
//!   2    16   link id (random)
//!  18     4   expires_at, seconds since the Unix epoch, big-endian
//!  22     1   lifetime code: not_before = expires_at - lifetime (see `lifetime_*`)
//!  23     1   ip binding code: 0 none, 1..=32 IPv4 /n, 33..=160 IPv6 /(n-32)
//!  24     4   recipient commitment: HMAC(K_rcpt, link id || E.164)[..4]
//!  28     4   ip commitment: HMAC(K_ip, link id || prefix)[..4], zero when unbound
//!  32    16   tag: HMAC-SHA256(K_tag, bytes 0..32)[..16]
//! ```
//! 48 bytes, 64 base64url characters without padding. The encoding is canonical (no padding,
//! no stray trailing bits), so one token has exactly one text form.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::token::error::VerifyError;

/// Token format version written by this crate.
pub(crate) const VERSION: u8 = 1;
/// Bytes in a decoded token.
pub(crate) const TOKEN_BYTES: usize = 48;
/// Characters in a token's text form.
pub const TOKEN_CHARS: usize = 64;
/// Bytes covered by the tag.
pub(crate) const SIGNED_BYTES: usize = 32;
/// Tag length (128 bits).
pub(crate) const TAG_BYTES: usize = 16;
/// Longest lifetime (not_before to expires_at) the lifetime byte can express: 128 hours.
pub const MAX_LIFETIME_SECS: u64 = 128 * 3600;

/// A decoded token's bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawToken(pub(crate) [u8; TOKEN_BYTES]);

impl RawToken {
    pub(crate) fn version(&self) -> u8 {
        self.0[0]
    }
    pub(crate) fn key_id(&self) -> u8 {
        self.0[1]
    }
    pub(crate) fn link_id(&self) -> [u8; 16] {
        let mut id = [0u8; 16];
        id.copy_from_slice(&self.0[2..18]);
        id
    }
    pub(crate) fn expires_secs(&self) -> u32 {
        u32::from_be_bytes([self.0[18], self.0[19], self.0[20], self.0[21]])
    }
    pub(crate) fn lifetime_code(&self) -> u8 {
        self.0[22]
    }
    pub(crate) fn ip_code(&self) -> u8 {
        self.0[23]
    }
    pub(crate) fn recipient_commitment(&self) -> &[u8] {
        &self.0[24..28]
    }
    pub(crate) fn ip_commitment(&self) -> &[u8] {
        &self.0[28..32]
    }
    pub(crate) fn signed(&self) -> &[u8] {
        &self.0[..SIGNED_BYTES]
    }
    pub(crate) fn tag(&self) -> &[u8] {
        &self.0[SIGNED_BYTES..]
    }

    /// Text form.
    pub(crate) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Parses the text form; only length and alphabet are checked here.
    pub(crate) fn decode(text: &str) -> Result<Self, VerifyError> {
        if text.len() != TOKEN_CHARS {
            return Err(VerifyError::Malformed);
        }
        let mut out = [0u8; TOKEN_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(text.as_bytes(), &mut out) {
            Ok(TOKEN_BYTES) => Ok(Self(out)),
            _ => Err(VerifyError::Malformed),
        }
    }
}

/// Seconds encoded by a lifetime byte: 0..=127 minutes, then 128..=255 as 1..=128 hours.
pub(crate) fn lifetime_secs(code: u8) -> u64 {
    if code < 128 {
        u64::from(code) * 60
    } else {
        (u64::from(code) - 127) * 3600
    }
}

/// The smallest lifetime byte covering at least `secs`, or `None` beyond 128 hours.
pub(crate) fn lifetime_code(secs: u64) -> Option<u8> {
    let minutes = secs.div_ceil(60);
    if minutes < 128 {
        return u8::try_from(minutes).ok();
    }
    let hours = secs.div_ceil(3600);
    if hours <= 128 {
        u8::try_from(hours + 127).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_code_never_undershoots() {
        for secs in (0..=MAX_LIFETIME_SECS)
            .step_by(37)
            .chain([MAX_LIFETIME_SECS])
        {
            let code = lifetime_code(secs).unwrap();
            let back = lifetime_secs(code);
            assert!(back >= secs, "{secs}");
            let slack = if secs <= 127 * 60 { 60 } else { 3600 };
            assert!(back - secs < slack, "{secs} -> {back}");
        }
        assert_eq!(lifetime_code(MAX_LIFETIME_SECS + 1), None);
    }

    #[test]
    fn decode_is_strict() {
        let raw = RawToken([0xA5; TOKEN_BYTES]);
        let text = raw.encode();
        assert_eq!(text.len(), TOKEN_CHARS);
        assert!(RawToken::decode(&text) == Ok(raw));
        assert!(RawToken::decode(&text[1..]).is_err());
        assert!(RawToken::decode(&format!("{}=", &text[1..])).is_err());
        assert!(RawToken::decode(&text.replace('p', "+")).is_err() || !text.contains('p'));
        let mut bad = text.into_bytes();
        bad[10] = b'/';
        assert!(RawToken::decode(std::str::from_utf8(&bad).unwrap()).is_err());
    }
}
