//! Entry points for the cargo-fuzz targets in `fuzz/` (not a stable API).

use std::sync::OnceLock;
use std::time::Duration;

use rcsec_core::{Msisdn, Timestamp};

use crate::rng::{RandomError, RandomSource};
use crate::{Keyring, KeyringPolicy, VerifyContext, VerifyError};

/// A fixed byte pattern: fuzzing needs the same keyring on every run.
#[derive(Debug)]
struct FixedRandom;

impl RandomSource for FixedRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        for (i, b) in dest.iter_mut().enumerate() {
            *b = u8::try_from(i % 251).unwrap_or(0) ^ 0x5C;
        }
        Ok(())
    }
}

fn keyring() -> Option<&'static Keyring> {
    static RING: OnceLock<Option<Keyring>> = OnceLock::new();
    RING.get_or_init(|| {
        let policy = KeyringPolicy {
            max_ttl: Duration::from_secs(3600),
            nbf_leeway: Duration::from_secs(30),
        };
        Keyring::generate(policy, Timestamp::from_secs(1_800_000_000), &FixedRandom).ok()
    })
    .as_ref()
}

/// Verifies arbitrary bytes as a token under a fixed keyring, with and without a recipient
/// and client address. Never panics; anything that is not exactly 64 base64url characters is
/// `malformed`; a random input essentially never authenticates.
///
/// # Panics
/// When a property fails: that is the bug the fuzzer is looking for.
pub fn link_token_decode(data: &[u8]) {
    let Some(ring) = keyring() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = Timestamp::from_secs(1_800_000_100);
    let recipient = Msisdn::parse("+15550109999").ok();
    let mut ctx = VerifyContext::at(now).client_ip([203, 0, 113, 9].into());
    if let Some(r) = &recipient {
        ctx = ctx.recipient(r);
    }
    for ctx in [VerifyContext::at(now), ctx] {
        match ring.verify(text, &ctx) {
            Err(VerifyError::Malformed) => {}
            other => {
                assert_eq!(
                    text.len(),
                    crate::TOKEN_CHARS,
                    "only 64-char input gets past decode"
                );
                assert!(
                    text.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                    "non-base64url input got past decode"
                );
                if let Ok(v) = other {
                    // Only a genuine token minted by this keyring can pass.
                    assert!(v.claims.expires_at > now);
                }
            }
        }
    }
}
