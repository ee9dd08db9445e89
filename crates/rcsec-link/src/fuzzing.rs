//! Entry points for the cargo-fuzz targets in `fuzz/` (not a stable API).

use std::sync::OnceLock;
use std::time::Duration;

use rcsec_core::{Msisdn, Timestamp};

use crate::rng::{RandomError, RandomSource};
use crate::{IpPrefix, Keyring, KeyringPolicy, MintRequest, VerifyContext, VerifyError};

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

/// Tokens minted by the fuzzing keyring at the fuzzing clock (seeds for the corpus): plain,
/// IPv4-bound (203.0.113.0/24), IPv6-bound (2001:db8::/32), and one valid only later.
pub fn sample_tokens() -> Vec<String> {
    let Some(ring) = keyring() else {
        return Vec::new();
    };
    let Ok(recipient) = Msisdn::parse("+15550109999") else {
        return Vec::new();
    };
    let minted_at = Timestamp::from_secs(1_800_000_000);
    let ttl = Duration::from_secs(600);
    let mut requests = vec![MintRequest::new(&recipient, ttl)];
    for cidr in ["203.0.113.0/24", "2001:db8::/32"] {
        if let Ok(prefix) = cidr.parse::<IpPrefix>() {
            requests.push(MintRequest::new(&recipient, ttl).bind_ip(prefix));
        }
    }
    requests
        .push(MintRequest::new(&recipient, ttl).not_before(Timestamp::from_secs(1_800_000_300)));
    requests
        .iter()
        .filter_map(|r| ring.mint(r, minted_at, &FixedRandom).ok())
        .map(|m| m.token.as_str().to_owned())
        .collect()
}

fn samples() -> &'static [String] {
    static SAMPLES: OnceLock<Vec<String>> = OnceLock::new();
    SAMPLES.get_or_init(sample_tokens)
}

/// Verifies arbitrary bytes as a token under a fixed keyring, with and without a recipient
/// and client address. Never panics; anything that is not exactly 64 base64url characters is
/// `malformed`; only the keyring's own sample tokens ever authenticate.
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
                if other.is_ok() {
                    // Unforgeability: the only tokens that can pass are the ones this keyring
                    // minted (the seeds); no mutation of them may authenticate.
                    assert!(samples().iter().any(|s| s == text), "forged token accepted");
                }
            }
        }
    }
}
