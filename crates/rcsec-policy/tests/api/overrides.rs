//! `danger::SendAnyway`: refused where the policy forbids, accepted with an audit record.

use rcsec_core::{Severity, Timestamp};
use rcsec_policy::danger::{OverrideError, SendAnyway};
use rcsec_policy::{
    ChannelFacts, DecisionInput, E2eeState, FallbackReason, Indicator, Policy, Route, Treatment,
};

const SECRET_TEXT: &str = "api down; token=ghp_R8x2Kq9Lm4Np7Ts1Vw3Xz6Bc0Df5Gh8Jk2Mn leaked";
const PLAIN_TEXT: &str = "api down; error rate 12% on checkout";
const NOW: Timestamp = Timestamp::from_secs(1_732_240_640);

fn no_e2ee() -> ChannelFacts {
    ChannelFacts {
        rcs_reachable: true,
        e2ee: E2eeState::Unsupported,
        ..ChannelFacts::default()
    }
}

#[test]
fn actor_and_reason_are_required_and_trimmed() {
    assert_eq!(
        SendAnyway::new("  ", "why"),
        Err(OverrideError::MissingActor)
    );
    assert_eq!(
        SendAnyway::new("alice", " \t "),
        Err(OverrideError::MissingReason)
    );
    assert_eq!(
        SendAnyway::new("alice", &"x".repeat(501)),
        Err(OverrideError::TooLong)
    );
    let s = SendAnyway::new(" alice ", " carrier E2EE outage, page must land ").unwrap();
    assert_eq!(
        (s.actor(), s.reason()),
        ("alice", "carrier E2EE outage, page must land")
    );
    assert!(
        !format!("{s:?}").contains("outage"),
        "reason stays out of Debug"
    );
}

#[test]
fn accepted_override_yields_the_audit_record() {
    let policy = Policy::default();
    let c = crate::classifier().classify(PLAIN_TEXT);
    let facts = no_e2ee();
    let input = DecisionInput::new(Severity::P0, &c, &facts);
    assert_eq!(policy.decide(&input).route, Route::SmsLink);
    let request = SendAnyway::new("alice", "need the summary on the lock screen").unwrap();
    let done = request
        .apply(&policy, &input, Route::RcsPlain, NOW)
        .unwrap();
    assert_eq!(done.decision.route, Route::RcsPlain);
    assert_eq!(
        done.decision.treatment,
        Treatment::Redacted,
        "structural redaction stays"
    );
    assert_eq!(
        done.decision.fallback_reason,
        Some(FallbackReason::UserOverride)
    );
    assert_eq!(done.decision.indicator, Indicator::Red);
    assert!(done.decision.explanation.contains("send it anyway"));
    assert_eq!(done.record.actor, "alice");
    assert_eq!(done.record.reason, "need the summary on the lock screen");
    assert_eq!(done.record.original.route, Route::SmsLink);
    assert_eq!(done.record.original.rule.as_deref(), Some("p0-e2ee-only"));
    assert_eq!(done.record.new_route, Route::RcsPlain);
    assert_eq!(done.record.at, NOW);
}

#[test]
fn p0_with_high_sensitivity_is_refused_unless_the_policy_allows_it() {
    let c = crate::classifier().classify(SECRET_TEXT);
    let facts = no_e2ee();
    let input = DecisionInput::new(Severity::P0, &c, &facts);
    let request = || SendAnyway::new("alice", "urgent").unwrap();
    assert_eq!(
        request().apply(&Policy::default(), &input, Route::RcsPlain, NOW),
        Err(OverrideError::P0HighSensitivity)
    );
    let lenient = Policy::from_toml(
        "version = 1\n[overrides]\nenabled = true\nallow_p0_high_sensitivity = true\n\n\
         [[rule]]\nname = \"p0-e2ee-only\"\nseverity = [\"P0\"]\nroute = [\"rcs_plain\"]\neffect = \"deny\"\n",
    )
    .unwrap();
    let done = request()
        .apply(&lenient, &input, Route::RcsPlain, NOW)
        .unwrap();
    assert_eq!(done.decision.route, Route::RcsPlain);
    // Even then the secret is redacted on the unencrypted route.
    let sent = done
        .decision
        .render(&lenient, SECRET_TEXT, &c, "https://l.example/x")
        .unwrap();
    assert!(!sent.contains("ghp_R8x2"));
}

#[test]
fn refusals() {
    let c = crate::classifier().classify(PLAIN_TEXT);
    let request = || SendAnyway::new("bob", "because").unwrap();
    let facts = no_e2ee();
    let p0 = DecisionInput::new(Severity::P0, &c, &facts);
    // Disabled by policy.
    let strict = Policy::from_toml("version = 1\n[overrides]\nenabled = false\n").unwrap();
    assert_eq!(
        request().apply(&strict, &p0, Route::RcsPlain, NOW),
        Err(OverrideError::Disabled)
    );
    // The route already chosen, or Blocked.
    let policy = Policy::default();
    assert_eq!(
        request().apply(&policy, &p0, Route::SmsLink, NOW),
        Err(OverrideError::NothingToOverride(Route::SmsLink))
    );
    assert_eq!(
        request().apply(&policy, &p0, Route::Blocked, NOW),
        Err(OverrideError::NothingToOverride(Route::Blocked))
    );
    // A route the facts rule out, including any route over a downgraded number.
    assert_eq!(
        request().apply(&policy, &p0, Route::RcsE2ee, NOW),
        Err(OverrideError::RouteUnavailable(Route::RcsE2ee))
    );
    let hostile = ChannelFacts {
        downgrade_detected: true,
        ..no_e2ee()
    };
    let input = DecisionInput::new(Severity::P1, &c, &hostile);
    assert_eq!(
        request().apply(&policy, &input, Route::RcsPlain, NOW),
        Err(OverrideError::RouteUnavailable(Route::RcsPlain))
    );
    // Consent cannot be overridden.
    let input = DecisionInput {
        category: "digest",
        ..DecisionInput::new(Severity::P3, &c, &facts)
    };
    assert_eq!(
        request().apply(&policy, &input, Route::RcsPlain, NOW),
        Err(OverrideError::NotOverridable)
    );
}
