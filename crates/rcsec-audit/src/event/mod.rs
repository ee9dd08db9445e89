//! The audit event schema and the builder that keeps numbers and plaintext out of it.

mod builder;
mod label;

pub use builder::EventBuilder;
pub use label::Label;
pub(crate) use label::{ByteSet, LabelRule, label_bytes, valid_label};

use rcsec_core::{AlertId, Timestamp};

use crate::pseudonym::{MessageHash, Pseudonym};

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
    /// A send failed for good (every route and retry exhausted); `reason` says why.
    Failed,
    /// Something timed out unused: a message's delivery window or a link's lifetime.
    Expired,
    /// A send was deferred, not dropped (quiet hours, a rate limit); `reason` says why.
    Held,
    /// A link was revoked before use (alert resolved, operator action); `link` names it.
    LinkRevoked,
    /// An inbound provider webhook was refused as forged or misdirected (a bad signature, a
    /// postback whose MAC does not bind to its alert and recipient); `reason` says why and
    /// `provider` names the webhook.
    WebhookRejected,
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
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Held => "held",
            Self::LinkRevoked => "link_revoked",
            Self::WebhookRejected => "webhook_rejected",
        }
    }
}

/// One audit record. Built with [`Pseudonymizer::event`](crate::Pseudonymizer::event); numbered by
/// the sink on append.
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
            EventKind::LinkRejected
            | EventKind::Failed
            | EventKind::Held
            | EventKind::WebhookRejected
                if self.reason.is_none() =>
            {
                missing("reason")
            }
            EventKind::LinkRevoked if self.link.is_none() => missing("link"),
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
