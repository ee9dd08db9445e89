//! Reading lines: a strict parser that accepts only canonical encodings, with an
//! allocation-free path for the verifier.

use rcsec_core::{AlertId, Timestamp};

use super::{CHAIN_SUFFIX_LEN, CHECKPOINT_PREFIX, EVENT_PREFIX, LineError, LogLine};
use crate::checkpoint::Checkpoint;
use crate::event::{
    AuditEvent, ByteSet, EventKind, Fallback, FallbackAction, Label, LabelRule, UserAction,
    label_bytes, valid_label,
};
use crate::merkle::Hash;
use crate::pseudonym::{MessageHash, Pseudonym};

/// Decodes the body of an event line (its canonical encoding minus the closing brace), as
/// returned by [`split_event_line`].
fn decode_event_body(body: &[u8]) -> Result<AuditEvent, LineError> {
    check_event_body(body)?.into_event()
}

/// Validates the body of an event line without allocating.
pub(crate) fn check_event_body(body: &[u8]) -> Result<RawEvent<'_>, LineError> {
    check_event_body_with(body, true)
}

/// The decoded body with the single-pass value checks ([`Cursor::fast`]) and without them: the
/// two must be equal, errors included (checked by the `audit_line_decode` fuzz target and the
/// tests).
pub(crate) fn decode_event_body_both_ways(
    body: &[u8],
) -> (Result<AuditEvent, LineError>, Result<AuditEvent, LineError>) {
    (
        check_event_body(body).and_then(RawEvent::into_event),
        check_event_body_with(body, false).and_then(RawEvent::into_event),
    )
}

/// `fast`: see [`Cursor::fast`].
fn check_event_body_with(body: &[u8], fast: bool) -> Result<RawEvent<'_>, LineError> {
    let mut c = Cursor {
        buf: body,
        pos: 0,
        fast,
    };
    let raw = parse_event_fields(&mut c)?;
    if c.pos != body.len() {
        return Err(LineError::Syntax { offset: c.pos });
    }
    Ok(raw)
}

/// Splits an event line into its canonical encoding minus the closing brace, and the recorded
/// chain hash. The canonical encoding is `body || "}"`.
pub(crate) fn split_event_line(line: &[u8]) -> Option<(&[u8], Hash)> {
    let cut = line.len().checked_sub(CHAIN_SUFFIX_LEN)?;
    let (body, suffix) = line.split_at(cut);
    let hex = suffix
        .strip_prefix(b",\"chain\":\"")?
        .strip_suffix(b"\"}")?;
    Some((body, parse_hex32(hex)?))
}

/// Decodes one line (without its newline).
///
/// # Errors
/// [`LineError`] unless the line is exactly the canonical encoding of an event (with its chain
/// member) or of a checkpoint.
pub fn decode_line(line: &[u8]) -> Result<LogLine, LineError> {
    if line.starts_with(EVENT_PREFIX) {
        let (body, chain) =
            split_event_line(line).ok_or(LineError::InvalidField { field: "chain" })?;
        let event = decode_event_body(body)?;
        Ok(LogLine::Event { event, chain })
    } else if line.starts_with(CHECKPOINT_PREFIX) {
        parse_checkpoint(line).map(LogLine::Checkpoint)
    } else {
        Err(LineError::UnknownType)
    }
}

/// Decodes a canonical event encoding (as [`encode_event`](super::encode_event) writes it, no
/// chain member).
///
/// # Errors
/// [`LineError`] unless `bytes` is exactly a canonical encoding.
pub fn decode_event(bytes: &[u8]) -> Result<AuditEvent, LineError> {
    if !bytes.starts_with(EVENT_PREFIX) {
        return Err(LineError::UnknownType);
    }
    let body = bytes.strip_suffix(b"}").ok_or(LineError::Syntax {
        offset: bytes.len(),
    })?;
    decode_event_body(body)
}

