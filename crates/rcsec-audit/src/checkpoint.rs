//! Signed checkpoints: Ed25519 signatures over (log id, size, time, Merkle root, chain hash).
//!
//! A checkpoint commits to the first `size` events. Because the size is signed and the
//! verifier requires each in-log checkpoint to sit exactly after `size` events and sizes to
//! grow, an old checkpoint cannot be replayed later in the log or passed off as the latest.

use std::fmt;
use std::time::Duration;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rcsec_core::{Secret, Timestamp};

use crate::chain::Head;
use crate::event::Label;
use crate::merkle::Hash;

/// Domain separation for the signed message, so these signatures can never be confused with
/// signatures the same key makes for anything else.
const DOMAIN: &[u8] = b"rcsec-audit checkpoint v1\0";

/// Why a checkpoint could not be made or did not verify. Deliberately opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The log id is not a valid label.
    #[error("invalid log id")]
    InvalidLogId,
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Rng,
    /// The embedded public key is not a valid Ed25519 key.
    #[error("invalid checkpoint key")]
    InvalidKey,
    /// Signed by a key other than the pinned one.
    #[error("checkpoint signed by an unexpected key")]
    UnexpectedKey,
    /// The signature does not verify.
    #[error("checkpoint signature does not verify")]
    BadSignature,
}

/// A signed statement "log `log_id` had `size` events with this root and chain at `time`".
#[derive(Clone, PartialEq, Eq)]
pub struct Checkpoint {
    log_id: Label,
    size: u64,
    time: Timestamp,
    root: Hash,
    chain: Hash,
    key: [u8; 32],
    signature: [u8; 64],
}

impl Checkpoint {
    pub(crate) fn from_parts(
        log_id: Label,
        size: u64,
        time: Timestamp,
        root: Hash,
        chain: Hash,
        key: [u8; 32],
        signature: [u8; 64],
    ) -> Self {
        Self {
            log_id,
            size,
            time,
            root,
            chain,
            key,
            signature,
        }
    }

    /// The log this checkpoint belongs to.
    pub fn log_id(&self) -> &Label {
        &self.log_id
    }
    /// How many events it covers.
    pub fn size(&self) -> u64 {
        self.size
    }
    /// When it was signed.
    pub fn time(&self) -> Timestamp {
        self.time
    }
    /// The Merkle root of the first `size` events.
    pub fn root(&self) -> Hash {
        self.root
    }
    /// The chain hash of event `size - 1` (all zeros for size 0).
    pub fn chain(&self) -> Hash {
        self.chain
    }
    /// The signer's Ed25519 public key.
    pub fn key_bytes(&self) -> &[u8; 32] {
        &self.key
    }
    /// The Ed25519 signature.
    pub fn signature_bytes(&self) -> &[u8; 64] {
        &self.signature
    }

    /// Checks the signature, and that the signer is `pinned` when one is given.
    ///
    /// # Errors
    /// [`CheckpointError`] when the key is invalid or unexpected or the signature fails.
    pub fn verify(&self, pinned: Option<&VerifyingKey>) -> Result<(), CheckpointError> {
        let key = VerifyingKey::from_bytes(&self.key).map_err(|_| CheckpointError::InvalidKey)?;
        if pinned.is_some_and(|p| p != &key) {
            return Err(CheckpointError::UnexpectedKey);
        }
        let message = signed_message(&self.log_id, self.size, self.time, &self.root, &self.chain);
        key.verify_strict(&message, &Signature::from_bytes(&self.signature))
            .map_err(|_| CheckpointError::BadSignature)
    }

    /// Parses a checkpoint line as [`Checkpoint::to_line`] writes it (surrounding whitespace
    /// is ignored). The signature is not checked here; see [`Checkpoint::verify`].
    ///
    /// # Errors
    /// [`LineError`](crate::line::LineError) unless it is a canonical checkpoint line.
    pub fn from_line(text: &str) -> Result<Self, crate::line::LineError> {
        match crate::line::decode_line(text.trim().as_bytes())? {
            crate::line::LogLine::Checkpoint(cp) => Ok(cp),
            crate::line::LogLine::Event { .. } => Err(crate::line::LineError::UnknownType),
        }
    }

