//! OCSF 1.8 JSON: one object per event, in the Application Activity category (6).
//!
//! | rcsec kind | OCSF class | activity |
//! |---|---|---|
//! | `link_issued` | Web Resources Activity (6001) | Create (1) |
//! | `link_redeemed` | Web Resource Access Activity (6004) | Access Grant (1) |
//! | `link_rejected`, `webhook_rejected` | Web Resource Access Activity (6004) | Access Deny (2) |
//! | `link_revoked` | Web Resources Activity (6001) | Delete (4) |
//! | `message_sent` | API Activity (6003) | Create (1) |
//! | `failed` | API Activity (6003) | Create (1), `status_id` Failure (2) |
//! | `read` | API Activity (6003) | Read (2) |
//! | `delivered`, `action`, `key_rotated`, `ticket_updated`, `expired` | API Activity (6003) | Update (3) |
//! | `fallback`, `override`, `downgrade_detected`, `policy_blocked`, `held` | API Activity (6003) | Other (99) |
//!
//! A `failed` event always reports `status_id` 2 (Failure), whatever its `outcome` says; for
//! other kinds the `outcome` code decides. `type_uid = class_uid * 100 + activity_id`; `time` is epoch milliseconds; the alert id is
//! `metadata.correlation_uid`; rcsec fields without an OCSF home go under `unmapped`.

use serde_json::{Map, Value, json};

use crate::event::{AuditEvent, EventKind, FallbackAction};

/// OCSF schema version written in `metadata.version`.
pub const OCSF_VERSION: &str = "1.8.0";
const CATEGORY_APPLICATION: u32 = 6;

/// The OCSF class and activity an event maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OcsfClass {
    /// `class_uid`.
    pub class_uid: u32,
    /// `class_name`.
    pub class_name: &'static str,
    /// `activity_id`.
    pub activity_id: u32,
    /// `activity_name`.
    pub activity_name: &'static str,
}

impl OcsfClass {
    /// `type_uid = class_uid * 100 + activity_id`.
    pub fn type_uid(&self) -> u32 {
        self.class_uid * 100 + self.activity_id
    }
}

/// The mapping table in the module docs.
pub fn class_of(kind: &EventKind) -> OcsfClass {
    const WEB_RESOURCES: (u32, &str) = (6001, "Web Resources Activity");
    const API: (u32, &str) = (6003, "API Activity");
    const ACCESS: (u32, &str) = (6004, "Web Resource Access Activity");
    let ((class_uid, class_name), activity_id, activity_name) = match kind {
        EventKind::LinkIssued => (WEB_RESOURCES, 1, "Create"),
        EventKind::LinkRedeemed => (ACCESS, 1, "Access Grant"),
        EventKind::LinkRejected | EventKind::WebhookRejected => (ACCESS, 2, "Access Deny"),
        EventKind::LinkRevoked => (WEB_RESOURCES, 4, "Delete"),
        EventKind::MessageSent | EventKind::Failed => (API, 1, "Create"),
        EventKind::Read => (API, 2, "Read"),
        EventKind::Delivered
        | EventKind::Action(_)
        | EventKind::KeyRotated
        | EventKind::TicketUpdated
        | EventKind::Expired => (API, 3, "Update"),
        EventKind::Fallback(_)
        | EventKind::Override
        | EventKind::DowngradeDetected
        | EventKind::PolicyBlocked
        | EventKind::Held => (API, 99, "Other"),
    };
    OcsfClass {
        class_uid,
        class_name,
        activity_id,
        activity_name,
    }
}

/// OCSF `severity_id` (1 Informational, 2 Low, 3 Medium, 4 High) and its caption.
fn severity(event: &AuditEvent) -> (u32, &'static str) {
    match &event.kind {
        EventKind::DowngradeDetected => (4, "High"),
        EventKind::Override
        | EventKind::PolicyBlocked
        | EventKind::Failed
        | EventKind::WebhookRejected => (3, "Medium"),
        EventKind::Fallback(f) if f.action_taken != FallbackAction::SecureLinkCreated => {
            (3, "Medium")
        }
        EventKind::Fallback(_)
        | EventKind::LinkRejected
        | EventKind::Expired
        | EventKind::Held
        | EventKind::LinkRevoked => (2, "Low"),
        _ => (1, "Informational"),
    }
}

