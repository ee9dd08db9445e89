//! Building the daemon from its configuration: stores, keys, providers, the Orchestrator.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rcsec::audit::{AuditKey, AuditSink, MemoryAuditSink, Pseudonymizer};
use rcsec::capability::{MemoryPinStore, PinStore, Resolver};
use rcsec::core::{Clock, Msisdn, Secret, SystemClock};
use rcsec::ingest::AlertmanagerDecoder;
use rcsec::link::{
    BlobStore, Keyring, KeyringPolicy, MemoryBlobStore, MemoryTokenStore, OsRandom, TokenStore,
};
use rcsec::policy::Policy;
use rcsec::state::AlertStateStore;
use rcsec::{
    Alert, MemoryOutbox, Orchestrator, OrchestratorConfig, Outbox, RecoveryReport, Responder,
};
use rcsec_provider_loopback::{LoopbackProvider, Roster};
use rcsec_store_sqlite::{
    SqliteAlertStateStore, SqliteAuditSink, SqliteBlobStore, SqliteOutbox, SqlitePinStore,
    SqliteStore, SqliteTokenStore,
};

use crate::audit::AuditTrail;
use crate::auth::BearerToken;
use crate::config::{Config, ConfigError, StoreConfig, read_file};
use crate::metrics::Metrics;
use crate::providers;
use crate::rbm::RbmInbound;
use crate::secrets::{self, SecretsError};
use rcsec_provider_kannel::DlrSigner;
use rcsec_provider_rbm::webhook::{ClientToken, PostbackKey, PostbackSigner};

/// How long one capability query may take before the resolver tries the next provider.
const CAPABILITY_TIMEOUT: Duration = Duration::from_secs(2);

/// Why the daemon could not start. Never carries a secret or a phone number.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration or a file it names is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Key material could not be loaded or created.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// A store could not be opened.
    #[error("store: {0}")]
    Store(String),
    /// The pipeline could not be assembled.
    #[error("pipeline: {0}")]
    Pipeline(String),
}

fn pipeline(e: impl std::fmt::Display) -> StartError {
    StartError::Pipeline(e.to_string())
}

/// The alert state store and the key its records are sealed under.
type StateStore = (Arc<dyn AlertStateStore>, Secret<[u8; 32]>);

/// The stores the pipeline runs on.
struct Stores {
    tokens: Arc<dyn TokenStore>,
    blobs: Arc<dyn BlobStore>,
    audit: Arc<dyn AuditSink>,
    pins: Arc<dyn PinStore>,
    outbox: Arc<dyn Outbox>,
    /// Open alerts across restarts, with the key their records are sealed under (none in
    /// memory mode: there is nothing to survive).
    state: Option<StateStore>,
    keyring: Keyring,
    audit_key: Secret<[u8; 32]>,
    link_key: Secret<[u8; 32]>,
    postback_key: Secret<[u8; 32]>,
    /// Tags Kannel delivery-report URLs (`kannel-dlr.key`).
    dlr_key: Secret<[u8; 32]>,
}

fn open_stores(store: &StoreConfig, clock: &dyn Clock) -> Result<Stores, StartError> {
    match store {
        StoreConfig::Memory => {
            let random_key = || {
                let mut k = Secret::new([0u8; 32]);
                rcsec::link::RandomSource::fill(&OsRandom, k.expose_secret_mut())
                    .map(|()| k)
                    .map_err(pipeline)
            };
            Ok(Stores {
                tokens: Arc::new(MemoryTokenStore::new()),
                blobs: Arc::new(MemoryBlobStore::new()),
                audit: Arc::new(MemoryAuditSink::new()),
                pins: Arc::new(MemoryPinStore::new()),
                outbox: Arc::new(MemoryOutbox::new()),
                state: None,
                keyring: Keyring::generate(KeyringPolicy::default(), clock.now(), &OsRandom)
                    .map_err(pipeline)?,
                audit_key: random_key()?,
                link_key: random_key()?,
                postback_key: random_key()?,
                dlr_key: random_key()?,
            })
        }
        StoreConfig::Sqlite { state_dir } => open_sqlite(state_dir, clock),
    }
}

fn open_sqlite(dir: &Path, clock: &dyn Clock) -> Result<Stores, StartError> {
    secrets::ensure_private_dir(dir)?;
    let store =
        SqliteStore::open(dir.join("rcsec.db")).map_err(|e| StartError::Store(e.to_string()))?;
    let pin_key = secrets::load_or_create_key(&dir.join("pin.key"))?;
    Ok(Stores {
        tokens: Arc::new(SqliteTokenStore::new(store.clone())),
        blobs: Arc::new(SqliteBlobStore::new(store.clone())),
        audit: Arc::new(
            SqliteAuditSink::open(store.clone()).map_err(|e| StartError::Store(e.to_string()))?,
        ),
        pins: Arc::new(SqlitePinStore::new(store.clone(), &pin_key)),
        outbox: Arc::new(SqliteOutbox::new(store.clone())),
        state: Some((
            Arc::new(SqliteAlertStateStore::new(store)),
            secrets::load_or_create_key(&dir.join("state.key"))?,
        )),
        keyring: secrets::load_or_create_keyring(&dir.join("keyring.json"), clock.now())?,
        audit_key: secrets::load_or_create_key(&dir.join("audit.key"))?,
        link_key: secrets::load_or_create_key(&dir.join("link-pseudonym.key"))?,
        postback_key: secrets::load_or_create_key(&dir.join("rbm-postback.key"))?,
        dlr_key: secrets::load_or_create_key(&dir.join("kannel-dlr.key"))?,
    })
}

