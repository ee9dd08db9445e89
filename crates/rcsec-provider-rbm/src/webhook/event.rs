//! Decoding authenticated RBM events, and mapping them onto the pipeline's provider events.
//!
//! The decoded `message.data` is one of three JSON shapes: a user event (`senderPhoneNumber`,
//! `eventType` `DELIVERED`/`READ`/`IS_TYPING`, `eventId`, `messageId`), a server event
//! (`phoneNumber`, `eventType` `TTL_EXPIRATION_REVOKED`/`TTL_EXPIRATION_REVOKE_FAILED`,
//! `eventId`, `messageId`) or a user message (`senderPhoneNumber`, `messageId`, and `text`,
//! `suggestionResponse {postbackData, text, type}`, `userFile` or `location`). Unknown fields
//! are ignored (RBM adds some); unknown event types decode to [`RbmEventKind::Other`].
//!
//! # Answering RBM
//! RBM retries every non-200 answer with backoff for days, and one failing agent webhook delays
//! all agents of the partner. Once [`verify_signature`](super::verify_signature) has passed,
//! a decode or postback error is permanent (RBM will send the same bytes again): answer 200,
//! count it, and drop the event.

use std::fmt;

use rcsec::{ActionKind, MessageId, ProviderEvent, ProviderEventKind};
use rcsec_capability::E2ee;
use rcsec_core::{Msisdn, Redacted};
use serde::de::IgnoredAny;

use super::error::{PostbackError, WebhookError};
use super::postback::PostbackSigner;
use super::signature::VerifiedPayload;

/// Longest RBM id (`eventId`, user `messageId`) kept as a de-duplication key.
const MAX_ID_LEN: usize = 256;

/// Longest user text kept (RBM caps user text well below this).
const MAX_TEXT_LEN: usize = 8 * 1024;

/// A key identifying one RBM delivery for de-duplication: `event:<eventId>` for events,
/// `message:<messageId>` for user messages, `pubsub:<messageId>` as the last resort.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupKey(String);

