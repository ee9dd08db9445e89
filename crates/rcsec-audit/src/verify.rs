//! The verifier: recomputes the chain and tree over a log's lines and checks every
//! checkpoint, naming the first bad index.
//!
//! What each tampering looks like to it (index = the event position reported):
//! - a changed event (any byte) fails its chain hash, sequence or syntax at its own index;
//! - a deleted, inserted, duplicated or reordered event breaks the sequence at the first
//!   displaced index (an inserted event with a forged sequence and chain is caught at the
//!   next genuine event, whose chain no longer links);
//! - truncation is caught against a checkpoint kept outside the log
//!   ([`Verifier::expect_checkpoint`]): the index is the first missing event;
//! - a rewrite that recomputes every later chain hash cannot re-sign checkpoints: it is caught
//!   at the next checkpoint, and the index is the first event no verified checkpoint covers;
//! - an old checkpoint replayed later in the log is out of place (its signed size is not the
//!   number of events before it) and does not advance on the previous checkpoint.

use ed25519_dalek::VerifyingKey;

use crate::chain::{ChainState, Head};
use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::event::Label;
use crate::line::{LineError, LogLine, check_event_body, decode_line, split_event_line};

/// What was wrong at the reported index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyFailure {
    /// The line is not a valid event or checkpoint line.
    #[error("malformed line: {0}")]
    Malformed(LineError),
    /// The last line has no terminating newline: a torn or truncated write.
    #[error("last line is incomplete")]
    TornLine,
    /// The event's sequence number is not its position.
    #[error("sequence number {found} out of place")]
    SequenceMismatch {
        /// The sequence number found.
        found: u64,
    },
    /// The recorded chain hash differs from the recomputed one.
    #[error("chain hash does not match the event")]
    ChainMismatch,
    /// A checkpoint's key or signature is bad.
    #[error("checkpoint: {0}")]
    Checkpoint(CheckpointError),
    /// A checkpoint is for another log than the ones before it (or than expected).
    #[error("checkpoint belongs to another log")]
    ForeignLog,
    /// A checkpoint does not sit right after the number of events it signs.
    #[error("checkpoint for size {size} is out of place")]
    CheckpointOutOfPlace {
        /// The size it signs.
        size: u64,
    },
    /// A checkpoint does not advance on the previous one: a replay.
    #[error("checkpoint does not advance on the previous one")]
    StaleCheckpoint,
    /// A correctly signed checkpoint's root or chain differs from the recomputed log.
    #[error("checkpoint does not match the log (rewritten history)")]
    RootMismatch,
    /// The log ends before the trusted checkpoint's size.
    #[error("log truncated: a checkpoint covers {size} events")]
    Truncated {
        /// The size the trusted checkpoint covers.
        size: u64,
    },
}

/// Verification failed at event `index`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad log at event {index}: {failure}")]
pub struct VerifyError {
    /// The first bad event index (see the module docs for what it means per tampering).
    pub index: u64,
    /// What was wrong.
    pub failure: VerifyFailure,
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The head of the verified log.
    pub head: Head,
    /// The running state, for a writer to continue from.
    pub state: ChainState,
    /// Checkpoint lines verified.
    pub checkpoints: u64,
    /// The last checkpoint in the log, to keep for verifying the next run against.
    pub last_checkpoint: Option<Checkpoint>,
}

/// Streams a log's lines through the checks. See the module docs.
///
/// ```
/// # use rcsec_audit::{Verifier, MemoryAuditSink};
/// let log: &[u8] = b"";
/// let verified = Verifier::new().verify_bytes(log)?;
/// assert_eq!(verified.head.size, 0);
/// # Ok::<(), rcsec_audit::VerifyError>(())
/// ```
#[derive(Debug, Default)]
pub struct Verifier {
    pinned: Option<VerifyingKey>,
    log_id: Option<Label>,
    trusted: Option<Checkpoint>,
    state: ChainState,
    /// Events covered by the last checkpoint that verified (the "known good" prefix).
    verified_upto: u64,
    last_checkpoint: Option<Checkpoint>,
    checkpoints: u64,
    /// The key of the first checkpoint, when none is pinned: all must share it.
    seen_key: Option<[u8; 32]>,
}

impl Verifier {
    /// A verifier that trusts whatever key signs the log's first checkpoint (self-consistency
    /// only); pin a key with [`Verifier::pin_key`] for real assurance.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires every checkpoint to be signed by `key`.
    #[must_use]
    pub fn pin_key(mut self, key: VerifyingKey) -> Self {
        self.pinned = Some(key);
        self
    }

    /// Requires every checkpoint to be for log `log_id`.
    #[must_use]
    pub fn log_id(mut self, log_id: Label) -> Self {
        self.log_id = Some(log_id);
        self
    }

    /// A checkpoint kept outside the log (e.g. from the last verification or a witness):
    /// the log must contain at least its events, with its root.
    #[must_use]
    pub fn expect_checkpoint(mut self, checkpoint: Checkpoint) -> Self {
        self.trusted = Some(checkpoint);
        self
    }