/// Parts of the daemon to replace (tests, embedding): anything left `None` comes from the
/// configuration.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct AppOptions {
    /// The clock (default: the system clock).
    pub clock: Option<Arc<dyn Clock>>,
    /// The outbox (default: the configured store's).
    pub outbox: Option<Arc<dyn Outbox>>,
    /// The audit sink (default: the configured store's).
    pub audit: Option<Arc<dyn AuditSink>>,
}

impl AppOptions {
    /// Uses `clock`.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Uses `outbox` instead of the configured store's.
    #[must_use]
    pub fn outbox(mut self, outbox: Arc<dyn Outbox>) -> Self {
        self.outbox = Some(outbox);
        self
    }

    /// Uses `audit` instead of the configured store's audit sink.
    #[must_use]
    pub fn audit(mut self, audit: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(audit);
        self
    }
}

/// Everything a request handler needs, shared behind an `Arc`.
#[derive(Debug)]
pub struct App {
    /// The pipeline.
    pub orchestrator: Arc<Orchestrator>,
    /// The loopback simulator, when configured (tests read what it "sent").
    pub loopback: Option<Arc<LoopbackProvider>>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The outbox (for the depth gauge and `/healthz`).
    pub outbox: Arc<dyn Outbox>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The RBM webhook side, when `[webhooks.rbm]` is configured.
    pub rbm: Option<RbmInbound>,
    /// Verifies Kannel delivery reports, when `[provider.kannel] dlr_base_url` is set.
    pub kannel_dlr: Option<DlrSigner>,
    /// Security events alertd records itself (forged webhooks), beside the pipeline's.
    pub(crate) audit: AuditTrail,
    pub(crate) decoder: AlertmanagerDecoder,
    pub(crate) alertmanager_token: BearerToken,
    /// (team, responder); an empty team means every team.
    pub(crate) responders: Vec<(String, Responder)>,
    pub(crate) team_label: String,
    pub(crate) max_body: usize,
    pub(crate) tick_interval: Duration,
    pub(crate) shutdown_grace: Duration,
}

impl App {
    /// Builds the daemon from `config` on the system clock.
    ///
    /// # Errors
    /// [`StartError`] for unreadable files, bad rosters or policies, and store failures.
    pub fn from_config(config: &Config) -> Result<Self, StartError> {
        Self::with_options(config, AppOptions::default())
    }