impl DedupKey {
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an RBM webhook reported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RbmEventKind {
    /// Our message reached the device.
    Delivered(MessageId),
    /// Our message was read.
    Read(MessageId),
    /// The user is typing (no action).
    IsTyping,
    /// Our message expired (its `ttl`) and RBM revoked it: it was not delivered, so the
    /// fallback route should be used now.
    ExpiredRevoked(MessageId),
    /// Our message expired but revocation failed: it may or may not have been delivered.
    ExpiredRevokeFailed(MessageId),
    /// The user tapped a suggested reply or action. `postback_data` is untrusted until
    /// [`PostbackSigner::verify`] accepts it for this event's sender.
    Suggestion {
        /// The suggestion's postback data as it came back (untrusted).
        postback_data: Redacted<String>,
        /// The suggestion's label as shown to the user.
        text: Redacted<String>,
    },
    /// The user typed a message.
    Text(Redacted<String>),
    /// The user sent a file or a location (not used by rcsec).
    OtherContent,
    /// An event type this crate does not know (kept for metrics; at most 64 characters of
    /// `[A-Z_]`, otherwise `"INVALID"`).
    Other(String),
}

/// One decoded RBM event or user message.
///
/// `Debug` masks the number and prints only lengths of any user text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbmEvent {
    /// The de-duplication key (RBM delivers at least once).
    pub dedup_key: DedupKey,
    /// The user's number (`senderPhoneNumber`, or `phoneNumber` for server events).
    pub sender: Msisdn,
    /// What happened.
    pub kind: RbmEventKind,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    sender_phone_number: Option<String>,
    phone_number: Option<String>,
    event_type: Option<String>,
    event_id: Option<String>,
    message_id: Option<String>,
    text: Option<String>,
    suggestion_response: Option<RawSuggestion>,
    user_file: Option<IgnoredAny>,
    location: Option<IgnoredAny>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSuggestion {
    postback_data: Option<String>,
    text: Option<String>,
}

/// Decodes the authenticated event of a webhook request.
///
/// # Errors
/// [`WebhookError::MalformedEvent`] for bytes that are not a JSON object of the RBM shapes,
/// [`WebhookError::MissingField`] / [`WebhookError::InvalidField`] for a missing or invalid
/// number or id (including a `messageId` on `DELIVERED`/`READ`/expiry events that is not a
/// [`MessageId`] this pipeline could have sent). See the module docs for how to answer.
pub fn decode_event(payload: &VerifiedPayload) -> Result<RbmEvent, WebhookError> {
    let raw: RawEvent =
        serde_json::from_slice(payload.data()).map_err(|e| WebhookError::MalformedEvent {
            line: e.line(),
            column: e.column(),
        })?;
    let number = raw
        .sender_phone_number
        .as_deref()
        .or(raw.phone_number.as_deref())
        .filter(|n| !n.is_empty())
        .ok_or(WebhookError::MissingField("senderPhoneNumber"))?;
    // RBM sends E.164; anything else is refused rather than guessed at.
    if !number.starts_with('+') {
        return Err(WebhookError::InvalidField("senderPhoneNumber"));
    }
    let sender =
        Msisdn::parse(number).map_err(|_| WebhookError::InvalidField("senderPhoneNumber"))?;

    let ours = |id: &Option<String>| {
        let id = id
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(WebhookError::MissingField("messageId"))?;
        MessageId::new(id).map_err(|_| WebhookError::InvalidField("messageId"))
    };

    let (kind, dedup_key) = if let Some(event_type) = raw.event_type.as_deref() {
        let kind = match event_type {
            "DELIVERED" => RbmEventKind::Delivered(ours(&raw.message_id)?),
            "READ" => RbmEventKind::Read(ours(&raw.message_id)?),
            "IS_TYPING" => RbmEventKind::IsTyping,
            "TTL_EXPIRATION_REVOKED" => RbmEventKind::ExpiredRevoked(ours(&raw.message_id)?),
            "TTL_EXPIRATION_REVOKE_FAILED" => {
                RbmEventKind::ExpiredRevokeFailed(ours(&raw.message_id)?)
            }
            other => RbmEventKind::Other(sanitize_type(other)),
        };
        let key = dedup_key("event", raw.event_id.as_deref(), payload)?;
        (kind, key)
    } else {
        let kind = if let Some(suggestion) = raw.suggestion_response {
            RbmEventKind::Suggestion {
                postback_data: Redacted::new(
                    "postback_data",
                    suggestion.postback_data.filter(|p| !p.is_empty()).ok_or(
                        WebhookError::MissingField("suggestionResponse.postbackData"),
                    )?,
                ),
                text: Redacted::new("text", bounded_text(suggestion.text.unwrap_or_default())?),
            }
        } else if let Some(text) = raw.text {
            RbmEventKind::Text(Redacted::new("text", bounded_text(text)?))
        } else if raw.user_file.is_some() || raw.location.is_some() {
            RbmEventKind::OtherContent
        } else {
            return Err(WebhookError::MissingField("eventType or message content"));
        };
        let key = dedup_key("message", raw.message_id.as_deref(), payload)?;
        (kind, key)
    };
    Ok(RbmEvent {
        dedup_key,
        sender,
        kind,
    })
}

fn dedup_key(
    prefix: &str,
    id: Option<&str>,
    payload: &VerifiedPayload,
) -> Result<DedupKey, WebhookError> {
    match (id.filter(|s| !s.is_empty()), payload.pubsub_message_id()) {
        (Some(id), _) if id.len() <= MAX_ID_LEN => Ok(DedupKey(format!("{prefix}:{id}"))),
        (Some(_), _) => Err(WebhookError::InvalidField("eventId")),
        (None, Some(pubsub)) => Ok(DedupKey(format!("pubsub:{pubsub}"))),
        (None, None) => Err(WebhookError::MissingField("eventId")),
    }
}

fn bounded_text(text: String) -> Result<String, WebhookError> {
    if text.len() > MAX_TEXT_LEN {
        Err(WebhookError::InvalidField("text"))
    } else {
        Ok(text)
    }
}

fn sanitize_type(t: &str) -> String {
    if !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
        t.to_owned()
    } else {
        "INVALID".to_owned()
    }
}

