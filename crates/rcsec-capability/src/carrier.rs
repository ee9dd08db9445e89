//! The carrier matrix: operator knowledge applied on top of provider answers.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::capability::{Capability, E2ee};
use crate::error::CarrierMatrixError;
use crate::hints::{ClientVersion, Region, normalize_label};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixFile {
    #[serde(default)]
    carrier: Vec<CarrierRuleFile>,
    #[serde(default)]
    client: Vec<ClientRuleFile>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
enum E2eeOverride {
    Disabled,
    Unverified,
}

impl E2eeOverride {
    fn cap(self) -> E2ee {
        match self {
            Self::Disabled => E2ee::Unavailable,
            Self::Unverified => E2ee::Unverified,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CarrierRuleFile {
    id: Spanned<String>,
    carrier: Option<String>,
    region: Option<Spanned<String>>,
    rcs: Option<Spanned<bool>>,
    e2ee: Option<E2eeOverride>,
    #[allow(dead_code, reason = "documentation for humans; accepted and ignored")]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientRuleFile {
    id: Spanned<String>,
    client: String,
    below: Option<Spanned<String>>,
    e2ee: Option<E2eeOverride>,
    rcs: Option<Spanned<bool>>,
    match_unknown_version: Option<bool>,
    #[allow(dead_code, reason = "documentation for humans; accepted and ignored")]
    note: Option<String>,
}

/// What a rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Effect {
    no_rcs: bool,
    e2ee_cap: Option<E2ee>,
}

#[derive(Debug, Clone)]
struct CarrierRule {
    id: Arc<str>,
    carrier: Option<Box<str>>,
    region: Option<Region>,
    effect: Effect,
}

#[derive(Debug, Clone)]
struct ClientRule {
    id: Arc<str>,
    client: Box<str>,
    below: Option<ClientVersion>,
    match_unknown_version: bool,
    effect: Effect,
}

/// The rules that changed one capability, for the resolution and the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// The id of the carrier rule applied, if any.
    pub carrier_rule: Option<Arc<str>>,
    /// The id of the client rule applied, if any.
    pub client_rule: Option<Arc<str>>,
}

impl Overrides {
    /// Whether no rule applied.
    pub fn is_empty(&self) -> bool {
        self.carrier_rule.is_none() && self.client_rule.is_none()
    }
}

/// A parsed carrier matrix: operator overrides applied on top of provider answers.
///
/// Providers report what a network *can* do; operators know more: "this carrier runs RCS but
/// has E2EE disabled by policy — treat it as public", or "clients of this app below version X
/// do not really encrypt". The matrix is a TOML file of such rules:
///
/// ```toml
/// [[carrier]]
/// id = "acme-de-no-e2ee"      # unique; recorded with every resolution it changes
/// carrier = "Acme Mobile"     # optional, compared case-insensitively
/// region = "DE"               # optional; a rule names a carrier, a region or both
/// e2ee = "disabled"           # "disabled" (treat as public) or "unverified"
/// rcs = false                 # optional: treat the number as not RCS at all
///
/// [[client]]
/// id = "old-messages"
/// client = "google-messages"
/// below = "20240101"          # optional: only versions below this one
/// e2ee = "disabled"
/// match_unknown_version = true  # default: a client of unknown version matches (fail closed)
/// ```
///
/// Rules can only **weaken** an answer (drop E2EE, drop RCS); nothing in the matrix can claim
/// encryption a provider did not affirm. In each table the first matching rule applies. A
/// carrier rule matches only when the provider reported a carrier (and region, if the rule
/// names one).
#[derive(Debug, Clone, Default)]
pub struct CarrierMatrix {
    carriers: Vec<CarrierRule>,
    clients: Vec<ClientRule>,
}

impl CarrierMatrix {
    /// A matrix with no rules: provider answers pass through unchanged.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Parses a matrix from TOML text.
    ///
    /// # Errors
    /// [`CarrierMatrixError::Syntax`] for malformed TOML, unknown fields or wrong types;
    /// [`CarrierMatrixError::Invalid`] for empty or duplicate ids, bad regions or versions, a
    /// carrier rule naming neither carrier nor region, or a rule with no effect. Both carry the
    /// 1-based line and column.
    pub fn parse(text: &str) -> Result<Self, CarrierMatrixError> {
        let file: MatrixFile = toml::from_str(text).map_err(|e| {
            let (line, column) = position(text, e.span().map_or(0, |s| s.start));
            CarrierMatrixError::Syntax {
                line,
                column,
                message: e.message().trim_end().to_owned(),
            }
        })?;
        let invalid = |span: Range<usize>, reason| {
            let (line, column) = position(text, span.start);
            CarrierMatrixError::Invalid {
                line,
                column,
                reason,
            }
        };
        let mut ids = HashSet::new();
        let mut check_id = |id: &Spanned<String>| {
            let value = id.get_ref().trim();
            if value.is_empty() || value.chars().any(char::is_control) || value.len() > 64 {
                return Err(invalid(
                    id.span(),
                    "rule id must be 1-64 printable characters",
                ));
            }
            if !ids.insert(value.to_owned()) {
                return Err(invalid(id.span(), "duplicate rule id"));
            }
            Ok(Arc::<str>::from(value))
        };
        let effect =
            |id: &Spanned<String>, rcs: Option<&Spanned<bool>>, e2ee: Option<E2eeOverride>| {
                if let Some(rcs) = rcs.filter(|r| *r.get_ref()) {
                    return Err(invalid(
                        rcs.span(),
                        "rcs = true cannot be set: rules only weaken",
                    ));
                }
                let effect = Effect {
                    no_rcs: rcs.is_some(),
                    e2ee_cap: e2ee.map(E2eeOverride::cap),
                };
                if !effect.no_rcs && effect.e2ee_cap.is_none() {
                    return Err(invalid(
                        id.span(),
                        "rule has no effect (set e2ee or rcs = false)",
                    ));
                }
                Ok(effect)
            };

        let mut matrix = Self::default();
        for rule in &file.carrier {
            let id = check_id(&rule.id)?;
            let region = match &rule.region {
                Some(r) => Some(
                    Region::parse(r.get_ref())
                        .map_err(|_| invalid(r.span(), "region must be a two-letter code"))?,
                ),
                None => None,
            };
            let carrier = rule.carrier.as_deref().map(normalize_label);
            if carrier.as_deref().is_none_or(str::is_empty) && region.is_none() {
                return Err(invalid(
                    rule.id.span(),
                    "carrier rule must name a carrier or region",
                ));
            }
            matrix.carriers.push(CarrierRule {
                id,
                carrier: carrier.filter(|c| !c.is_empty()),
                region,
                effect: effect(&rule.id, rule.rcs.as_ref(), rule.e2ee)?,
            });
        }
        for rule in &file.client {
            let id = check_id(&rule.id)?;
            let client = normalize_label(&rule.client);
            if client.is_empty() {
                return Err(invalid(rule.id.span(), "client rule must name a client"));
            }
            let below =
                match &rule.below {
                    Some(v) => Some(ClientVersion::parse(v.get_ref()).map_err(|_| {
                        invalid(v.span(), "version must be 1-4 dot-separated numbers")
                    })?),
                    None => None,
                };
            matrix.clients.push(ClientRule {
                id,
                client,
                below,
                match_unknown_version: rule.match_unknown_version.unwrap_or(true),
                effect: effect(&rule.id, rule.rcs.as_ref(), rule.e2ee)?,
            });
        }
        Ok(matrix)
    }

    /// Whether the matrix has no rules.
    pub fn is_empty(&self) -> bool {
        self.carriers.is_empty() && self.clients.is_empty()
    }

    /// Applies the first matching carrier rule and the first matching client rule.
    ///
    /// The result is never stronger than `capability` in reach or E2EE.
    pub fn apply(&self, capability: Capability) -> (Capability, Overrides) {
        let mut overrides = Overrides::default();
        let mut capability = capability;
        if let Some(carrier) = capability.carrier() {
            let hit = self.carriers.iter().find(|rule| {
                rule.carrier.as_deref().is_none_or(|c| c == carrier.name())
                    && rule.region.is_none_or(|r| Some(r) == carrier.region())
            });
            if let Some(rule) = hit {
                overrides.carrier_rule = Some(Arc::clone(&rule.id));
                capability = capability.weakened(rule.effect.no_rcs, rule.effect.e2ee_cap);
            }
        }
        if let Some(client) = capability.client() {
            let hit = self.clients.iter().find(|rule| {
                client.client_name() == Some(&*rule.client)
                    && match (rule.below, client.version()) {
                        (None, _) => true,
                        (Some(below), Some(version)) => version < below,
                        (Some(_), None) => rule.match_unknown_version,
                    }
            });
            if let Some(rule) = hit {
                overrides.client_rule = Some(Arc::clone(&rule.id));
                capability = capability.weakened(rule.effect.no_rcs, rule.effect.e2ee_cap);
            }
        }
        (capability, overrides)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests;
