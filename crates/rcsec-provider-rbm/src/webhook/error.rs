//! Why an inbound RBM webhook request or postback was refused.
//!
//! Messages name the failing check only: never the body, the token, a phone number or the
//! user's text, so they can go into logs and HTTP error bodies as they are.

/// Why a webhook request was refused. A daemon answers every variant with a 4xx (RBM retries
/// non-2xx answers for days, so a forged or broken request must not be answered 5xx).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The body is larger than [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES).
    #[error("webhook body is too large")]
    BodyTooLarge,
    /// No `X-Goog-Signature` header.
    #[error("webhook request has no X-Goog-Signature header")]
    MissingSignature,
    /// The header is not base64 of a 64-byte HMAC-SHA512 tag.
    #[error("X-Goog-Signature is not a base64 HMAC-SHA512 tag")]
    MalformedSignature,
    /// The tag does not match (or a registration check presented another client token).
    #[error("webhook signature does not verify")]
    BadSignature,
    /// The client token is empty.
    #[error("client token is empty")]
    EmptyClientToken,
    /// The body is not a JSON envelope with `message.data`.
    #[error("webhook envelope is malformed at line {line}, column {column}")]
    MalformedEnvelope {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// `message.data` is not base64.
    #[error("webhook message data is not base64")]
    MalformedData,
    /// The (authenticated) event is not JSON of the expected shape.
    #[error("webhook event is malformed at line {line}, column {column}")]
    MalformedEvent {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A field the event kind requires is missing or empty.
    #[error("webhook event lacks {0}")]
    MissingField(&'static str),
    /// A field is present but invalid (a phone number that is not E.164, an over-long id).
    #[error("webhook event has an invalid {0}")]
    InvalidField(&'static str),
    /// A bug: an invariant did not hold.
    #[error("internal webhook error: {0}")]
    Internal(&'static str),
}

/// Why suggestion postback data was refused. Postback data comes back from the user's phone
/// through RBM: it is untrusted input even inside a signed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PostbackError {
    /// Not postback data this crate minted (wrong shape, version, action or id).
    #[error("postback data is malformed")]
    Malformed,
    /// Minted under a key id that is not configured (rotated out, or forged).
    #[error("postback data names an unknown key")]
    UnknownKey,
    /// The tag does not verify for this alert, message and recipient: forged, altered, or
    /// tapped by someone other than the recipient it was sent to.
    #[error("postback data does not verify")]
    BadTag,
    /// Minting was asked for ids that cannot be carried.
    #[error("postback ids cannot be encoded")]
    Unencodable,
}
