//! Building the configured messaging providers and the ticket sink.
//!
//! Every provider is wrapped in [`Counting`] so `/metrics` sees what each one accepted and
//! refused, and handed to the orchestrator in `[routing] providers` order. RBM and the loopback
//! simulator also answer capability queries, in the same order. With neither configured
//! (Kannel alone), [`SmsOnly`] answers them: without an RCS provider every page is an SMS link.

mod sms_only;
mod ttl;

use std::sync::Arc;
use std::time::Duration;

use rcsec::capability::CapabilityProvider;
use rcsec::core::{Clock, Secret, Severity};
use rcsec::policy::Policy;
use rcsec::{MessagingProvider, TicketSink};
use rcsec_http::{HttpClient, HttpConfig};
use rcsec_provider_kannel::{DlrSigner, DlrStatus, KannelConfig, KannelProvider, SmsGuard};
use rcsec_provider_loopback::LoopbackProvider;
use rcsec_provider_rbm::webhook::PostbackSigner;
use rcsec_provider_rbm::{
    RbmConfig, RbmProvider, ServiceAccountKey, ServiceAccountTokenSource, StaticToken, TokenSource,
};
use rcsec_ticket_servicenow::{Auth, ServiceNowConfig, ServiceNowSink, WebhookSink};

pub use sms_only::SmsOnly;
pub use ttl::CappedTtl;

use crate::app::StartError;
use crate::config::{Config, ConfigError, KannelProviderConfig, ProviderName, RbmProviderConfig};
use crate::counting::Counting;
use crate::metrics::Metrics;
use crate::secrets::read_secret_file;

/// Where Kannel's delivery reports arrive (relative to `dlr_base_url`).
pub const KANNEL_DLR_PATH: &str = "v1/providers/kannel/dlr";

/// What start-up needs from the provider side.
pub(crate) struct Built {
    /// Messaging providers in failover order, already counted.
    pub messaging: Vec<Arc<dyn MessagingProvider>>,
    /// Capability providers in the same order.
    pub capability: Vec<Arc<dyn CapabilityProvider>>,
    /// The loopback simulator, when configured.
    pub loopback: Option<Arc<LoopbackProvider>>,
    /// Verifies Kannel's delivery-report callbacks, when DLRs are configured.
    pub dlr: Option<DlrSigner>,
}

/// Keys and parts the providers share with the rest of the daemon.
pub(crate) struct Shared<'a> {
    pub clock: &'a Arc<dyn Clock>,
    pub metrics: &'a Arc<Metrics>,
    pub policy: &'a Policy,
    pub postbacks: &'a PostbackSigner,
    pub dlr_key: &'a Secret<[u8; 32]>,
}

fn http(timeout_ms: u64) -> Result<HttpClient, StartError> {
    HttpClient::new(HttpConfig {
        timeout: Duration::from_millis(timeout_ms),
        ..HttpConfig::default()
    })
    .map_err(|e| StartError::Pipeline(e.to_string()))
}

/// Builds the providers `config` names, in its failover order.
pub(crate) fn build(
    config: &Config,
    loopback: Option<Arc<LoopbackProvider>>,
    shared: &Shared<'_>,
) -> Result<Built, StartError> {
    let mut built = Built {
        messaging: Vec::new(),
        capability: Vec::new(),
        loopback: None,
        dlr: None,
    };
    for name in config.provider_order() {
        match name {
            ProviderName::Rbm => {
                let Some(c) = &config.provider.rbm else {
                    continue;
                };
                let rbm = Arc::new(rbm(c, config, shared)?);
                built.capability.push(rbm.clone());
                let capped = Arc::new(CappedTtl::new(
                    rbm,
                    Duration::from_secs(c.message_ttl_secs),
                    Arc::clone(shared.clock),
                ));
                built
                    .messaging
                    .push(Arc::new(Counting::new(capped, shared.metrics.clone())));
            }
            ProviderName::Kannel => {
                let Some(c) = &config.provider.kannel else {
                    continue;
                };
                let (kannel, dlr) = kannel(c, config, shared)?;
                built.dlr = dlr;
                built.messaging.push(Arc::new(Counting::new(
                    Arc::new(kannel),
                    shared.metrics.clone(),
                )));
            }
            ProviderName::Loopback => {
                let Some(lb) = &loopback else {
                    continue;
                };
                built.capability.push(lb.clone());
                built
                    .messaging
                    .push(Arc::new(Counting::new(lb.clone(), shared.metrics.clone())));
                built.loopback = Some(lb.clone());
            }
        }
    }
    if built.capability.is_empty() {
        built
            .capability
            .push(Arc::new(SmsOnly::new(Arc::clone(shared.clock))));
    }
    Ok(built)
}

