//! The audit event schema and the builder that keeps numbers and plaintext out of it.

use std::fmt;

use rcsec_core::{AlertId, Msisdn, Timestamp};

use crate::pseudonym::{MessageHash, Pseudonym, Pseudonymizer};

/// Longest name or id label accepted.
const MAX_LABEL_LEN: usize = 128;
/// Longest code label accepted.
const MAX_CODE_LEN: usize = 64;
/// A run of this many digits could be a phone number (E.164 numbers have at least seven), so
/// free-form labels refuse it.
const MAX_DIGIT_RUN: usize = 6;

/// Why an event could not be built.
///
/// Never carries the rejected value: it may be the very number or text being kept out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// A label breaks its field's rules (see [`Label`]).
    #[error("field {field} is not a valid label")]
    InvalidLabel {
        /// The field name, e.g. `"reason"`.
        field: &'static str,
    },
    /// The kind requires this field (e.g. `override` needs `actor` and `reason`).
    #[error("event kind {kind} requires field {field}")]
    MissingField {
        /// The event kind.
        kind: &'static str,
        /// The missing field.
        field: &'static str,
    },
}

/// A short, log-safe token. Which rules apply depends on the field:
///
/// - **codes** (`route`, `provider`, `outcome`, `reason`, `e2ee`, `fallback_reason`): 1-64
///   bytes of `[a-z0-9_.:-]`, like `carrier_no_e2ee`;
/// - **names** (`actor`): 1-128 bytes of `[A-Za-z0-9._:/@-]`, like `oncall:Alice@example.org`;
/// - **ids** (`link`, the log id): as names, minus the digit rule below.
///
/// Codes and names refuse runs of seven or more digits, so a phone number cannot be smuggled
/// in as a "reason"; codes also refuse capitals, which keeps out most mixed-case tokens and
/// API keys. No rule can tell a lowercase secret from a code, so callers pass codes from
/// their own vocabulary, never user or alert text. Every charset is free of characters that
/// JSON or syslog would escape.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(pub(crate) String);

/// Which rules a label field follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LabelRule {
    Code,
    Name,
    Id,
}

impl Label {
    /// Validates a code (`route`, `reason`, `e2ee`, ...).
    ///
    /// # Errors
    /// [`EventError::InvalidLabel`] (with field `"label"`) when the rules above are broken.
    pub fn new(raw: &str) -> Result<Self, EventError> {
        Self::checked(raw, "label", LabelRule::Code)
    }

    /// Validates a name (an actor).
    ///
    /// # Errors
    /// [`EventError::InvalidLabel`] (with field `"label"`) when the rules above are broken.
    pub fn name(raw: &str) -> Result<Self, EventError> {
        Self::checked(raw, "label", LabelRule::Name)
    }

    pub(crate) fn checked(
        raw: &str,
        field: &'static str,
        rule: LabelRule,
    ) -> Result<Self, EventError> {
        if valid_label(raw.as_bytes(), rule) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(EventError::InvalidLabel { field })
        }
    }

    /// The label text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub(crate) fn valid_label(raw: &[u8], rule: LabelRule) -> bool {
    let max = if rule == LabelRule::Code {
        MAX_CODE_LEN
    } else {
        MAX_LABEL_LEN
    };
    if raw.is_empty() || raw.len() > max {
        return false;
    }
    let mut run = 0;
    for &b in raw {
        let allowed = match rule {
            LabelRule::Code => {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'.' | b'_' | b':' | b'-')
            }
            LabelRule::Name | LabelRule::Id => {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'@' | b'-')
            }
        };
        if !allowed {
            return false;
        }
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        if rule != LabelRule::Id && run > MAX_DIGIT_RUN {
            return false;
        }
    }
    true
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            pub(crate) fn parse(text: &[u8]) -> Option<Self> {
                match text {
                    $(t if t == $text.as_bytes() => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

code_enum! {
    /// What a responder did with an alert.
    UserAction {
        /// Acknowledged.
        Ack => "ack",
        /// Took ownership.
        TakeOwnership => "take_ownership",
        /// Escalated to the next tier.
        Escalate => "escalate",
    }
}

code_enum! {
    /// What the pipeline did when the preferred route was unavailable.
    FallbackAction {
        /// Nothing was sent (fail closed).
        Blocked => "blocked",
        /// A secure one-time link was sent instead of the content.
        SecureLinkCreated => "secure_link_created",
        /// A person overrode the policy.
        UserOverride => "user_override",
    }
}

/// Details of a fallback decision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fallback {
    /// The recipient's end-to-end encryption capability as observed (e.g. `none`, `verified`).
    pub e2ee: Label,
    /// Why the preferred route was not used (e.g. `carrier_no_e2ee`).
    pub fallback_reason: Label,
    /// What was done instead.
    pub action_taken: FallbackAction,
}

/// What happened. Kind-specific details ride in the variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A message was handed to a provider.
    MessageSent,
    /// The provider reported delivery.
    Delivered,
    /// The recipient read it.
    Read,
    /// The recipient acted on the alert.
    Action(UserAction),
    /// A one-time link was issued.
    LinkIssued,
    /// A link was redeemed.
    LinkRedeemed,
    /// A redemption was refused; `reason` says why.
    LinkRejected,
    /// The pipeline fell back from the preferred route.
    Fallback(Fallback),
    /// A person overrode a policy decision; `actor` and `reason` are required.
    Override,
    /// A capability downgrade (e.g. E2EE disappeared) was detected.
    DowngradeDetected,
    /// A key was rotated.
    KeyRotated,
    /// Policy blocked a send.
    PolicyBlocked,
    /// The ticket was updated.
    TicketUpdated,
}

impl EventKind {
    /// The wire name, e.g. `"link_issued"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MessageSent => "message_sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Action(_) => "action",
            Self::LinkIssued => "link_issued",
            Self::LinkRedeemed => "link_redeemed",
            Self::LinkRejected => "link_rejected",
            Self::Fallback(_) => "fallback",
            Self::Override => "override",
            Self::DowngradeDetected => "downgrade_detected",
            Self::KeyRotated => "key_rotated",
            Self::PolicyBlocked => "policy_blocked",
            Self::TicketUpdated => "ticket_updated",
        }
    }
}

