//! A pipeline on memory stores, a manual clock and the loopback provider.

use std::sync::Arc;
use std::time::Duration;

use rcsec::audit::{AuditKey, MemoryAuditSink, Pseudonymizer, Verifier};
use rcsec::capability::{MemoryPinStore, Resolver};
use rcsec::core::{AlertId, Clock, ManualClock, Msisdn, Redacted, Secret, Severity, Timestamp};
use rcsec::link::sealed::{ITEM_CONTENT_TYPE, ItemMeta, SealContext, decode_item, open_to_vec};
use rcsec::link::{
    Keyring, KeyringPolicy, MemoryBlobStore, MemoryTokenStore, OsRandom, PayloadKey, RedeemContext,
    RedeemError,
};
use rcsec::{
    Alert, AlertStatus, Artifact, Delivery, MemoryOutbox, MemoryTicketSink, MessagingProvider,
    Orchestrator, OrchestratorConfig, Responder,
};
use rcsec_provider_loopback::{LoopbackProvider, Roster};

/// 08:00 UTC.
pub(crate) const T0: Timestamp = Timestamp::from_secs(1_800_000_000);

pub(crate) const ROSTER: &str = r#"
[[recipient]]
name = "Alice"
number = "+447700900101"
reach = "rcs"
e2ee = "verified"
carrier = "ee"
consent = ["incident"]

[[recipient]]
name = "Bob"
number = "+447700900102"
reach = "rcs"
e2ee = "unverified"
consent = ["incident"]

[[recipient]]
name = "Carol"
number = "+447700900103"
reach = "sms_only"

[[recipient]]
name = "Dave"
number = "+447700900104"
reach = "rcs"
e2ee = "unverified"
simulated_device = true

[[recipient]]
name = "Erin"
number = "+447700900105"
reach = "rcs"
e2ee = "verified"

[[recipient]]
name = "Frank"
number = "+447700900106"
reach = "rcs"
e2ee = "verified"
step = 1
"#;

pub(crate) struct Harness {
    pub(crate) orch: Orchestrator,
    pub(crate) clock: ManualClock,
    pub(crate) loopback: Arc<LoopbackProvider>,
    pub(crate) audit: Arc<MemoryAuditSink>,
    pub(crate) tickets: Arc<MemoryTicketSink>,
    pub(crate) outbox: Arc<MemoryOutbox>,
}

pub(crate) fn number(n: u8) -> Msisdn {
    Msisdn::parse(&format!("+4477009001{n:02}")).unwrap()
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub(crate) fn harness(configure: impl FnOnce(&mut OrchestratorConfig)) -> Harness {
    harness_with(configure, Vec::new())
}

/// `before` providers are tried ahead of the loopback.
pub(crate) fn harness_with(
    configure: impl FnOnce(&mut OrchestratorConfig),
    before: Vec<Arc<dyn MessagingProvider>>,
) -> Harness {
    let clock = ManualClock::new(T0);
    let roster = Roster::from_toml(ROSTER).unwrap();
    let loopback = Arc::new(LoopbackProvider::new(&roster, Arc::new(clock.clone())).unwrap());
    // Dave's simulated phone joins its team group; the orchestrator pages it through MLS.
    let protector = runtime().block_on(loopback.team_protector()).unwrap();
    let resolver = Resolver::builder(Arc::new(clock.clone()))
        .provider(loopback.clone(), Duration::from_secs(2))
        .pins(Arc::new(MemoryPinStore::new()))
        .build()
        .unwrap();
    let keyring = Keyring::generate(KeyringPolicy::default(), T0, &OsRandom).unwrap();
    let audit = Arc::new(MemoryAuditSink::new());
    let tickets = Arc::new(MemoryTicketSink::new());
    let outbox = Arc::new(MemoryOutbox::new());
    let mut config = OrchestratorConfig::new("https://alerts.example/".parse().unwrap());
    configure(&mut config);
    let mut builder = Orchestrator::builder()
        .clock(Arc::new(clock.clone()))
        .resolver(Arc::new(resolver))
        .links(
            Arc::new(keyring),
            Arc::new(MemoryTokenStore::new()),
            Arc::new(MemoryBlobStore::new()),
        )
        .audit(
            audit.clone(),
            Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([9; 32]))),
        )
        .outbox(outbox.clone())
        .tickets(tickets.clone())
        .protector(protector)
        .config(config);
    for p in before {
        builder = builder.provider(p);
    }
    let orch = builder.provider(loopback.clone()).build().unwrap();
    Harness {
        orch,
        clock,
        loopback,
        audit,
        tickets,
        outbox,
    }
}

