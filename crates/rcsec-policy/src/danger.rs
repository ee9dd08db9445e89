//! Escape hatches that weaken the fail-closed defaults. Everything here is audited.
//!
//! [`SendAnyway`] lets a named person push one alert onto a route the policy denied (say, a
//! P0 page over unencrypted RCS while the carrier's encryption is down). It can lift rule
//! denials and nothing else:
//!
//! - the route must be physically available (a detected downgrade keeps the number closed);
//! - structural content treatment stays: unencrypted RCS still gets redacted text, SMS still
//!   gets only the template and link;
//! - consent and residency are the recipient's rights and the law, not preferences: they
//!   cannot be overridden;
//! - a P0 alert with high-sensitivity content is refused unless the policy explicitly sets
//!   `overrides.allow_p0_high_sensitivity = true`.

use std::fmt;

use rcsec_core::{Severity, Timestamp};

use crate::classify::Sensitivity;
use crate::decision::{Decision, DecisionInput, actions, needs_link, route_phrase};
use crate::policy::{Policy, RuleContext, Treatment};
use crate::route::{FallbackReason, Indicator, Region, Route};

/// Longest accepted actor or reason, in characters.
const MAX_LEN: usize = 500;

/// A person's request to send one alert anyway: who, and why.
#[derive(Clone, PartialEq, Eq)]
pub struct SendAnyway {
    actor: String,
    reason: String,
}

impl fmt::Debug for SendAnyway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The reason is free text a person typed: it may quote the alert.
        f.debug_struct("SendAnyway")
            .field("actor", &self.actor)
            .field("reason_len", &self.reason.len())
            .finish()
    }
}

/// Why an override was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OverrideError {
    /// No actor was named.
    #[error("an override needs an actor")]
    MissingActor,
    /// No reason was given.
    #[error("an override needs a reason")]
    MissingReason,
    /// The actor or reason is too long.
    #[error("override actor and reason are limited to {MAX_LEN} characters")]
    TooLong,
    /// The policy disables overrides.
    #[error("overrides are disabled by policy")]
    Disabled,
    /// P0 with high-sensitivity content, and the policy does not allow it.
    #[error("policy forbids overriding a p0 alert with high-sensitivity content")]
    P0HighSensitivity,
    /// The route cannot reach the recipient (unreachable, outage, or a detected downgrade).
    #[error("route {0} is not available to this recipient")]
    RouteUnavailable(Route),
    /// The route is the one already chosen, or `Blocked`.
    #[error("route {0} needs no override")]
    NothingToOverride(Route),
    /// Consent or residency blocks the message; these cannot be overridden.
    #[error("consent and residency rules cannot be overridden")]
    NotOverridable,
}

/// What the audit event for an accepted override records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideRecord {
    /// Who overrode.
    pub actor: String,
    /// Why, as they wrote it.
    pub reason: String,
    /// The decision the policy had made.
    pub original: Decision,
    /// The route it was overridden to.
    pub new_route: Route,
    /// When.
    pub at: Timestamp,
}

/// An accepted override: the new decision and its audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overridden {
    /// The decision to act on (fallback reason `user_override`, indicator red).
    pub decision: Decision,
    /// The data for the audit event.
    pub record: OverrideRecord,
}

impl SendAnyway {
    /// A request by `actor` for `reason`; both are trimmed and must not be empty.
    ///
    /// # Errors
    /// [`OverrideError::MissingActor`], [`OverrideError::MissingReason`],
    /// [`OverrideError::TooLong`].
    pub fn new(actor: &str, reason: &str) -> Result<Self, OverrideError> {
        let actor = actor.trim();
        let reason = reason.trim();
        if actor.is_empty() {
            return Err(OverrideError::MissingActor);
        }
        if reason.is_empty() {
            return Err(OverrideError::MissingReason);
        }
        if actor.chars().count() > MAX_LEN || reason.chars().count() > MAX_LEN {
            return Err(OverrideError::TooLong);
        }
        Ok(Self {
            actor: actor.to_owned(),
            reason: reason.to_owned(),
        })
    }

    /// The actor.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Applies the override to `route` for the alert in `input`, at `now`.
    ///
    /// # Errors
    /// An [`OverrideError`] naming why it was refused; nothing is sent then.
    pub fn apply(
        self,
        policy: &Policy,
        input: &DecisionInput<'_>,
        route: Route,
        now: Timestamp,
    ) -> Result<Overridden, OverrideError> {
        let overrides = policy.overrides();
        if !overrides.enabled {
            return Err(OverrideError::Disabled);
        }
        let original = policy.decide(input);
        if route == Route::Blocked || route == original.route {
            return Err(OverrideError::NothingToOverride(route));
        }
        if !input.facts.available(route) {
            return Err(OverrideError::RouteUnavailable(route));
        }
        let sensitivity = input.classification.sensitivity;
        if input.severity == Severity::P0
            && sensitivity == Sensitivity::High
            && !overrides.allow_p0_high_sensitivity
        {
            return Err(OverrideError::P0HighSensitivity);
        }
        // Consent and residency are checked before routes: if they blocked, refuse.
        let probe = Policy {
            rules: Vec::new(),
            ..policy.clone()
        };
        let unknown = Region::default();
        let region = input.region.unwrap_or(&unknown);
        let ctx = RuleContext {
            severity: input.severity,
            sensitivity,
            route,
            group: input.group,
            region,
        };
        // The treatment without rule denials: structural floors plus redact/link_only rules.
        let (structural, _) = probe.treatment(&ctx);
        let treatment = policy
            .rules()
            .iter()
            .filter(|r| r.matches(&ctx))
            .map(|r| Treatment::from(r.effect))
            .filter(|t| *t != Treatment::Denied)
            .fold(structural, Treatment::max);
        let needs_link = needs_link(treatment, input.classification);
        // Without rules, only consent and residency can still block with `policy_blocked`.
        let lifted = probe.decide(input);
        if lifted.route == Route::Blocked
            && lifted.fallback_reason == Some(FallbackReason::PolicyBlocked)
        {
            return Err(OverrideError::NotOverridable);
        }
        let artifacts_ok = policy.residency().artifact_regions.is_empty()
            || input
                .artifact_region
                .is_some_and(|r| policy.residency().allows_artifacts(r));
        if needs_link && !artifacts_ok {
            return Err(OverrideError::NotOverridable);
        }
        let decision = Decision {
            route,
            treatment,
            actions: actions(treatment, needs_link),
            fallback_reason: Some(FallbackReason::UserOverride),
            indicator: Indicator::Red,
            explanation: format!(
                "{}, because someone chose to send it anyway against the policy.",
                route_phrase(route, treatment, sensitivity)
            ),
            rule: None,
            severity: input.severity,
        };
        let record = OverrideRecord {
            actor: self.actor,
            reason: self.reason,
            original,
            new_route: route,
            at: now,
        };
        Ok(Overridden { decision, record })
    }
}
