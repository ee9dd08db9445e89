//! The message the pipeline hands to a provider, as stored in the outbox first.

use std::fmt;

use rcsec_core::Route;
use rcsec_core::{AlertId, Msisdn, Redacted, Timestamp};

/// The idempotency key of one outbound message.
///
/// Stable across retries and failovers: providers that de-duplicate (RCS Business Messaging's
/// `messageId`) see the same key on every attempt, so a retry after an ambiguous failure never
/// pages someone twice. At most 64 characters of `[A-Za-z0-9_-]`, so it fits any provider's id
/// field and URL.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageId(String);

/// A string that is not a valid [`MessageId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("message id must be 1-64 characters of [A-Za-z0-9_-]")]
pub struct InvalidMessageId;

impl MessageId {
    /// Validates and wraps an id.
    ///
    /// # Errors
    /// [`InvalidMessageId`] when empty, longer than 64 or outside `[A-Za-z0-9_-]`.
    pub fn new(raw: impl Into<String>) -> Result<Self, InvalidMessageId> {
        let raw = raw.into();
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(raw))
        } else {
            Err(InvalidMessageId)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MessageId {
    type Error = InvalidMessageId;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::new(raw)
    }
}

impl From<MessageId> for String {
    fn from(id: MessageId) -> Self {
        id.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", self.0)
    }
}

/// A one-tap action offered with an alert (an RCS suggested reply, a push action button).
///
/// Deliberately exhaustive: each action has a wire code in MAC-bound postbacks and a label on
/// every provider, so a new action must fail to compile in each adapter until it has both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// "I've got it": stops paging.
    Acknowledge,
    /// Become the owner of the incident (and its ticket).
    TakeOwnership,
    /// Page the next responder now.
    Escalate,
}

impl ActionKind {
    /// `acknowledge`, `take_ownership` or `escalate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::TakeOwnership => "take_ownership",
            Self::Escalate => "escalate",
        }
    }
}

/// What a message carries, already shaped for its route by the policy.
///
/// Non-exhaustive: new body kinds will come with new routes (rich cards, MLS application
/// messages), and a provider must refuse what it does not know
/// ([`SendError::Rejected`](crate::SendError::Rejected)), not guess.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageBody {
    /// Text for an RCS route: full text on `RcsE2ee`, redacted text plus links on `RcsPlain`.
    /// `actions` become suggested replies whose postback data the pipeline MACs.
    Text {
        /// The text to show.
        #[serde(with = "redacted_string")]
        text: Redacted<String>,
        /// Suggested one-tap actions.
        actions: Vec<ActionKind>,
    },
    /// SMS: the policy's fixed template plus a one-time link, nothing else.
    Sms {
        /// The complete SMS text.
        #[serde(with = "redacted_string")]
        text: Redacted<String>,
    },
    /// App-encrypted payload (an MLS PrivateMessage) for the push route; the push gateway sees
    /// ciphertext only.
    Encrypted {
        /// The serialized ciphertext.
        #[serde(with = "hex_bytes")]
        ciphertext: Vec<u8>,
    },
}

/// Fewest bytes an AEAD ciphertext can have: a 16-byte tag and one byte of payload.
const MIN_CIPHERTEXT_BYTES: usize = 17;

impl MessageBody {
    /// Whether this body may travel on `route`: [`Text`](Self::Text) on the RCS routes,
    /// [`Sms`](Self::Sms) on `sms_link`, [`Encrypted`](Self::Encrypted) on `encrypted_push`,
    /// nothing on `blocked`.
    ///
    /// Providers check this before anything leaves (the conformance suite holds them to it):
    /// the policy shapes bodies for their route, so a mismatch is a wiring bug, and the one
    /// place it can still be stopped is the adapter. As defence in depth an "encrypted" body
    /// that is too short to be an AEAD ciphertext, or that reads as text, does not fit either:
    /// ciphertext of any useful length is printable UTF-8 with negligible probability, while
    /// alert text put there by mistake always is.
    pub fn fits(&self, route: Route) -> bool {
        match (route, self) {
            (Route::RcsE2ee | Route::RcsPlain, Self::Text { .. })
            | (Route::SmsLink, Self::Sms { .. }) => true,
            (Route::EncryptedPush, Self::Encrypted { ciphertext }) => {
                ciphertext.len() >= MIN_CIPHERTEXT_BYTES && !reads_as_text(ciphertext)
            }
            _ => false,
        }
    }
}