/// One audit record. Built with [`Pseudonymizer::event`]; numbered by the sink on append.
///
/// It can hold pseudonyms and keyed hashes but has no field that could hold a phone number or
/// message text, and every free-form field is a [`Label`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuditEvent {
    pub(crate) sequence: u64,
    pub(crate) time: Timestamp,
    pub(crate) kind: EventKind,
    pub(crate) alert: Option<AlertId>,
    pub(crate) recipient: Option<Pseudonym>,
    pub(crate) actor: Option<Label>,
    pub(crate) route: Option<Label>,
    pub(crate) provider: Option<Label>,
    pub(crate) link: Option<Label>,
    pub(crate) outcome: Option<Label>,
    pub(crate) reason: Option<Label>,
    pub(crate) message_hash: Option<MessageHash>,
}

impl AuditEvent {
    /// Position in the log, from 0.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }
    /// When it happened.
    pub fn time(&self) -> Timestamp {
        self.time
    }
    /// What happened.
    pub fn kind(&self) -> &EventKind {
        &self.kind
    }
    /// The alert it concerns.
    pub fn alert(&self) -> Option<&AlertId> {
        self.alert.as_ref()
    }
    /// The recipient's pseudonym.
    pub fn recipient(&self) -> Option<&Pseudonym> {
        self.recipient.as_ref()
    }
    /// Who acted (a responder id, a service).
    pub fn actor(&self) -> Option<&Label> {
        self.actor.as_ref()
    }
    /// The delivery route (e.g. `rcs_e2ee`, `sms_link`).
    pub fn route(&self) -> Option<&Label> {
        self.route.as_ref()
    }
    /// The messaging provider.
    pub fn provider(&self) -> Option<&Label> {
        self.provider.as_ref()
    }
    /// The link id.
    pub fn link(&self) -> Option<&Label> {
        self.link.as_ref()
    }
    /// The outcome code.
    pub fn outcome(&self) -> Option<&Label> {
        self.outcome.as_ref()
    }
    /// The reason code.
    pub fn reason(&self) -> Option<&Label> {
        self.reason.as_ref()
    }
    /// The keyed hash of the message plaintext.
    pub fn message_hash(&self) -> Option<&MessageHash> {
        self.message_hash.as_ref()
    }

    /// Checks the kind's required fields.
    pub(crate) fn check_required(&self) -> Result<(), EventError> {
        let kind = self.kind.name();
        let missing = |field| Err(EventError::MissingField { kind, field });
        match self.kind {
            EventKind::LinkRejected if self.reason.is_none() => missing("reason"),
            EventKind::Override if self.actor.is_none() => missing("actor"),
            EventKind::Override if self.reason.is_none() => missing("reason"),
            _ => Ok(()),
        }
    }
}

/// An event that is complete but not yet numbered; sinks assign the sequence on append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent(pub(crate) AuditEvent);

impl PendingEvent {
    /// The event's fields (its sequence reads 0 until appended).
    pub fn event(&self) -> &AuditEvent {
        &self.0
    }

    pub(crate) fn into_event(self, sequence: u64) -> AuditEvent {
        AuditEvent { sequence, ..self.0 }
    }
}

/// Builds an event. Numbers go in as `&Msisdn` and text as `&[u8]`; both are keyed-hashed
/// here, so there is no setter that stores either.
///
/// ```
/// use rcsec_audit::{AuditKey, EventKind, Pseudonymizer};
/// use rcsec_core::{AlertId, Msisdn, Secret, Timestamp};
///
/// let p = Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([1; 32])));
/// let to = Msisdn::parse("+447700900123")?;
/// let pending = p
///     .event(EventKind::MessageSent, Timestamp::from_secs(1_700_000_000))
///     .alert(AlertId::new("a1b2c3")?)
///     .recipient(&to)
///     .message(b"db password is hunter2")
///     .route("rcs_e2ee")
///     .provider("rbm")
///     .build()?;
/// assert_eq!(pending.event().recipient(), Some(&p.pseudonymize(&to)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct EventBuilder<'p> {
    pseudonymizer: &'p Pseudonymizer,
    event: AuditEvent,
    error: Option<EventError>,
}

