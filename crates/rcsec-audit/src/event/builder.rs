//! The event builder: the only way to make an event, and the place numbers and plaintext are
//! turned into keyed hashes.

use rcsec_core::{AlertId, Msisdn, Timestamp};

use super::{AuditEvent, EventError, EventKind, Label, LabelRule, PendingEvent};
use crate::pseudonym::Pseudonymizer;

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
