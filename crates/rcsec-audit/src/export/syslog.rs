//! RFC 5424 syslog framing:
//! `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [rcsec@32473 ...] MSG`.
//!
//! Facility 13 (log audit); severity from the event (6 informational, 5 notice, 4 warning).
//! Structured data uses SD-ID `rcsec@32473`: 32473 is the private enterprise number that
//! RFC 5612 reserves for documentation, so deployments that forward to shared collectors
//! should substitute their own ([`SyslogOptions::sd_id`]). PARAM-VALUEs are escaped per
//! RFC 5424 §6.3.3 (`"`, `\` and `]` get a backslash).

use crate::event::{AuditEvent, EventKind};

/// Facility "log audit" (RFC 5424 table 1).
const FACILITY_LOG_AUDIT: u8 = 13;

/// Header fields of the syslog lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogOptions {
    /// HOSTNAME (`-` when unknown).
    pub hostname: String,
    /// APP-NAME.
    pub app_name: String,
    /// PROCID (`-` when unknown).
    pub proc_id: String,
    /// SD-ID of the structured-data element.
    pub sd_id: String,
}

impl Default for SyslogOptions {
    fn default() -> Self {
        Self {
            hostname: "-".into(),
            app_name: "rcsec".into(),
            proc_id: "-".into(),
            sd_id: "rcsec@32473".into(),
        }
    }
}

/// A header field: printable US-ASCII without spaces, at most `max` bytes, or `-`.
fn header_field(raw: &str, max: usize) -> String {
    let clean: String = raw
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if clean.is_empty() { "-".into() } else { clean }
}

/// An SD-NAME (SD-ID or PARAM-NAME): printable ASCII except `=`, space, `]` and `"`, at most
/// 32 bytes.
fn sd_name(raw: &str) -> String {
    let clean: String = raw
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '=' | ']' | '"'))
        .take(32)
        .collect();
    if clean.is_empty() { "x".into() } else { clean }
}

/// Escapes a PARAM-VALUE (RFC 5424 §6.3.3).
pub fn escape_param_value(value: &str, out: &mut String) {
    for c in value.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
}

fn severity(event: &AuditEvent) -> u8 {
    match event.kind {
        EventKind::DowngradeDetected
        | EventKind::PolicyBlocked
        | EventKind::LinkRejected
        | EventKind::Failed
        | EventKind::WebhookRejected => 4,
        EventKind::Fallback(_)
        | EventKind::Override
        | EventKind::KeyRotated
        | EventKind::Held
        | EventKind::Expired
        | EventKind::LinkRevoked => 5,
        _ => 6,
    }
}

/// One RFC 5424 message (no trailing newline).
pub fn to_syslog(event: &AuditEvent, options: &SyslogOptions) -> String {
    let pri = FACILITY_LOG_AUDIT * 8 + severity(event);
    let mut params: Vec<(&str, String)> = vec![("seq", event.sequence.to_string())];
    if let Some(alert) = &event.alert {
        params.push(("alert", alert.as_str().into()));
    }
    if let Some(p) = &event.recipient {
        params.push(("recipient", hex::encode(p.value())));
        params.push(("recipient_key", p.version().to_string()));
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
            params.push((name, v.as_str().into()));
        }
    }
    match &event.kind {
        EventKind::Action(a) => params.push(("action", a.as_str().into())),
        EventKind::Fallback(f) => {
            params.push(("e2ee", f.e2ee.as_str().into()));
            params.push(("fallback_reason", f.fallback_reason.as_str().into()));
            params.push(("action_taken", f.action_taken.as_str().into()));
        }
        _ => {}
    }
    if let Some(h) = &event.message_hash {
        params.push(("message_hash", hex::encode(h.value())));
        params.push(("message_key", h.version().to_string()));
    }
    let mut sd = format!("[{}", sd_name(&options.sd_id));
    for (name, value) in params {
        sd.push(' ');
        sd.push_str(&sd_name(name));
        sd.push_str("=\"");
        escape_param_value(&value, &mut sd);
        sd.push('"');
    }
    sd.push(']');
    let kind = event.kind.name();
    format!(
        "<{pri}>1 {} {} {} {} {} {sd} {kind}",
        super::rfc3339_millis(event.time.as_millis()),
        header_field(&options.hostname, 255),
        header_field(&options.app_name, 48),
        header_field(&options.proc_id, 128),
        header_field(kind, 32),
    )
}

/// Appends one syslog line per event to `out`.
pub fn write_syslog<'a>(
    events: impl IntoIterator<Item = &'a AuditEvent>,
    options: &SyslogOptions,
    out: &mut Vec<u8>,
) {
    for event in events {
        out.extend_from_slice(to_syslog(event, options).as_bytes());
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_values_escape_quote_backslash_and_bracket() {
        let mut out = String::new();
        escape_param_value(r#"a"b\c]d"#, &mut out);
        assert_eq!(out, r#"a\"b\\c\]d"#);
    }

    #[test]
    fn header_fields_are_nil_or_printable() {
        assert_eq!(header_field("", 10), "-");
        assert_eq!(header_field("host name", 255), "hostname");
        assert_eq!(header_field("abcdef", 3), "abc");
        assert_eq!(sd_name("a=b]c\"d e"), "abcde");
    }
}