/// An event line's fields, validated but borrowed: the verifier needs only the sequence and
/// the assurance that the line is well formed, so it never allocates an [`AuditEvent`].
pub(crate) struct RawEvent<'a> {
    pub(crate) sequence: u64,
    time: u64,
    kind: RawKind<'a>,
    alert: Option<&'a [u8]>,
    /// Validated lowercase hex (64 digits) and key version; decoded only by `into_event`.
    recipient: Option<(&'a [u8], u32)>,
    actor: Option<&'a [u8]>,
    route: Option<&'a [u8]>,
    provider: Option<&'a [u8]>,
    link: Option<&'a [u8]>,
    outcome: Option<&'a [u8]>,
    reason: Option<&'a [u8]>,
    message_hash: Option<(&'a [u8], u32)>,
}

enum RawKind<'a> {
    Plain(EventKind),
    Fallback {
        e2ee: &'a [u8],
        fallback_reason: &'a [u8],
        action_taken: FallbackAction,
    },
}

/// The [`AlertId`] rules (rcsec-core): 1-128 bytes of `[A-Za-z0-9._:-]`; checked here without
/// allocating, and again by `AlertId::new` when an event is built.
fn valid_alert_id(raw: &[u8]) -> bool {
    !raw.is_empty()
        && raw.len() <= 128
        && raw
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

fn parse_event_fields<'a>(c: &mut Cursor<'a>) -> Result<RawEvent<'a>, LineError> {
    c.expect(EVENT_PREFIX)?;
    let sequence = c.number()?;
    c.expect(b",\"time\":")?;
    let time = c.number()?;
    c.expect(b",\"kind\":")?;
    let kind_name = c.string()?;
    // `None` stands for `fallback`, whose members come later in the order.
    let plain = match kind_name {
        b"message_sent" => Some(EventKind::MessageSent),
        b"delivered" => Some(EventKind::Delivered),
        b"read" => Some(EventKind::Read),
        b"action" => {
            c.expect(b",\"action\":")?;
            let a = UserAction::parse(c.string()?)
                .ok_or(LineError::InvalidField { field: "action" })?;
            Some(EventKind::Action(a))
        }
        b"link_issued" => Some(EventKind::LinkIssued),
        b"link_redeemed" => Some(EventKind::LinkRedeemed),
        b"link_rejected" => Some(EventKind::LinkRejected),
        b"fallback" => None,
        b"override" => Some(EventKind::Override),
        b"downgrade_detected" => Some(EventKind::DowngradeDetected),
        b"key_rotated" => Some(EventKind::KeyRotated),
        b"policy_blocked" => Some(EventKind::PolicyBlocked),
        b"ticket_updated" => Some(EventKind::TicketUpdated),
        b"failed" => Some(EventKind::Failed),
        b"expired" => Some(EventKind::Expired),
        b"held" => Some(EventKind::Held),
        b"link_revoked" => Some(EventKind::LinkRevoked),
        b"webhook_rejected" => Some(EventKind::WebhookRejected),
        _ => return Err(LineError::InvalidField { field: "kind" }),
    };
    let alert = c.checked_member(b"alert", &ALERT_BYTES, valid_alert_id, "alert")?;
    let recipient = c.keyed_hash(b"recipient", b",\"recipient_key\":", "recipient")?;
    let actor = c.label("actor", LabelRule::Name)?;
    let route = c.label("route", LabelRule::Code)?;
    let provider = c.label("provider", LabelRule::Code)?;
    let link = c.label("link", LabelRule::Id)?;
    let outcome = c.label("outcome", LabelRule::Code)?;
    let reason = c.label("reason", LabelRule::Code)?;
    let kind = match plain {
        Some(kind) => RawKind::Plain(kind),
        None => {
            let e2ee = c
                .label("e2ee", LabelRule::Code)?
                .ok_or(LineError::InvalidField { field: "e2ee" })?;
            let fallback_reason =
                c.label("fallback_reason", LabelRule::Code)?
                    .ok_or(LineError::InvalidField {
                        field: "fallback_reason",
                    })?;
            c.expect(b",\"action_taken\":")?;
            let action_taken =
                FallbackAction::parse(c.string()?).ok_or(LineError::InvalidField {
                    field: "action_taken",
                })?;
            RawKind::Fallback {
                e2ee,
                fallback_reason,
                action_taken,
            }
        }
    };
    let message_hash = c.keyed_hash(b"message_hash", b",\"message_key\":", "message_hash")?;
    // Required members per kind (as `AuditEvent::check_required`).
    let required_missing = match &kind {
        RawKind::Plain(
            EventKind::LinkRejected
            | EventKind::Failed
            | EventKind::Held
            | EventKind::WebhookRejected,
        ) => reason.is_none(),
        RawKind::Plain(EventKind::LinkRevoked) => link.is_none(),
        RawKind::Plain(EventKind::Override) => actor.is_none() || reason.is_none(),
        _ => false,
    };
    if required_missing {
        return Err(LineError::InvalidField { field: "kind" });
    }
    Ok(RawEvent {
        sequence,
        time,
        kind,
        alert,
        recipient,
        actor,
        route,
        provider,
        link,
        outcome,
        reason,
        message_hash,
    })
}

