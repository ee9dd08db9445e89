//! Entry points for the cargo-fuzz targets in `fuzz/` (not a stable API).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcsec_core::{Msisdn, Secret};

use crate::webhook::{
    ClientToken, PostbackKey, PostbackSigner, decode_event, registration_secret, verify_signature,
};

/// Feeds arbitrary bytes through the inbound webhook: as a raw request body (with a signature
/// over the body itself, and with none), as the signed `message.data` of a well-formed
/// envelope, and as postback data. Never panics; a correctly signed envelope always verifies
/// and yields exactly the bytes that were signed; whatever decodes never shows the sender's
/// number in `Debug`.
///
/// # Panics
/// When a property fails.
pub fn rbm_webhook_decode(data: &[u8]) {
    let Ok(token) = ClientToken::new("fuzz-client-token") else {
        return;
    };
    let _ = verify_signature(&token, Some(&token.sign(data)), data);
    let _ = verify_signature(&token, None, data);
    let _ = registration_secret(&token, data);

    let body = format!(
        r#"{{"message":{{"data":"{}","messageId":"p1"}}}}"#,
        STANDARD.encode(data)
    );
    let signature = token.sign(data);
    let verified = verify_signature(&token, Some(&signature), body.as_bytes());
    let payload = match verified {
        Ok(payload) => payload,
        Err(e) if body.len() > crate::webhook::MAX_BODY_BYTES => {
            assert_eq!(e, crate::webhook::WebhookError::BodyTooLarge);
            return;
        }
        Err(e) => panic!("a correctly signed envelope must verify: {e}"),
    };
    assert_eq!(payload.data(), data);
    let signer = PostbackSigner::new(PostbackKey::new(1, Secret::new([3; 32])), Vec::new());
    if let Ok(event) = decode_event(&payload) {
        let rendered = format!("{event:?}");
        let digits = event.sender.expose_digits();
        // Debug shows the provider's event and message ids on purpose; when the input repeats
        // the number inside such a field, seeing it there is not the sender leaking. So the
        // oracle applies when the number occurs at most once in the input (its own field).
        if occurrences(data, digits.as_bytes()) <= 1 {
            assert!(!rendered.contains(digits), "Debug must mask the sender");
        }
        let _ = event.into_inbound(&signer);
    }
    if let (Ok(text), Ok(sender)) = (std::str::from_utf8(data), Msisdn::parse("+447700900123")) {
        let _ = signer.verify(text, &sender);
    }
}

/// How many (possibly overlapping) times `needle` occurs in `haystack`.
fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}
