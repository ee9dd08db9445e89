//! `[ticket.servicenow]` and `[ticket.webhook]`: where acknowledgements, ownership and
//! resolutions are written.
//!
//! At most one sink: two would each need their own idempotency story and could disagree about
//! who owns an incident. Without either, tickets live in memory (visible in the audit log
//! only), which is fine for trials. Ticket systems are not end-to-end encrypted; the pipeline
//! hands them only redacted titles and notes.

use std::path::PathBuf;

use serde::Deserialize;
use url::Url;

use super::ConfigError;
use super::providers::{check_endpoint, check_timeout, default_timeout_ms, is_loopback};

/// `[ticket]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TicketConfig {
    /// ServiceNow incidents over the Table API.
    #[serde(default)]
    pub servicenow: Option<ServiceNowTicketConfig>,
    /// JSON events posted to any URL.
    #[serde(default)]
    pub webhook: Option<WebhookTicketConfig>,
}

/// `[ticket.servicenow]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServiceNowTicketConfig {
    /// The instance, e.g. `https://example.service-now.com/`.
    pub instance_url: Url,
    /// The integration user (basic authentication, with `password_file`).
    #[serde(default)]
    pub user: Option<String>,
    /// File holding the integration user's password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// File holding an OAuth access token, instead of `user` + `password_file`.
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    /// `assignment_group` for new incidents (a group name or sys_id).
    #[serde(default)]
    pub assignment_group: Option<String>,
    /// `close_code` when resolving (default the base system's `Solved (Permanently)`).
    #[serde(default)]
    pub close_code: Option<String>,
    /// Deadline for one API call, milliseconds (default 5000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

/// `[ticket.webhook]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookTicketConfig {
    /// Where the JSON events are posted.
    pub url: Url,
    /// File holding the bearer token sent with them (absent: no `Authorization`, only for a
    /// receiver on this host).
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    /// Deadline for one call, milliseconds (default 5000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

impl TicketConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, reason| Err(ConfigError::Invalid { field, reason });
        if self.servicenow.is_some() && self.webhook.is_some() {
            return invalid("ticket", "configure at most one of servicenow and webhook");
        }
        if let Some(sn) = &self.servicenow {
            check_endpoint(&sn.instance_url, "ticket.servicenow.instance_url")?;
            match (&sn.user, &sn.password_file, &sn.bearer_token_file) {
                (Some(user), Some(_), None) if !user.is_empty() && user.len() <= 128 => {}
                (Some(_), Some(_), None) => {
                    return invalid("ticket.servicenow.user", "must be 1-128 characters");
                }
                (None, None, Some(_)) => {}
                _ => {
                    return invalid(
                        "ticket.servicenow.password_file",
                        "set user and password_file, or bearer_token_file alone",
                    );
                }
            }
            if sn
                .assignment_group
                .as_deref()
                .is_some_and(|g| g.is_empty() || g.len() > 128)
            {
                return invalid(
                    "ticket.servicenow.assignment_group",
                    "must be 1-128 characters",
                );
            }
            if sn
                .close_code
                .as_deref()
                .is_some_and(|c| c.is_empty() || c.len() > 128)
            {
                return invalid("ticket.servicenow.close_code", "must be 1-128 characters");
            }
            check_timeout(sn.timeout_ms, "ticket.servicenow.timeout_ms")?;
        }
        if let Some(w) = &self.webhook {
            check_endpoint(&w.url, "ticket.webhook.url")?;
            if w.bearer_token_file.is_none() && !is_loopback(&w.url) {
                return invalid(
                    "ticket.webhook.bearer_token_file",
                    "required unless the webhook is on 127.0.0.1 or localhost",
                );
            }
            check_timeout(w.timeout_ms, "ticket.webhook.timeout_ms")?;
        }
        Ok(())
    }
}
