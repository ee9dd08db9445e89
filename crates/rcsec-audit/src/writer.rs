//! The sans-IO log writer every sink wraps: numbers events, encodes lines, extends the chain
//! and tree, and emits checkpoints when due.

use std::sync::Arc;

use rcsec_core::{Clock, Timestamp};

use crate::chain::{ChainState, Head};
use crate::checkpoint::{Checkpoint, CheckpointPolicy, CheckpointSigner};
use crate::event::{AuditEvent, PendingEvent};
use crate::line::{append_chain_member, encode_checkpoint, encode_event};

/// How a log signs checkpoints.
#[derive(Debug, Clone)]
pub struct CheckpointConfig {
    /// The signer.
    pub signer: CheckpointSigner,
    /// When to sign.
    pub policy: CheckpointPolicy,
    /// Where checkpoint times come from.
    pub clock: Arc<dyn Clock>,
}

/// Turns pending events into log lines. Holds no I/O; sinks write what it produces.
///
/// A sink whose storage other processes also append to (a database) keeps one writer as a
/// cache, and before each append brings it up to the stored log with [`LogWriter::adopt`].
#[derive(Debug, Clone)]
pub struct LogWriter {
    state: ChainState,
    checkpoints: Option<CheckpointConfig>,
    last_checkpoint: Option<Checkpoint>,
    /// When the checkpoint timer started (last checkpoint, or the writer's creation).
    timer_start: Timestamp,
}

impl LogWriter {
    /// A writer continuing from `state` (the empty state for a new log), with the last
    /// checkpoint found in the log, if any.
    pub fn new(
        state: ChainState,
        checkpoints: Option<CheckpointConfig>,
        last_checkpoint: Option<Checkpoint>,
    ) -> Self {
        let timer_start = match (&checkpoints, &last_checkpoint) {
            (_, Some(cp)) => cp.time(),
            (Some(cfg), None) => cfg.clock.now(),
            (None, None) => Timestamp::EPOCH,
        };
        Self {
            state,
            checkpoints,
            last_checkpoint,
            timer_start,
        }
    }

    /// The head after everything appended so far.
    pub fn head(&self) -> Head {
        self.state.head()
    }

    /// The running chain and Merkle state (store its parts to resume with
    /// [`ChainState::from_parts`]).
    pub fn state(&self) -> &ChainState {
        &self.state
    }

    /// Number of events so far.
    pub fn size(&self) -> u64 {
        self.state.size()
    }

    /// Whether this writer signs checkpoints.
    pub fn signs_checkpoints(&self) -> bool {
        self.checkpoints.is_some()
    }

    /// The most recent checkpoint written or found.
    pub fn last_checkpoint(&self) -> Option<&Checkpoint> {
        self.last_checkpoint.as_ref()
    }

    /// Continues from `state`, a longer prefix of the same log that another writer stored,
    /// and from `checkpoint`, the newest checkpoint stored with it, if newer than the last one
    /// this writer knows (it restarts the checkpoint timer and count).
    ///
    /// The caller has checked that `state` extends this writer's state (by verifying the
    /// stored events after it); a shorter state is ignored.
    pub fn adopt(&mut self, state: ChainState, checkpoint: Option<Checkpoint>) {
        if state.size() >= self.state.size() {
            self.state = state;
        }
        let known = self.last_checkpoint.as_ref().map_or(0, Checkpoint::size);
        if let Some(cp) = checkpoint.filter(|cp| cp.size() > known) {
            self.timer_start = cp.time();
            self.last_checkpoint = Some(cp);
        }
    }

    /// Numbers `pending`, appends its line plus `\n` to `out`, and returns the event.
    pub fn append(&mut self, pending: PendingEvent, out: &mut Vec<u8>) -> AuditEvent {
        let event = pending.into_event(self.state.size());
        // Encode once, straight into the output: hash the canonical bytes in place, then
        // splice the chain member in before the closing brace.
        let start = out.len();
        encode_event(&event, out);
        let chain = self.state.absorb(&[&out[start..]]);
        append_chain_member(out, &chain);
        out.push(b'\n');
        event
    }

    /// Appends a checkpoint line to `out` if the policy says one is due.
    pub fn checkpoint_if_due(&mut self, out: &mut Vec<u8>) -> Option<Checkpoint> {
        let cfg = self.checkpoints.as_ref()?;
        let now = cfg.clock.now();
        let covered = self.last_checkpoint.as_ref().map_or(0, Checkpoint::size);
        let new_events = self.state.size().saturating_sub(covered);
        if !cfg
            .policy
            .due(new_events, now.saturating_duration_since(self.timer_start))
        {
            return None;
        }
        let cp = cfg.signer.sign(&self.state.head(), now);
        encode_checkpoint(&cp, out);
        out.push(b'\n');
        self.timer_start = now;
        self.last_checkpoint = Some(cp.clone());
        Some(cp)
    }
}