impl<'p> EventBuilder<'p> {
    pub(crate) fn new(pseudonymizer: &'p Pseudonymizer, kind: EventKind, time: Timestamp) -> Self {
        Self {
            pseudonymizer,
            event: AuditEvent {
                sequence: 0,
                time,
                kind,
                alert: None,
                recipient: None,
                actor: None,
                route: None,
                provider: None,
                link: None,
                outcome: None,
                reason: None,
                message_hash: None,
            },
            error: None,
        }
    }

    fn label(&mut self, raw: &str, field: &'static str, rule: LabelRule) -> Option<Label> {
        match Label::checked(raw, field, rule) {
            Ok(l) => Some(l),
            Err(e) => {
                self.error.get_or_insert(e);
                None
            }
        }
    }

    /// The alert.
    pub fn alert(mut self, alert: AlertId) -> Self {
        self.event.alert = Some(alert);
        self
    }

    /// The recipient, stored only as its pseudonym under the current audit key.
    pub fn recipient(mut self, number: &Msisdn) -> Self {
        self.event.recipient = Some(self.pseudonymizer.pseudonymize(number));
        self
    }

    /// The message, stored only as its keyed hash under the current audit key.
    pub fn message(mut self, plaintext: &[u8]) -> Self {
        self.event.message_hash = Some(self.pseudonymizer.message_hash(plaintext));
        self
    }

    /// Who acted (a name [`Label`]; a responder known only by number goes in as the
    /// recipient).
    pub fn actor(mut self, actor: &str) -> Self {
        self.event.actor = self.label(actor, "actor", LabelRule::Name);
        self
    }

    /// The route (a code [`Label`], e.g. `rcs_e2ee`).
    pub fn route(mut self, route: &str) -> Self {
        self.event.route = self.label(route, "route", LabelRule::Code);
        self
    }

    /// The provider (a code [`Label`]).
    pub fn provider(mut self, provider: &str) -> Self {
        self.event.provider = self.label(provider, "provider", LabelRule::Code);
        self
    }

    /// The link id (an id [`Label`]: no digit-run rule, ids are random).
    pub fn link(mut self, link: &str) -> Self {
        self.event.link = self.label(link, "link", LabelRule::Id);
        self
    }

    /// The outcome (a code [`Label`]).
    pub fn outcome(mut self, outcome: &str) -> Self {
        self.event.outcome = self.label(outcome, "outcome", LabelRule::Code);
        self
    }

    /// The reason (a code [`Label`]).
    pub fn reason(mut self, reason: &str) -> Self {
        self.event.reason = self.label(reason, "reason", LabelRule::Code);
        self
    }

    /// Finishes the event.
    ///
    /// # Errors
    /// The first [`EventError`] met: an invalid label, or a field the kind requires.
    pub fn build(self) -> Result<PendingEvent, EventError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.event.check_required()?;
        Ok(PendingEvent(self.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pseudonym::AuditKey;
    use rcsec_core::Secret;

    fn p() -> Pseudonymizer {
        Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([3; 32])))
    }

    #[test]
    fn labels_refuse_numbers_and_unsafe_characters() {
        assert!(Label::new("carrier_no_e2ee").is_ok());
        assert!(Label::name("oncall@example.org").is_ok());
        assert!(Label::name("ticket:INC-123456").is_ok());
        assert!(Label::new("Ticket").is_err());
        assert!(Label::new("sk_live_4eC39HqLyjWDarjtT1zdp7dc").is_err());
        for bad in [
            "",
            "a b",
            "x\"y",
            "back\\slash",
            "+447700900123",
            "ref-1234567",
            "é",
        ] {
            assert!(Label::new(bad).is_err(), "{bad}");
            assert!(Label::name(bad).is_err(), "{bad}");
        }
        assert!(Label::new(&"a".repeat(65)).is_err());
        assert!(Label::name(&"a".repeat(128)).is_ok());
        assert!(Label::name(&"a".repeat(129)).is_err());
        assert!(Label::checked("AbC1234567890xyz", "link", LabelRule::Id).is_ok());
        assert!(Label::checked("AbC1234567890xyz", "actor", LabelRule::Name).is_err());
    }

    #[test]
    fn required_fields_per_kind() {
        let p = p();
        let t = Timestamp::from_secs(1);
        assert_eq!(
            p.event(EventKind::Override, t).reason("pager").build(),
            Err(EventError::MissingField {
                kind: "override",
                field: "actor"
            })
        );
        assert!(
            p.event(EventKind::Override, t)
                .actor("alice")
                .reason("x")
                .build()
                .is_ok()
        );
        assert!(p.event(EventKind::LinkRejected, t).build().is_err());
        assert_eq!(
            p.event(EventKind::Read, t)
                .reason("call +447700900123")
                .build(),
            Err(EventError::InvalidLabel { field: "reason" })
        );
    }
}
