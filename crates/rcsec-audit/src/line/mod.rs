//! The log's line format: one canonical JSON object per line, events and checkpoints.
//!
//! # Canonical event encoding
//!
//! An event is written as one JSON object with no whitespace, members in this fixed order,
//! optional members omitted when absent, integers in plain decimal and hashes in lowercase hex:
//!
//! ```text
//! {"type":"event","seq":N,"time":MILLIS,"kind":KIND[,"action":A][,"alert":ID]
//!  [,"recipient":HEX64,"recipient_key":V][,"actor":L][,"route":L][,"provider":L][,"link":L]
//!  [,"outcome":L][,"reason":L][,"e2ee":L,"fallback_reason":L,"action_taken":T]
//!  [,"message_hash":HEX64,"message_key":V]}
//! ```
//!
//! `action` appears exactly for kind `action`; `e2ee`, `fallback_reason` and `action_taken`
//! exactly for kind `fallback`. Every string is an [`AlertId`](rcsec_core::AlertId), a
//! [`Label`](crate::Label), a code or hex, none of which can contain a character JSON would escape, so the
//! encoding needs no escaping and decoding accepts none: a line decodes only if it is
//! byte-for-byte the canonical encoding of what it decodes to.
//!
//! In the log, an event line is its canonical encoding with one more member before the
//! closing brace, `,"chain":HEX64`: the chain hash, `SHA-256(previous chain || canonical)`.
//!
//! # Checkpoint lines
//!
//! ```text
//! {"type":"checkpoint","log":L,"size":N,"time":MILLIS,"root":HEX64,"chain":HEX64,
//!  "key":HEX64,"sig":HEX128}
//! ```

mod decode;
mod encode;

pub(crate) use decode::{check_event_body, decode_event_body_both_ways, split_event_line};
pub use decode::{decode_event, decode_line};
pub use encode::encode_event;
pub(crate) use encode::{append_chain_member, encode_checkpoint};

use crate::checkpoint::Checkpoint;
use crate::event::AuditEvent;
use crate::merkle::Hash;

/// Where the chain member starts, counted back from the end of an event line:
/// `,"chain":"` (10) + 64 hex + `"}` (2).
pub(crate) const CHAIN_SUFFIX_LEN: usize = 76;
const EVENT_PREFIX: &[u8] = b"{\"type\":\"event\",\"seq\":";
const CHECKPOINT_PREFIX: &[u8] = b"{\"type\":\"checkpoint\",\"log\":";

/// Why a log line could not be decoded.
///
/// Never quotes the line: a tampered or foreign line may hold anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// Not an event or checkpoint line of this format.
    #[error("unknown line type")]
    UnknownType,
    /// The bytes break the canonical grammar at this offset.
    #[error("malformed line at byte {offset}")]
    Syntax {
        /// Byte offset of the problem.
        offset: usize,
    },
    /// A member is present but its value is not valid.
    #[error("invalid value for {field}")]
    InvalidField {
        /// The member name.
        field: &'static str,
    },
}

/// One decoded line of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogLine {
    /// An event with its recorded chain hash.
    Event {
        /// The event.
        event: AuditEvent,
        /// The chain hash the writer recorded for it.
        chain: Hash,
    },
    /// A signed checkpoint.
    Checkpoint(Checkpoint),
}
