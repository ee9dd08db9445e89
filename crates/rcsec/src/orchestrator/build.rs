//! Configuration and the builder.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcsec_audit::{AuditSink, Pseudonymizer};
use rcsec_capability::Resolver;
use rcsec_core::{Clock, Secret, SystemClock};
use rcsec_link::{BlobStore, Gateway, Keyring, OsRandom, RandomSource, TokenStore};
use rcsec_policy::{Classifier, Policy};

use super::quiet_hours::QuietHours;
use super::rate_limit::RateLimit;
use super::{Orchestrator, State};
use crate::journal::{SplitJournal, StepJournal};
use crate::outbox::{MemoryOutbox, Outbox};
use crate::protect::{NoPushDevices, PushProtector};
use crate::provider::MessagingProvider;
use crate::state::{AlertStateStore, StateSealer};
use crate::ticket::{MemoryTicketSink, TicketSink};

/// Retry schedule for transient provider failures: exponential backoff with equal jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure (before jitter).
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
    /// Attempts before the message ends `failed`.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 2 s doubling up to 5 min, 6 attempts.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            max: Duration::from_secs(300),
            max_attempts: 6,
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt `attempt + 1`: `min(max, base·2^(attempt-1))`, of which the
    /// upper half is jittered by `jitter` (0..=u32::MAX maps to 0..=half).
    pub fn delay(&self, attempt: u32, jitter: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let full = self.base.saturating_mul(1u32 << exp).min(self.max);
        let half = full / 2;
        let extra = half.mul_f64(f64::from(jitter) / f64::from(u32::MAX));
        half + extra
    }
}

/// Pipeline settings.
#[derive(Debug, Clone)]
pub struct OrchestratorConfig {
    /// Base of link URLs (`https://alerts.example/`); links are `<base>/l/<token>#k=<key>`.
    pub link_base: url::Url,
    /// Lifetime of secure links.
    pub link_ttl: Duration,
    /// After this a queued message expires instead of being sent late.
    pub message_ttl: Duration,
    /// Time to acknowledge before the next escalation step is paged.
    pub ack_timeout: Duration,
    /// How many times the whole chain is repeated after the last step.
    pub escalation_loops: u32,
    /// Repeats of a firing alert inside this window do not page again.
    pub dedup_window: Duration,
    /// Per-recipient page limit.
    pub rate_limit: RateLimit,
    /// Hold P2–P3 pages in this window.
    pub quiet_hours: Option<QuietHours>,
    /// Retry schedule.
    pub retry: RetryPolicy,
    /// Outbox claim lease.
    pub lease: Duration,
}

impl OrchestratorConfig {
    /// Defaults around `link_base`: 15-minute links, 1-hour message expiry, 5-minute ack
    /// timeout, 2 extra escalation loops, 10-minute dedup window, 10 pages per 10 minutes,
    /// no quiet hours, [`RetryPolicy::default`], 30-second leases.
    pub fn new(link_base: url::Url) -> Self {
        Self {
            link_base,
            link_ttl: Duration::from_secs(15 * 60),
            message_ttl: Duration::from_secs(3600),
            ack_timeout: Duration::from_secs(5 * 60),
            escalation_loops: 2,
            dedup_window: Duration::from_secs(10 * 60),
            rate_limit: RateLimit::default(),
            quiet_hours: None,
            retry: RetryPolicy::default(),
            lease: Duration::from_secs(30),
        }
    }
}