/// Whether `bytes` reads as text: valid UTF-8 without control characters other than
/// whitespace.
fn reads_as_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .is_ok_and(|s| s.chars().all(|c| !c.is_control() || c.is_whitespace()))
}

impl fmt::Debug for MessageBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text { text, actions } => f
                .debug_struct("Text")
                .field("text", text)
                .field("actions", actions)
                .finish(),
            Self::Sms { text } => f.debug_struct("Sms").field("text", text).finish(),
            Self::Encrypted { ciphertext } => f
                .debug_struct("Encrypted")
                .field("len", &ciphertext.len())
                .finish(),
        }
    }
}

/// One message to one recipient over one route.
///
/// `Debug` masks the number and prints only lengths of the content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    /// Idempotency key, stable across retries and failovers.
    pub id: MessageId,
    /// The alert this message is about.
    pub alert: AlertId,
    /// Who receives it.
    pub recipient: Msisdn,
    /// The route the policy chose; providers that cannot carry it refuse the message.
    pub route: Route,
    /// The content, shaped for the route.
    pub body: MessageBody,
    /// When it was created.
    pub created_at: Timestamp,
    /// After this it is not sent any more (it ends `expired`): a page that arrives an hour late
    /// does more harm than good.
    pub expires_at: Timestamp,
}

