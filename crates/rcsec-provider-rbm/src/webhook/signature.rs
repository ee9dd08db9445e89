//! `X-Goog-Signature` verification: the gate every RBM webhook request passes before its event
//! is looked at.
//!
//! RBM posts a Pub/Sub-style envelope `{"message": {"data": "<base64 event JSON>", "messageId":
//! …}, "subscription": …}` and signs the *decoded* `message.data` with HMAC-SHA512 under the
//! agent's client token, base64 in the `X-Goog-Signature` header. So the envelope must be read
//! to find the signed bytes, but the event inside is not parsed until the tag has been checked:
//! an unauthenticated sender never reaches the event decoder.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rcsec_core::Secret;
use sha2::Sha512;
use subtle::ConstantTimeEq;

use super::error::WebhookError;

/// Largest request body accepted, in bytes. RBM events are a few hundred bytes; a user text
/// message is at most a few KiB. Anything far larger is not from RBM and is refused before any
/// parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The agent's webhook client token, configured in the RBM developer console.
///
/// It is both the HMAC key for `X-Goog-Signature` and the value RBM presents once when the
/// webhook is registered. Zeroized on drop; `Debug` prints its length only.
#[derive(Clone)]
pub struct ClientToken(Secret<Vec<u8>>);

impl ClientToken {
    /// Wraps the token as configured.
    ///
    /// # Errors
    /// [`WebhookError::EmptyClientToken`] for an empty token: an empty HMAC key would let
    /// anyone who knows that forge events.
    pub fn new(token: impl Into<Vec<u8>>) -> Result<Self, WebhookError> {
        let token = token.into();
        if token.is_empty() {
            return Err(WebhookError::EmptyClientToken);
        }
        Ok(Self(Secret::new(token)))
    }

    fn bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// The signature RBM would send for `data` (tests and fake servers).
    pub fn sign(&self, data: &[u8]) -> String {
        self.mac(data)
            .map(|mac| STANDARD.encode(mac.finalize().into_bytes()))
            .unwrap_or_default()
    }

    fn mac(&self, data: &[u8]) -> Result<Hmac<Sha512>, WebhookError> {
        // HMAC takes keys of any length, so this error is unreachable in practice.
        let mut mac = <Hmac<Sha512> as hmac::KeyInit>::new_from_slice(self.bytes())
            .map_err(|_| WebhookError::Internal("hmac key rejected"))?;
        mac.update(data);
        Ok(mac)
    }
}

impl fmt::Debug for ClientToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientToken")
            .field("len", &self.bytes().len())
            .finish_non_exhaustive()
    }
}

/// The authenticated content of one webhook request: the decoded event bytes and the Pub/Sub
/// message id.
///
/// Only [`verify_signature`] makes one, so holding a `VerifiedPayload` proves the signature
/// was checked; [`decode_event`](super::decode_event) takes nothing else.
pub struct VerifiedPayload {
    data: Vec<u8>,
    pubsub_message_id: Option<String>,
}

impl VerifiedPayload {
    /// The decoded `message.data`: the event JSON (authenticated, not yet parsed).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The envelope's `message.messageId` (Pub/Sub's delivery id), if present: the
    /// de-duplication key of last resort.
    pub fn pubsub_message_id(&self) -> Option<&str> {
        self.pubsub_message_id.as_deref()
    }
}

impl fmt::Debug for VerifiedPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedPayload")
            .field("data_len", &self.data.len())
            .field("pubsub_message_id", &self.pubsub_message_id)
            .finish()
    }
}

#[derive(serde::Deserialize)]
struct Envelope {
    message: EnvelopeMessage,
}

#[derive(serde::Deserialize)]
struct EnvelopeMessage {
    data: String,
    #[serde(rename = "messageId", default)]
    message_id: Option<String>,
}

/// Checks an RBM webhook request's `X-Goog-Signature` and returns the authenticated event
/// bytes.
///
/// `signature` is the header value (`None` when the header is absent), `body` the raw request
/// body. Steps, in order: size limit; read the envelope (only `message.data` and
/// `message.messageId`); base64-decode the data; HMAC-SHA512 under the client token; compare
/// with the header in constant time. The event JSON is not parsed here.
///
/// # Errors
/// [`WebhookError::BodyTooLarge`], [`WebhookError::MissingSignature`],
/// [`WebhookError::MalformedSignature`], [`WebhookError::MalformedEnvelope`],
/// [`WebhookError::MalformedData`], [`WebhookError::BadSignature`]. A daemon should answer
/// all of them with a 4xx and not process the request.
pub fn verify_signature(
    token: &ClientToken,
    signature: Option<&str>,
    body: &[u8],
) -> Result<VerifiedPayload, WebhookError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(WebhookError::BodyTooLarge);
    }
    let signature = signature.ok_or(WebhookError::MissingSignature)?;
    let expected = STANDARD
        .decode(signature.trim().as_bytes())
        .map_err(|_| WebhookError::MalformedSignature)?;
    if expected.len() != 64 {
        return Err(WebhookError::MalformedSignature);
    }
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| WebhookError::MalformedEnvelope {
            line: e.line(),
            column: e.column(),
        })?;
    let data = STANDARD
        .decode(envelope.message.data.as_bytes())
        .map_err(|_| WebhookError::MalformedData)?;
    // `verify_slice` compares in constant time.
    token
        .mac(&data)?
        .verify_slice(&expected)
        .map_err(|_| WebhookError::BadSignature)?;
    Ok(VerifiedPayload {
        data,
        pubsub_message_id: envelope
            .message
            .message_id
            .filter(|id| !id.is_empty() && id.len() <= 128),
    })
}

