//! What the orchestrator tells its caller: per-recipient outcomes, escalation state, ticks.

use std::fmt;

use rcsec_core::{AlertId, Msisdn, Redacted, Timestamp};
use rcsec_link::LinkId;
use rcsec_link::sealed::LinkUrl;
use rcsec_policy::{FallbackReason, Indicator, Route};

use crate::provider::DeliveryId;
use crate::ticket::TicketId;

/// What happened to an alert as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlertOutcome {
    /// Responders were paged (see the deliveries).
    Paged,
    /// A repeat of a firing alert inside the dedup window: nobody was paged.
    Deduplicated,
    /// The alert resolved: its links were revoked and follow-ups sent.
    Resolved {
        /// Links revoked.
        links_revoked: usize,
    },
}

/// Where one message stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// A provider accepted it.
    Sent {
        /// Which provider.
        provider: String,
        /// The provider's id.
        delivery: DeliveryId,
    },
    /// Every provider failed for now; it is retried on a later [`tick`](super::Orchestrator::tick).
    Retrying {
        /// Attempts so far.
        attempts: u32,
    },
    /// Given up (audited).
    Failed {
        /// Reason code.
        reason: String,
    },
    /// Not sent before its expiry (audited).
    Expired,
    /// The policy allows no route (audited).
    Blocked,
    /// Held by quiet hours until the given time.
    Held {
        /// Release time.
        until: Timestamp,
    },
    /// Over the recipient's rate limit: not paged (audited).
    RateLimited,
}

/// What the message carried, as much as may be shown to an operator.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SentContent {
    /// Nothing was sent.
    Nothing,
    /// The full alert over an end-to-end encrypted RCS route (only its length is shown).
    FullText {
        /// Characters.
        chars: usize,
    },
    /// Redacted text over unencrypted RCS (contains link URLs: treat as sensitive).
    Redacted(Redacted<String>),
    /// The SMS template and link (contains a link URL: treat as sensitive).
    Sms(Redacted<String>),
    /// An encrypted push envelope.
    Envelope {
        /// Ciphertext bytes.
        bytes: usize,
        /// The protector that made it.
        protector: String,
    },
}

/// One link issued with a page.
pub struct IssuedLinkInfo {
    /// The link id (safe to log).
    pub link_id: LinkId,
    /// `details` for the alert text, or the artifact's file name.
    pub purpose: String,
    /// The full URL with the key in the fragment. Sensitive: never log it.
    pub url: LinkUrl,
    /// Expiry.
    pub expires_at: Timestamp,
}

impl fmt::Debug for IssuedLinkInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedLinkInfo")
            .field("link_id", &self.link_id)
            .field("purpose", &self.purpose)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The outcome for one responder.
#[derive(Debug)]
pub struct Delivery {
    /// Who (masked when formatted).
    pub recipient: Msisdn,
    /// Their display name.
    pub name: String,
    /// Escalation step they were paged at.
    pub step: u32,
    /// The route the policy chose (`Blocked` when nothing may be sent).
    pub route: Route,
    /// Why the best route was not used.
    pub fallback_reason: Option<FallbackReason>,
    /// The traffic light.
    pub indicator: Indicator,
    /// The policy's sentence.
    pub explanation: String,
    /// Where the message stands.
    pub status: DeliveryStatus,
    /// What it carried.
    pub content: SentContent,
    /// Links issued with it.
    pub links: Vec<IssuedLinkInfo>,
    /// The outbox id, when a message was enqueued.
    pub message_id: Option<crate::message::MessageId>,
}

/// The outcome of [`handle_alert`](super::Orchestrator::handle_alert).
#[derive(Debug)]
pub struct AlertReport {
    /// The alert.
    pub alert: AlertId,
    /// What happened overall.
    pub outcome: AlertOutcome,
    /// One entry per responder paged now (or follow-up sent).
    pub deliveries: Vec<Delivery>,
}

/// Where an alert's escalation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationView {
    /// Current step index.
    pub step: usize,
    /// Completed loops through the chain.
    pub round: u32,
    /// Someone acknowledged (or took ownership).
    pub acknowledged: bool,
    /// The alert resolved.
    pub resolved: bool,
    /// When the next step is paged if nobody acknowledges.
    pub next_escalation: Option<Timestamp>,
    /// The ticket.
    pub ticket: Option<TicketId>,
}

/// What one [`tick`](super::Orchestrator::tick) did.
#[derive(Debug, Default)]
pub struct TickReport {
    /// Pages sent because an acknowledgement timed out.
    pub escalated: Vec<Delivery>,
    /// Pages released at the end of quiet hours.
    pub released: Vec<Delivery>,
    /// Messages sent on retry.
    pub retried_sent: usize,
    /// Messages that ended failed on this tick.
    pub failed: usize,
    /// Messages that expired on this tick.
    pub expired: usize,
    /// Claims this tick could not record because their lease ran out and another worker
    /// claimed the message meanwhile (that worker records the outcome).
    pub superseded: usize,
}
