//! The decision engine: the best route the facts allow and the policy permits, what to do to
//! the content on it, and a sentence a person understands.

use rcsec_core::Severity;

use crate::classify::{Classification, Sensitivity};
use crate::consent::ConsentLedger;
use crate::policy::{Policy, RuleContext, Treatment};
use crate::redact::redact;
use crate::route::{ChannelFacts, FallbackReason, Indicator, Region, Route};

/// What the content needs on the chosen route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Replace every finding with a placeholder.
    Redact,
    /// Issue a one-time secure link for the full alert.
    SecureLink,
    /// Send nothing.
    Block,
}

/// Everything one decision is made from.
#[derive(Debug, Clone, Copy)]
pub struct DecisionInput<'a> {
    /// The alert's severity.
    pub severity: Severity,
    /// The message category consent is recorded for (`incident`, `maintenance`, `digest`, …).
    pub category: &'a str,
    /// The classified alert text.
    pub classification: &'a Classification,
    /// What is known about the recipient's channels.
    pub facts: &'a ChannelFacts,
    /// The recipient's group.
    pub group: &'a str,
    /// The recipient's region (`None`: unknown, which fails any region allow-list).
    pub region: Option<&'a Region>,
    /// The recipient's consent records (`None`: no opt-ins).
    pub consent: Option<&'a ConsentLedger>,
    /// Where the link gateway would store the artifact (`None`: unknown).
    pub artifact_region: Option<&'a Region>,
}

impl<'a> DecisionInput<'a> {
    /// An incident page with no group, region, consent records or artifact region.
    pub fn new(
        severity: Severity,
        classification: &'a Classification,
        facts: &'a ChannelFacts,
    ) -> Self {
        Self {
            severity,
            category: "incident",
            classification,
            facts,
            group: "",
            region: None,
            consent: None,
            artifact_region: None,
        }
    }
}

/// Where one alert goes for one recipient, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The chosen route (`Blocked` when none is allowed).
    pub route: Route,
    /// How the content travels on it.
    pub treatment: Treatment,
    /// What the pipeline must do.
    pub actions: Vec<Action>,
    /// Why the best tier was not used (`None` for `RcsE2ee`).
    pub fallback_reason: Option<FallbackReason>,
    /// The traffic light.
    pub indicator: Indicator,
    /// One plain sentence.
    pub explanation: String,
    /// The rule that shaped the decision, if one did.
    pub rule: Option<String>,
    /// The alert's severity (for rendering the SMS template).
    pub severity: Severity,
}

impl Decision {
    /// The text to send on the chosen route; `None` when blocked.
    ///
    /// `text` and `classification` are the alert text and its classification; `link` is the
    /// secure link issued for it (or a placeholder when rendering a preview).
    pub fn render(
        &self,
        policy: &Policy,
        text: &str,
        classification: &Classification,
        link: &str,
    ) -> Option<String> {
        match self.treatment {
            Treatment::Full => Some(text.to_owned()),
            Treatment::Redacted if classification.is_sensitive() => {
                Some(format!("{}\nDetails: {link}", redact(text, classification)))
            }
            Treatment::Redacted => Some(redact(text, classification)),
            Treatment::LinkOnly => Some(policy.sms_text(self.severity, link)),
            Treatment::Denied => None,
        }
    }
}

