//! A generic JSON webhook ticket sink.

use std::fmt;

use async_trait::async_trait;
use rcsec::{TicketError, TicketId, TicketSink};
use rcsec_core::{AlertId, Severity};
use rcsec_http::{HttpClient, HttpRequest, Method, StatusCode, header};
use serde_json::{Value, json};
use url::Url;

use crate::auth::Auth;

/// A fixed-description error source (never request or response data).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Why(&'static str);

/// Posts each ticket operation as one JSON event to a URL:
///
/// ```json
/// {"v": 1, "event": "open", "alert": "c4a1…", "severity": "P1", "title": "…"}
/// {"v": 1, "event": "note" | "assign" | "resolve", "ticket": "…", "text": "…"}
/// ```
///
/// `open` answers with the receiver's `{"id": "…"}` if it gives one (at most 128 printable
/// ASCII characters), otherwise the ticket id is the alert id. The receiver should treat
/// `open` as idempotent per alert (the pipeline may retry it). 404 means no such ticket; any
/// other non-2xx is a backend failure.
pub struct WebhookSink {
    http: HttpClient,
    url: Url,
    auth: Auth,
}

impl fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSink")
            .field("host", &self.url.host_str())
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl WebhookSink {
    /// A sink posting to `url`.
    pub fn new(http: HttpClient, url: Url, auth: Auth) -> Self {
        Self { http, url, auth }
    }

    async fn post(&self, event: Value) -> Result<Vec<u8>, TicketError> {
        let body = serde_json::to_vec(&event)
            .map_err(|_| TicketError::Backend(Box::new(Why("serialization failed"))))?;
        let mut req = HttpRequest::new(Method::POST, self.url.clone());
        if let Some(auth) = self.auth.header() {
            req = req
                .header(header::AUTHORIZATION, &auth)
                .map_err(|e| TicketError::Backend(Box::new(e)))?;
        }
        let req = req
            .json(body)
            .map_err(|e| TicketError::Backend(Box::new(e)))?;
        let res = self
            .http
            .send(req)
            .await
            .map_err(|e| TicketError::Backend(Box::new(e)))?;
        match res.status {
            s if s.is_success() => Ok(res.body),
            StatusCode::NOT_FOUND => Err(TicketError::NotFound),
            _ => Err(TicketError::Backend(Box::new(Why(
                "ticket webhook answered an error status",
            )))),
        }
    }
}

#[async_trait]
impl TicketSink for WebhookSink {
    async fn open(
        &self,
        alert: &AlertId,
        severity: Severity,
        title: &str,
    ) -> Result<TicketId, TicketError> {
        let body = self
            .post(json!({
                "v": 1,
                "event": "open",
                "alert": alert.as_str(),
                "severity": severity.to_string(),
                "title": title,
            }))
            .await?;
        let id = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("id")?.as_str().map(str::to_owned))
            .filter(|id| {
                !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
            })
            .unwrap_or_else(|| alert.as_str().to_owned());
        Ok(TicketId::new(id))
    }

    async fn note(&self, ticket: &TicketId, note: &str) -> Result<(), TicketError> {
        self.post(json!({"v": 1, "event": "note", "ticket": ticket.as_str(), "text": note}))
            .await
            .map(|_| ())
    }

    async fn assign(&self, ticket: &TicketId, owner: &str) -> Result<(), TicketError> {
        self.post(json!({"v": 1, "event": "assign", "ticket": ticket.as_str(), "text": owner}))
            .await
            .map(|_| ())
    }

    async fn resolve(&self, ticket: &TicketId, note: &str) -> Result<(), TicketError> {
        self.post(json!({"v": 1, "event": "resolve", "ticket": ticket.as_str(), "text": note}))
            .await
            .map(|_| ())
    }
}
