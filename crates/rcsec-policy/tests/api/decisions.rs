//! Every default rule and structural guarantee of the decision engine.

use rcsec_core::{Severity, Timestamp};
use rcsec_policy::consent::ConsentLedger;
use rcsec_policy::{
    Action, ChannelFacts, Classification, Decision, DecisionInput, E2eeState, FallbackReason as R,
    Indicator, Policy, Region, Route, Treatment,
};

const SECRET_TEXT: &str = "db-7 down; DATABASE_URL=postgres://app:Pa55-w0rd!x@db-7:5432/app";
const PLAIN_TEXT: &str = "db-7 down; p99 latency 2300ms on checkout";

fn classify(text: &str) -> Classification {
    crate::classifier().classify(text)
}

fn no_e2ee() -> ChannelFacts {
    ChannelFacts {
        rcs_reachable: true,
        e2ee: E2eeState::Unsupported,
        ..ChannelFacts::default()
    }
}

fn decide(policy: &Policy, severity: Severity, text: &str, facts: &ChannelFacts) -> Decision {
    let c = classify(text);
    policy.decide(&DecisionInput::new(severity, &c, facts))
}

fn assert_one_sentence(d: &Decision) {
    let e = &d.explanation;
    assert!(e.ends_with('.') && !e.contains('\n'), "{e}");
    assert_eq!(e.matches(". ").count(), 0, "{e}");
    assert!(e.starts_with("Sent") || e.starts_with("Not sent"), "{e}");
}

#[test]
fn verified_rcs_e2ee_carries_everything() {
    let d = decide(
        &Policy::default(),
        Severity::P0,
        SECRET_TEXT,
        &ChannelFacts::rcs_e2ee(),
    );
    assert_eq!(d.route, Route::RcsE2ee);
    assert_eq!(d.treatment, Treatment::Full);
    assert_eq!(d.actions, []);
    assert_eq!(d.fallback_reason, None);
    assert_eq!(d.indicator, Indicator::Green);
    assert_one_sentence(&d);
}

#[test]
fn encrypted_push_is_the_second_tier() {
    let facts = ChannelFacts {
        device_enrolled: true,
        ..no_e2ee()
    };
    let d = decide(&Policy::default(), Severity::P0, SECRET_TEXT, &facts);
    assert_eq!(d.route, Route::EncryptedPush);
    assert_eq!(d.treatment, Treatment::Full);
    assert_eq!(d.fallback_reason, Some(R::CarrierNoE2ee));
    assert_eq!(d.indicator, Indicator::Green);
    assert!(
        d.explanation
            .contains("carrier does not offer end-to-end encryption")
    );
}

#[test]
fn rcs_plain_is_redacted_with_sensitive_parts_behind_a_link() {
    let d = decide(&Policy::default(), Severity::P1, SECRET_TEXT, &no_e2ee());
    assert_eq!(d.route, Route::RcsPlain);
    assert_eq!(d.treatment, Treatment::Redacted);
    assert_eq!(d.actions, [Action::Redact, Action::SecureLink]);
    assert_eq!(d.fallback_reason, Some(R::CarrierNoE2ee));
    assert_eq!(d.indicator, Indicator::Amber);
    assert_one_sentence(&d);
    // Nothing sensitive: the same route needs no link.
    let d = decide(&Policy::default(), Severity::P1, PLAIN_TEXT, &no_e2ee());
    assert_eq!((d.route, d.actions), (Route::RcsPlain, vec![]));
}

#[test]
fn p0_goes_only_end_to_end_or_as_a_link() {
    // Rule `p0-e2ee-only`: RCS works but is unencrypted, so P0 falls to SMS with the link.
    for text in [SECRET_TEXT, PLAIN_TEXT] {
        let d = decide(&Policy::default(), Severity::P0, text, &no_e2ee());
        assert_eq!(d.route, Route::SmsLink, "{text}");
        assert_eq!(d.treatment, Treatment::LinkOnly);
        assert_eq!(d.actions, [Action::SecureLink]);
        assert_eq!(d.rule.as_deref(), Some("p0-e2ee-only"));
        assert_eq!(d.fallback_reason, Some(R::CarrierNoE2ee));
        assert_eq!(d.indicator, Indicator::Amber);
    }
    // P1 is not affected by that rule.
    assert_eq!(
        decide(&Policy::default(), Severity::P1, PLAIN_TEXT, &no_e2ee()).rule,
        None
    );
}

#[test]
fn fallback_reasons_follow_the_facts() {
    let policy = Policy::default();
    let cases = [
        (ChannelFacts::default(), Route::SmsLink, R::NoRcs),
        (
            ChannelFacts {
                provider_outage: true,
                ..ChannelFacts::rcs_e2ee()
            },
            Route::SmsLink,
            R::ProviderOutage,
        ),
        (
            ChannelFacts {
                e2ee: E2eeState::DeviceMismatch,
                ..ChannelFacts::rcs_e2ee()
            },
            Route::RcsPlain,
            R::DeviceMismatch,
        ),
        (
            ChannelFacts {
                e2ee: E2eeState::Unknown,
                ..ChannelFacts::rcs_e2ee()
            },
            Route::RcsPlain,
            R::CarrierNoE2ee,
        ),
    ];
    for (facts, route, reason) in cases {
        let d = decide(&policy, Severity::P1, SECRET_TEXT, &facts);
        assert_eq!(
            (d.route, d.fallback_reason),
            (route, Some(reason)),
            "{facts:?}"
        );
        assert_one_sentence(&d);
    }
}