/// A validated label or id as text (every validated value is ASCII, so this only fails on a
/// parser bug, reported as an invalid field rather than a panic).
fn text(raw: &[u8], field: &'static str) -> Result<String, LineError> {
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| LineError::InvalidField { field })
}

fn keyed<T>(
    raw: Option<(&[u8], u32)>,
    field: &'static str,
    make: impl FnOnce(u32, [u8; 32]) -> T,
) -> Result<Option<T>, LineError> {
    raw.map(|(hex, version)| {
        parse_hex32(hex)
            .map(|h| make(version, *h.as_bytes()))
            .ok_or(LineError::InvalidField { field })
    })
    .transpose()
}

impl RawEvent<'_> {
    /// The owned event. Every value was validated by the parser.
    pub(crate) fn into_event(self) -> Result<AuditEvent, LineError> {
        let label = |v: Option<&[u8]>, field| v.map(|s| text(s, field).map(Label)).transpose();
        let kind = match self.kind {
            RawKind::Plain(kind) => kind,
            RawKind::Fallback {
                e2ee,
                fallback_reason,
                action_taken,
            } => EventKind::Fallback(Fallback {
                e2ee: Label(text(e2ee, "e2ee")?),
                fallback_reason: Label(text(fallback_reason, "fallback_reason")?),
                action_taken,
            }),
        };
        let alert = match self.alert {
            Some(a) => Some(
                AlertId::new(text(a, "alert")?)
                    .map_err(|_| LineError::InvalidField { field: "alert" })?,
            ),
            None => None,
        };
        Ok(AuditEvent {
            sequence: self.sequence,
            time: Timestamp::from_millis(self.time),
            kind,
            alert,
            recipient: keyed(self.recipient, "recipient", Pseudonym::from_parts)?,
            actor: label(self.actor, "actor")?,
            route: label(self.route, "route")?,
            provider: label(self.provider, "provider")?,
            link: label(self.link, "link")?,
            outcome: label(self.outcome, "outcome")?,
            reason: label(self.reason, "reason")?,
            message_hash: keyed(self.message_hash, "message_hash", MessageHash::from_parts)?,
        })
    }
}

fn parse_checkpoint(line: &[u8]) -> Result<Checkpoint, LineError> {
    let mut c = Cursor {
        buf: line,
        pos: 0,
        fast: false,
    };
    c.expect(CHECKPOINT_PREFIX)?;
    let log = c.string()?;
    let log_id = std::str::from_utf8(log)
        .ok()
        .and_then(|s| Label::checked(s, "log", LabelRule::Id).ok())
        .ok_or(LineError::InvalidField { field: "log" })?;
    c.expect(b",\"size\":")?;
    let size = c.number()?;
    c.expect(b",\"time\":")?;
    let time = Timestamp::from_millis(c.number()?);
    let root = c.hash_member(b",\"root\":", "root")?;
    let chain = c.hash_member(b",\"chain\":", "chain")?;
    let key = c.hash_member(b",\"key\":", "key")?;
    c.expect(b",\"sig\":")?;
    let sig_hex = c.string()?;
    let mut sig = [0u8; 64];
    if sig_hex.len() != 128 || !is_lower_hex(sig_hex) {
        return Err(LineError::InvalidField { field: "sig" });
    }
    hex::decode_to_slice(sig_hex, &mut sig)
        .map_err(|_| LineError::InvalidField { field: "sig" })?;
    c.expect(b"}")?;
    if c.pos != line.len() {
        return Err(LineError::Syntax { offset: c.pos });
    }
    Ok(Checkpoint::from_parts(
        log_id,
        size,
        time,
        root,
        chain,
        *key.as_bytes(),
        sig,
    ))
}

