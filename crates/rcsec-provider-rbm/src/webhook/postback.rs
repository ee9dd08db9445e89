//! Postback data for suggested replies, bound to alert, message and recipient with a MAC.
//!
//! A suggested reply's `postbackData` travels to the phone and comes back in a
//! `suggestionResponse` event. The RBM signature only proves the event came through RBM, not
//! that the postback is one we minted for this recipient: anyone who can message the agent
//! can send arbitrary postback data. So each postback carries an HMAC-SHA256 tag over the
//! action, our message id, the alert id and the recipient's number; the number is not in the
//! data (it would travel to RBM and the phone in clear for no reason) but is taken from the
//! signed event on verification, so a postback forwarded to or replayed by another number
//! fails.
//!
//! Format (ASCII, at most ~260 bytes of RBM's 2048):
//! `r1.<kid>.<action>.<message id>.<tag>.<alert id>` where `<action>` is `ack`, `own` or `esc`,
//! `<tag>` is 16 bytes base64url without padding, and the alert id comes last because it may
//! contain dots.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rcsec::{ActionKind, MessageId};
use rcsec_core::{AlertId, Msisdn, Secret};
use sha2::Sha256;

use super::error::PostbackError;

const VERSION: &str = "r1";
const TAG_BYTES: usize = 16;
const DOMAIN: &[u8] = b"rcsec/rbm-postback/v1\0";

/// A key for postback tags, with a one-byte id so keys can rotate while old messages are still
/// on phones. Zeroized on drop; `Debug` prints the id only.
#[derive(Clone)]
pub struct PostbackKey {
    kid: u8,
    key: Secret<[u8; 32]>,
}

impl PostbackKey {
    /// A key with id `kid` (choose 32 random bytes; keep them with the daemon's secrets).
    pub fn new(kid: u8, key: Secret<[u8; 32]>) -> Self {
        Self { kid, key }
    }

    /// The key id carried in the postback data.
    pub fn kid(&self) -> u8 {
        self.kid
    }

    fn tag(
        &self,
        action: ActionKind,
        message: &MessageId,
        alert: &AlertId,
        recipient: &Msisdn,
    ) -> Result<Hmac<Sha256>, PostbackError> {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(self.key.expose_secret())
            .map_err(|_| PostbackError::Unencodable)?;
        mac.update(DOMAIN);
        mac.update(&[self.kid]);
        for field in [
            action_code(action),
            message.as_str(),
            alert.as_str(),
            recipient.expose_e164(),
        ] {
            // Length-prefixed, so field boundaries cannot shift.
            let len = u16::try_from(field.len()).map_err(|_| PostbackError::Unencodable)?;
            mac.update(&len.to_be_bytes());
            mac.update(field.as_bytes());
        }
        Ok(mac)
    }
}

impl fmt::Debug for PostbackKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostbackKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A verified postback: which action the recipient tapped, on which of our messages, for
/// which alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postback {
    /// The tapped action.
    pub action: ActionKind,
    /// Our message (its idempotency key) the suggestion was attached to.
    pub message: MessageId,
    /// The alert.
    pub alert: AlertId,
}

/// Mints and verifies postback data under a current key and any number of older keys.
#[derive(Debug, Clone)]
pub struct PostbackSigner {
    current: PostbackKey,
    previous: Vec<PostbackKey>,
}

impl PostbackSigner {
    /// Mints with `current`; also accepts postbacks minted under `previous` (rotation).
    pub fn new(current: PostbackKey, previous: Vec<PostbackKey>) -> Self {
        Self { current, previous }
    }

    /// The postback data for `action` on `message` about `alert`, sent to `recipient`.
    ///
    /// # Errors
    /// [`PostbackError::Unencodable`] only for ids longer than 65535 bytes, which the id types
    /// already exclude.
    pub fn mint(
        &self,
        action: ActionKind,
        message: &MessageId,
        alert: &AlertId,
        recipient: &Msisdn,
    ) -> Result<String, PostbackError> {
        let tag = self
            .current
            .tag(action, message, alert, recipient)?
            .finalize()
            .into_bytes();
        let tag = tag.get(..TAG_BYTES).ok_or(PostbackError::Unencodable)?;
        Ok(format!(
            "{VERSION}.{}.{}.{}.{}.{}",
            self.current.kid,
            action_code(action),
            message.as_str(),
            URL_SAFE_NO_PAD.encode(tag),
            alert.as_str()
        ))
    }