/// A required part was not given to the builder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The named part is missing.
    #[error("orchestrator needs {0}")]
    Missing(&'static str),
    /// The random source failed while generating a default key.
    #[error("random source failed")]
    Random,
    /// Two parts that must agree do not (named).
    #[error("orchestrator parts conflict: {0}")]
    Conflict(&'static str),
}

/// The keyring and stores links are issued with.
type LinkParts = (Arc<Keyring>, Arc<dyn TokenStore>, Arc<dyn BlobStore>);

/// The state store and the key its records are sealed under.
type StateParts = (Arc<dyn AlertStateStore>, Secret<[u8; 32]>);

/// Builds an [`Orchestrator`]. Required: a resolver, links (keyring + stores), an audit sink
/// with its pseudonymizer, and at least one provider.
#[derive(Debug, Default)]
pub struct OrchestratorBuilder {
    clock: Option<Arc<dyn Clock>>,
    policy: Option<Policy>,
    classifier: Option<Arc<Classifier>>,
    resolver: Option<Arc<Resolver>>,
    links: Option<LinkParts>,
    audit: Option<(Arc<dyn AuditSink>, Pseudonymizer)>,
    outbox: Option<Arc<dyn Outbox>>,
    journal: Option<Arc<dyn StepJournal>>,
    providers: Vec<Arc<dyn MessagingProvider>>,
    tickets: Option<Arc<dyn TicketSink>>,
    protector: Option<Arc<dyn PushProtector>>,
    link_pseudonym_key: Option<Secret<[u8; 32]>>,
    rng: Option<Arc<dyn RandomSource>>,
    config: Option<OrchestratorConfig>,
    state_store: Option<StateParts>,
}

impl OrchestratorBuilder {
    /// The clock (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The fallback policy (default: [`Policy::default`]).
    #[must_use]
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// A shared classifier (default: a new [`Classifier::default`]).
    #[must_use]
    pub fn classifier(mut self, classifier: Arc<Classifier>) -> Self {
        self.classifier = Some(classifier);
        self
    }

    /// The capability resolver (required).
    #[must_use]
    pub fn resolver(mut self, resolver: Arc<Resolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// The link keyring and stores (required).
    #[must_use]
    pub fn links(
        mut self,
        keyring: Arc<Keyring>,
        tokens: Arc<dyn TokenStore>,
        blobs: Arc<dyn BlobStore>,
    ) -> Self {
        self.links = Some((keyring, tokens, blobs));
        self
    }

    /// The audit sink and the pseudonymizer events are built with (required).
    #[must_use]
    pub fn audit(mut self, sink: Arc<dyn AuditSink>, pseudonymizer: Pseudonymizer) -> Self {
        self.audit = Some((sink, pseudonymizer));
        self
    }

    /// The outbox (default: [`MemoryOutbox`], not durable).
    #[must_use]
    pub fn outbox(mut self, outbox: Arc<dyn Outbox>) -> Self {
        self.outbox = Some(outbox);
        self
    }

    /// The audit sink and outbox as one [`StepJournal`] (instead of [`Self::audit`] and
    /// [`Self::outbox`]): each pipeline step's audit events and outbox change are written
    /// with one call, which a backend holding both in one database (the SQLite store) makes
    /// one transaction. Events are built with `pseudonymizer`.
    #[must_use]
    pub fn journal(mut self, journal: Arc<dyn StepJournal>, pseudonymizer: Pseudonymizer) -> Self {
        self.audit = Some((journal.audit_sink(), pseudonymizer));
        self.outbox = Some(journal.outbox());
        self.journal = Some(journal);
        self
    }

    /// Adds a provider; providers are tried in the order added.
    #[must_use]
    pub fn provider(mut self, provider: Arc<dyn MessagingProvider>) -> Self {
        self.providers.push(provider);
        self
    }

    /// The ticket system (default: [`MemoryTicketSink`]).
    #[must_use]
    pub fn tickets(mut self, tickets: Arc<dyn TicketSink>) -> Self {
        self.tickets = Some(tickets);
        self
    }

    /// The push protector (default: [`NoPushDevices`], which closes the push route; wire an
    /// [`MlsTeamProtector`](crate::protect::MlsTeamProtector) to page enrolled phones).
    #[must_use]
    pub fn protector(mut self, protector: Arc<dyn PushProtector>) -> Self {
        self.protector = Some(protector);
        self
    }

    /// The key link records pseudonymize recipients with (default: random per process).
    #[must_use]
    pub fn link_pseudonym_key(mut self, key: Secret<[u8; 32]>) -> Self {
        self.link_pseudonym_key = Some(key);
        self
    }

    /// The random source for link material and retry jitter (default: the OS).
    #[must_use]
    pub fn rng(mut self, rng: Arc<dyn RandomSource>) -> Self {
        self.rng = Some(rng);
        self
    }

    /// Where open alerts are kept across restarts, sealed under `state_key` (default: nowhere;
    /// a restart forgets every open alert). Call [`Orchestrator::recover`] after building.
    ///
    /// The key must stay the same across restarts (records sealed under another key cannot be
    /// opened) and is as sensitive as the alerts: keep it apart from the store.
    #[must_use]
    pub fn state_store(
        mut self,
        store: Arc<dyn AlertStateStore>,
        state_key: Secret<[u8; 32]>,
    ) -> Self {
        self.state_store = Some((store, state_key));
        self
    }

    /// The settings (required: they carry the link base URL).
    #[must_use]
    pub fn config(mut self, config: OrchestratorConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Builds the orchestrator.
    ///
    /// # Errors
    /// [`BuildError::Missing`] for a missing required part; [`BuildError::Random`].
    pub fn build(self) -> Result<Orchestrator, BuildError> {
        let resolver = self.resolver.ok_or(BuildError::Missing("a resolver"))?;
        let (keyring, tokens, blobs) = self.links.ok_or(BuildError::Missing("link stores"))?;
        let (audit_sink, pseudonymizer) = self.audit.ok_or(BuildError::Missing("an audit sink"))?;
        let config = self.config.ok_or(BuildError::Missing("a config"))?;
        if self.providers.is_empty() {
            return Err(BuildError::Missing("a messaging provider"));
        }
        let rng: Arc<dyn RandomSource> = self.rng.unwrap_or_else(|| Arc::new(OsRandom));
        let link_pseudonym_key = match self.link_pseudonym_key {
            Some(k) => k,
            None => {
                let mut k = Secret::new([0u8; 32]);
                rng.fill(k.expose_secret_mut())
                    .map_err(|_| BuildError::Random)?;
                k
            }
        };
        let gateway = Gateway::new(keyring, Arc::clone(&tokens), blobs, Arc::clone(&rng));
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let durable = self.state_store.map(|(store, key)| {
            super::durable::Durable::new(
                store,
                StateSealer::new(key, Arc::clone(&rng)),
                clock.now(),
            )
        });
        let outbox = self.outbox.unwrap_or_else(|| Arc::new(MemoryOutbox::new()));
        let journal = match self.journal {
            // A journal writing other stores than the ones the orchestrator reads would split
            // the pipeline's state in two.
            Some(j) => {
                let same_outbox = std::ptr::addr_eq(Arc::as_ptr(&j.outbox()), Arc::as_ptr(&outbox));
                let same_sink =
                    std::ptr::addr_eq(Arc::as_ptr(&j.audit_sink()), Arc::as_ptr(&audit_sink));
                if !(same_outbox && same_sink) {
                    return Err(BuildError::Conflict(
                        "the journal's outbox and audit sink must be the ones in use",
                    ));
                }
                j
            }
            None => Arc::new(SplitJournal::new(
                Arc::clone(&outbox),
                Arc::clone(&audit_sink),
            )),
        };
        Ok(Orchestrator {
            clock,
            policy: self.policy.unwrap_or_default(),
            classifier: self.classifier.unwrap_or_default(),
            resolver,
            gateway,
            tokens,
            audit_sink,
            pseudonymizer,
            outbox,
            journal,
            providers: self.providers,
            tickets: self
                .tickets
                .unwrap_or_else(|| Arc::new(MemoryTicketSink::new())),
            protector: self.protector.unwrap_or_else(|| Arc::new(NoPushDevices)),
            link_pseudonym_key,
            rng,
            config,
            state: Mutex::new(State::default()),
            durable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let r = RetryPolicy::default();
        assert_eq!(r.delay(1, 0), Duration::from_secs(1));
        assert_eq!(r.delay(1, u32::MAX), Duration::from_secs(2));
        assert_eq!(r.delay(3, 0), Duration::from_secs(4));
        assert_eq!(r.delay(30, u32::MAX), Duration::from_secs(300));
        assert_eq!(r.delay(30, 0), Duration::from_secs(150));
    }
}