    /// The checkpoint as one log line (no newline), for keeping the latest one elsewhere.
    pub fn to_line(&self) -> String {
        let mut out = Vec::new();
        crate::line::encode_checkpoint(self, &mut out);
        // Every byte written is ASCII.
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpoint")
            .field("log_id", &self.log_id)
            .field("size", &self.size)
            .field("time", &self.time)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

fn signed_message(
    log_id: &Label,
    size: u64,
    time: Timestamp,
    root: &Hash,
    chain: &Hash,
) -> Vec<u8> {
    let id = log_id.as_str().as_bytes();
    let mut m = Vec::with_capacity(DOMAIN.len() + 1 + id.len() + 16 + 64);
    m.extend_from_slice(DOMAIN);
    // Labels are at most 128 bytes, so the length fits one byte.
    m.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
    m.extend_from_slice(id);
    m.extend_from_slice(&size.to_be_bytes());
    m.extend_from_slice(&time.as_millis().to_be_bytes());
    m.extend_from_slice(root.as_bytes());
    m.extend_from_slice(chain.as_bytes());
    m
}

/// Signs checkpoints for one log. `Debug` shows the log id and public key only.
#[derive(Clone)]
pub struct CheckpointSigner {
    log_id: Label,
    key: SigningKey,
}

impl CheckpointSigner {
    /// A signer for `log_id` from a 32-byte Ed25519 seed.
    ///
    /// # Errors
    /// [`CheckpointError::InvalidLogId`] unless the id is a valid label.
    pub fn from_seed(log_id: &str, seed: &Secret<[u8; 32]>) -> Result<Self, CheckpointError> {
        let log_id = Label::checked(log_id, "log", crate::event::LabelRule::Id)
            .map_err(|_| CheckpointError::InvalidLogId)?;
        Ok(Self {
            log_id,
            key: SigningKey::from_bytes(seed.expose_secret()),
        })
    }

    /// A signer with a fresh random key from the operating system.
    ///
    /// # Errors
    /// [`CheckpointError`] for an invalid log id or an RNG failure.
    pub fn generate(log_id: &str) -> Result<Self, CheckpointError> {
        let mut seed = Secret::new([0u8; 32]);
        getrandom::fill(seed.expose_secret_mut()).map_err(|_| CheckpointError::Rng)?;
        Self::from_seed(log_id, &seed)
    }

    /// The public key verifiers pin.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The log id.
    pub fn log_id(&self) -> &Label {
        &self.log_id
    }

    /// Signs `head` as of `time`.
    pub fn sign(&self, head: &Head, time: Timestamp) -> Checkpoint {
        let message = signed_message(&self.log_id, head.size, time, &head.root, &head.chain);
        Checkpoint {
            log_id: self.log_id.clone(),
            size: head.size,
            time,
            root: head.root,
            chain: head.chain,
            key: self.verifying_key().to_bytes(),
            signature: self.key.sign(&message).to_bytes(),
        }
    }
}

impl fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("log_id", &self.log_id)
            .field("public_key", &hex::encode(self.verifying_key().as_bytes()))
            .finish_non_exhaustive()
    }
}

/// When to write a checkpoint: after `every_events` new events, or when `every` has passed
/// since the last one and there is at least one new event.
///
/// Checked after each appended batch, so a checkpoint lands at the first batch boundary at
/// or after the trigger (a batch is never split), and an idle log writes none: the time
/// trigger fires on the next append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// Events between checkpoints (0 disables the count trigger).
    pub every_events: u64,
    /// Time between checkpoints (zero disables the time trigger).
    pub every: Duration,
}

impl Default for CheckpointPolicy {
    /// Every 1000 events or 60 seconds.
    fn default() -> Self {
        Self {
            every_events: 1000,
            every: Duration::from_secs(60),
        }
    }
}

impl CheckpointPolicy {
    /// Whether a checkpoint is due given what happened since the last one.
    pub fn due(&self, new_events: u64, elapsed: Duration) -> bool {
        new_events > 0
            && ((self.every_events > 0 && new_events >= self.every_events)
                || (!self.every.is_zero() && elapsed >= self.every))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;

    fn signer(seed: u8) -> CheckpointSigner {
        CheckpointSigner::from_seed("log-1", &Secret::new([seed; 32])).unwrap()
    }

    fn head(size: u64) -> Head {
        Head {
            size,
            chain: leaf_hash(b"c"),
            root: leaf_hash(b"r"),
        }
    }

    #[test]
    fn signatures_bind_every_field() {
        let s = signer(1);
        let cp = s.sign(&head(5), Timestamp::from_secs(9));
        assert_eq!(cp.verify(None), Ok(()));
        assert_eq!(cp.verify(Some(&s.verifying_key())), Ok(()));
        assert_eq!(
            cp.verify(Some(&signer(2).verifying_key())),
            Err(CheckpointError::UnexpectedKey)
        );
        let mut bigger = cp.clone();
        bigger.size = 6;
        assert_eq!(bigger.verify(None), Err(CheckpointError::BadSignature));
        let mut later = cp.clone();
        later.time = Timestamp::from_secs(10);
        assert_eq!(later.verify(None), Err(CheckpointError::BadSignature));
        let mut other_root = cp.clone();
        other_root.root = leaf_hash(b"x");
        assert_eq!(other_root.verify(None), Err(CheckpointError::BadSignature));
        let mut other_log = cp;
        other_log.log_id = Label::name("log-2").unwrap();
        assert_eq!(other_log.verify(None), Err(CheckpointError::BadSignature));
    }

    #[test]
    fn policy_triggers_on_count_or_time_but_never_when_idle() {
        let p = CheckpointPolicy {
            every_events: 10,
            every: Duration::from_secs(5),
        };
        assert!(!p.due(0, Duration::from_secs(100)));
        assert!(!p.due(9, Duration::from_secs(4)));
        assert!(p.due(10, Duration::ZERO));
        assert!(p.due(1, Duration::from_secs(5)));
        assert!(
            !signer(3)
                .sign(&head(0), Timestamp::EPOCH)
                .to_line()
                .is_empty()
        );
        assert!(!format!("{:?}", signer(3)).contains("0303030303030303"));
    }
}
