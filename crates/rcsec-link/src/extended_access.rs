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
use crate::redeem::{ExtendedLink, Gateway, RedeemContext, RedeemError, check_record_binding};
use crate::rng::{RandomError, RandomSource, uniform_index};
use crate::store::ExtendOutcome;
use crate::token::{KeyId, LinkId};
use crate::token::{MintError, RejectReason};

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

/// Why extended access was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionDenied {
    /// Wrong code; `attempts_left` more may be tried.
    #[error("wrong verification code ({attempts_left} attempts left)")]
    WrongCode {
        /// Attempts remaining.
        attempts_left: u8,
    },
    /// No attempts left.
    #[error("verification code attempts exhausted")]
    Locked,
    /// The one extension was already granted.
    #[error("link was already extended")]
    AlreadyExtended,
    /// This link offers no extended access.
    #[error("link offers no extended access")]
    NotOffered,
    /// Too late to claim.
    #[error("extended access claim period has ended")]
    ClaimExpired,
}

impl Gateway {
    /// Extended access: the recipient posts the (possibly expired) token and the verification
    /// code; on a match the link gets one more use for the policy's window, under a new token.
    ///
    /// Each wrong code, malformed ones included, costs one attempt.
    ///
    /// # Errors
    /// [`RedeemError::ExtensionDenied`], [`RedeemError::Rejected`] (token or record refused),
    /// [`RedeemError::Mint`] (`RecipientRequired` after a key rotation if no recipient is
    /// given), [`RedeemError::Store`].
    pub async fn extend(
        &self,
        token: &str,
        code: &str,
        ctx: &RedeemContext<'_>,
    ) -> Result<ExtendedLink, RedeemError> {
        let verified = self.keyring.verify_ignoring_expiry(token, &ctx.verify())?;
        let link_id = verified.claims.link_id;
        let record = self
            .tokens
            .get(&link_id)
            .await?
            .ok_or(RedeemError::Rejected(RejectReason::Revoked))?;
        check_record_binding(&record, ctx)?;
        // Find out before spending the grant whether a new token can be minted.
        if !self.keyring.can_mint_extension(&verified, ctx.recipient) {
            return Err(MintError::RecipientRequired.into());
        }
        // A code that cannot be one still spends an attempt: this digest never matches.
        let digest = match VerificationCode::parse(code) {
            Some(code) => self
                .keyring
                .code_digest(verified.claims.key_id, &link_id, &code, ctx.now)
                .ok_or(RedeemError::Rejected(RejectReason::UnknownKey))?,
            None => CodeDigest::from_bytes([0u8; 32]),
        };
        // The window never exceeds what the keyring may mint (checked before the grant is
        // spent, so minting below cannot fail on the TTL).
        let window = self.extended.window.min(self.keyring.policy().max_ttl);
        if window < Duration::from_secs(1) {
            return Err(MintError::TtlOutOfRange.into());
        }
        let new_expiry = ctx.now.saturating_add(window);
        // Tokens carry whole seconds; store the same expiry the new token will carry.
        let new_expiry = Timestamp::from_secs(new_expiry.as_secs());
        match self
            .tokens
            .extend(&link_id, &digest, new_expiry, ctx.now)
            .await?
        {
            ExtendOutcome::Extended { record } => {
                let ttl = Duration::from_secs(new_expiry.as_secs() - ctx.now.as_secs());
                let minted = self.keyring.mint_extension(
                    &verified,
                    ctx.recipient,
                    record.binding.ip_prefix,
                    ttl,
                    ctx.now,
                )?;
                Ok(ExtendedLink {
                    expires_at: minted.claims.expires_at,
                    token: minted.token,
                })
            }
            ExtendOutcome::WrongCode { attempts_left } => {
                Err(RedeemError::ExtensionDenied(ExtensionDenied::WrongCode {
                    attempts_left,
                }))
            }
            ExtendOutcome::Locked => Err(RedeemError::ExtensionDenied(ExtensionDenied::Locked)),
            ExtendOutcome::AlreadyExtended => Err(RedeemError::ExtensionDenied(
                ExtensionDenied::AlreadyExtended,
            )),
            ExtendOutcome::NotOffered => {
                Err(RedeemError::ExtensionDenied(ExtensionDenied::NotOffered))
            }
            ExtendOutcome::Expired => {
                Err(RedeemError::ExtensionDenied(ExtensionDenied::ClaimExpired))
            }
            _ => Err(RedeemError::Rejected(RejectReason::Revoked)),
        }
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