/// Exactly 64 lowercase hex digits: checked branch-free (it vectorises), without decoding.
fn is_hex64(raw: &[u8]) -> bool {
    raw.len() == 64
        && !raw.iter().fold(false, |bad, &b| {
            bad | !(b.is_ascii_digit() | (b'a'..=b'f').contains(&b))
        })
}

fn is_lower_hex(raw: &[u8]) -> bool {
    raw.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Lowercase hex digit values; 0x10 marks bytes that are not lowercase hex digits.
#[allow(
    clippy::cast_possible_truncation,
    reason = "the values cast are below 16"
)]
const HEX_VALUES: [u8; 256] = {
    let mut table = [0x10u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut j = 0;
    while j < 6 {
        table[b'a' as usize + j] = 10 + j as u8;
        j += 1;
    }
    table
};

/// 64 lowercase hex digits to a hash: one table lookup per digit and a single validity check
/// at the end (this runs three times per event during verification).
fn parse_hex32(raw: &[u8]) -> Option<Hash> {
    if raw.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut invalid = 0u8;
    for (byte, pair) in out.iter_mut().zip(raw.chunks_exact(2)) {
        let (hi, lo) = (
            HEX_VALUES[usize::from(pair[0])],
            HEX_VALUES[usize::from(pair[1])],
        );
        invalid |= hi | lo;
        *byte = (hi << 4) | (lo & 0x0f);
    }
    (invalid & 0x10 == 0).then_some(Hash::new(out))
}

/// The bytes of [`AlertId`]s (see [`valid_alert_id`]).
#[allow(clippy::cast_possible_truncation, reason = "the index is below 256")]
const ALERT_BYTES: ByteSet = {
    let mut set = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        set[i] = b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-');
        i += 1;
    }
    set
};

/// The length of a hash in hex.
const HEX64: usize = 64;

/// Lowercase hex digits.
const HEX_BYTES: ByteSet = {
    let mut set = [false; 256];
    let mut i = 0;
    while i < 256 {
        set[i] = HEX_VALUES[i] < 0x10;
        i += 1;
    }
    set
};

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Whether members whose values have a byte set of their own (labels, alert ids, hex) are
    /// read in one pass that finds the closing quote and checks the bytes together
    /// ([`Cursor::peek_value`]). A value that fails it is read again the careful way, which
    /// names the error, so the decision never depends on this.
    fast: bool,
}

impl<'a> Cursor<'a> {
    fn syntax(&self) -> LineError {
        LineError::Syntax { offset: self.pos }
    }

