//! The TOML configuration file: what alertd listens on, where it keeps state, who it pages.
//!
//! Every table refuses unknown keys, so a typo (`listen_adress`) is an error at start-up
//! rather than a silently ignored setting. Secrets (the Alertmanager bearer token) are read
//! from files named here, never written in the config itself, so the config can be checked
//! into a repository.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod providers;
mod tickets;

pub use providers::{KannelProviderConfig, ProviderName, RbmProviderConfig};
pub use tickets::{ServiceNowTicketConfig, TicketConfig, WebhookTicketConfig};

/// Why a configuration could not be loaded. Never quotes a secret file's content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {what} {path}: {source}")]
    Read {
        /// Which file (`config`, `bearer token`, `roster`, `policy`).
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML for this schema (the message names line and column).
    #[error("config is not valid: {0}")]
    Toml(String),
    /// A value is out of range or inconsistent.
    #[error("config value {field} is invalid: {reason}")]
    Invalid {
        /// The dotted key.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// HTTP listener and public URL.
    pub server: ServerConfig,
    /// The Alertmanager webhook.
    pub alertmanager: AlertmanagerConfig,
    /// Where state lives.
    pub store: StoreConfig,
    /// Secure-link settings.
    #[serde(default)]
    pub links: LinksConfig,
    /// Pipeline timings.
    #[serde(default)]
    pub pipeline: PipelineConfig,
    /// Messaging providers.
    pub provider: ProviderConfig,
    /// The fallback policy file (default: the built-in fail-closed policy).
    #[serde(default)]
    pub policy_file: Option<PathBuf>,
    /// Who is paged, besides the loopback roster's recipients.
    #[serde(default, rename = "responder")]
    pub responders: Vec<ResponderConfig>,
    /// Routing of alerts to responders.
    #[serde(default)]
    pub routing: RoutingConfig,
    /// Inbound provider webhooks.
    #[serde(default)]
    pub webhooks: WebhooksConfig,
    /// Where acknowledgements and resolutions are written (`[ticket.*]`).
    #[serde(default)]
    pub ticket: TicketConfig,
}

/// `[webhooks]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhooksConfig {
    /// `POST /v1/providers/rbm/events` (`[webhooks.rbm]`); absent: the route answers 404.
    #[serde(default)]
    pub rbm: Option<RbmWebhookConfig>,
}

/// `[webhooks.rbm]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RbmWebhookConfig {
    /// File holding the RBM client token (`X-Goog-Signature` is an HMAC under it).
    pub client_token_file: PathBuf,
    /// Events waiting for the pipeline before the webhook answers 503 (default 1024).
    #[serde(default = "default_queue")]
    pub queue_capacity: usize,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Address to bind, e.g. `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Base URL recipients reach alertd at; links are `<public_url>/l/<token>#k=<key>`.
    pub public_url: url::Url,
    /// Largest request body accepted, in bytes (default 1 MiB).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Seconds in-flight requests get to finish after a shutdown signal (default 10).
    #[serde(default = "default_grace")]
    pub shutdown_grace_secs: u64,
}

/// `[alertmanager]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AlertmanagerConfig {
    /// File holding the bearer token Alertmanager sends (`http_config.authorization`).
    pub bearer_token_file: PathBuf,
    /// Label that carries the severity (default `severity`).
    #[serde(default = "default_severity_label")]
    pub severity_label: String,
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
#[non_exhaustive]
pub enum StoreConfig {
    /// One SQLite file (WAL) for tokens, blobs, audit, pins, the outbox and the open alerts'
    /// sealed state; key files beside it (`state.key` seals the alert state).
    Sqlite {
        /// Directory for `rcsec.db`, `keyring.json` and the key files (created 0700).
        state_dir: PathBuf,
    },
    /// Everything in memory: lost on restart, for trials and tests only.
    Memory,
}

/// `[links]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LinksConfig {
    /// Lifetime of a secure link in seconds (default 900).
    #[serde(default = "default_link_ttl")]
    pub ttl_secs: u64,
}

impl Default for LinksConfig {
    fn default() -> Self {
        Self {
            ttl_secs: default_link_ttl(),
        }
    }
}

/// `[pipeline]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PipelineConfig {
    /// Seconds before an unacknowledged page escalates (default 300).
    #[serde(default = "default_ack_timeout")]
    pub ack_timeout_secs: u64,
    /// Milliseconds between background ticks (retries, escalation, expiry; default 1000).
    #[serde(default = "default_tick")]
    pub tick_interval_ms: u64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            ack_timeout_secs: default_ack_timeout(),
            tick_interval_ms: default_tick(),
        }
    }
}

