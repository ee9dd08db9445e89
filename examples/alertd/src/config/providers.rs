//! `[provider.rbm]`, `[provider.kannel]` and the failover order in `[routing] providers`.
//!
//! Each provider carries only the routes it can: RBM the plain-RCS route (`rcs_plain`, never
//! end-to-end encrypted), Kannel the SMS-with-one-time-link route (`sms_link`), the loopback
//! simulator every route. The orchestrator offers a message to the providers that carry its
//! route, in the order `[routing] providers` lists them, and fails over to the next on a
//! transient or "not reachable" error. Credentials are named as files (read at start-up with a
//! permission check), never written into the config.

use std::path::PathBuf;

use serde::Deserialize;
use url::Url;

use super::{ConfigError, ProviderConfig};

/// A provider's name in `[routing] providers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ProviderName {
    /// `[provider.rbm]`.
    Rbm,
    /// `[provider.kannel]`.
    Kannel,
    /// `[provider.loopback]`.
    Loopback,
}

impl ProviderName {
    /// The name as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rbm => "rbm",
            Self::Kannel => "kannel",
            Self::Loopback => "loopback",
        }
    }
}

/// `[provider.rbm]`: Google's RCS Business Messaging REST API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RbmProviderConfig {
    /// API base URL ending in `/` (default: Google's,
    /// [`rcsec_provider_rbm::DEFAULT_BASE_URL`]); `https` unless the host is loopback.
    #[serde(default)]
    pub base_url: Option<Url>,
    /// The agent id (`agentId`), needed with partner-level credentials.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// A Google service-account key (JSON) for the JWT-bearer grant. Exactly one of this and
    /// `token_file`.
    #[serde(default)]
    pub service_account_key_file: Option<PathBuf>,
    /// A file holding a ready OAuth access token (kept fresh by something else, e.g. a sidecar).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Seconds RBM may hold an undelivered message before its TTL expiry event makes alertd
    /// fall back (SMS link); default 300, 10 to 86400.
    #[serde(default = "default_rbm_ttl")]
    pub message_ttl_secs: u64,
    /// Deadline for one API call, milliseconds (default 5000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

/// `[provider.kannel]`: SMS through Kannel's `sendsms` interface.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct KannelProviderConfig {
    /// `http://kannel:13013/cgi-bin/sendsms`. Plain HTTP is allowed (Kannel rarely speaks
    /// TLS) but the password travels in the query: keep Kannel on a private network.
    pub sendsms_url: Url,
    /// The `sendsms-user` username.
    pub username: String,
    /// File holding its password.
    pub password_file: PathBuf,
    /// Sender id (`from`); Kannel's `global-sender` when absent.
    #[serde(default)]
    pub from: Option<String>,
    /// Base URL at which Kannel reaches alertd (e.g. `http://10.0.0.7:8080/`); delivery
    /// reports go to `<dlr_base_url>v1/providers/kannel/dlr?id=…&tag=…`. Absent: no DLRs.
    #[serde(default)]
    pub dlr_base_url: Option<Url>,
    /// Deadline for one `sendsms` call, milliseconds (default 5000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_rbm_ttl() -> u64 {
    300
}

pub(super) fn default_timeout_ms() -> u64 {
    5000
}

/// Whether `url` is on this host (where plain HTTP cannot be sniffed on the wire).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `https`, or `http` to a loopback host; always a base URL without credentials.
pub(super) fn check_endpoint(url: &Url, field: &'static str) -> Result<(), ConfigError> {
    let invalid = |reason| Err(ConfigError::Invalid { field, reason });
    if url.cannot_be_a_base() || url.host().is_none() {
        return invalid("must be an absolute http(s) URL");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return invalid("must not carry credentials (use the *_file keys)");
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => invalid("must be https unless the host is 127.0.0.1 or localhost"),
        _ => invalid("must be an http(s) URL"),
    }
}

