//! The TOML policy format: strict parsing (unknown keys rejected) and validation, with every
//! error located by line and column.

use std::ops::Range;

use rcsec_core::Severity;
use serde::Deserialize;
use toml::Spanned;

use super::{
    Conditions, ConsentSettings, DEFAULT_SMS_TEMPLATE, Effect, OverrideSettings, Policy, Residency,
    Rule,
};
use crate::classify::Sensitivity;
use crate::route::{Region, Route};

/// The only policy format version so far.
const VERSION: u32 = 1;
/// Most characters of fixed text an SMS template may have (a `{severity}` counts as the two
/// characters of its label): one segment of 160 characters, less the link — 112 characters of
/// token and key after the gateway's base URL, which is at least 12 (`https://a.b/`). Whether a
/// deployment's own base URL still fits is checked where that URL is known (alertd's start-up).
const MAX_TEMPLATE_CHARS: usize = 36;

/// A policy file that could not be used, located by 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Not valid TOML, an unknown key, a wrong type or an unknown value.
    #[error("{line}:{column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// What is wrong, without the offending text.
        message: String,
    },
    /// Well-formed, but not a usable policy.
    #[error("{line}:{column}: {message}")]
    Invalid {
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// What is wrong.
        message: String,
    },
}

impl PolicyError {
    /// The 1-based line and column.
    pub fn location(&self) -> (usize, usize) {
        match self {
            Self::Syntax { line, column, .. } | Self::Invalid { line, column, .. } => {
                (*line, *column)
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: Spanned<u32>,
    #[serde(default)]
    sms: Option<SmsFile>,
    #[serde(default)]
    overrides: Option<OverridesFile>,
    #[serde(default)]
    consent: Option<ConsentFile>,
    #[serde(default)]
    residency: Option<ResidencyFile>,
    #[serde(default, rename = "rule")]
    rules: Vec<Spanned<RuleFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmsFile {
    template: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverridesFile {
    enabled: bool,
    #[serde(default)]
    allow_p0_high_sensitivity: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentFile {
    #[serde(default)]
    terms_version: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResidencyFile {
    #[serde(default)]
    recipient_regions: Vec<Spanned<String>>,
    #[serde(default)]
    artifact_regions: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    severity: Vec<Severity>,
    #[serde(default)]
    sensitivity: Vec<Sensitivity>,
    #[serde(default)]
    route: Vec<Spanned<Route>>,
    #[serde(default)]
    group: Vec<Spanned<String>>,
    #[serde(default)]
    region: Vec<Spanned<String>>,
    effect: Effect,
}

pub(super) fn parse(source: &str) -> Result<Policy, PolicyError> {
    let file: PolicyFile = toml::from_str(source).map_err(|e| {
        let (line, column) = locate(source, e.span().map_or(0, |s| s.start));
        PolicyError::Syntax {
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    })?;
    let invalid = |span: Range<usize>, message: String| {
        let (line, column) = locate(source, span.start);
        PolicyError::Invalid {
            line,
            column,
            message,
        }
    };
    if *file.version.get_ref() != VERSION {
        return Err(invalid(
            file.version.span(),
            format!("unsupported policy version (this build reads version {VERSION})"),
        ));
    }
    let sms_template = match file.sms {
        Some(sms) => {
            check_template(sms.template.get_ref()).map_err(|m| invalid(sms.template.span(), m))?;
            sms.template.into_inner()
        }
        None => DEFAULT_SMS_TEMPLATE.to_owned(),
    };
    let overrides = file.overrides.map_or(
        OverrideSettings {
            enabled: true,
            allow_p0_high_sensitivity: false,
        },
        |o| OverrideSettings {
            enabled: o.enabled,
            allow_p0_high_sensitivity: o.allow_p0_high_sensitivity,
        },
    );
    let consent = match file.consent.and_then(|c| c.terms_version) {
        Some(v) if v.get_ref().trim().is_empty() => {
            return Err(invalid(v.span(), "terms_version must not be empty".into()));
        }
        Some(v) => ConsentSettings {
            terms_version: Some(v.into_inner().trim().to_owned()),
        },
        None => ConsentSettings::default(),
    };
    let residency = match file.residency {
        Some(r) => Residency {
            recipient_regions: regions(&r.recipient_regions).map_err(|(s, m)| invalid(s, m))?,
            artifact_regions: regions(&r.artifact_regions).map_err(|(s, m)| invalid(s, m))?,
        },
        None => Residency::default(),
    };
    let mut rules: Vec<Rule> = Vec::with_capacity(file.rules.len());
    for spanned in file.rules {
        let r = spanned.into_inner();
        let name = r.name.get_ref().trim().to_owned();
        if name.is_empty() {
            return Err(invalid(r.name.span(), "rule name must not be empty".into()));
        }
        if rules.iter().any(|x| x.name == name) {
            return Err(invalid(
                r.name.span(),
                format!("duplicate rule name {name:?}"),
            ));
        }
        if let Some(blocked) = r.route.iter().find(|x| *x.get_ref() == Route::Blocked) {
            return Err(invalid(
                blocked.span(),
                "a rule cannot constrain the blocked route".into(),
            ));
        }
        if let Some(g) = r.group.iter().find(|g| g.get_ref().trim().is_empty()) {
            return Err(invalid(g.span(), "group names must not be empty".into()));
        }
        let region = regions(&r.region).map_err(|(s, m)| invalid(s, m))?;
        rules.push(Rule {
            name,
            description: r.description,
            when: Conditions {
                severity: r.severity,
                sensitivity: r.sensitivity,
                route: r.route.into_iter().map(Spanned::into_inner).collect(),
                group: r
                    .group
                    .into_iter()
                    .map(|g| g.into_inner().trim().to_owned())
                    .collect(),
                region,
            },
            effect: r.effect,
        });
    }
    Ok(Policy {
        rules,
        sms_template,
        overrides,
        consent,
        residency,
    })
}

fn regions(list: &[Spanned<String>]) -> Result<Vec<Region>, (Range<usize>, String)> {
    list.iter()
        .map(|r| {
            let code = r.get_ref().trim();
            let ok = (2..=8).contains(&code.len())
                && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if ok {
                Ok(Region::new(code))
            } else {
                Err((
                    r.span(),
                    "a region is a 2-8 character code such as \"DE\" or \"EU\"".into(),
                ))
            }
        })
        .collect()
}

/// An SMS template is fixed text with exactly one `{link}` and optionally one `{severity}`;
/// nothing else can be substituted, so no alert text can reach an SMS.
fn check_template(template: &str) -> Result<(), String> {
    if template.matches("{link}").count() != 1 {
        return Err("sms template must contain {link} exactly once".into());
    }
    if template.matches("{severity}").count() > 1 {
        return Err("sms template may contain {severity} at most once".into());
    }
    let rest = template.replace("{link}", "").replace("{severity}", "");
    if rest.contains(['{', '}']) {
        return Err("sms template may use only the {severity} and {link} placeholders".into());
    }
    let fixed_chars = rest.chars().count() + 2 * template.matches("{severity}").count();
    if fixed_chars > MAX_TEMPLATE_CHARS {
        return Err(format!(
            "sms template must have at most {MAX_TEMPLATE_CHARS} characters besides {{link}} \
             (the link takes the rest of the 160-character segment)"
        ));
    }
    if template.chars().any(char::is_control) {
        return Err("sms template must be one line without control characters".into());
    }
    Ok(())
}

/// 1-based line and column (in characters) of byte offset `at`.
fn locate(source: &str, at: usize) -> (usize, usize) {
    let at = at.min(source.len());
    let mut cut = at;
    while cut > 0 && !source.is_char_boundary(cut) {
        cut -= 1;
    }
    let before = &source[..cut];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_counts_lines_and_characters() {
        assert_eq!(locate("a\nbc\nd", 0), (1, 1));
        assert_eq!(locate("a\nbc\nd", 3), (2, 2));
        assert_eq!(locate("a\nbc\nd", 5), (3, 1));
        assert_eq!(locate("é\nx", 3), (2, 1));
    }

    #[test]
    fn templates_are_fixed_text() {
        assert!(check_template(DEFAULT_SMS_TEMPLATE).is_ok());
        assert!(check_template("no link").is_err());
        assert!(check_template("{link} {link}").is_err());
        assert!(check_template("{summary} {link}").is_err());
        assert!(check_template("line\nbreak {link}").is_err());
    }
}