#[test]
fn a_detected_downgrade_is_hostile() {
    let facts = ChannelFacts {
        downgrade_detected: true,
        ..ChannelFacts::rcs_e2ee()
    };
    // No plaintext route, not even SMS: blocked, red.
    for severity in [Severity::P0, Severity::P1] {
        let d = decide(&Policy::default(), severity, PLAIN_TEXT, &facts);
        assert_eq!(d.route, Route::Blocked);
        assert_eq!(d.actions, [Action::Block]);
        assert_eq!(d.fallback_reason, Some(R::DowngradeDetected));
        assert_eq!(d.indicator, Indicator::Red);
        assert_one_sentence(&d);
    }
    // Encrypted push does not depend on the number and is used, still flagged red.
    let facts = ChannelFacts {
        device_enrolled: true,
        ..facts
    };
    let d = decide(&Policy::default(), Severity::P0, SECRET_TEXT, &facts);
    assert_eq!(d.route, Route::EncryptedPush);
    assert_eq!(d.fallback_reason, Some(R::DowngradeDetected));
    assert_eq!(d.indicator, Indicator::Red);
}

#[test]
fn non_essential_messages_need_consent() {
    let policy =
        Policy::from_toml("version = 1\n[consent]\nterms_version = \"2025-01\"\n").unwrap();
    let c = classify(PLAIN_TEXT);
    let facts = ChannelFacts::rcs_e2ee();
    let mut ledger = ConsentLedger::new();
    let decide = |severity, ledger: &ConsentLedger| {
        policy.decide(&DecisionInput {
            category: "maintenance",
            consent: Some(ledger),
            ..DecisionInput::new(severity, &c, &facts)
        })
    };
    // P0/P1 are essential; P2/P3 without opt-in are blocked.
    assert_eq!(decide(Severity::P1, &ledger).route, Route::RcsE2ee);
    let d = decide(Severity::P3, &ledger);
    assert_eq!(
        (d.route, d.fallback_reason),
        (Route::Blocked, Some(R::PolicyBlocked))
    );
    assert!(d.explanation.contains("opted in"));
    // An opt-in under old terms does not count; under current terms it does.
    ledger.grant("maintenance", Timestamp::from_secs(1), "2024-06");
    assert_eq!(decide(Severity::P2, &ledger).route, Route::Blocked);
    ledger.grant("maintenance", Timestamp::from_secs(2), "2025-01");
    assert_eq!(decide(Severity::P2, &ledger).route, Route::RcsE2ee);
    ledger.withdraw("maintenance", Timestamp::from_secs(3));
    assert_eq!(decide(Severity::P2, &ledger).route, Route::Blocked);
}

#[test]
fn residency_allow_lists_apply_to_recipients_and_artifacts() {
    let policy = Policy::from_toml(
        "version = 1\n[residency]\nrecipient_regions = [\"DE\", \"FR\"]\nartifact_regions = [\"eu\"]\n",
    )
    .unwrap();
    let c = classify(SECRET_TEXT);
    let de = Region::new("de");
    let us = Region::new("US");
    let eu = Region::new("EU");
    let e2ee = ChannelFacts::rcs_e2ee();
    let plain = no_e2ee();
    let input = |facts, region, artifacts| DecisionInput {
        region,
        artifact_region: artifacts,
        ..DecisionInput::new(Severity::P1, &c, facts)
    };
    // Recipient outside the list, or unknown: blocked.
    for region in [Some(&us), None] {
        let d = policy.decide(&input(&e2ee, region, Some(&eu)));
        assert_eq!(
            (d.route, d.fallback_reason),
            (Route::Blocked, Some(R::PolicyBlocked))
        );
    }
    // Inside: E2EE needs no artifact; RCS plain with findings needs a link, so it needs an
    // allowed artifact region.
    assert_eq!(
        policy.decide(&input(&e2ee, Some(&de), None)).route,
        Route::RcsE2ee
    );
    assert_eq!(
        policy.decide(&input(&plain, Some(&de), Some(&eu))).route,
        Route::RcsPlain
    );
    let d = policy.decide(&input(&plain, Some(&de), Some(&us)));
    assert_eq!(
        (d.route, d.fallback_reason),
        (Route::Blocked, Some(R::PolicyBlocked))
    );
    assert!(d.explanation.contains("artifacts"));
}

