//! Extended access: a one-word code sent with the alert buys one more, longer window.
//!
//! The code is a pronounceable seven-letter word, consonant-vowel alternating
//! (`CVCVCVC` over 16 consonants and 5 vowels: 16⁴·5³ = 8,192,000 words, ~23 bits), so it can be
//! read out or typed from a lock screen. With the default 5 attempts a guesser succeeds with
//! probability below 1 in 1.6 million. The store keeps only a keyed digest
//! (HMAC-SHA256 under the token key's code subkey, over the link id and the code): a leaked
//! database does not reveal codes, and the 23-bit space cannot be searched without the key.

use std::fmt;
use std::time::Duration;

use hmac::Mac;
use rcsec_core::{Secret, Timestamp};

use crate::keyring::Keyring;
use crate::rng::{RandomError, RandomSource, uniform_index};
use crate::token::{KeyId, LinkId};

const CONSONANTS: &[u8; 16] = b"bdfghjklmnprstvz";
const VOWELS: &[u8; 5] = b"aeiou";
/// Letters in a code.
pub const CODE_LEN: usize = 7;

/// Keyed digest of a verification code, as stored in an [`ExtensionGrant`].
///
/// [`ExtensionGrant`]: crate::store::ExtensionGrant
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CodeDigest([u8; 32]);

impl CodeDigest {
    /// Wraps stored bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for CodeDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeDigest(..)")
    }
}

/// A verification code. `Debug` hides it; read it with [`VerificationCode::expose`] to put it
/// in the alert message.
#[derive(Clone)]
pub struct VerificationCode(Secret<[u8; CODE_LEN]>);

impl VerificationCode {
    /// A fresh random code.
    ///
    /// # Errors
    /// [`RandomError`].
    pub fn generate(rng: &dyn RandomSource) -> Result<Self, RandomError> {
        let mut code = Secret::new([0u8; CODE_LEN]);
        for (i, slot) in code.expose_secret_mut().iter_mut().enumerate() {
            *slot = if i % 2 == 0 {
                CONSONANTS[uniform_index(rng, 16)?]
            } else {
                VOWELS[uniform_index(rng, 5)?]
            };
        }
        Ok(Self(code))
    }

    /// Reads what a person typed: trimmed, case-insensitive; `None` if it cannot be a code.
    pub fn parse(input: &str) -> Option<Self> {
        let input = input.trim().as_bytes();
        if input.len() != CODE_LEN {
            return None;
        }
        let mut code = Secret::new([0u8; CODE_LEN]);
        for (i, (slot, b)) in code.expose_secret_mut().iter_mut().zip(input).enumerate() {
            let b = b.to_ascii_lowercase();
            let alphabet: &[u8] = if i % 2 == 0 { CONSONANTS } else { VOWELS };
            if !alphabet.contains(&b) {
                return None;
            }
            *slot = b;
        }
        Some(Self(code))
    }

    /// The code text.
    ///
    /// # Security
    /// Send it to the recipient; never log it.
    pub fn expose(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(self.0.expose_secret()).unwrap_or("")
    }
}

impl fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationCode(<redacted>)")
    }
}

/// How extended access is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtendedAccessPolicy {
    /// Length of the new window (at most the keyring's `max_ttl`).
    pub window: Duration,
    /// How long after the original link expires the code may still be posted.
    pub claim_period: Duration,
    /// Wrong codes allowed before the offer locks.
    pub max_attempts: u8,
}

impl Default for ExtendedAccessPolicy {
    /// A 12-hour window, claimable for 24 hours after expiry, 5 attempts.
    fn default() -> Self {
        Self {
            window: Duration::from_secs(12 * 3600),
            claim_period: Duration::from_secs(24 * 3600),
            max_attempts: 5,
        }
    }
}

impl ExtendedAccessPolicy {
    /// The claim deadline for a link expiring at `expires_at`.
    pub fn claim_until(&self, expires_at: Timestamp) -> Timestamp {
        expires_at.saturating_add(self.claim_period)
    }
}

impl Keyring {
    /// The digest to store for `code` on `link_id`, under key `key_id` (the key that mints the
    /// link's token); `None` when that key cannot verify at `now`.
    pub fn code_digest(
        &self,
        key_id: KeyId,
        link_id: &LinkId,
        code: &VerificationCode,
        now: Timestamp,
    ) -> Option<CodeDigest> {
        let key = self.verifying_key(key_id, now)?;
        let mac = key
            .code
            .clone()
            .chain_update(link_id.as_bytes())
            .chain_update(code.0.expose_secret())
            .finalize()
            .into_bytes();
        let mut out = [0u8; 32];
        out.copy_from_slice(&mac);
        Some(CodeDigest(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OsRandom;

    #[test]
    fn codes_are_pronounceable_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let code = VerificationCode::generate(&OsRandom).unwrap();
            let text = code.expose().to_owned();
            assert_eq!(text.len(), CODE_LEN);
            let again = VerificationCode::parse(&format!("  {} ", text.to_uppercase())).unwrap();
            assert_eq!(again.expose(), text);
            seen.insert(text);
        }
        assert!(seen.len() > 190, "codes repeat too often: {}", seen.len());
        for bad in ["", "bakorit1", "aakorit", "bbkorit", "bako rit", "bäkorit"] {
            assert!(VerificationCode::parse(bad).is_none(), "{bad}");
        }
        let code = VerificationCode::parse("bakorit").unwrap();
        assert_eq!(format!("{code:?}"), "VerificationCode(<redacted>)");
    }
}