    fn expect(&mut self, lit: &[u8]) -> Result<(), LineError> {
        if self.buf[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    /// A decimal u64 without sign or leading zeros.
    fn number(&mut self) -> Result<u64, LineError> {
        let start = self.pos;
        let digits = self.buf[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let raw = &self.buf[start..start + digits];
        if digits == 0 || (digits > 1 && raw[0] == b'0') {
            return Err(self.syntax());
        }
        let mut value: u64 = 0;
        for &d in raw {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
                .ok_or(LineError::Syntax { offset: start })?;
        }
        self.pos += digits;
        Ok(value)
    }

    fn version(&mut self, field: &'static str) -> Result<u32, LineError> {
        u32::try_from(self.number()?).map_err(|_| LineError::InvalidField { field })
    }

    /// A string with no escapes: printable ASCII other than `"` and `\`.
    ///
    /// Finds the closing quote with a vectorised search and checks the bytes before it
    /// branch-free; only a failing line pays for locating the first bad byte.
    fn string(&mut self) -> Result<&'a [u8], LineError> {
        self.expect(b"\"")?;
        let start = self.pos;
        let rest = &self.buf[start..];
        let len = memchr::memchr(b'"', rest).unwrap_or(rest.len());
        let raw = &rest[..len];
        let bad = raw.iter().fold(false, |bad, &b| {
            bad | !(0x20..0x7f).contains(&b) | (b == b'\\')
        });
        if bad {
            let first = raw
                .iter()
                .position(|&b| !(0x20..0x7f).contains(&b) || b == b'\\')
                .unwrap_or(len);
            return Err(LineError::Syntax {
                offset: start + first,
            });
        }
        self.pos += len;
        self.expect(b"\"")?;
        Ok(raw)
    }

    /// `,"name":` if the next member is `name` (consumed).
    fn member_name(&mut self, name: &[u8]) -> bool {
        let rest = &self.buf[self.pos..];
        let matches = rest.len() > name.len() + 4
            && rest.starts_with(b",\"")
            && rest[2..].starts_with(name)
            && rest[2 + name.len()..].starts_with(b"\":");
        if matches {
            self.pos += name.len() + 4;
        }
        matches
    }

    /// `,"name":"value"` if the next member is `name`, where the value must pass `valid`,
    /// all of whose accepted values consist of bytes in `set` (a set without `"`, `\` or
    /// control bytes); a value that does not is an [`LineError::InvalidField`].
    fn checked_member(
        &mut self,
        name: &[u8],
        set: &ByteSet,
        valid: impl Fn(&[u8]) -> bool,
        field: &'static str,
    ) -> Result<Option<&'a [u8]>, LineError> {
        if !self.member_name(name) {
            return Ok(None);
        }
        if self.fast
            && let Some(raw) = self.peek_value(set, &valid)
        {
            self.pos += raw.len() + 2;
            return Ok(Some(raw));
        }
        let raw = self.string()?;
        if !valid(raw) {
            return Err(LineError::InvalidField { field });
        }
        Ok(Some(raw))
    }

    /// The quoted value at the cursor when every byte before its closing quote is in `set`
    /// and it passes `valid`, found and checked in one pass (the cursor does not move). `set`
    /// holds no `"`, so the quote found is the one [`Cursor::string`] would find, and no byte
    /// it refuses.
    ///
    /// A 64-byte value (a hash in hex) is checked where its quote must be, by `valid` alone
    /// (branch-free for hex): a byte-by-byte search costs more than the whole check.
    fn peek_value(&self, set: &ByteSet, valid: impl Fn(&[u8]) -> bool) -> Option<&'a [u8]> {
        let value = self.buf[self.pos..].strip_prefix(b"\"")?;
        if value.get(HEX64) == Some(&b'"') {
            // `valid` accepts only bytes of `set`, so it checks them too.
            let raw = &value[..HEX64];
            return valid(raw).then_some(raw);
        }
        let len = value.iter().position(|&b| !set[usize::from(b)])?;
        let raw = &value[..len];
        (value[len] == b'"' && valid(raw)).then_some(raw)
    }