    /// Builds the daemon from `config` with parts replaced by `options`.
    ///
    /// # Errors
    /// As [`App::from_config`].
    pub fn with_options(config: &Config, options: AppOptions) -> Result<Self, StartError> {
        let clock = options.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let token = read_file("bearer token", &config.alertmanager.bearer_token_file)?;
        let alertmanager_token = BearerToken::new(token.trim()).ok_or(ConfigError::Invalid {
            field: "alertmanager.bearer_token_file",
            reason: "token must be 16 to 4096 visible ASCII characters",
        })?;
        let policy = match &config.policy_file {
            Some(p) => Policy::from_toml(&read_file("policy", p)?).map_err(pipeline)?,
            None => Policy::default(),
        };
        let mut stores = open_stores(&config.store, clock.as_ref())?;
        let postbacks =
            PostbackSigner::new(PostbackKey::new(1, stores.postback_key.clone()), Vec::new());
        if let Some(outbox) = options.outbox {
            stores.outbox = outbox;
        }
        if let Some(audit) = options.audit {
            stores.audit = audit;
        }
        let metrics = Arc::new(Metrics::new());

        let mut responders = Vec::new();
        let mut loopback = None;
        if let Some(lb) = &config.provider.loopback {
            let roster = Roster::from_toml(&read_file("roster", &lb.roster)?).map_err(pipeline)?;
            let provider =
                Arc::new(LoopbackProvider::new(&roster, Arc::clone(&clock)).map_err(pipeline)?);
            responders.extend(
                provider
                    .responders()
                    .into_iter()
                    .map(|r| (String::new(), r)),
            );
            loopback = Some(provider);
        }
        for r in &config.responders {
            let number = Msisdn::parse(&r.number).map_err(|_| ConfigError::Invalid {
                field: "responder.number",
                reason: "not an E.164 number",
            })?;
            let responder = Responder::new(number, r.name.clone()).at_step(r.step);
            responders.push((r.team.clone(), responder));
        }
        if responders.is_empty() {
            return Err(ConfigError::Invalid {
                field: "responder",
                reason: "nobody to page: add [[responder]] entries or a roster",
            }
            .into());
        }

        let built = providers::build(
            config,
            loopback,
            &providers::Shared {
                clock: &clock,
                metrics: &metrics,
                policy: &policy,
                postbacks: &postbacks,
                dlr_key: &stores.dlr_key,
            },
        )?;
        let mut resolver = Resolver::builder(Arc::clone(&clock))
            .pins(Arc::clone(&stores.pins))
            .metrics(metrics.clone());
        for provider in built.capability {
            resolver = resolver.provider(provider, CAPABILITY_TIMEOUT);
        }
        let audit = AuditTrail::new(
            Arc::clone(&stores.audit),
            Pseudonymizer::new(AuditKey::from_bytes(1, &stores.audit_key)),
            Arc::clone(&clock),
        );
        let mut orch_config = OrchestratorConfig::new(config.server.public_url.clone());
        orch_config.link_ttl = Duration::from_secs(config.links.ttl_secs);
        orch_config.ack_timeout = Duration::from_secs(config.pipeline.ack_timeout_secs);
        let mut builder = Orchestrator::builder()
            .clock(Arc::clone(&clock))
            .policy(policy)
            .resolver(Arc::new(resolver.build().map_err(pipeline)?))
            .links(Arc::new(stores.keyring), stores.tokens, stores.blobs)
            .audit(
                stores.audit,
                Pseudonymizer::new(AuditKey::from_bytes(1, &stores.audit_key)),
            )
            .outbox(Arc::clone(&stores.outbox))
            .link_pseudonym_key(stores.link_key)
            .config(orch_config);
        if let Some((store, key)) = stores.state {
            builder = builder.state_store(store, key);
        }
        for provider in built.messaging {
            builder = builder.provider(provider);
        }
        if let Some(tickets) = providers::tickets(config)? {
            builder = builder.tickets(tickets);
        }
        let orchestrator = Arc::new(builder.build().map_err(pipeline)?);
        let rbm = match &config.webhooks.rbm {
            Some(c) => {
                let token = read_file("rbm client token", &c.client_token_file)?;
                let token = ClientToken::new(token.trim()).map_err(|_| ConfigError::Invalid {
                    field: "webhooks.rbm.client_token_file",
                    reason: "the client token is empty",
                })?;
                Some(RbmInbound::new(token, postbacks, c.queue_capacity))
            }
            None => None,
        };
        let decoder = AlertmanagerDecoder::default()
            .with_severity_label(config.alertmanager.severity_label.clone());
        Ok(Self {
            orchestrator,
            loopback: built.loopback,
            metrics,
            rbm,
            kannel_dlr: built.dlr,
            audit,
            outbox: stores.outbox,
            clock,
            decoder,
            alertmanager_token,
            responders,
            team_label: config.routing.team_label.clone(),
            max_body: config.server.max_body_bytes,
            tick_interval: Duration::from_millis(config.pipeline.tick_interval_ms),
            shutdown_grace: config.shutdown_grace(),
        })
    }

    /// Counts and audits a webhook request refused as forged (`reason` is a fixed code).
    pub(crate) async fn forged_webhook(
        &self,
        endpoint: &'static str,
        reason: &'static str,
        sender: Option<&Msisdn>,
    ) {
        self.metrics.inc(
            "alertd_webhook_forgeries_total",
            &[("endpoint", endpoint), ("reason", reason)],
        );
        if !self.audit.webhook_rejected(endpoint, reason, sender).await {
            self.metrics
                .inc("alertd_audit_skipped_total", &[("endpoint", endpoint)]);
        }
    }

    /// Restores the open alerts a previous run left in the state store (SQLite mode), so they
    /// escalate, take acknowledgements and resolve as if there had been no restart. Call it
    /// once before serving. Records that cannot be restored (a wrong `state.key`, a tampered
    /// row) are logged by alert id and left in the store; the rest are restored.
    ///
    /// # Errors
    /// [`StartError::Store`] when the state cannot be read at all.
    pub async fn recover(&self) -> Result<RecoveryReport, StartError> {
        let report = self
            .orchestrator
            .recover()
            .await
            .map_err(|e| StartError::Store(format!("alert state: {e}")))?;
        for u in &report.unreadable {
            tracing::error!(
                alert = %u.alert,
                error = %u.error,
                "alert state record could not be restored; left in the store"
            );
        }
        tracing::info!(
            alerts = report.alerts,
            messages = report.messages,
            held = report.held,
            unreadable = report.unreadable.len(),
            "alert state recovered"
        );
        Ok(report)
    }

    /// The responders for `alert`: those without a team, and those whose team matches the
    /// alert's team label (everyone when the alert has no such label).
    pub fn responders_for(&self, alert: &Alert) -> Vec<Responder> {
        let team = alert.label(&self.team_label);
        self.responders
            .iter()
            .filter(|(t, _)| t.is_empty() || team.is_none_or(|team| team == t))
            .map(|(_, r)| r.clone())
            .collect()
    }
}
