//! The declarative policy: rules that restrict routes, plus SMS, override, consent and
//! residency settings.
//!
//! Rules only ever restrict. Each candidate route starts from its structural treatment, which
//! no policy can loosen: end-to-end encrypted routes carry the full text, `rcs_plain` carries
//! the text with every finding redacted (details behind a secure link), SMS carries a fixed
//! template and the link. Every matching rule can make a route stricter
//! ([`Treatment::Full`] < [`Treatment::Redacted`] < [`Treatment::LinkOnly`] <
//! [`Treatment::Denied`]); no rule can loosen another. A policy therefore fails closed however
//! its rules are ordered.

mod file;

use rcsec_core::Severity;

pub use file::PolicyError;

use crate::classify::Sensitivity;
use crate::route::{Region, Route};

/// The policy file shipped with the crate; it parses to [`Policy::default`].
pub const DEFAULT_POLICY_TOML: &str = include_str!("../../default-policy.toml");

/// The SMS template of the default policy. Short on purpose: a one-time link is at least 112
/// characters after the gateway's base URL (`l/`, a 64-character token, `#k=` and a
/// 43-character key), and the whole text must fit one 160-character GSM-7 segment.
pub const DEFAULT_SMS_TEMPLATE: &str = "{severity} alert: {link}";

/// What a rule does to a matching route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Replace every finding with a placeholder and move the details behind a secure link.
    Redact,
    /// Send the fixed template and a secure link only.
    LinkOnly,
    /// Do not use the route.
    Deny,
}

/// How a route may carry the alert, from least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Treatment {
    /// The full alert text.
    Full,
    /// Text with findings replaced, plus a secure link when anything was replaced.
    Redacted,
    /// The fixed template and a secure link.
    LinkOnly,
    /// Not at all.
    Denied,
}

impl From<Effect> for Treatment {
    fn from(e: Effect) -> Self {
        match e {
            Effect::Redact => Self::Redacted,
            Effect::LinkOnly => Self::LinkOnly,
            Effect::Deny => Self::Denied,
        }
    }
}

/// When a rule applies: every non-empty list must contain the alert's value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conditions {
    /// Severities (empty: any).
    pub severity: Vec<Severity>,
    /// Sensitivities of the classified text (empty: any).
    pub sensitivity: Vec<Sensitivity>,
    /// Candidate routes (empty: any).
    pub route: Vec<Route>,
    /// Recipient groups (empty: any).
    pub group: Vec<String>,
    /// Recipient regions (empty: any).
    pub region: Vec<Region>,
}

/// One named rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// A short unique name, quoted in decisions' explanations and audit events.
    pub name: String,
    /// Why the rule exists.
    pub description: String,
    /// When it applies.
    pub when: Conditions,
    /// What it does.
    pub effect: Effect,
}

/// The facts a rule is matched against for one candidate route.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuleContext<'a> {
    pub(crate) severity: Severity,
    pub(crate) sensitivity: Sensitivity,
    pub(crate) route: Route,
    pub(crate) group: &'a str,
    pub(crate) region: &'a Region,
}

impl Rule {
    pub(crate) fn matches(&self, ctx: &RuleContext<'_>) -> bool {
        let w = &self.when;
        (w.severity.is_empty() || w.severity.contains(&ctx.severity))
            && (w.sensitivity.is_empty() || w.sensitivity.contains(&ctx.sensitivity))
            && (w.route.is_empty() || w.route.contains(&ctx.route))
            && (w.group.is_empty() || w.group.iter().any(|g| g == ctx.group))
            && (w.region.is_empty() || w.region.contains(ctx.region))
    }
}

/// Who may "send anyway" and when (see [`crate::danger::SendAnyway`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverrideSettings {
    /// Overrides are accepted at all.
    pub enabled: bool,
    /// A P0 alert with high-sensitivity content may be overridden onto a weaker route.
    pub allow_p0_high_sensitivity: bool,
}

/// Consent for non-essential messages.
///
/// Essential messages are incident pages: P0 and P1. P2 and P3 (notices, digests,
/// maintenance, anything marketing-like) need the recipient's opt-in to the message's category.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsentSettings {
    /// When set, only opt-ins given under these terms count.
    pub terms_version: Option<String>,
}

/// Where recipients may be and where artifacts behind secure links may be stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Residency {
    /// Regions recipients may be in (empty: any).
    pub recipient_regions: Vec<Region>,
    /// Regions the link gateway may store artifacts in (empty: any).
    pub artifact_regions: Vec<Region>,
}

impl Residency {
    /// Whether a recipient in `region` may be messaged.
    pub fn allows_recipient(&self, region: &Region) -> bool {
        self.recipient_regions.is_empty() || self.recipient_regions.contains(region)
    }

    /// Whether artifacts may be stored in `region`.
    pub fn allows_artifacts(&self, region: &Region) -> bool {
        self.artifact_regions.is_empty() || self.artifact_regions.contains(region)
    }
}