/// Why stored message bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageDecodeError {
    /// Not the JSON shape [`OutboundMessage::encode`] writes.
    #[error("stored message is malformed at line {line}, column {column}")]
    Malformed {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A field failed validation (number, ids, route).
    #[error("stored message has an invalid {0}")]
    Invalid(&'static str),
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredMessage {
    v: u8,
    id: MessageId,
    alert: AlertId,
    recipient: String,
    route: String,
    body: MessageBody,
    created_at: Timestamp,
    expires_at: Timestamp,
}

impl OutboundMessage {
    /// Serializes the message for an outbox row.
    ///
    /// # Security
    /// The bytes contain the recipient's full number and the message content (redacted text or
    /// ciphertext): they are operational state for the sender, so stores must keep them out of
    /// logs and audit records, and delete them once the message is terminal and past retention.
    pub fn encode(&self) -> Vec<u8> {
        let stored = StoredMessage {
            v: 1,
            id: self.id.clone(),
            alert: self.alert.clone(),
            recipient: self.recipient.expose_e164().to_owned(),
            route: self.route.as_str().to_owned(),
            body: self.body.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
        };
        // Serializing plain strings, numbers and byte vectors cannot fail.
        serde_json::to_vec(&stored).unwrap_or_default()
    }

    /// Decodes bytes written by [`OutboundMessage::encode`].
    ///
    /// # Errors
    /// [`MessageDecodeError`] for bytes that are not a stored message.
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageDecodeError> {
        let stored: StoredMessage =
            serde_json::from_slice(bytes).map_err(|e| MessageDecodeError::Malformed {
                line: e.line(),
                column: e.column(),
            })?;
        if stored.v != 1 {
            return Err(MessageDecodeError::Invalid("version"));
        }
        let recipient = Msisdn::parse(&stored.recipient)
            .map_err(|_| MessageDecodeError::Invalid("recipient"))?;
        let route = stored
            .route
            .parse::<Route>()
            .map_err(|_| MessageDecodeError::Invalid("route"))?;
        Ok(Self {
            id: stored.id,
            alert: stored.alert,
            recipient,
            route,
            body: stored.body,
            created_at: stored.created_at,
            expires_at: stored.expires_at,
        })
    }
}

mod redacted_string {
    use rcsec_core::Redacted;

    pub(super) fn serialize<S: serde::Serializer>(
        v: &Redacted<String>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.expose())
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Redacted<String>, D::Error> {
        Ok(Redacted::new(
            "text",
            <String as serde::Deserialize>::deserialize(d)?,
        ))
    }
}

mod hex_bytes {
    pub(super) fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        hex::decode(text).map_err(|_| serde::de::Error::custom("invalid hex"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> OutboundMessage {
        OutboundMessage {
            id: MessageId::new("m-1_a").unwrap(),
            alert: AlertId::new("c4a1b2d3e4f50617").unwrap(),
            recipient: Msisdn::parse("+447700900123").unwrap(),
            route: Route::RcsPlain,
            body: MessageBody::Text {
                text: Redacted::new("text", "disk full on db-1 [redacted password]".into()),
                actions: vec![ActionKind::Acknowledge, ActionKind::Escalate],
            },
            created_at: Timestamp::from_secs(1_000),
            expires_at: Timestamp::from_secs(4_600),
        }
    }

    #[test]
    fn encode_decode_round_trip_for_every_body() {
        let mut m = sample();
        assert_eq!(OutboundMessage::decode(&m.encode()).unwrap(), m);
        m.body = MessageBody::Sms {
            text: Redacted::new("text", "ALERT P1: open https://x/l/abc".into()),
        };
        m.route = Route::SmsLink;
        assert_eq!(OutboundMessage::decode(&m.encode()).unwrap(), m);
        m.body = MessageBody::Encrypted {
            ciphertext: vec![0, 1, 2, 255],
        };
        m.route = Route::EncryptedPush;
        assert_eq!(OutboundMessage::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn decode_rejects_tampered_rows() {
        let good = String::from_utf8(sample().encode()).unwrap();
        for (from, to, what) in [
            ("+447700900123", "+44 FLOWERS", "recipient"),
            ("rcs_plain", "carrier_pigeon", "route"),
            ("\"v\":1", "\"v\":9", "version"),
        ] {
            let bad = good.replace(from, to);
            assert_eq!(
                OutboundMessage::decode(bad.as_bytes()),
                Err(MessageDecodeError::Invalid(what))
            );
        }
        assert!(matches!(
            OutboundMessage::decode(b"{"),
            Err(MessageDecodeError::Malformed { .. })
        ));
        assert!(OutboundMessage::decode(good.replace("m-1_a", "m 1").as_bytes()).is_err());
    }

    #[test]
    fn bodies_fit_only_their_routes() {
        let text = sample().body;
        let sms = MessageBody::Sms {
            text: Redacted::new("text", "P1: https://x/l/abc".into()),
        };
        let sealed = MessageBody::Encrypted {
            ciphertext: (0u8..=255).rev().take(64).collect(),
        };
        assert!(text.fits(Route::RcsE2ee) && text.fits(Route::RcsPlain));
        assert!(sms.fits(Route::SmsLink) && sealed.fits(Route::EncryptedPush));
        for route in [Route::SmsLink, Route::EncryptedPush, Route::Blocked] {
            assert!(!text.fits(route), "{route}");
        }
        for route in [Route::RcsE2ee, Route::RcsPlain, Route::EncryptedPush] {
            assert!(!sms.fits(route), "{route}");
        }
        assert!(!sealed.fits(Route::RcsPlain) && !sealed.fits(Route::Blocked));
        for plaintext in [
            &b"db-1 root password: hunter2, rotate it now please"[..],
            &[0x8f; 16],
        ] {
            let body = MessageBody::Encrypted {
                ciphertext: plaintext.to_vec(),
            };
            assert!(!body.fits(Route::EncryptedPush), "{body:?}");
        }
    }

    #[test]
    fn debug_hides_number_and_content() {
        let rendered = format!("{:?}", sample());
        assert!(!rendered.contains("7700900"));
        assert!(!rendered.contains("disk full"));
        assert!(MessageId::new("x".repeat(65)).is_err());
        assert_eq!("sms_link".parse::<Route>(), Ok(Route::SmsLink));
    }
}