fn rbm(
    c: &RbmProviderConfig,
    config: &Config,
    shared: &Shared<'_>,
) -> Result<RbmProvider, StartError> {
    let http = http(c.timeout_ms)?;
    let tokens: Arc<dyn TokenSource> = match (&c.service_account_key_file, &c.token_file) {
        (Some(path), _) => {
            let json = read_secret_file(path)?;
            let key = ServiceAccountKey::from_json(json.expose_secret().as_bytes()).map_err(
                |_| ConfigError::Invalid {
                    field: "provider.rbm.service_account_key_file",
                    reason: "not a service-account key (JSON with client_email, private_key, token_uri)",
                },
            )?;
            Arc::new(ServiceAccountTokenSource::new(
                key,
                http.clone(),
                Arc::clone(shared.clock),
            ))
        }
        (None, Some(path)) => {
            let token = read_secret_file(path)?;
            Arc::new(StaticToken::new(token.expose_secret().clone()))
        }
        (None, None) => {
            return Err(ConfigError::Invalid {
                field: "provider.rbm.service_account_key_file",
                reason: "set exactly one of service_account_key_file and token_file",
            }
            .into());
        }
    };
    let mut rbm_config = RbmConfig::google().map_err(|e| StartError::Pipeline(e.to_string()))?;
    if let Some(base) = &c.base_url {
        rbm_config.base_url = base.clone();
    }
    rbm_config.agent_id.clone_from(&c.agent_id);
    rbm_config.link_prefix = Some(link_prefix(config)?);
    Ok(RbmProvider::new(
        http,
        rbm_config,
        tokens,
        shared.postbacks.clone(),
        Arc::clone(shared.clock),
    ))
}

/// Where this daemon's secure links live: what the SMS guard and RBM's "Open" button accept.
fn link_prefix(config: &Config) -> Result<url::Url, StartError> {
    config.server.public_url.join("l/").map_err(|_| {
        ConfigError::Invalid {
            field: "server.public_url",
            reason: "must be an http(s) base URL",
        }
        .into()
    })
}

fn kannel(
    c: &KannelProviderConfig,
    config: &Config,
    shared: &Shared<'_>,
) -> Result<(KannelProvider, Option<DlrSigner>), StartError> {
    let password = read_secret_file(&c.password_file)?;
    let guard = SmsGuard::new(
        &[shared.policy.sms_template(), rcsec::RESOLVED_TEXT],
        link_prefix(config)?,
    )
    .map_err(|_| ConfigError::Invalid {
        field: "policy_file",
        reason: "the sms template cannot be sent through Kannel (one GSM-7 segment, {severity} and {link} only)",
    })?;
    fits_one_segment(&guard, shared.policy, &link_prefix(config)?)?;
    let dlr = match &c.dlr_base_url {
        Some(base) => {
            let url = base
                .join(KANNEL_DLR_PATH)
                .map_err(|_| ConfigError::Invalid {
                    field: "provider.kannel.dlr_base_url",
                    reason: "must be an http(s) base URL",
                })?;
            Some(DlrSigner::new(shared.dlr_key.clone(), url))
        }
        None => None,
    };
    let provider = KannelProvider::new(
        http(c.timeout_ms)?,
        KannelConfig {
            sendsms_url: c.sendsms_url.clone(),
            username: c.username.clone(),
            password,
            from: c.from.clone(),
            dlr: dlr.clone().map(|d| (DlrStatus::ALL_MASK, d)),
        },
        guard,
    );
    Ok((provider, dlr))
}

/// Characters of a link's `#k=` key fragment: a 32-byte key in unpadded base64url.
const FRAGMENT_KEY_CHARS: usize = 43;

/// Refuses to start when the SMS template with the longest link this daemon issues would not
/// pass the guard (one 160-septet GSM-7 segment). Otherwise every SMS page would be refused
/// at send time, at 02:17, instead of once at start-up.
fn fits_one_segment(
    guard: &SmsGuard,
    policy: &Policy,
    prefix: &url::Url,
) -> Result<(), ConfigError> {
    let link = format!(
        "{prefix}{}#k={}",
        "A".repeat(rcsec::link::TOKEN_CHARS),
        "A".repeat(FRAGMENT_KEY_CHARS)
    );
    for severity in Severity::ALL {
        if guard.check(&policy.sms_text(severity, &link)).is_err() {
            return Err(ConfigError::Invalid {
                field: "provider.kannel",
                reason: "the policy's sms template with a one-time link does not fit one 160-character GSM-7 SMS: shorten [sms] template in the policy file (e.g. \"{severity} alert: {link}\") or server.public_url",
            });
        }
    }
    Ok(())
}

/// The configured ticket sink, if any (the orchestrator keeps tickets in memory otherwise).
pub(crate) fn tickets(config: &Config) -> Result<Option<Arc<dyn TicketSink>>, StartError> {
    if let Some(sn) = &config.ticket.servicenow {
        let auth = match (&sn.user, &sn.password_file, &sn.bearer_token_file) {
            (Some(user), Some(password), _) => Auth::Basic {
                user: user.clone(),
                password: read_secret_file(password)?,
            },
            (_, _, Some(token)) => Auth::Bearer(read_secret_file(token)?),
            _ => {
                return Err(ConfigError::Invalid {
                    field: "ticket.servicenow.password_file",
                    reason: "set user and password_file, or bearer_token_file alone",
                }
                .into());
            }
        };
        let mut snc = ServiceNowConfig::new(sn.instance_url.clone(), auth);
        snc.assignment_group.clone_from(&sn.assignment_group);
        if let Some(code) = &sn.close_code {
            snc.close_code.clone_from(code);
        }
        return Ok(Some(Arc::new(ServiceNowSink::new(
            http(sn.timeout_ms)?,
            snc,
        ))));
    }
    if let Some(w) = &config.ticket.webhook {
        let auth = match &w.bearer_token_file {
            Some(path) => Auth::Bearer(read_secret_file(path)?),
            None => Auth::None,
        };
        return Ok(Some(Arc::new(WebhookSink::new(
            http(w.timeout_ms)?,
            w.url.clone(),
            auth,
        ))));
    }
    Ok(None)
}