/// A validated policy. Build it with [`Policy::from_toml`] or take [`Policy::default`].
///
/// The default fails closed:
///
/// - SMS carries only a fixed template and a one-time link (structural, not a rule);
/// - `rcs_plain` content is redacted, sensitive parts behind a link (structural, not a rule);
/// - P0 alerts never use `rcs_plain` (`p0-e2ee-only`), so without an end-to-end encrypted
///   route they go as `sms_link` with the link alone;
/// - so high-sensitivity content never travels as text over `rcs_plain` or SMS: its findings
///   are replaced by `[redacted <kind>]` and the details sit behind the secure link;
/// - a detected downgrade closes the recipient's number entirely ([`crate::ChannelFacts`]);
/// - overrides are allowed, except for P0 alerts with high-sensitivity content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub(crate) rules: Vec<Rule>,
    pub(crate) sms_template: String,
    pub(crate) overrides: OverrideSettings,
    pub(crate) consent: ConsentSettings,
    pub(crate) residency: Residency,
}

impl Default for Policy {
    fn default() -> Self {
        let rule = |name: &str, description: &str, when: Conditions, effect| Rule {
            name: name.to_owned(),
            description: description.to_owned(),
            when,
            effect,
        };
        Self {
            rules: vec![rule(
                "p0-e2ee-only",
                "P0 content travels only end-to-end encrypted; otherwise SMS with the link alone.",
                Conditions {
                    severity: vec![Severity::P0],
                    route: vec![Route::RcsPlain],
                    ..Conditions::default()
                },
                Effect::Deny,
            )],
            sms_template: DEFAULT_SMS_TEMPLATE.to_owned(),
            overrides: OverrideSettings {
                enabled: true,
                allow_p0_high_sensitivity: false,
            },
            consent: ConsentSettings::default(),
            residency: Residency::default(),
        }
    }
}

impl Policy {
    /// Parses and validates a policy file.
    ///
    /// # Errors
    /// [`PolicyError`] with the 1-based line and column of the offending key or value:
    /// TOML syntax, unknown keys, wrong types, unknown enum values, an unsupported version,
    /// empty or duplicate rule names, malformed regions, and SMS templates that are not fixed
    /// text with one `{link}`.
    pub fn from_toml(source: &str) -> Result<Self, PolicyError> {
        file::parse(source)
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The SMS template (placeholders `{severity}` and `{link}`).
    pub fn sms_template(&self) -> &str {
        &self.sms_template
    }

    /// The override settings.
    pub fn overrides(&self) -> OverrideSettings {
        self.overrides
    }

    /// The consent settings.
    pub fn consent(&self) -> &ConsentSettings {
        &self.consent
    }

    /// The residency settings.
    pub fn residency(&self) -> &Residency {
        &self.residency
    }

    /// A one-line summary for `rcsec policy check`.
    pub fn summary(&self) -> String {
        let count = |v: &[Region]| {
            if v.is_empty() {
                "any".to_owned()
            } else {
                v.iter().map(Region::as_str).collect::<Vec<_>>().join(",")
            }
        };
        format!(
            "{} rules; overrides {}{}; recipient regions {}; artifact regions {}",
            self.rules.len(),
            if self.overrides.enabled {
                "enabled"
            } else {
                "disabled"
            },
            if self.overrides.allow_p0_high_sensitivity {
                " (P0 high-sensitivity allowed)"
            } else {
                ""
            },
            count(&self.residency.recipient_regions),
            count(&self.residency.artifact_regions),
        )
    }

    /// The treatment of one candidate route and the rule that set it (`None`: structural).
    pub(crate) fn treatment(&self, ctx: &RuleContext<'_>) -> (Treatment, Option<&Rule>) {
        let mut treatment = match ctx.route {
            Route::RcsE2ee | Route::EncryptedPush => Treatment::Full,
            Route::RcsPlain => Treatment::Redacted,
            Route::SmsLink => Treatment::LinkOnly,
            Route::Blocked => Treatment::Denied,
        };
        let mut by = None;
        for rule in self.rules.iter().filter(|r| r.matches(ctx)) {
            let t = Treatment::from(rule.effect);
            if t > treatment {
                treatment = t;
                by = Some(rule);
            }
        }
        (treatment, by)
    }

    /// Renders the SMS text: the template with `{severity}` and `{link}` filled in.
    pub fn sms_text(&self, severity: Severity, link: &str) -> String {
        self.sms_template
            .replace("{severity}", &severity.to_string())
            .replace("{link}", link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_file_is_the_default() {
        assert_eq!(
            Policy::from_toml(DEFAULT_POLICY_TOML),
            Ok(Policy::default())
        );
    }

    #[test]
    fn rules_only_restrict() {
        let policy = Policy::default();
        let region = Region::new("DE");
        let ctx = |severity, sensitivity, route| RuleContext {
            severity,
            sensitivity,
            route,
            group: "sre",
            region: &region,
        };
        let t = |c| policy.treatment(&c).0;
        assert_eq!(
            t(ctx(Severity::P1, Sensitivity::None, Route::RcsE2ee)),
            Treatment::Full
        );
        assert_eq!(
            t(ctx(Severity::P1, Sensitivity::None, Route::RcsPlain)),
            Treatment::Redacted
        );
        assert_eq!(
            t(ctx(Severity::P0, Sensitivity::None, Route::RcsPlain)),
            Treatment::Denied
        );
        assert_eq!(
            t(ctx(Severity::P3, Sensitivity::High, Route::SmsLink)),
            Treatment::LinkOnly
        );
        assert_eq!(
            t(ctx(Severity::P3, Sensitivity::High, Route::Blocked)),
            Treatment::Denied
        );
    }
}
