//! [`GroupConfig`]: the receive-side tolerances of a group member.

use crate::mls::secret_tree::SecretTreeConfig;

/// How tolerant a member is of reordering, gaps and late messages, and how it pads.
///
/// Each setting trades availability against exposure: every retained key or epoch is
/// something a state compromise would reveal, so the defaults are as small as on-call
/// delivery (push retries, a commit racing an alert) allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupConfig {
    /// Keys of skipped generations kept per sender for late messages (oldest evicted first).
    pub out_of_order_tolerance: u32,
    /// How far ahead of the next expected generation a message may jump; bounds the work a
    /// forged or buggy generation number can cause.
    pub max_forward_distance: u32,
    /// How many past epochs still decrypt late application messages.
    ///
    /// Default 2: an alert sent just before a membership change (a device added, then that
    /// device's first self-update) must still be readable after both commits were processed,
    /// which happens whenever a push arrives after the commit that followed it. OpenMLS keeps
    /// none by default, so such an alert is lost. Past-epoch messages are only accepted from
    /// senders still in the group with the same signature key, so a removed device cannot use
    /// an old epoch to keep talking. Set 0 for the strictest forward secrecy.
    pub past_epochs: u16,
    /// Application plaintexts are padded with zeros to a multiple of this many bytes (0 or 1:
    /// no padding), so ciphertext length reveals less about the alert.
    pub padding_block: u32,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            out_of_order_tolerance: 32,
            max_forward_distance: 1000,
            past_epochs: 2,
            padding_block: 32,
        }
    }
}

impl GroupConfig {
    pub(crate) fn secret_tree(&self) -> SecretTreeConfig {
        SecretTreeConfig {
            out_of_order_tolerance: self.out_of_order_tolerance as usize,
            max_forward_distance: self.max_forward_distance,
        }
    }

    /// Zero bytes to append to a plaintext of `len` bytes.
    pub(crate) fn padding_for(&self, len: usize) -> usize {
        let block = self.padding_block as usize;
        if block <= 1 {
            return 0;
        }
        (block - len % block) % block
    }
}