impl Harness {
    pub(crate) fn responders(&self, names: &[&str]) -> Vec<Responder> {
        self.loopback
            .responders()
            .into_iter()
            .filter(|r| names.contains(&r.name.as_str()))
            .collect()
    }

    pub(crate) fn audit_log(&self) -> Vec<u8> {
        self.audit.log_bytes().unwrap()
    }

    /// The audit log verifies; returns the event names in order.
    pub(crate) fn audit_kinds(&self) -> Vec<String> {
        let log = self.audit_log();
        Verifier::new().verify_bytes(&log).unwrap();
        String::from_utf8(log)
            .unwrap()
            .lines()
            .filter_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).ok()?;
                Some(v.get("kind")?.as_str()?.to_owned())
            })
            .collect()
    }

    pub(crate) fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    /// Redeems an artifact link as `number` would; returns what the item says about itself
    /// and its body.
    pub(crate) async fn redeem_item(&self, url: &str, number: &Msisdn) -> (ItemMeta, Vec<u8>) {
        let (path, fragment) = url.split_once('#').unwrap();
        let token = path.rsplit('/').next().unwrap();
        let key = PayloadKey::from_fragment(fragment).unwrap();
        let ctx = RedeemContext::at(self.clock.now()).recipient(number);
        let got = self.orch.gateway().confirm(token, &ctx).await.unwrap();
        let plain = open_to_vec(
            &key,
            &SealContext::new(&got.link_id, ITEM_CONTENT_TYPE),
            &got.ciphertext,
        )
        .unwrap();
        let (meta, body) = decode_item(&plain).unwrap();
        (meta, body.to_vec())
    }

    /// Redeems a link URL from a message as `number` would; returns the plaintext.
    pub(crate) async fn redeem(&self, url: &str, number: &Msisdn) -> Result<Vec<u8>, RedeemError> {
        let (path, fragment) = url.split_once('#').unwrap();
        let token = path.rsplit('/').next().unwrap();
        let key = PayloadKey::from_fragment(fragment).unwrap();
        let ctx = RedeemContext::at(self.clock.now()).recipient(number);
        let got = self.orch.gateway().confirm(token, &ctx).await?;
        let preview = self.orch.gateway().preview(token, &ctx).await;
        drop(preview);
        Ok(open_to_vec(
            &key,
            &SealContext::new(&got.link_id, "text/plain"),
            &got.ciphertext,
        )
        .unwrap())
    }
}

pub(crate) const CANARY_SECRET: &str = "postgres://app:Canary-Pa55w0rd-Zq9@db-7:5432/app";
pub(crate) const CANARY_NUMBER: &str = "+44 7700 900555";

pub(crate) fn alert(id: &str, severity: Severity) -> Alert {
    Alert {
        id: AlertId::new(id).unwrap(),
        status: AlertStatus::Firing,
        severity,
        title: Redacted::new("title", "HighErrorRate".to_owned()),
        summary: Redacted::new("summary", "checkout 5xx above 5%".to_owned()),
        details: Redacted::new("details", String::new()),
        labels: Default::default(),
        starts_at: Some(T0),
        ends_at: None,
        source_url: None,
        artifacts: Vec::new(),
    }
}

/// An alert carrying the canary credential, the canary number and a log artifact.
pub(crate) fn canary_alert(id: &str) -> Alert {
    let mut a = alert(id, Severity::P1);
    a.details = Redacted::new(
        "details",
        format!("db-7 refuses logins; DATABASE_URL={CANARY_SECRET}; call {CANARY_NUMBER}"),
    );
    a.artifacts.push(Artifact::new(
        "checkout.log",
        "text/plain",
        b"12:00:01 ERROR pool exhausted\n".to_vec(),
    ));
    a
}

pub(crate) fn resolved(mut a: Alert) -> Alert {
    a.status = AlertStatus::Resolved;
    a
}

pub(crate) fn by_name<'a>(deliveries: &'a [Delivery], name: &str) -> &'a Delivery {
    deliveries.iter().find(|d| d.name == name).unwrap()
}
