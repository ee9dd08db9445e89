//! The inbound side: RBM's webhook, as a library a daemon mounts on its HTTP route.
//!
//! Per request, in this order:
//! 1. [`registration_secret`]: answer RBM's one-time webhook registration check.
//! 2. [`verify_signature`]: check `X-Goog-Signature` over the decoded `message.data` before
//!    anything else is parsed; refuse with a 4xx on failure.
//! 3. [`decode_event`]: the typed event ([`RbmEvent`]).
//! 4. [`Deduplicator::check`] on [`RbmEvent::dedup_key`]: drop duplicates.
//! 5. Answer 200 at once, and process from a queue: [`RbmEvent::into_inbound`] verifies
//!    suggestion postbacks (minted with [`PostbackSigner::mint`] when the message was sent)
//!    against the event's sender and yields what the pipeline should do ([`Inbound`]).
//!
//! ```
//! # use rcsec_provider_rbm::webhook::*;
//! # use rcsec_core::{Secret, Timestamp};
//! # use std::time::Duration;
//! # use base64::Engine;
//! let token = ClientToken::new("SJENCPGJESMGUFPY")?;
//! let postbacks = PostbackSigner::new(PostbackKey::new(1, Secret::new([7; 32])), Vec::new());
//! let dedup = Deduplicator::new(Duration::from_secs(86_400), 100_000);
//! # let data = br#"{"senderPhoneNumber":"+447700900123","eventType":"READ","eventId":"e1","messageId":"m-1"}"#;
//! # let body = format!(r#"{{"message":{{"data":"{}"}}}}"#,
//! #     base64::engine::general_purpose::STANDARD.encode(data));
//! # let header = token.sign(data);
//! // In the handler, with the raw body and the header value:
//! let payload = verify_signature(&token, Some(&header), body.as_bytes())?;
//! let event = decode_event(&payload)?;
//! if dedup.check(&event.dedup_key, Timestamp::from_secs(1_800_000_000)) == Seen::First {
//!     match event.into_inbound(&postbacks)? {
//!         Inbound::Event(e) => { /* orchestrator.on_event(e).await */ }
//!         Inbound::Expired { .. } => { /* send the fallback route now */ }
//!         _ => {}
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dedup;
mod error;
mod event;
mod postback;
mod signature;

pub use dedup::{Deduplicator, Seen};
pub use error::{PostbackError, WebhookError};
pub use event::{DedupKey, Inbound, RbmEvent, RbmEventKind, action_label, decode_event};
pub use postback::{Postback, PostbackKey, PostbackSigner};
pub use signature::{
    ClientToken, MAX_BODY_BYTES, VerifiedPayload, registration_secret, verify_signature,
};