impl Policy {
    /// Decides the route for one alert and one recipient.
    ///
    /// Order: residency (recipient region) and consent can block outright; then the routes are
    /// tried best first, skipping those the facts rule out, those the policy denies, and
    /// those that would need a secure link when artifacts may not be stored where the link
    /// gateway is.
    pub fn decide(&self, input: &DecisionInput<'_>) -> Decision {
        let sensitivity = input.classification.sensitivity;
        let unknown = Region::default();
        let region = input.region.unwrap_or(&unknown);
        let recipient_ok = self.residency.recipient_regions.is_empty()
            || input
                .region
                .is_some_and(|r| self.residency.allows_recipient(r));
        if !recipient_ok {
            return blocked(
                input.severity,
                FallbackReason::PolicyBlocked,
                "Not sent, because the recipient's region is not on the policy's allow-list.",
            );
        }
        let terms = self.consent.terms_version.as_deref();
        let permitted = input
            .consent
            .is_some_and(|c| c.permits(input.severity, input.category, terms))
            || crate::consent::is_essential(input.severity);
        if !permitted {
            return blocked(
                input.severity,
                FallbackReason::PolicyBlocked,
                "Not sent, because this is not an incident page and the recipient has not opted \
                 in to this kind of message.",
            );
        }
        let artifacts_ok = input
            .artifact_region
            .is_some_and(|r| self.residency.allows_artifacts(r))
            || self.residency.artifact_regions.is_empty();
        let mut e2ee_denied = false;
        let mut denied_any = false;
        // The first rule that denied a better route: it shaped the decision.
        let mut denied_by: Option<&str> = None;
        for route in [
            Route::RcsE2ee,
            Route::EncryptedPush,
            Route::RcsPlain,
            Route::SmsLink,
        ] {
            if !input.facts.available(route) {
                continue;
            }
            let ctx = RuleContext {
                severity: input.severity,
                sensitivity,
                route,
                group: input.group,
                region,
            };
            let (treatment, rule) = self.treatment(&ctx);
            let needs_link = needs_link(treatment, input.classification);
            if treatment == Treatment::Denied || (needs_link && !artifacts_ok) {
                denied_any = true;
                if treatment == Treatment::Denied && denied_by.is_none() {
                    denied_by = rule.map(|r| r.name.as_str());
                }
                e2ee_denied |= route == Route::RcsE2ee;
                continue;
            }
            let fallback_reason = if route == Route::RcsE2ee {
                None
            } else if e2ee_denied {
                Some(FallbackReason::PolicyBlocked)
            } else {
                input.facts.e2ee_fallback_reason()
            };
            return Decision {
                route,
                treatment,
                actions: actions(treatment, needs_link),
                fallback_reason,
                indicator: indicator(route, input.facts),
                explanation: explain(route, treatment, sensitivity, fallback_reason),
                rule: rule
                    .map(|r| r.name.as_str())
                    .or(denied_by)
                    .map(str::to_owned),
                severity: input.severity,
            };
        }
        if denied_any {
            let why = if artifacts_ok {
                "Not sent, because the policy allows none of the routes available to this recipient."
            } else {
                "Not sent, because this alert needs a secure link and artifacts may not be stored \
                 in the link gateway's region."
            };
            let mut d = blocked(input.severity, FallbackReason::PolicyBlocked, why);
            d.rule = denied_by.map(str::to_owned);
            return d;
        }
        let reason = input
            .facts
            .e2ee_fallback_reason()
            .unwrap_or(FallbackReason::PolicyBlocked);
        let why = format!(
            "Not sent, because {} and no other route is safe.",
            reason.clause()
        );
        blocked(input.severity, reason, &why)
    }
}

pub(crate) fn needs_link(treatment: Treatment, classification: &Classification) -> bool {
    match treatment {
        Treatment::Full | Treatment::Denied => false,
        Treatment::Redacted => classification.is_sensitive(),
        Treatment::LinkOnly => true,
    }
}

pub(crate) fn actions(treatment: Treatment, needs_link: bool) -> Vec<Action> {
    let mut out = Vec::new();
    if treatment == Treatment::Redacted && needs_link {
        out.push(Action::Redact);
    }
    if needs_link {
        out.push(Action::SecureLink);
    }
    if treatment == Treatment::Denied {
        out.push(Action::Block);
    }
    out
}

fn indicator(route: Route, facts: &ChannelFacts) -> Indicator {
    if route == Route::Blocked || facts.downgrade_detected {
        Indicator::Red
    } else if route.is_e2ee() {
        Indicator::Green
    } else {
        Indicator::Amber
    }
}

pub(crate) fn route_phrase(
    route: Route,
    treatment: Treatment,
    sensitivity: Sensitivity,
) -> &'static str {
    match (route, treatment) {
        (Route::RcsE2ee, Treatment::Full) => "Sent over RCS with end-to-end encryption",
        (Route::EncryptedPush, Treatment::Full) => {
            "Sent end-to-end encrypted through the rcsec app"
        }
        (Route::RcsPlain, Treatment::Redacted) if sensitivity != Sensitivity::None => {
            "Sent over unencrypted RCS with sensitive details replaced by a secure link"
        }
        (Route::RcsPlain, Treatment::Redacted) => "Sent over unencrypted RCS",
        (Route::SmsLink, _) | (_, Treatment::LinkOnly) => {
            "Sent as a short notice with only a secure link"
        }
        (_, Treatment::Redacted) => "Sent with sensitive details replaced by a secure link",
        (_, _) => "Sent",
    }
}

fn explain(
    route: Route,
    treatment: Treatment,
    sensitivity: Sensitivity,
    reason: Option<FallbackReason>,
) -> String {
    let phrase = route_phrase(route, treatment, sensitivity);
    match reason {
        None => format!("{phrase}."),
        Some(r) => format!("{phrase}, because {}.", r.clause()),
    }
}

fn blocked(severity: Severity, reason: FallbackReason, why: &str) -> Decision {
    Decision {
        route: Route::Blocked,
        treatment: Treatment::Denied,
        actions: vec![Action::Block],
        fallback_reason: Some(reason),
        indicator: Indicator::Red,
        explanation: why.to_owned(),
        rule: None,
        severity,
    }
}