/// What the pipeline should do with an RBM event.
#[derive(Clone)]
#[non_exhaustive]
pub enum Inbound {
    /// Feed to [`Orchestrator::on_event`](rcsec::Orchestrator::on_event).
    Event(ProviderEvent),
    /// Our message expired unread; `revoked` says whether RBM withdrew it (then it was
    /// certainly not delivered). Send the message's fallback route now.
    Expired {
        /// Our message.
        message: MessageId,
        /// Whether the revocation succeeded.
        revoked: bool,
    },
    /// A free-text message from the user (not tied to one of our messages by RBM); redact
    /// before it goes anywhere.
    UserText(Redacted<String>),
    /// Nothing to do (typing indicators, files, unknown event types); the reason is a fixed
    /// code for metrics.
    Ignored(&'static str),
}

impl fmt::Debug for Inbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Event(e) => f.debug_tuple("Event").field(e).finish(),
            Self::Expired { message, revoked } => f
                .debug_struct("Expired")
                .field("message", message)
                .field("revoked", revoked)
                .finish(),
            Self::UserText(t) => f.debug_tuple("UserText").field(t).finish(),
            Self::Ignored(r) => f.debug_tuple("Ignored").field(r).finish(),
        }
    }
}

impl RbmEvent {
    /// Maps the event onto the pipeline, verifying suggestion postbacks against this event's
    /// sender.
    ///
    /// Delivery is reported with [`E2ee::Unverified`]: RCS Business Messaging is not end-to-end
    /// encrypted, whatever the user's own chats use.
    ///
    /// # Errors
    /// A [`PostbackError`] when a suggestion's postback data is not one we minted for this
    /// sender (forged, altered or forwarded): audit it, and do not act on it.
    pub fn into_inbound(self, postbacks: &PostbackSigner) -> Result<Inbound, PostbackError> {
        Ok(match self.kind {
            RbmEventKind::Delivered(message) => Inbound::Event(ProviderEvent::new(
                message,
                ProviderEventKind::Delivered {
                    e2ee: E2ee::Unverified,
                },
            )),
            RbmEventKind::Read(message) => {
                Inbound::Event(ProviderEvent::new(message, ProviderEventKind::Read))
            }
            RbmEventKind::ExpiredRevoked(message) => Inbound::Expired {
                message,
                revoked: true,
            },
            RbmEventKind::ExpiredRevokeFailed(message) => Inbound::Expired {
                message,
                revoked: false,
            },
            RbmEventKind::Suggestion { postback_data, .. } => {
                let postback = postbacks.verify(postback_data.expose(), &self.sender)?;
                Inbound::Event(ProviderEvent::new(
                    postback.message,
                    ProviderEventKind::Action(postback.action),
                ))
            }
            RbmEventKind::Text(text) => Inbound::UserText(text),
            RbmEventKind::IsTyping => Inbound::Ignored("is_typing"),
            RbmEventKind::OtherContent => Inbound::Ignored("other_content"),
            RbmEventKind::Other(_) => Inbound::Ignored("unknown_event"),
        })
    }
}

/// The suggestion actions a message offers, for building its `suggestions` (used by the
/// sender side too, so both agree on labels).
pub fn action_label(action: ActionKind) -> &'static str {
    match action {
        ActionKind::Acknowledge => "Acknowledge",
        ActionKind::TakeOwnership => "Take ownership",
        ActionKind::Escalate => "Escalate",
    }
}

#[cfg(test)]
impl DedupKey {
    pub(crate) fn for_tests(s: &str) -> Self {
        Self(s.to_owned())
    }
}