pub(super) fn check_timeout(ms: u64, field: &'static str) -> Result<(), ConfigError> {
    if (100..=120_000).contains(&ms) {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            field,
            reason: "must be between 100 and 120000",
        })
    }
}

impl ProviderConfig {
    /// The configured providers in their default failover order: RBM, then Kannel, then the
    /// loopback simulator (which carries every route, so it goes last).
    pub fn configured(&self) -> Vec<ProviderName> {
        let mut names = Vec::new();
        if self.rbm.is_some() {
            names.push(ProviderName::Rbm);
        }
        if self.kannel.is_some() {
            names.push(ProviderName::Kannel);
        }
        if self.loopback.is_some() {
            names.push(ProviderName::Loopback);
        }
        names
    }

    pub(super) fn validate(&self, order: Option<&[ProviderName]>) -> Result<(), ConfigError> {
        let invalid = |field, reason| Err(ConfigError::Invalid { field, reason });
        let configured = self.configured();
        if configured.is_empty() {
            return invalid("provider", "configure at least one provider");
        }
        if let Some(order) = order {
            for (i, name) in order.iter().enumerate() {
                if !configured.contains(name) {
                    return invalid(
                        "routing.providers",
                        "names a provider without a [provider.*] table",
                    );
                }
                if order[..i].contains(name) {
                    return invalid("routing.providers", "names a provider twice");
                }
            }
            if configured.iter().any(|c| !order.contains(c)) {
                return invalid(
                    "routing.providers",
                    "leaves out a configured provider (list it, or remove its table)",
                );
            }
        }
        if let Some(rbm) = &self.rbm {
            if let Some(base) = &rbm.base_url {
                check_endpoint(base, "provider.rbm.base_url")?;
                if !base.path().ends_with('/') {
                    return invalid("provider.rbm.base_url", "must end with '/'");
                }
            }
            match (&rbm.service_account_key_file, &rbm.token_file) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => {
                    return invalid(
                        "provider.rbm.service_account_key_file",
                        "set exactly one of service_account_key_file and token_file",
                    );
                }
            }
            if rbm
                .agent_id
                .as_deref()
                .is_some_and(|a| a.is_empty() || a.len() > 128 || !a.bytes().all(agent_byte))
            {
                return invalid(
                    "provider.rbm.agent_id",
                    "must be 1-128 characters of [A-Za-z0-9_.-]",
                );
            }
            if !(10..=86_400).contains(&rbm.message_ttl_secs) {
                return invalid(
                    "provider.rbm.message_ttl_secs",
                    "must be between 10 and 86400",
                );
            }
            check_timeout(rbm.timeout_ms, "provider.rbm.timeout_ms")?;
        }
        if let Some(k) = &self.kannel {
            let url = &k.sendsms_url;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return invalid("provider.kannel.sendsms_url", "must be an http(s) URL");
            }
            if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
                return invalid(
                    "provider.kannel.sendsms_url",
                    "must not carry a query or credentials (use username and password_file)",
                );
            }
            if k.username.is_empty() || k.username.len() > 64 {
                return invalid("provider.kannel.username", "must be 1-64 characters");
            }
            if k.from
                .as_deref()
                .is_some_and(|f| f.is_empty() || f.len() > 20 || !f.bytes().all(sender_byte))
            {
                return invalid(
                    "provider.kannel.from",
                    "must be 1-20 characters: digits, an optional leading +, or letters",
                );
            }
            if let Some(base) = &k.dlr_base_url {
                if !matches!(base.scheme(), "http" | "https")
                    || base.cannot_be_a_base()
                    || base.query().is_some()
                {
                    return invalid(
                        "provider.kannel.dlr_base_url",
                        "must be an http(s) base URL",
                    );
                }
                if !base.path().ends_with('/') {
                    return invalid("provider.kannel.dlr_base_url", "must end with '/'");
                }
            }
            check_timeout(k.timeout_ms, "provider.kannel.timeout_ms")?;
        }
        Ok(())
    }
}

fn agent_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

fn sender_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b' ')
}
