//! Who gets paged: a responder's number, routing facts and place in the escalation chain.

use std::fmt;

use rcsec_core::Msisdn;
use rcsec_policy::Region;
use rcsec_policy::consent::ConsentLedger;

use crate::orchestrator::UtcOffset;

/// One person who can be paged for an alert.
///
/// `Debug` masks the number and hides the name.
#[derive(Clone, PartialEq, Eq)]
pub struct Responder {
    /// Their number.
    pub number: Msisdn,
    /// Display name (shown in tables, never audited).
    pub name: String,
    /// Their group, for policy rules (`oncall-sre`).
    pub group: String,
    /// Their region, for residency rules (`None`: unknown).
    pub region: Option<Region>,
    /// Escalation step: step 0 is paged at once, step 1 after the acknowledgement timeout, ...
    pub step: u32,
    /// The team group (MLS) their phone(s) are enrolled in for encrypted push, if any. Pages
    /// on the push route are `PrivateMessage`s of this group: every device in it can read
    /// them, so a group is the confidentiality boundary (one group per person is a valid
    /// choice). Whether a device is actually enrolled is the protector's to say
    /// ([`PushProtector::reaches`](crate::PushProtector::reaches)).
    pub push_group: Option<String>,
    /// Their opt-ins: P2–P3 messages need one for their category (`incident`); P0–P1 pages
    /// are essential and need none.
    pub consent: ConsentLedger,
    /// Their local time as an offset from UTC, so quiet hours mean night *where they are*
    /// (`None`: UTC).
    pub utc_offset: Option<UtcOffset>,
}

impl Responder {
    /// A step-0 responder with no group, region or device.
    pub fn new(number: Msisdn, name: impl Into<String>) -> Self {
        Self {
            number,
            name: name.into(),
            group: String::new(),
            region: None,
            step: 0,
            push_group: None,
            consent: ConsentLedger::new(),
            utc_offset: None,
        }
    }

    /// Sets the escalation step.
    #[must_use]
    pub fn at_step(mut self, step: u32) -> Self {
        self.step = step;
        self
    }

    /// Sets the push team group.
    #[must_use]
    pub fn with_push_group(mut self, group: impl Into<String>) -> Self {
        self.push_group = Some(group.into());
        self
    }

    /// Sets their local time's offset from UTC (for quiet hours).
    #[must_use]
    pub fn with_utc_offset(mut self, offset: UtcOffset) -> Self {
        self.utc_offset = Some(offset);
        self
    }

    /// Sets the group.
    #[must_use]
    pub fn in_group(mut self, group: impl Into<String>) -> Self {
        self.group = group.into();
        self
    }
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responder")
            .field("number", &self.number)
            .field("step", &self.step)
            .field("push_group", &self.push_group.is_some())
            .finish_non_exhaustive()
    }
}
