//! ServiceNow incidents over the Table API.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;
use rcsec::{TicketError, TicketId, TicketSink};
use rcsec_core::{AlertId, Severity};
use rcsec_http::{HttpClient, HttpRequest, HttpResponse, Method, StatusCode, header};
use serde_json::{Value, json};
use url::Url;

use crate::auth::Auth;

/// Where the instance is and how incidents are filled in.
#[derive(Debug, Clone)]
pub struct ServiceNowConfig {
    /// The instance, e.g. `https://example.service-now.com/`.
    pub instance_url: Url,
    /// Credentials of the integration user.
    pub auth: Auth,
    /// `assignment_group` for new incidents (a group name or sys_id), if any.
    pub assignment_group: Option<String>,
    /// `close_code` when resolving (an instance's choice list; `Solved (Permanently)` by
    /// default in the base system).
    pub close_code: String,
}

impl ServiceNowConfig {
    /// The base-system defaults for `instance_url` and `auth`.
    pub fn new(instance_url: Url, auth: Auth) -> Self {
        Self {
            instance_url,
            auth,
            assignment_group: None,
            close_code: "Solved (Permanently)".to_owned(),
        }
    }
}

/// A fixed-description error source (never request or response data).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Why(&'static str);

fn backend(why: &'static str) -> TicketError {
    TicketError::Backend(Box::new(Why(why)))
}

/// Incident `state` values of the base system.
const STATE_IN_PROGRESS: &str = "2";
const STATE_RESOLVED: &str = "6";

/// Impact and urgency (1 high … 3 low) per severity; priority follows from them.
fn impact_urgency(severity: Severity) -> (&'static str, &'static str) {
    match severity {
        Severity::P0 => ("1", "1"),
        Severity::P1 => ("1", "2"),
        Severity::P2 => ("2", "2"),
        _ => ("3", "3"),
    }
}

/// A [`TicketSink`] writing ServiceNow incidents.
///
/// The [`TicketId`] is the incident's `sys_id` (what `PATCH` needs). Opening is idempotent
/// across processes: the sink looks for an active incident with `correlation_id` = the alert id
/// before creating one, and remembers the answer.
pub struct ServiceNowSink {
    http: HttpClient,
    config: ServiceNowConfig,
    opened: Mutex<HashMap<AlertId, TicketId>>,
}

impl fmt::Debug for ServiceNowSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceNowSink")
            .field("instance", &self.config.instance_url.host_str())
            .field("auth", &self.config.auth)
            .finish_non_exhaustive()
    }
}

impl ServiceNowSink {
    /// A sink for `config`.
    pub fn new(http: HttpClient, config: ServiceNowConfig) -> Self {
        Self {
            http,
            config,
            opened: Mutex::new(HashMap::new()),
        }
    }

    fn table_url(&self, sys_id: Option<&str>, query: &[(&str, &str)]) -> Result<Url, TicketError> {
        let path = match sys_id {
            Some(id) => format!("api/now/table/incident/{id}"),
            None => "api/now/table/incident".to_owned(),
        };
        let mut url = self
            .config
            .instance_url
            .join(&path)
            .map_err(|_| backend("invalid servicenow url"))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
    ) -> Result<HttpResponse, TicketError> {
        let mut req = HttpRequest::new(method, url)
            .header(header::ACCEPT, "application/json")
            .map_err(|e| TicketError::Backend(Box::new(e)))?;
        if let Some(auth) = self.config.auth.header() {
            req = req
                .header(header::AUTHORIZATION, &auth)
                .map_err(|e| TicketError::Backend(Box::new(e)))?;
        }
        if let Some(body) = body {
            let bytes = serde_json::to_vec(&body).map_err(|_| backend("serialization failed"))?;
            req = req
                .json(bytes)
                .map_err(|e| TicketError::Backend(Box::new(e)))?;
        }
        let res = self
            .http
            .send(req)
            .await
            .map_err(|e| TicketError::Backend(Box::new(e)))?;
        match res.status {
            s if s.is_success() => Ok(res),
            StatusCode::NOT_FOUND => Err(TicketError::NotFound),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Err(backend("servicenow refused the credentials"))
            }
            _ => Err(backend("servicenow answered an error status")),
        }
    }

    fn sys_id(res: &HttpResponse) -> Option<String> {
        let v: Value = serde_json::from_slice(&res.body).ok()?;
        let result = v.get("result")?;
        let record = result.as_array().map_or(Some(result), |a| a.first())?;
        let id = record.get("sys_id")?.as_str()?;
        // sys_ids are 32 hex characters; anything else is not used in a URL path.
        (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_owned())
    }

    async fn patch(
        &self,
        ticket: &TicketId,
        fields: Value,
        display: bool,
    ) -> Result<(), TicketError> {
        let id = ticket.as_str();
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(TicketError::NotFound);
        }
        let query: &[(&str, &str)] = if display {
            &[("sysparm_input_display_value", "true")]
        } else {
            &[]
        };
        let url = self.table_url(Some(id), query)?;
        self.call(Method::PATCH, url, Some(fields))
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl TicketSink for ServiceNowSink {
    async fn open(
        &self,
        alert: &AlertId,
        severity: Severity,
        title: &str,
    ) -> Result<TicketId, TicketError> {
        if let Some(id) = self.opened.lock().ok().and_then(|m| m.get(alert).cloned()) {
            return Ok(id);
        }
        // Alert ids are `[A-Za-z0-9._:-]`, so they cannot inject `^` (AND) or `=` into the
        // encoded query.
        let query = format!("correlation_id={}^active=true", alert.as_str());
        let url = self.table_url(
            None,
            &[
                ("sysparm_query", &query),
                ("sysparm_fields", "sys_id,number"),
                ("sysparm_limit", "1"),
            ],
        )?;
        let found = self.call(Method::GET, url, None).await?;
        let id = match Self::sys_id(&found) {
            Some(id) => id,
            None => {
                let (impact, urgency) = impact_urgency(severity);
                let mut fields = json!({
                    "short_description": title,
                    "correlation_id": alert.as_str(),
                    "correlation_display": "rcsec",
                    "impact": impact,
                    "urgency": urgency,
                });
                if let Some(group) = &self.config.assignment_group {
                    fields["assignment_group"] = json!(group);
                }
                let url = self.table_url(None, &[("sysparm_fields", "sys_id,number")])?;
                let created = self.call(Method::POST, url, Some(fields)).await?;
                Self::sys_id(&created).ok_or_else(|| backend("servicenow answer lacks sys_id"))?
            }
        };
        let id = TicketId::new(id);
        if let Ok(mut opened) = self.opened.lock() {
            opened.insert(alert.clone(), id.clone());
        }
        Ok(id)
    }

    async fn note(&self, ticket: &TicketId, note: &str) -> Result<(), TicketError> {
        self.patch(ticket, json!({"work_notes": note}), false).await
    }

    async fn assign(&self, ticket: &TicketId, owner: &str) -> Result<(), TicketError> {
        self.patch(
            ticket,
            json!({
                "assigned_to": owner,
                "state": STATE_IN_PROGRESS,
                "work_notes": format!("rcsec: ownership taken by {owner}"),
            }),
            true,
        )
        .await
    }

    async fn resolve(&self, ticket: &TicketId, note: &str) -> Result<(), TicketError> {
        self.patch(
            ticket,
            json!({
                "state": STATE_RESOLVED,
                "close_code": self.config.close_code,
                "close_notes": note,
            }),
            false,
        )
        .await
    }
}

#[cfg(test)]
fn _obj_safe(_: &dyn TicketSink) {}
