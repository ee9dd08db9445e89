//! The roster file: who the simulated phones are and what they can do.

use std::fmt;

use rcsec_capability::{E2ee, Reach};
use rcsec_core::Msisdn;

/// Why a roster could not be loaded. Never echoes numbers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RosterError {
    /// Not valid roster TOML (the message names the line and column).
    #[error("roster is not valid: {0}")]
    Toml(String),
    /// Entry `index` (0-based) has an invalid field.
    #[error("roster entry {index} has an invalid {field}")]
    Invalid {
        /// Which entry.
        index: usize,
        /// Which field.
        field: &'static str,
    },
    /// Two entries share a number.
    #[error("roster entry {0} repeats a number")]
    Duplicate(usize),
    /// Generating a simulated device key failed.
    #[error("device key generation failed")]
    KeyGeneration,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoster {
    #[serde(default)]
    recipient: Vec<RawEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    number: String,
    reach: String,
    #[serde(default = "unknown")]
    e2ee: String,
    #[serde(default)]
    carrier: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    step: u32,
    #[serde(default)]
    simulated_device: bool,
    #[serde(default)]
    consent: Vec<String>,
}

fn unknown() -> String {
    "unknown".to_owned()
}

/// One simulated phone.
#[derive(Clone, PartialEq, Eq)]
pub struct RosterEntry {
    /// Display name.
    pub name: String,
    /// The number.
    pub number: Msisdn,
    /// How it can be reached.
    pub reach: Reach,
    /// E2EE over RCS.
    pub e2ee: E2ee,
    /// Carrier name.
    pub carrier: Option<String>,
    /// Group for policy rules.
    pub group: String,
    /// Region for residency rules.
    pub region: Option<String>,
    /// Escalation step.
    pub step: u32,
    /// Whether the loopback simulates a phone with the rcsec app: it generates a device
    /// identity and key package, and joins the team group named by [`RosterEntry::group`]
    /// (`loopback` when empty) when [`LoopbackProvider::enroll_devices`] runs.
    ///
    /// [`LoopbackProvider::enroll_devices`]: crate::LoopbackProvider::enroll_devices
    pub simulated_device: bool,
    /// Message categories the recipient opted in to (`incident`, `maintenance`, ...).
    pub consent: Vec<String>,
}

impl fmt::Debug for RosterEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RosterEntry")
            .field("number", &self.number)
            .field("reach", &self.reach)
            .field("e2ee", &self.e2ee)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

/// A parsed roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    entries: Vec<RosterEntry>,
}

fn parse_reach(s: &str) -> Option<Reach> {
    [Reach::Rcs, Reach::SmsOnly, Reach::Unreachable]
        .into_iter()
        .find(|r| r.as_str() == s)
}

fn parse_e2ee(s: &str) -> Option<E2ee> {
    [
        E2ee::Verified,
        E2ee::Unverified,
        E2ee::Unavailable,
        E2ee::Unknown,
    ]
    .into_iter()
    .find(|e| e.as_str() == s)
}

impl Roster {
    /// Parses roster TOML: a list of `[[recipient]]` tables with `name`, `number`, `reach`
    /// (`rcs`, `sms_only`, `unreachable`), `e2ee` (`verified`, `unverified`, `unavailable`,
    /// `unknown`), and optional `carrier`, `group`, `region`, `step`,
    /// `simulated_device` and `consent` (categories opted in to).
    ///
    /// # Errors
    /// [`RosterError`] naming the entry and field.
    pub fn from_toml(source: &str) -> Result<Self, RosterError> {
        let raw: RawRoster = toml::from_str(source).map_err(|e| {
            // The message quotes the offending line, which may hold a number: keep the span only.
            let at = e
                .span()
                .map(|s| {
                    let line = source[..s.start].matches('\n').count() + 1;
                    format!("syntax or schema error at line {line}")
                })
                .unwrap_or_else(|| "syntax or schema error".to_owned());
            RosterError::Toml(at)
        })?;
        let mut entries: Vec<RosterEntry> = Vec::with_capacity(raw.recipient.len());
        for (index, r) in raw.recipient.into_iter().enumerate() {
            let invalid = |field| RosterError::Invalid { index, field };
            let number = Msisdn::parse(&r.number).map_err(|_| invalid("number"))?;
            if entries.iter().any(|e| e.number == number) {
                return Err(RosterError::Duplicate(index));
            }
            entries.push(RosterEntry {
                name: r.name,
                number,
                reach: parse_reach(&r.reach).ok_or_else(|| invalid("reach"))?,
                e2ee: parse_e2ee(&r.e2ee).ok_or_else(|| invalid("e2ee"))?,
                carrier: r.carrier,
                group: r.group.unwrap_or_default(),
                region: r.region,
                step: r.step,
                simulated_device: r.simulated_device,
                consent: r.consent,
            });
        }
        Ok(Self { entries })
    }

    /// The entries in file order.
    pub fn entries(&self) -> &[RosterEntry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_bad_entries_without_echoing_numbers() {
        let ok = Roster::from_toml(
            "[[recipient]]\nname='A'\nnumber='+447700900101'\nreach='sms_only'\n",
        )
        .unwrap();
        assert_eq!(ok.entries()[0].reach, Reach::SmsOnly);
        assert_eq!(ok.entries()[0].e2ee, E2ee::Unknown);
        let bad =
            Roster::from_toml("[[recipient]]\nname='A'\nnumber='+447700900101'\nreach='pigeon'\n")
                .unwrap_err();
        assert_eq!(bad.to_string(), "roster entry 0 has an invalid reach");
        let dup = "[[recipient]]\nname='A'\nnumber='+447700900101'\nreach='rcs'\n\
                   [[recipient]]\nname='B'\nnumber='+44 7700 900101'\nreach='rcs'\n";
        assert!(matches!(
            Roster::from_toml(dup),
            Err(RosterError::Duplicate(1))
        ));
        let typo = Roster::from_toml("[[recipient]]\nnmae='+447700900101'\n").unwrap_err();
        assert!(!typo.to_string().contains("7700900101"), "{typo}");
    }
}
