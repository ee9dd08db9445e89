//! OCSF and syslog exports carry the documented classes and framing.

use rcsec_audit::export::ocsf::{class_of, to_ocsf};
use rcsec_audit::export::syslog::{SyslogOptions, to_syslog};
use rcsec_audit::{EventKind, Fallback, FallbackAction, Label};
use rcsec_core::{AlertId, Msisdn, Timestamp};

use crate::pseudonymizer;

#[test]
fn ocsf_classes_and_type_uids() {
    let cases = [
        (EventKind::LinkIssued, 6001, 1),
        (EventKind::LinkRedeemed, 6004, 1),
        (EventKind::LinkRejected, 6004, 2),
        (EventKind::MessageSent, 6003, 1),
        (EventKind::Override, 6003, 99),
        (EventKind::LinkRevoked, 6001, 4),
        (EventKind::Failed, 6003, 1),
        (EventKind::Expired, 6003, 3),
        (EventKind::Held, 6003, 99),
        (EventKind::WebhookRejected, 6004, 2),
    ];
    for (kind, class, activity) in cases {
        let c = class_of(&kind);
        assert_eq!(
            (c.class_uid, c.activity_id),
            (class, activity),
            "{}",
            kind.name()
        );
        assert_eq!(c.type_uid(), class * 100 + activity);
    }
}

#[test]
fn ocsf_objects_have_the_base_attributes() {
    let p = pseudonymizer();
    let kind = EventKind::Fallback(Fallback {
        e2ee: Label::new("none").unwrap(),
        fallback_reason: Label::new("no_rcs").unwrap(),
        action_taken: FallbackAction::SecureLinkCreated,
    });
    let pending = p
        .event(kind, Timestamp::from_millis(1_700_000_000_123))
        .alert(AlertId::new("fp-9").unwrap())
        .recipient(&Msisdn::parse("+447700900123").unwrap())
        .provider("kannel")
        .build()
        .unwrap();
    let o = to_ocsf(pending.event());
    assert_eq!(o["category_uid"], 6);
    assert_eq!(o["class_uid"], 6003);
    assert_eq!(o["activity_id"], 99);
    assert_eq!(o["type_uid"], 600_399);
    assert_eq!(o["time"], 1_700_000_000_123_u64);
    assert_eq!(o["severity_id"], 2);
    assert_eq!(o["metadata"]["version"], "1.8.0");
    assert_eq!(o["metadata"]["product"]["name"], "rcsec");
    assert_eq!(o["metadata"]["correlation_uid"], "fp-9");
    assert_eq!(o["api"]["operation"], "fallback");
    assert_eq!(o["api"]["service"]["name"], "kannel");
    assert_eq!(o["unmapped"]["fallback_reason"], "no_rcs");
    assert_eq!(o["unmapped"]["recipient_key_version"], 1);
    assert_eq!(o["actor"]["app_name"], "rcsec");
}

#[test]
fn failed_sends_report_failure_status_and_revoked_links_their_resource() {
    let p = pseudonymizer();
    let t = Timestamp::from_millis(1_700_000_000_000);
    let failed = p
        .event(EventKind::Failed, t)
        .provider("rbm")
        .outcome("retries_exhausted")
        .reason("provider_unavailable")
        .build()
        .unwrap();
    let o = to_ocsf(failed.event());
    assert_eq!(o["type_uid"], 600_301);
    assert_eq!(o["status_id"], 2);
    assert_eq!(o["status_detail"], "retries_exhausted");
    assert_eq!(o["severity_id"], 3);
    assert_eq!(o["unmapped"]["reason"], "provider_unavailable");
    let bare = p
        .event(EventKind::Failed, t)
        .reason("no_route")
        .build()
        .unwrap();
    assert_eq!(to_ocsf(bare.event())["status_id"], 2);

    let revoked = p
        .event(EventKind::LinkRevoked, t)
        .link("Lk_9aZ")
        .reason("alert_resolved")
        .build()
        .unwrap();
    let o = to_ocsf(revoked.event());
    assert_eq!(o["type_uid"], 600_104);
    assert_eq!(o["web_resources"][0]["uid"], "Lk_9aZ");
    assert_eq!(o["severity_id"], 2);

    let held = p
        .event(EventKind::Held, t)
        .reason("quiet_hours")
        .build()
        .unwrap();
    let o = to_ocsf(held.event());
    assert_eq!(
        (o["class_uid"].clone(), o["activity_id"].clone()),
        (6003.into(), 99.into())
    );
    assert_eq!(o["api"]["operation"], "held");
    let line = to_syslog(held.event(), &SyslogOptions::default());
    // Facility 13 * 8 + severity 5 (notice) = 109.
    assert!(line.starts_with("<109>1 "), "{line}");
    assert!(line.contains("reason=\"quiet_hours\""), "{line}");
}

#[test]
fn syslog_lines_follow_rfc5424() {
    let p = pseudonymizer();
    let pending = p
        .event(
            EventKind::LinkRejected,
            Timestamp::from_millis(1_700_000_000_123),
        )
        .alert(AlertId::new("fp-9").unwrap())
        .link("tok-1")
        .reason("expired")
        .build()
        .unwrap();
    let options = SyslogOptions {
        hostname: "alert host".into(),
        proc_id: "4242".into(),
        ..SyslogOptions::default()
    };
    let line = to_syslog(pending.event(), &options);
    // Facility 13 (log audit) * 8 + severity 4 (warning) = 108.
    assert_eq!(
        line,
        "<108>1 2023-11-14T22:13:20.123Z alerthost rcsec 4242 link_rejected \
         [rcsec@32473 seq=\"0\" alert=\"fp-9\" link=\"tok-1\" reason=\"expired\"] link_rejected"
    );
}