#[derive(serde::Deserialize)]
struct Registration {
    #[serde(rename = "clientToken")]
    client_token: String,
    secret: String,
}

/// Answers RBM's one-time webhook registration check.
///
/// When a webhook is configured, RBM posts `{"clientToken": "…", "secret": "…"}` (no
/// signature) and expects `200` with the secret as the body. Returns `Ok(Some(secret))` when
/// the body is such a request carrying our client token (compared in constant time),
/// `Ok(None)` when the body is not a registration request (then it must go through
/// [`verify_signature`]).
///
/// # Errors
/// [`WebhookError::BodyTooLarge`]; [`WebhookError::BadSignature`] when the presented client
/// token is not ours.
pub fn registration_secret(
    token: &ClientToken,
    body: &[u8],
) -> Result<Option<Secret<String>>, WebhookError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(WebhookError::BodyTooLarge);
    }
    let Ok(registration) = serde_json::from_slice::<Registration>(body) else {
        return Ok(None);
    };
    let presented = Secret::new(registration.client_token.into_bytes());
    let secret = Secret::new(registration.secret);
    if bool::from(presented.expose_secret().ct_eq(token.bytes())) {
        Ok(Some(secret))
    } else {
        Err(WebhookError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn envelope(data: &[u8]) -> Vec<u8> {
        format!(
            r#"{{"message":{{"attributes":{{}},"data":"{}","messageId":"pubsub-1","publishTime":"2026-11-22T04:00:00Z"}},"subscription":"projects/p/subscriptions/s"}}"#,
            STANDARD.encode(data)
        )
        .into_bytes()
    }

    #[test]
    fn accepts_a_correct_signature_and_returns_the_decoded_data() {
        let token = ClientToken::new("SJENCPGJESMGUFPY").unwrap();
        let data = br#"{"eventType":"DELIVERED"}"#;
        let sig = token.sign(data);
        let verified = verify_signature(&token, Some(&sig), &envelope(data)).unwrap();
        assert_eq!(verified.data(), data);
        assert_eq!(verified.pubsub_message_id(), Some("pubsub-1"));
    }

    #[test]
    fn every_failure_mode_has_its_error() {
        let token = ClientToken::new("SJENCPGJESMGUFPY").unwrap();
        let other = ClientToken::new("ANOTHERTOKEN").unwrap();
        let data = br#"{"eventType":"READ"}"#;
        let body = envelope(data);
        let good = token.sign(data);
        assert_eq!(
            verify_signature(&token, None, &body).unwrap_err(),
            WebhookError::MissingSignature
        );
        assert_eq!(
            verify_signature(&token, Some("not base64!"), &body).unwrap_err(),
            WebhookError::MalformedSignature
        );
        assert_eq!(
            verify_signature(&token, Some(&STANDARD.encode([1u8; 32])), &body).unwrap_err(),
            WebhookError::MalformedSignature
        );
        assert_eq!(
            verify_signature(&token, Some(&other.sign(data)), &body).unwrap_err(),
            WebhookError::BadSignature
        );
        assert_eq!(
            verify_signature(&token, Some(&good), &envelope(br#"{"eventType":"RED"}"#))
                .unwrap_err(),
            WebhookError::BadSignature
        );
        assert!(matches!(
            verify_signature(&token, Some(&good), b"{\"message\":").unwrap_err(),
            WebhookError::MalformedEnvelope { .. }
        ));
        assert_eq!(
            verify_signature(&token, Some(&good), br#"{"message":{"data":"%%%"}}"#).unwrap_err(),
            WebhookError::MalformedData
        );
        let huge = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            verify_signature(&token, Some(&good), &huge).unwrap_err(),
            WebhookError::BodyTooLarge
        );
        assert_eq!(
            ClientToken::new("").unwrap_err(),
            WebhookError::EmptyClientToken
        );
    }

    #[test]
    fn registration_check_answers_only_for_our_token() {
        let token = ClientToken::new("SJENCPGJESMGUFPY").unwrap();
        let ok = registration_secret(
            &token,
            br#"{"clientToken":"SJENCPGJESMGUFPY","secret":"1234567890"}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(ok.expose_secret(), "1234567890");
        assert_eq!(
            registration_secret(&token, br#"{"clientToken":"WRONG","secret":"1"}"#).unwrap_err(),
            WebhookError::BadSignature
        );
        assert!(
            registration_secret(&token, &envelope(b"{}"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn debug_never_shows_the_token_or_the_data() {
        let token = ClientToken::new("CANARY-TOKEN-123").unwrap();
        let data = b"CANARY-DATA";
        let verified = verify_signature(&token, Some(&token.sign(data)), &envelope(data)).unwrap();
        let rendered = format!("{token:?} {verified:?}");
        assert!(!rendered.contains("CANARY"), "{rendered}");
    }
}
