//! Delivery reports: the DLR URL handed to Kannel, and parsing its callback.
//!
//! Kannel fetches the `dlr-url` given with each `sendsms` call, substituting `%d` (the report
//! type) and `%T` (time). The callback is plain, unauthenticated HTTP from the gateway, so the
//! URL carries our message id and a MAC over it: a forged or guessed report for another message
//! fails. The recipient's number (`%p`) is deliberately not requested: it is not needed and
//! would otherwise land in access logs.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rcsec::{MessageId, ProviderEvent, ProviderEventKind};
use rcsec_capability::E2ee;
use rcsec_core::Secret;
use sha2::Sha256;
use url::Url;

const TAG_BYTES: usize = 16;
const DOMAIN: &[u8] = b"rcsec/kannel-dlr/v1\0";

/// Kannel's report types (`%d`, the bits of `dlr-mask`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DlrStatus {
    /// 1: delivered to the phone.
    Delivered,
    /// 2: delivery failed.
    Failed,
    /// 4: buffered (queued at the SMSC).
    Buffered,
    /// 8: accepted by the SMSC.
    SmscAccepted,
    /// 16: rejected by the SMSC.
    SmscRejected,
}

impl DlrStatus {
    /// The `dlr-mask` asking for every report type.
    pub const ALL_MASK: u8 = 31;

    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Self::Delivered,
            2 => Self::Failed,
            4 => Self::Buffered,
            8 => Self::SmscAccepted,
            16 => Self::SmscRejected,
            _ => return None,
        })
    }
}

/// One parsed, authenticated delivery report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Our message.
    pub message: MessageId,
    /// What Kannel reported.
    pub status: DlrStatus,
    /// Kannel's timestamp (`%T`, Unix seconds), if present.
    pub at: Option<u64>,
}

impl DeliveryReport {
    /// The pipeline event this report means, if any: only "delivered" is one (E2EE
    /// unavailable: SMS is never encrypted end to end). Failures are for metrics and the
    /// outbox's own retry; SMSC acks are not delivery.
    pub fn to_provider_event(&self) -> Option<ProviderEvent> {
        (self.status == DlrStatus::Delivered).then(|| {
            ProviderEvent::new(
                self.message.clone(),
                ProviderEventKind::Delivered {
                    e2ee: E2ee::Unavailable,
                },
            )
        })
    }
}

/// Why a DLR callback was refused. Never echoes the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DlrError {
    /// A required parameter (`id`, `tag`, `type`) is missing or invalid.
    #[error("delivery report lacks a valid {0}")]
    Invalid(&'static str),
    /// The tag does not verify for this message id.
    #[error("delivery report does not verify")]
    BadTag,
}

/// Builds DLR URLs and verifies their callbacks. `Debug` hides the key.
#[derive(Clone)]
pub struct DlrSigner {
    key: Secret<[u8; 32]>,
    base: Url,
}

