//! The keyring: token keys by id, one active for minting, older ones verify-only until retired.
//!
//! Lifecycle of a key: **active** (mints and verifies) → [`Keyring::rotate`] → **verify-only**
//! until `now + max_ttl` (every token it minted has expired by then) → **retired**: its bytes
//! are destroyed and only a tombstone (id, time) stays so the id is not reused soon.
//!
//! # Retirement revokes at once
//! A token whose key is retired fails verification with
//! [`VerifyError::UnknownKey`](crate::VerifyError::UnknownKey) (reason `unknown_key`), not
//! `revoked`: the key bytes are gone, so the token can no longer be authenticated, and answering
//! `revoked` to unauthenticated input would let anyone probe which key ids once existed.
//! A verify-only key past its retirement time is refused even before [`Keyring::retire_due`]
//! has run.

mod file;

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};

use rcsec_core::{Secret, Timestamp};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

pub use file::KeyringFileError;

use crate::rng::{RandomError, RandomSource};
use crate::token::{KeyId, MAX_LIFETIME_SECS};

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// How long tokens may live and how much clock skew `not_before` tolerates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyringPolicy {
    /// Longest TTL a token may be minted with; also the verify-only grace after rotation.
    pub max_ttl: Duration,
    /// Tolerance for a verifier whose clock is behind the minter's (applies to `not_before`
    /// only; expiry has no leeway).
    pub nbf_leeway: Duration,
}

impl Default for KeyringPolicy {
    /// 24 hours and 30 seconds.
    fn default() -> Self {
        Self {
            max_ttl: Duration::from_secs(24 * 3600),
            nbf_leeway: Duration::from_secs(30),
        }
    }
}

/// Where a key is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Mints and verifies.
    Active,
    /// Verifies tokens minted before the rotation, until `retire_at`.
    VerifyOnly {
        /// When the key stops verifying.
        retire_at: Timestamp,
    },
    /// Destroyed; tokens it minted are refused.
    Retired {
        /// When it was retired.
        at: Timestamp,
    },
}

/// What the keyring reveals about a key: never its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInfo {
    /// The key id tokens carry.
    pub id: KeyId,
    /// When it was generated.
    pub created_at: Timestamp,
    /// Its lifecycle state.
    pub state: KeyState,
}

/// Errors from keyring lifecycle operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// The policy's `max_ttl` is zero or longer than a token can express (128 hours).
    #[error("keyring max_ttl is zero or longer than 128 hours")]
    InvalidPolicy,
    /// No key with this id, or it is already retired.
    #[error("no live key with that id")]
    NoSuchKey,
    /// The active key cannot be retired; rotate first.
    #[error("the active key cannot be retired; rotate first")]
    ActiveKey,
    /// Every one of the 256 key ids is live.
    #[error("no free key id")]
    IdsExhausted,
    /// The random source failed.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// Reading or writing the keyring file failed.
    #[error(transparent)]
    File(#[from] KeyringFileError),
}

/// A key's bytes and the HMAC states derived from them (each domain-separated subkey is
/// pre-keyed once, so a verification costs two SHA-256 compressions).
pub(crate) struct KeyMaterial {
    secret: Secret<[u8; 32]>,
    pub(crate) tag: HmacSha256,
    pub(crate) recipient: HmacSha256,
    pub(crate) ip: HmacSha256,
    pub(crate) code: HmacSha256,
}

impl KeyMaterial {
    pub(crate) fn new(secret: Secret<[u8; 32]>) -> Self {
        let master = hmac_from_32(secret.expose_secret());
        let derive = |label: &[u8]| {
            let mut sub = master.clone().chain_update(label).finalize().into_bytes();
            let mut sub32 = Zeroizing::new([0u8; 32]);
            sub32.copy_from_slice(&sub);
            sub.as_mut_slice().zeroize();
            hmac_from_32(&sub32)
        };
        Self {
            tag: derive(b"rcsec-link/v1/tag"),
            recipient: derive(b"rcsec-link/v1/recipient"),
            ip: derive(b"rcsec-link/v1/ip"),
            code: derive(b"rcsec-link/v1/extension-code"),
            secret,
        }
    }