/// The OCSF object for one event.
pub fn to_ocsf(event: &AuditEvent) -> Value {
    let class = class_of(&event.kind);
    let (severity_id, severity_name) = severity(event);
    let kind = event.kind.name();
    let mut o = Map::new();
    o.insert("category_uid".into(), json!(CATEGORY_APPLICATION));
    o.insert("category_name".into(), json!("Application Activity"));
    o.insert("class_uid".into(), json!(class.class_uid));
    o.insert("class_name".into(), json!(class.class_name));
    o.insert("activity_id".into(), json!(class.activity_id));
    o.insert("activity_name".into(), json!(class.activity_name));
    o.insert("type_uid".into(), json!(class.type_uid()));
    o.insert("time".into(), json!(event.time.as_millis()));
    o.insert("severity_id".into(), json!(severity_id));
    o.insert("severity".into(), json!(severity_name));
    o.insert("message".into(), json!(kind));
    let mut metadata = json!({
        "version": OCSF_VERSION,
        "product": {"name": "rcsec", "vendor_name": "rcsec", "version": env!("CARGO_PKG_VERSION")},
        "uid": event.sequence.to_string(),
        "sequence": event.sequence,
        "event_code": kind,
    });
    if let Some(alert) = &event.alert {
        metadata["correlation_uid"] = json!(alert.as_str());
    }
    o.insert("metadata".into(), metadata);
    if let Some(outcome) = &event.outcome {
        let status_id = match outcome.as_str() {
            _ if event.kind == EventKind::Failed => 2,
            "ok" | "success" | "sent" | "delivered" | "accepted" => 1,
            "failed" | "failure" | "error" | "rejected" | "blocked" => 2,
            _ => 99,
        };
        o.insert("status_id".into(), json!(status_id));
        o.insert("status_detail".into(), json!(outcome.as_str()));
    } else if event.kind == EventKind::Failed {
        o.insert("status_id".into(), json!(2));
    }
    if let Some(actor) = &event.actor {
        o.insert("actor".into(), json!({"user": {"uid": actor.as_str()}}));
    } else {
        o.insert("actor".into(), json!({"app_name": "rcsec"}));
    }
    match class.class_uid {
        6003 => {
            let service = event.provider.as_ref().map_or("rcsec", |p| p.as_str());
            o.insert(
                "api".into(),
                json!({"operation": kind, "service": {"name": service}}),
            );
            o.insert("src_endpoint".into(), json!({"name": "rcsec"}));
        }
        _ => {
            let mut resource = json!({"type": "secure_link"});
            if let Some(link) = &event.link {
                resource["uid"] = json!(link.as_str());
            }
            o.insert("web_resources".into(), json!([resource]));
        }
    }
    o.insert("unmapped".into(), Value::Object(unmapped(event)));
    Value::Object(o)
}

fn unmapped(event: &AuditEvent) -> Map<String, Value> {
    let mut u = Map::new();
    if let Some(p) = &event.recipient {
        u.insert("recipient_pseudonym".into(), json!(hex::encode(p.value())));
        u.insert("recipient_key_version".into(), json!(p.version()));
    }
    if let Some(h) = &event.message_hash {
        u.insert("message_hash".into(), json!(hex::encode(h.value())));
        u.insert("message_key_version".into(), json!(h.version()));
    }
    let labels = [
        ("route", &event.route),
        ("provider", &event.provider),
        ("link_id", &event.link),
        ("reason", &event.reason),
    ];
    for (name, value) in labels {
        if let Some(v) = value {
            u.insert(name.into(), json!(v.as_str()));
        }
    }
    match &event.kind {
        EventKind::Action(a) => {
            u.insert("action".into(), json!(a.as_str()));
        }
        EventKind::Fallback(f) => {
            u.insert("e2ee".into(), json!(f.e2ee.as_str()));
            u.insert("fallback_reason".into(), json!(f.fallback_reason.as_str()));
            u.insert("action_taken".into(), json!(f.action_taken.as_str()));
        }
        _ => {}
    }
    u
}

/// Appends one OCSF JSON line per event to `out`.
pub fn write_ocsf<'a>(events: impl IntoIterator<Item = &'a AuditEvent>, out: &mut Vec<u8>) {
    for event in events {
        out.extend_from_slice(to_ocsf(event).to_string().as_bytes());
        out.push(b'\n');
    }
}
