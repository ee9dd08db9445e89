//! Writing canonical event encodings, event lines and checkpoint lines.

use super::{CHECKPOINT_PREFIX, EVENT_PREFIX};
use crate::checkpoint::Checkpoint;
use crate::event::{AuditEvent, EventKind};
use crate::merkle::Hash;

/// Appends the canonical encoding of `event` to `out`.
pub fn encode_event(event: &AuditEvent, out: &mut Vec<u8>) {
    out.extend_from_slice(EVENT_PREFIX);
    push_u64(out, event.sequence);
    out.extend_from_slice(b",\"time\":");
    push_u64(out, event.time.as_millis());
    str_member(out, "kind", event.kind.name());
    if let EventKind::Action(action) = event.kind {
        str_member(out, "action", action.as_str());
    }
    if let Some(alert) = &event.alert {
        str_member(out, "alert", alert.as_str());
    }
    if let Some(p) = &event.recipient {
        hex_member(out, "recipient", p.value());
        u64_member(out, "recipient_key", u64::from(p.version()));
    }
    let labels = [
        ("actor", &event.actor),
        ("route", &event.route),
        ("provider", &event.provider),
        ("link", &event.link),
        ("outcome", &event.outcome),
        ("reason", &event.reason),
    ];
    for (name, value) in labels {
        if let Some(v) = value {
            str_member(out, name, v.as_str());
        }
    }
    if let EventKind::Fallback(f) = &event.kind {
        str_member(out, "e2ee", f.e2ee.as_str());
        str_member(out, "fallback_reason", f.fallback_reason.as_str());
        str_member(out, "action_taken", f.action_taken.as_str());
    }
    if let Some(h) = &event.message_hash {
        hex_member(out, "message_hash", h.value());
        u64_member(out, "message_key", u64::from(h.version()));
    }
    out.push(b'}');
}

/// Turns a canonical encoding at the end of `out` into a log line by inserting the chain
/// member before its closing brace.
pub(crate) fn append_chain_member(out: &mut Vec<u8>, chain: &Hash) {
    out.pop();
    hex_member(out, "chain", chain.as_bytes());
    out.push(b'}');
}

/// Appends a checkpoint line (no newline).
pub(crate) fn encode_checkpoint(cp: &Checkpoint, out: &mut Vec<u8>) {
    out.extend_from_slice(CHECKPOINT_PREFIX);
    push_str(out, cp.log_id().as_str());
    u64_member(out, "size", cp.size());
    u64_member(out, "time", cp.time().as_millis());
    hex_member(out, "root", cp.root().as_bytes());
    hex_member(out, "chain", cp.chain().as_bytes());
    hex_member(out, "key", cp.key_bytes());
    hex_member(out, "sig", cp.signature_bytes());
    out.push(b'}');
}

fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        #[allow(
            clippy::cast_possible_truncation,
            reason = "a remainder of 10 fits in u8"
        )]
        let digit = (v % 10) as u8;
        buf[i] = b'0' + digit;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

fn str_member(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    push_str(out, value);
}

fn u64_member(out: &mut Vec<u8>, name: &str, value: u64) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    push_u64(out, value);
}

/// Every byte's two lowercase hex digits, so encoding is one lookup per byte.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX[i >> 4], HEX[i & 0x0f]];
        i += 1;
    }
    table
};

fn hex_member(out: &mut Vec<u8>, name: &str, bytes: &[u8]) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":\"");
    // Encode into a stack buffer and copy once: per-byte pushes re-check capacity each time.
    let mut buf = [0u8; 128];
    for (pair, &b) in buf.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
    out.extend_from_slice(&buf[..2 * bytes.len().min(64)]);
    out.push(b'"');
}