    pub(crate) fn secret(&self) -> &Secret<[u8; 32]> {
        &self.secret
    }
}

/// HMAC-SHA256 keyed with a 32-byte key, infallibly: RFC 2104 pads a short key with zeros to
/// the 64-byte block, which is exactly the block-sized key built here.
pub(crate) fn hmac_from_32(key: &[u8; 32]) -> HmacSha256 {
    let mut block = hmac::digest::Key::<HmacSha256>::default();
    block[..32].copy_from_slice(key);
    let mac = <HmacSha256 as KeyInit>::new(&block);
    block.as_mut_slice().zeroize();
    mac
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial").finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub(crate) struct KeyEntry {
    pub(crate) info: KeyInfo,
    /// `None` once retired.
    pub(crate) material: Option<KeyMaterial>,
}

/// Token keys by id. `Debug` lists ids and states, never key bytes.
///
/// ```
/// use rcsec_core::{Msisdn, Timestamp};
/// use rcsec_link::{Keyring, KeyringPolicy, MintRequest, OsRandom, VerifyContext};
/// use std::time::Duration;
///
/// let now = Timestamp::from_secs(1_800_000_000);
/// let mut ring = Keyring::generate(KeyringPolicy::default(), now, &OsRandom)?;
/// let alice = Msisdn::parse("+15550109999")?;
/// let minted = ring.mint(&MintRequest::new(&alice, Duration::from_secs(600)), now, &OsRandom)?;
/// assert!(minted.token.as_str().len() <= 64);
/// ring.rotate(now, &OsRandom)?; // the old key still verifies for max_ttl
/// let ok = ring.verify(minted.token.as_str(), &VerifyContext::at(now).recipient(&alice))?;
/// assert!(ok.recipient_checked);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Keyring {
    policy: KeyringPolicy,
    active: KeyId,
    keys: Vec<KeyEntry>,
}

impl Keyring {
    /// A keyring with one fresh active key.
    ///
    /// # Errors
    /// [`KeyringError::InvalidPolicy`], or [`KeyringError::Random`].
    pub fn generate(
        policy: KeyringPolicy,
        now: Timestamp,
        rng: &dyn RandomSource,
    ) -> Result<Self, KeyringError> {
        check_policy(&policy)?;
        let mut ring = Self {
            policy,
            active: KeyId(0),
            keys: Vec::new(),
        };
        let id = ring.add_key(KeyId(1), now, rng)?;
        ring.active = id;
        Ok(ring)
    }

    pub(crate) fn from_parts(
        policy: KeyringPolicy,
        active: KeyId,
        keys: Vec<KeyEntry>,
    ) -> Result<Self, KeyringError> {
        check_policy(&policy)?;
        let ok = keys.iter().any(|k| {
            k.info.id == active && k.info.state == KeyState::Active && k.material.is_some()
        });
        let single_active = keys
            .iter()
            .filter(|k| k.info.state == KeyState::Active)
            .count()
            == 1;
        if !ok || !single_active {
            return Err(KeyringError::NoSuchKey);
        }
        Ok(Self {
            policy,
            active,
            keys,
        })
    }

    fn add_key(
        &mut self,
        id: KeyId,
        now: Timestamp,
        rng: &dyn RandomSource,
    ) -> Result<KeyId, KeyringError> {
        let mut secret = Secret::new([0u8; 32]);
        rng.fill(secret.expose_secret_mut())?;
        self.keys.push(KeyEntry {
            info: KeyInfo {
                id,
                created_at: now,
                state: KeyState::Active,
            },
            material: Some(KeyMaterial::new(secret)),
        });
        Ok(id)
    }

    /// The policy in force.
    pub fn policy(&self) -> KeyringPolicy {
        self.policy
    }

    /// The id new tokens are minted with.
    pub fn active_key_id(&self) -> KeyId {
        self.active
    }