    fn label(
        &mut self,
        field: &'static str,
        rule: LabelRule,
    ) -> Result<Option<&'a [u8]>, LineError> {
        self.checked_member(
            field.as_bytes(),
            label_bytes(rule),
            |raw| valid_label(raw, rule),
            field,
        )
    }

    /// `,"name":"HEX64",KEY_MEMBER:V` if the next member is `name`.
    fn keyed_hash(
        &mut self,
        name: &[u8],
        key_member: &[u8],
        field: &'static str,
    ) -> Result<Option<(&'a [u8], u32)>, LineError> {
        let Some(raw) = self.checked_member(name, &HEX_BYTES, is_hex64, field)? else {
            return Ok(None);
        };
        self.expect(key_member)?;
        let version = self.version(field)?;
        Ok(Some((raw, version)))
    }

    fn hash_member(&mut self, prefix: &[u8], field: &'static str) -> Result<Hash, LineError> {
        self.expect(prefix)?;
        let raw = self.string()?;
        parse_hex32(raw).ok_or(LineError::InvalidField { field })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_id_check_agrees_with_rcsec_core() {
        let long = "a".repeat(128);
        let too_long = "a".repeat(129);
        for sample in [
            "fp-1",
            "a.b:c_d-E9",
            "",
            "a b",
            "a/b",
            "é",
            "x@y",
            long.as_str(),
            too_long.as_str(),
        ] {
            assert_eq!(
                valid_alert_id(sample.as_bytes()),
                AlertId::new(sample).is_ok(),
                "{sample}"
            );
        }
    }

    #[test]
    fn value_byte_sets_hold_nothing_a_string_refuses() {
        let sets = [
            &ALERT_BYTES,
            &HEX_BYTES,
            label_bytes(LabelRule::Code),
            label_bytes(LabelRule::Name),
            label_bytes(LabelRule::Id),
        ];
        for set in sets {
            for b in 0..=u8::MAX {
                if set[usize::from(b)] {
                    assert!((0x20..0x7f).contains(&b) && b != b'"' && b != b'\\', "{b}");
                }
            }
        }
        for b in 0..=u8::MAX {
            assert_eq!(
                HEX_BYTES[usize::from(b)],
                b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
            );
            assert_eq!(ALERT_BYTES[usize::from(b)], valid_alert_id(&[b]));
        }
    }

    #[test]
    fn hex_parsing_is_lowercase_only_and_exact() {
        let bytes: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37)).collect();
        let text = hex::encode(&bytes);
        assert_eq!(
            parse_hex32(text.as_bytes()).unwrap().as_bytes().as_slice(),
            bytes
        );
        assert!(parse_hex32(text.to_uppercase().as_bytes()).is_none());
        assert!(parse_hex32(&text.as_bytes()[..62]).is_none());
        for bad in [b'g', b'G', b' ', b'"', 0, 0xff, b'/', b':', b'`'] {
            let mut t = text.clone().into_bytes();
            t[17] = bad;
            assert!(parse_hex32(&t).is_none(), "{bad}");
        }
    }

    /// Every byte of a few canonical lines replaced by bytes the string check refuses (and by
    /// some it accepts): the parse with one-pass value checks decides as the careful one.
    #[test]
    fn one_pass_value_checks_never_change_a_decision() {
        let chain = "ab".repeat(32);
        let hash = "0f".repeat(32);
        let lines = [
            format!(
                "{{\"type\":\"event\",\"seq\":7,\"time\":1700000000000,\"kind\":\"message_sent\",\"alert\":\"5d41402abc4b2a76\",\"recipient\":\"{hash}\",\"recipient_key\":1,\"route\":\"rcs_e2ee\",\"provider\":\"rbm\",\"outcome\":\"sent\",\"message_hash\":\"{hash}\",\"message_key\":1,\"chain\":\"{chain}\"}}"
            ),
            format!(
                "{{\"type\":\"event\",\"seq\":0,\"time\":1,\"kind\":\"override\",\"actor\":\"oncall@example.org\",\"reason\":\"manual\",\"chain\":\"{chain}\"}}"
            ),
            format!(
                "{{\"type\":\"event\",\"seq\":3,\"time\":9,\"kind\":\"fallback\",\"e2ee\":\"absent\",\"fallback_reason\":\"no_e2ee\",\"action_taken\":\"sms_link\",\"chain\":\"{chain}\"}}"
            ),
        ];
        for line in &lines {
            let (body, _) = split_event_line(line.as_bytes()).unwrap();
            let (fast, careful) = decode_event_body_both_ways(body);
            assert_eq!(fast, careful);
            for at in 0..body.len() {
                for replacement in [b'\\', 0x01, 0x7f, 0x80, 0xff, b'"', b' ', b'A', b'9'] {
                    let mut mutated = body.to_vec();
                    mutated[at] = replacement;
                    let (fast, careful) = decode_event_body_both_ways(&mutated);
                    assert_eq!(fast, careful, "byte {at} -> {replacement}");
                }
            }
        }
    }

    #[test]
    fn split_needs_the_exact_chain_suffix() {
        let chain = "ab".repeat(32);
        let line = format!(
            "{{\"type\":\"event\",\"seq\":0,\"time\":1,\"kind\":\"read\",\"chain\":\"{chain}\"}}"
        );
        let (body, hash) = split_event_line(line.as_bytes()).unwrap();
        assert!(body.ends_with(b"\"read\""));
        assert_eq!(hash.to_hex(), chain);
        assert!(split_event_line(line.to_uppercase().as_bytes()).is_none());
        assert!(split_event_line(&line.as_bytes()[1..line.len() - 1]).is_none());
    }
}