#[test]
fn group_and_region_rules() {
    let policy = Policy::from_toml(
        r#"
version = 1

[[rule]]
name = "contractors-no-push"
group = ["contractors"]
route = ["encrypted_push"]
effect = "deny"

[[rule]]
name = "us-plain-link-only"
region = ["US"]
sensitivity = ["low", "high"]
route = ["rcs_plain"]
effect = "link_only"
"#,
    )
    .unwrap();
    let c = classify(SECRET_TEXT);
    let facts = ChannelFacts {
        device_enrolled: true,
        ..no_e2ee()
    };
    let us = Region::new("US");
    let d = policy.decide(&DecisionInput {
        group: "contractors",
        ..DecisionInput::new(Severity::P1, &c, &facts)
    });
    assert_eq!(d.route, Route::RcsPlain);
    let d = policy.decide(&DecisionInput {
        group: "sre",
        ..DecisionInput::new(Severity::P1, &c, &facts)
    });
    assert_eq!(d.route, Route::EncryptedPush);
    let d = policy.decide(&DecisionInput {
        group: "contractors",
        region: Some(&us),
        ..DecisionInput::new(Severity::P1, &c, &facts)
    });
    assert_eq!(
        (d.route, d.treatment),
        (Route::RcsPlain, Treatment::LinkOnly)
    );
    assert_eq!(d.rule.as_deref(), Some("us-plain-link-only"));
}

#[test]
fn policy_denying_everything_blocks_with_policy_blocked() {
    let policy = Policy::from_toml(
        "version = 1\n[[rule]]\nname = \"quiet\"\nseverity = [\"P1\"]\neffect = \"deny\"\n",
    )
    .unwrap();
    let d = decide(&policy, Severity::P1, PLAIN_TEXT, &ChannelFacts::rcs_e2ee());
    assert_eq!(
        (d.route, d.fallback_reason),
        (Route::Blocked, Some(R::PolicyBlocked))
    );
    assert_eq!(d.rule.as_deref(), Some("quiet"));
    assert_eq!(d.indicator, Indicator::Red);
    assert_one_sentence(&d);
}

/// Every combination of channel facts the engine distinguishes.
fn every_facts() -> Vec<ChannelFacts> {
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
fn default_rules_hold_for_every_combination() {
    // None, low (contact data) and high (a credential) sensitivity.
    let texts = [PLAIN_TEXT, "db-7 down; owner ops@example.com", SECRET_TEXT];
    let policy = Policy::default();
    let mut routes = std::collections::BTreeSet::new();
    for text in texts {
        let c = classify(text);
        for facts in every_facts() {
            for severity in Severity::ALL {
                let d = policy.decide(&DecisionInput::new(severity, &c, &facts));
                let case = format!("{severity} {:?} {facts:?}: {d:?}", c.sensitivity);
                routes.insert(d.route);
                // Only routes the facts allow (Blocked always is).
                assert!(facts.available(d.route), "{case}");
                // P2/P3 are not incident pages: without an opt-in, nothing is sent.
                if matches!(severity, Severity::P2 | Severity::P3) {
                    assert_eq!(d.route, Route::Blocked, "{case}");
                    assert_eq!(d.fallback_reason, Some(R::PolicyBlocked), "{case}");
                    continue;
                }
                // p0-e2ee-only: P0 never over unencrypted RCS.
                if severity == Severity::P0 {
                    assert_ne!(d.route, Route::RcsPlain, "{case}");
                }
                // A detected downgrade closes the number: encrypted push or nothing.
                if facts.downgrade_detected {
                    assert!(
                        matches!(d.route, Route::EncryptedPush | Route::Blocked),
                        "{case}"
                    );
                    assert_eq!(d.indicator, Indicator::Red, "{case}");
                }
                // The best tier is used whenever the facts offer it.
                if facts.available(Route::RcsE2ee) {
                    assert_eq!(d.route, Route::RcsE2ee, "{case}");
                }
                match d.route {
                    Route::RcsE2ee | Route::EncryptedPush => {
                        assert_eq!(d.treatment, Treatment::Full, "{case}");
                        assert!(d.actions.is_empty(), "{case}");
                        assert_eq!(d.fallback_reason.is_none(), d.route == Route::RcsE2ee);
                    }
                    // Sensitive content over unencrypted RCS is redacted, behind a link.
                    Route::RcsPlain => {
                        assert_eq!(d.treatment, Treatment::Redacted, "{case}");
                        let expected: &[Action] = if c.is_sensitive() {
                            &[Action::Redact, Action::SecureLink]
                        } else {
                            &[]
                        };
                        assert_eq!(d.actions, expected, "{case}");
                        assert!(d.fallback_reason.is_some(), "{case}");
                    }
                    // SMS: the template and the link, never text.
                    Route::SmsLink => {
                        assert_eq!(d.treatment, Treatment::LinkOnly, "{case}");
                        assert_eq!(d.actions, [Action::SecureLink], "{case}");
                    }
                    Route::Blocked => {
                        assert_eq!(d.actions, [Action::Block], "{case}");
                        assert!(d.fallback_reason.is_some(), "{case}");
                    }
                }
                assert_one_sentence(&d);
            }
        }
    }
    assert_eq!(routes.len(), 5, "every route was reached: {routes:?}");
}