impl fmt::Debug for DlrSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DlrSigner")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl DlrSigner {
    /// Callbacks go to `base` (the daemon's DLR route, e.g.
    /// `http://127.0.0.1:8080/v1/providers/kannel/dlr`), tagged under `key`.
    pub fn new(key: Secret<[u8; 32]>, base: Url) -> Self {
        Self { key, base }
    }

    fn mac(&self, message: &MessageId) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.expose_secret()).ok()?;
        mac.update(DOMAIN);
        mac.update(message.as_str().as_bytes());
        Some(mac)
    }

    /// The `dlr-url` for `message`: `base?id=<id>&tag=<mac>&type=%d&ts=%T`, with Kannel's
    /// placeholders left for Kannel to fill in.
    pub fn url_for(&self, message: &MessageId) -> String {
        let tag = self
            .mac(message)
            .map(|m| m.finalize().into_bytes())
            .and_then(|t| t.get(..TAG_BYTES).map(|t| URL_SAFE_NO_PAD.encode(t)))
            .unwrap_or_default();
        let mut url = self.base.clone();
        url.query_pairs_mut()
            .append_pair("id", message.as_str())
            .append_pair("tag", &tag);
        // `%d` and `%T` must reach Kannel unescaped; the pairs above are URL-safe already.
        format!("{url}&type=%d&ts=%T")
    }

    /// Parses and verifies a DLR callback's query string (constant-time tag compare).
    ///
    /// # Errors
    /// [`DlrError`].
    pub fn parse(&self, query: &str) -> Result<DeliveryReport, DlrError> {
        if query.len() > 1024 {
            return Err(DlrError::Invalid("query"));
        }
        let (mut id, mut tag, mut kind, mut ts) = (None, None, None, None);
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "id" => id = Some(v.into_owned()),
                "tag" => tag = Some(v.into_owned()),
                "type" => kind = Some(v.into_owned()),
                "ts" => ts = Some(v.into_owned()),
                _ => {}
            }
        }
        let message = id
            .and_then(|id| MessageId::new(id).ok())
            .ok_or(DlrError::Invalid("id"))?;
        let tag = tag
            .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
            .filter(|t| t.len() == TAG_BYTES)
            .ok_or(DlrError::Invalid("tag"))?;
        self.mac(&message)
            .ok_or(DlrError::BadTag)?
            .verify_truncated_left(&tag)
            .map_err(|_| DlrError::BadTag)?;
        let status = kind
            .and_then(|k| k.parse::<u8>().ok())
            .and_then(DlrStatus::from_code)
            .ok_or(DlrError::Invalid("type"))?;
        let at = ts.and_then(|t| t.parse::<u64>().ok());
        Ok(DeliveryReport {
            message,
            status,
            at,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn signer(k: u8) -> DlrSigner {
        DlrSigner::new(
            Secret::new([k; 32]),
            "http://127.0.0.1:9/dlr".parse().unwrap(),
        )
    }

    /// What Kannel fetches after substituting the placeholders.
    fn as_kannel_calls(url: &str, kind: u8) -> String {
        let url = url
            .replace("%d", &kind.to_string())
            .replace("%T", "1795310149");
        Url::parse(&url).unwrap().query().unwrap().to_owned()
    }

    #[test]
    fn url_round_trips_through_kannel_substitution() {
        let s = signer(1);
        let id = MessageId::new("m-42_x").unwrap();
        let url = s.url_for(&id);
        assert!(
            url.starts_with("http://127.0.0.1:9/dlr?id=m-42_x&tag="),
            "{url}"
        );
        assert!(url.ends_with("&type=%d&ts=%T"));
        let report = s.parse(&as_kannel_calls(&url, 1)).unwrap();
        assert_eq!(report.message, id);
        assert_eq!(report.status, DlrStatus::Delivered);
        assert_eq!(report.at, Some(1_795_310_149));
        assert!(report.to_provider_event().is_some());
        let acked = s.parse(&as_kannel_calls(&url, 8)).unwrap();
        assert_eq!(acked.status, DlrStatus::SmscAccepted);
        assert!(acked.to_provider_event().is_none());
    }

    #[test]
    fn forged_and_malformed_reports_are_refused() {
        let id = MessageId::new("m-1").unwrap();
        let url = signer(1).url_for(&id);
        let q = as_kannel_calls(&url, 1);
        assert_eq!(signer(2).parse(&q), Err(DlrError::BadTag));
        assert_eq!(
            signer(1).parse(&q.replace("id=m-1", "id=m-2")),
            Err(DlrError::BadTag)
        );
        assert_eq!(
            signer(1).parse(&as_kannel_calls(&url, 3)),
            Err(DlrError::Invalid("type"))
        );
        assert_eq!(signer(1).parse("type=1"), Err(DlrError::Invalid("id")));
        assert_eq!(
            signer(1).parse("id=m-1&tag=abc"),
            Err(DlrError::Invalid("tag"))
        );
        assert_eq!(
            signer(1).parse(&"a".repeat(2000)),
            Err(DlrError::Invalid("query"))
        );
        assert!(!format!("{:?}", signer(7)).contains("[7"));
    }
}