/// `[provider]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ProviderConfig {
    /// The roster-driven loopback simulator (`[provider.loopback]`).
    #[serde(default)]
    pub loopback: Option<LoopbackConfig>,
    /// RCS Business Messaging (`[provider.rbm]`).
    #[serde(default)]
    pub rbm: Option<RbmProviderConfig>,
    /// SMS through Kannel (`[provider.kannel]`).
    #[serde(default)]
    pub kannel: Option<KannelProviderConfig>,
}

/// `[provider.loopback]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LoopbackConfig {
    /// The roster file (see `rcsec-provider-loopback`); its recipients are paged.
    pub roster: PathBuf,
}

/// One `[[responder]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ResponderConfig {
    /// Display name.
    pub name: String,
    /// E.164 number.
    pub number: String,
    /// Escalation step (0 = paged at once).
    #[serde(default)]
    pub step: u32,
    /// Team; matched against the alert's team label (empty = every team).
    #[serde(default)]
    pub team: String,
}

/// `[routing]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RoutingConfig {
    /// Alert label naming the team (default `team`). A responder with a team is paged only
    /// for alerts whose label matches; an alert without the label pages everyone.
    #[serde(default = "default_team_label")]
    pub team_label: String,
    /// Failover order, e.g. `["rbm", "kannel", "loopback"]`; must list every configured
    /// provider once. Default: rbm, kannel, loopback (those configured). A message is offered
    /// only to providers carrying its route, in this order.
    #[serde(default)]
    pub providers: Option<Vec<ProviderName>>,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        Self {
            team_label: default_team_label(),
            providers: None,
        }
    }
}

impl Config {
    /// The providers in failover order (validated: each configured one exactly once).
    pub fn provider_order(&self) -> Vec<ProviderName> {
        self.routing
            .providers
            .clone()
            .unwrap_or_else(|| self.provider.configured())
    }
}

fn default_max_body() -> usize {
    1024 * 1024
}
fn default_grace() -> u64 {
    10
}
fn default_severity_label() -> String {
    "severity".to_owned()
}
fn default_link_ttl() -> u64 {
    900
}
fn default_ack_timeout() -> u64 {
    300
}
fn default_tick() -> u64 {
    1000
}
fn default_queue() -> usize {
    1024
}
fn default_team_label() -> String {
    "team".to_owned()
}

impl Config {
    /// Parses and validates configuration text.
    ///
    /// # Errors
    /// [`ConfigError::Toml`] for syntax or schema errors, [`ConfigError::Invalid`] for values
    /// out of range.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates a configuration file.
    ///
    /// # Errors
    /// [`ConfigError::Read`] and the errors of [`Config::from_toml`].
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = read_file("config", path)?;
        Self::from_toml(&text)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, reason| Err(ConfigError::Invalid { field, reason });
        if !matches!(self.server.public_url.scheme(), "http" | "https")
            || self.server.public_url.cannot_be_a_base()
        {
            return invalid("server.public_url", "must be an http(s) base URL");
        }
        if self.server.max_body_bytes < 1024 || self.server.max_body_bytes > 64 * 1024 * 1024 {
            return invalid("server.max_body_bytes", "must be between 1 KiB and 64 MiB");
        }
        if self.links.ttl_secs < 60 || self.links.ttl_secs > 24 * 3600 {
            return invalid("links.ttl_secs", "must be between 60 and 86400");
        }
        if self.pipeline.tick_interval_ms < 50 || self.pipeline.tick_interval_ms > 60_000 {
            return invalid("pipeline.tick_interval_ms", "must be between 50 and 60000");
        }
        if self.pipeline.ack_timeout_secs == 0 {
            return invalid("pipeline.ack_timeout_secs", "must be positive");
        }
        self.provider.validate(self.routing.providers.as_deref())?;
        self.ticket.validate()?;
        if let Some(rbm) = &self.webhooks.rbm
            && !(1..=1_000_000).contains(&rbm.queue_capacity)
        {
            return invalid(
                "webhooks.rbm.queue_capacity",
                "must be between 1 and 1000000",
            );
        }
        if self.routing.team_label.is_empty() || self.alertmanager.severity_label.is_empty() {
            return invalid("routing.team_label", "label names must not be empty");
        }
        Ok(())
    }

    /// Grace period for in-flight requests on shutdown.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.server.shutdown_grace_secs)
    }
}

/// Reads a UTF-8 file named by the config.
pub(crate) fn read_file(what: &'static str, path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests;