    /// Every key and tombstone, oldest first.
    pub fn keys(&self) -> impl Iterator<Item = KeyInfo> + '_ {
        self.keys.iter().map(|k| k.info)
    }

    /// Makes a fresh key active; the previous active key becomes verify-only until
    /// `now + max_ttl`, so every token it minted can still be redeemed. Returns the new id.
    ///
    /// # Errors
    /// [`KeyringError::IdsExhausted`] or [`KeyringError::Random`].
    pub fn rotate(
        &mut self,
        now: Timestamp,
        rng: &dyn RandomSource,
    ) -> Result<KeyId, KeyringError> {
        self.retire_due(now);
        let id = self.next_free_id()?;
        let retire_at = now.saturating_add(self.policy.max_ttl);
        self.add_key(id, now, rng)?;
        if let Some(old) = self.keys.iter_mut().find(|k| k.info.id == self.active) {
            old.info.state = KeyState::VerifyOnly { retire_at };
        }
        self.active = id;
        Ok(id)
    }

    /// Retires a verify-only key now, destroying its bytes: every token it minted is refused
    /// from this moment (`unknown_key`).
    ///
    /// # Errors
    /// [`KeyringError::ActiveKey`] for the active key, [`KeyringError::NoSuchKey`] otherwise.
    pub fn retire(&mut self, id: KeyId, now: Timestamp) -> Result<(), KeyringError> {
        if id == self.active {
            return Err(KeyringError::ActiveKey);
        }
        let entry = self
            .keys
            .iter_mut()
            .find(|k| k.info.id == id && !matches!(k.info.state, KeyState::Retired { .. }))
            .ok_or(KeyringError::NoSuchKey)?;
        entry.info.state = KeyState::Retired { at: now };
        entry.material = None;
        Ok(())
    }

    /// Retires every verify-only key whose grace window has ended; returns their ids.
    pub fn retire_due(&mut self, now: Timestamp) -> Vec<KeyId> {
        let mut retired = Vec::new();
        for entry in &mut self.keys {
            if let KeyState::VerifyOnly { retire_at } = entry.info.state
                && retire_at <= now
            {
                entry.info.state = KeyState::Retired { at: now };
                entry.material = None;
                retired.push(entry.info.id);
            }
        }
        retired
    }

    /// The material that may verify a token with `id` at `now`.
    pub(crate) fn verifying_key(&self, id: KeyId, now: Timestamp) -> Option<&KeyMaterial> {
        let entry = self.keys.iter().find(|k| k.info.id == id)?;
        match entry.info.state {
            KeyState::Active => entry.material.as_ref(),
            KeyState::VerifyOnly { retire_at } if now < retire_at => entry.material.as_ref(),
            _ => None,
        }
    }

    /// The active key's material.
    pub(crate) fn active_material(&self) -> Option<&KeyMaterial> {
        self.keys
            .iter()
            .find(|k| k.info.id == self.active)
            .and_then(|k| k.material.as_ref())
    }

    pub(crate) fn entries(&self) -> &[KeyEntry] {
        &self.keys
    }

    /// The next id after the active one that no live key or tombstone uses; the oldest
    /// tombstone is forgotten when all 256 are taken.
    fn next_free_id(&mut self) -> Result<KeyId, KeyringError> {
        for step in 1..=255u8 {
            let candidate = KeyId(self.active.0.wrapping_add(step));
            if !self.keys.iter().any(|k| k.info.id == candidate) {
                return Ok(candidate);
            }
        }
        let oldest = self
            .keys
            .iter()
            .enumerate()
            .filter(|(_, k)| matches!(k.info.state, KeyState::Retired { .. }))
            .min_by_key(|(_, k)| k.info.created_at)
            .map(|(i, _)| i)
            .ok_or(KeyringError::IdsExhausted)?;
        Ok(self.keys.remove(oldest).info.id)
    }
}

fn check_policy(policy: &KeyringPolicy) -> Result<(), KeyringError> {
    let secs = policy.max_ttl.as_secs();
    if secs == 0 || secs > MAX_LIFETIME_SECS {
        return Err(KeyringError::InvalidPolicy);
    }
    Ok(())
}