    /// Verifies postback data that came back from `sender` (the number in the signed RBM
    /// event), comparing tags in constant time.
    ///
    /// # Errors
    /// [`PostbackError::Malformed`], [`PostbackError::UnknownKey`] or
    /// [`PostbackError::BadTag`] (also when `sender` is not the recipient it was minted for).
    pub fn verify(&self, data: &str, sender: &Msisdn) -> Result<Postback, PostbackError> {
        if data.len() > 512 {
            return Err(PostbackError::Malformed);
        }
        let mut parts = data.splitn(6, '.');
        let mut next = || parts.next().ok_or(PostbackError::Malformed);
        let (version, kid, action, message, tag, alert) =
            (next()?, next()?, next()?, next()?, next()?, next()?);
        if version != VERSION {
            return Err(PostbackError::Malformed);
        }
        let kid: u8 = parse_kid(kid)?;
        let action = action_from_code(action).ok_or(PostbackError::Malformed)?;
        let message = MessageId::new(message).map_err(|_| PostbackError::Malformed)?;
        let alert = AlertId::new(alert).map_err(|_| PostbackError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| PostbackError::Malformed)?;
        if tag.len() != TAG_BYTES {
            return Err(PostbackError::Malformed);
        }
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.kid == kid)
            .ok_or(PostbackError::UnknownKey)?;
        key.tag(action, &message, &alert, sender)?
            .verify_truncated_left(&tag)
            .map_err(|_| PostbackError::BadTag)?;
        Ok(Postback {
            action,
            message,
            alert,
        })
    }
}

/// Decimal 0..=255 without sign or leading zeros, so each kid has one spelling.
fn parse_kid(s: &str) -> Result<u8, PostbackError> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if !canonical {
        return Err(PostbackError::Malformed);
    }
    s.parse().map_err(|_| PostbackError::Malformed)
}

fn action_code(action: ActionKind) -> &'static str {
    match action {
        ActionKind::Acknowledge => "ack",
        ActionKind::TakeOwnership => "own",
        ActionKind::Escalate => "esc",
    }
}

fn action_from_code(code: &str) -> Option<ActionKind> {
    match code {
        "ack" => Some(ActionKind::Acknowledge),
        "own" => Some(ActionKind::TakeOwnership),
        "esc" => Some(ActionKind::Escalate),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn signer(kid: u8, byte: u8) -> PostbackSigner {
        PostbackSigner::new(PostbackKey::new(kid, Secret::new([byte; 32])), Vec::new())
    }

    fn ids() -> (MessageId, AlertId, Msisdn) {
        (
            MessageId::new("msg-7_a").unwrap(),
            AlertId::new("fp:c4a1.b2d3").unwrap(),
            Msisdn::parse("+447700900123").unwrap(),
        )
    }

    #[test]
    fn round_trips_every_action_and_keeps_the_number_out_of_the_data() {
        let s = signer(3, 9);
        let (m, a, r) = ids();
        for action in [
            ActionKind::Acknowledge,
            ActionKind::TakeOwnership,
            ActionKind::Escalate,
        ] {
            let data = s.mint(action, &m, &a, &r).unwrap();
            assert!(!data.contains("7700900"), "{data}");
            let p = s.verify(&data, &r).unwrap();
            assert_eq!((p.action, &p.message, &p.alert), (action, &m, &a));
        }
    }

    #[test]
    fn rejects_other_recipient_tampering_and_unknown_keys() {
        let s = signer(3, 9);
        let (m, a, r) = ids();
        let data = s.mint(ActionKind::Acknowledge, &m, &a, &r).unwrap();
        let other = Msisdn::parse("+447700900999").unwrap();
        assert_eq!(s.verify(&data, &other), Err(PostbackError::BadTag));
        let escalated = data.replacen(".ack.", ".esc.", 1);
        assert_eq!(s.verify(&escalated, &r), Err(PostbackError::BadTag));
        let other_alert = format!("{}x", data);
        assert_eq!(s.verify(&other_alert, &r), Err(PostbackError::BadTag));
        assert_eq!(
            signer(4, 9).verify(&data, &r),
            Err(PostbackError::UnknownKey)
        );
        assert_eq!(signer(3, 8).verify(&data, &r), Err(PostbackError::BadTag));
        for bad in [
            "",
            "ack",
            "r2.3.ack.m.AAAAAAAAAAAAAAAAAAAAAA.a",
            "r1.03.ack.m.AAAAAAAAAAAAAAAAAAAAAA.a",
            "r1.256.ack.m.AAAAAAAAAAAAAAAAAAAAAA.a",
            "r1.3.nap.m.AAAAAAAAAAAAAAAAAAAAAA.a",
            "r1.3.ack.m m.AAAAAAAAAAAAAAAAAAAAAA.a",
            "r1.3.ack.m.AAAA.a",
            "r1.3.ack.m.AAAAAAAAAAAAAAAAAAAAAA.",
            "r1.3.ack.m.AAAAAAAAAAAAAAAAAAAAAA.a/b",
        ] {
            assert_eq!(s.verify(bad, &r), Err(PostbackError::Malformed), "{bad}");
        }
    }

    #[test]
    fn previous_keys_still_verify_after_rotation() {
        let (m, a, r) = ids();
        let old = PostbackKey::new(1, Secret::new([1; 32]));
        let data = PostbackSigner::new(old.clone(), Vec::new())
            .mint(ActionKind::Escalate, &m, &a, &r)
            .unwrap();
        let rotated = PostbackSigner::new(PostbackKey::new(2, Secret::new([2; 32])), vec![old]);
        assert_eq!(
            rotated.verify(&data, &r).unwrap().action,
            ActionKind::Escalate
        );
        assert!(
            rotated
                .mint(ActionKind::Escalate, &m, &a, &r)
                .unwrap()
                .starts_with("r1.2.")
        );
        assert!(!format!("{rotated:?}").contains("[1, 1"));
    }
}