    /// Events verified so far.
    pub fn size(&self) -> u64 {
        self.state.size()
    }

    fn fail(&self, failure: VerifyFailure) -> VerifyError {
        VerifyError {
            index: self.state.size(),
            failure,
        }
    }

    /// Checks one line (without its newline).
    ///
    /// # Errors
    /// [`VerifyError`] naming the first bad index.
    pub fn push_line(&mut self, line: &[u8]) -> Result<(), VerifyError> {
        if let Some((body, recorded)) = split_event_line(line) {
            let event =
                check_event_body(body).map_err(|e| self.fail(VerifyFailure::Malformed(e)))?;
            if event.sequence != self.state.size() {
                return Err(self.fail(VerifyFailure::SequenceMismatch {
                    found: event.sequence,
                }));
            }
            let chain = self.state.next_chain(&[body, b"}"]);
            if chain != recorded {
                return Err(self.fail(VerifyFailure::ChainMismatch));
            }
            self.state.push_chain(chain);
            return self.check_trusted_at_size();
        }
        match decode_line(line) {
            Ok(LogLine::Checkpoint(cp)) => self.push_checkpoint(cp),
            Ok(LogLine::Event { .. }) => Err(self.fail(VerifyFailure::ChainMismatch)),
            Err(e) => Err(self.fail(VerifyFailure::Malformed(e))),
        }
    }

    fn check_signature(&mut self, cp: &Checkpoint) -> Result<(), VerifyFailure> {
        let pinned = self.pinned;
        if pinned.is_none() {
            let key = *self.seen_key.get_or_insert(*cp.key_bytes());
            if &key != cp.key_bytes() {
                return Err(VerifyFailure::Checkpoint(CheckpointError::UnexpectedKey));
            }
        }
        cp.verify(pinned.as_ref())
            .map_err(VerifyFailure::Checkpoint)?;
        let log_id = self.log_id.get_or_insert_with(|| cp.log_id().clone());
        if log_id != cp.log_id() {
            return Err(VerifyFailure::ForeignLog);
        }
        Ok(())
    }

    fn push_checkpoint(&mut self, cp: Checkpoint) -> Result<(), VerifyError> {
        self.check_signature(&cp).map_err(|f| self.fail(f))?;
        if let Some(prev) = &self.last_checkpoint
            && (cp.size() <= prev.size() || cp.time() < prev.time())
        {
            return Err(self.fail(VerifyFailure::StaleCheckpoint));
        }
        if cp.size() != self.state.size() {
            return Err(self.fail(VerifyFailure::CheckpointOutOfPlace { size: cp.size() }));
        }
        let head = self.state.head();
        if cp.root() != head.root || cp.chain() != head.chain {
            return Err(VerifyError {
                index: self.verified_upto,
                failure: VerifyFailure::RootMismatch,
            });
        }
        self.verified_upto = cp.size();
        self.checkpoints += 1;
        self.last_checkpoint = Some(cp);
        Ok(())
    }

    fn check_trusted_at_size(&mut self) -> Result<(), VerifyError> {
        let Some(trusted) = self
            .trusted
            .as_ref()
            .filter(|t| t.size() == self.state.size())
            .cloned()
        else {
            return Ok(());
        };
        self.check_signature(&trusted).map_err(|f| self.fail(f))?;
        let head = self.state.head();
        if trusted.root() != head.root || trusted.chain() != head.chain {
            return Err(VerifyError {
                index: self.verified_upto,
                failure: VerifyFailure::RootMismatch,
            });
        }
        Ok(())
    }

    /// Ends verification.
    ///
    /// # Errors
    /// [`VerifyError`] when the trusted checkpoint is invalid, foreign or not matched, or the
    /// log ends before it.
    pub fn finish(mut self) -> Result<Verified, VerifyError> {
        if let Some(trusted) = self.trusted.take() {
            self.check_signature(&trusted).map_err(|f| self.fail(f))?;
            if trusted.size() > self.state.size() {
                return Err(self.fail(VerifyFailure::Truncated {
                    size: trusted.size(),
                }));
            }
            if trusted.size() == 0 {
                let head = ChainState::new().head();
                if trusted.root() != head.root || trusted.chain() != head.chain {
                    return Err(VerifyError {
                        index: 0,
                        failure: VerifyFailure::RootMismatch,
                    });
                }
            }
        }
        Ok(Verified {
            head: self.state.head(),
            state: self.state,
            checkpoints: self.checkpoints,
            last_checkpoint: self.last_checkpoint,
        })
    }

    /// Verifies a whole log held in memory: lines end with `\n`, and a final line without one
    /// is a torn write.
    ///
    /// # Errors
    /// [`VerifyError`] naming the first bad index.
    pub fn verify_bytes(mut self, log: &[u8]) -> Result<Verified, VerifyError> {
        let mut rest = log;
        while !rest.is_empty() {
            let Some(end) = memchr::memchr(b'\n', rest) else {
                return Err(self.fail(VerifyFailure::TornLine));
            };
            self.push_line(&rest[..end])?;
            rest = &rest[end + 1..];
        }
        self.finish()
    }
}
