//! What is actually sent: the canary secret reaches only end-to-end encrypted routes.

use rcsec_core::Severity;
use rcsec_policy::{ChannelFacts, DEFAULT_SMS_TEMPLATE, DecisionInput, E2eeState, Policy, Route};

const CANARY: &str = "CanaryPa55-9f8e7d6c";
const LINK: &str = "https://l.example/t/AbC123";

fn alert() -> String {
    format!(
        "checkout-db unreachable from pod checkout-7c9d8f6b5-x2k4q; \
         DATABASE_URL=postgres://app:{CANARY}@db-7:5432/app; card 4111 1111 1111 1111; \
         owner ops@example.com"
    )
}

fn all_facts() -> Vec<ChannelFacts> {
    let mut out = Vec::new();
    for rcs_reachable in [false, true] {
        for e2ee in [
            E2eeState::Verified,
            E2eeState::Unsupported,
            E2eeState::DeviceMismatch,
            E2eeState::Unknown,
        ] {
            for downgrade_detected in [false, true] {
                for device_enrolled in [false, true] {
                    for provider_outage in [false, true] {
                        out.push(ChannelFacts {
                            rcs_reachable,
                            e2ee,
                            downgrade_detected,
                            device_enrolled,
                            provider_outage,
                        });
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_canary_never_leaves_on_an_unencrypted_route() {
    let policy = Policy::default();
    let text = alert();
    let c = crate::classifier().classify(&text);
    assert_eq!(c.findings.len(), 3);
    let mut seen = std::collections::BTreeSet::new();
    for facts in all_facts() {
        for severity in Severity::ALL {
            let d = policy.decide(&DecisionInput::new(severity, &c, &facts));
            seen.insert(d.route);
            let sent = d.render(&policy, &text, &c, LINK);
            match d.route {
                Route::RcsE2ee | Route::EncryptedPush => {
                    assert_eq!(sent.as_deref(), Some(text.as_str()));
                }
                Route::RcsPlain => {
                    let sent = sent.unwrap();
                    assert!(
                        !sent.contains(CANARY) && !sent.contains("4111 1111"),
                        "{sent}"
                    );
                    assert!(sent.contains("[redacted url_credentials]"));
                    assert!(sent.contains("[redacted payment_card ****1111]"));
                    assert!(sent.contains("[redacted email]"));
                    assert!(sent.ends_with(&format!("Details: {LINK}")));
                }
                Route::SmsLink => {
                    let expected = DEFAULT_SMS_TEMPLATE
                        .replace("{severity}", &severity.to_string())
                        .replace("{link}", LINK);
                    assert_eq!(sent.as_deref(), Some(expected.as_str()));
                }
                Route::Blocked => assert_eq!(sent, None),
            }
        }
    }
    assert_eq!(seen.len(), 5, "every route was exercised: {seen:?}");
}

#[test]
fn redaction_keeps_the_context_people_need() {
    let text = alert();
    let c = crate::classifier().classify(&text);
    let redacted = rcsec_policy::redact(&text, &c);
    assert!(redacted.starts_with("checkout-db unreachable from pod checkout-7c9d8f6b5-x2k4q;"));
    assert!(redacted.contains("DATABASE_URL=postgres://[redacted url_credentials]@db-7:5432/app"));
}

#[test]
fn the_sms_carries_no_alert_text() {
    let policy = Policy::default();
    let text = alert();
    let c = crate::classifier().classify(&text);
    let facts = ChannelFacts::default();
    let d = policy.decide(&DecisionInput::new(Severity::P2, &c, &facts));
    // P2 needs consent: blocked. P1 over SMS: template only.
    assert_eq!(d.route, Route::Blocked);
    let d = policy.decide(&DecisionInput::new(Severity::P1, &c, &facts));
    assert_eq!(d.route, Route::SmsLink);
    let sms = d.render(&policy, &text, &c, LINK).unwrap();
    assert_eq!(sms, format!("P1 alert: {LINK}"));
    for word in ["checkout", "db-7", "example.com"] {
        assert!(!sms.contains(word));
    }
}
