//! The whole pipeline: one alert × 5 recipients through `Orchestrator::handle_alert`
//! (classify, capability from cache, decide, links, HPKE push envelope, outbox, loopback send,
//! audit), with and without a 1 MiB artifact, on memory stores and on SQLite.
//!
//! Throughput is in recipient-deliveries (5 per alert). Every sample builds a fresh pipeline
//! (sharing one compiled classifier) and warms the capability cache, so the figure is the
//! steady state of a running pipeline, not the first-contact capability queries.
//! The five recipients cover the routes: 2 × rcs_e2ee, rcs_plain, sms_link (one link),
//! encrypted_push. With the artifact, each non-SMS recipient also gets a sealed 1 MiB link.
//! `sqlite` runs with the store's default `synchronous = FULL` (one fsync per audit batch and
//! outbox change), so it measures the disk as much as the code; `sqlite_normal` fsyncs only
//! at WAL checkpoints.

#![allow(clippy::unwrap_used, reason = "benches fail loudly")]
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rcsec::audit::{AuditKey, AuditSink, MemoryAuditSink, Pseudonymizer};
use rcsec::capability::{MemoryPinStore, PinStore, Resolver};
use rcsec::core::{AlertId, Clock, ManualClock, Redacted, Secret, Severity, Timestamp};
use rcsec::link::{
    BlobStore, Keyring, KeyringPolicy, MemoryBlobStore, MemoryTokenStore, OsRandom, TokenStore,
};
use rcsec::policy::Classifier;
use rcsec::{
    Alert, AlertStatus, Artifact, MemoryOutbox, Orchestrator, OrchestratorConfig, Outbox,
    RateLimit, Responder, StepJournal,
};
use rcsec_provider_loopback::{LoopbackProvider, Roster};
use rcsec_store_sqlite::{
    Durability, SqliteAuditSink, SqliteBlobStore, SqliteJournal, SqliteOptions, SqlitePinStore,
    SqliteStore, SqliteTokenStore,
};

const T0: Timestamp = Timestamp::from_secs(1_800_000_000);

const ROSTER: &str = r#"
[[recipient]]
name = "a"
number = "+447700900101"
reach = "rcs"
e2ee = "verified"
[[recipient]]
name = "b"
number = "+447700900102"
reach = "rcs"
e2ee = "unverified"
[[recipient]]
name = "c"
number = "+447700900103"
reach = "sms_only"
[[recipient]]
name = "d"
number = "+447700900104"
reach = "rcs"
e2ee = "unverified"
simulated_device = true
[[recipient]]
name = "e"
number = "+447700900105"
reach = "rcs"
e2ee = "verified"
"#;

struct Stores {
    tokens: Arc<dyn TokenStore>,
    blobs: Arc<dyn BlobStore>,
    audit: Arc<dyn AuditSink>,
    pins: Arc<dyn PinStore>,
    outbox: Arc<dyn Outbox>,
    /// Writes each step's audit events and outbox change together (SQLite: one transaction).
    journal: Option<Arc<dyn StepJournal>>,
    _dir: Option<tempfile::TempDir>,
}

fn memory() -> Stores {
    Stores {
        tokens: Arc::new(MemoryTokenStore::new()),
        blobs: Arc::new(MemoryBlobStore::new()),
        audit: Arc::new(MemoryAuditSink::new()),
        pins: Arc::new(MemoryPinStore::new()),
        outbox: Arc::new(MemoryOutbox::new()),
        journal: None,
        _dir: None,
    }
}

fn sqlite() -> Stores {
    on_sqlite(SqliteStore::open_temporary().unwrap(), None)
}

/// `synchronous = NORMAL`: survives a process crash, not a power cut; shows the code's ceiling
/// on SQLite without an fsync per commit.
fn sqlite_normal() -> Stores {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions::default().durability(Durability::Normal);
    let store = SqliteStore::open_with(dir.path().join("rcsec.db"), options).unwrap();
    on_sqlite(store, Some(dir))
}

/// The stores as an application wires them: the audit log and outbox through one
/// [`SqliteJournal`], so each pipeline step is one transaction.
fn on_sqlite(store: SqliteStore, dir: Option<tempfile::TempDir>) -> Stores {
    let journal = Arc::new(SqliteJournal::new(
        SqliteAuditSink::open(store.clone()).unwrap(),
    ));
    Stores {
        tokens: Arc::new(SqliteTokenStore::new(store.clone())),
        blobs: Arc::new(SqliteBlobStore::new(store.clone())),
        audit: journal.audit_sink(),
        pins: Arc::new(SqlitePinStore::new(store, &Secret::new([3; 32]))),
        outbox: journal.outbox(),
        journal: Some(journal),
        _dir: dir,
    }
}

fn pipeline(
    rt: &tokio::runtime::Runtime,
    classifier: &Arc<Classifier>,
    stores: Stores,
) -> (Orchestrator, Vec<Responder>) {
    let clock = ManualClock::new(T0);
    let roster = Roster::from_toml(ROSTER).unwrap();
    let loopback = Arc::new(LoopbackProvider::new(&roster, Arc::new(clock.clone())).unwrap());
    let resolver = Resolver::builder(Arc::new(clock.clone()))
        .provider(loopback.clone(), Duration::from_secs(2))
        .pins(stores.pins)
        .build()
        .unwrap();
    let mut config = OrchestratorConfig::new("https://alerts.example/".parse().unwrap());
    config.rate_limit = RateLimit {
        max: usize::MAX,
        window: Duration::from_secs(1),
    };
    let pseudonymizer = Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([9; 32])));
    let builder = Orchestrator::builder()
        .clock(Arc::new(clock.clone()))
        .classifier(Arc::clone(classifier))
        .resolver(Arc::new(resolver))
        .links(
            Arc::new(Keyring::generate(KeyringPolicy::default(), clock.now(), &OsRandom).unwrap()),
            stores.tokens,
            stores.blobs,
        );
    let builder = match stores.journal {
        Some(journal) => builder.journal(journal, pseudonymizer),
        None => builder
            .audit(stores.audit, pseudonymizer)
            .outbox(stores.outbox),
    };
    let orch = builder
        .provider(loopback.clone())
        .protector(rt.block_on(loopback.team_protector()).unwrap())
        .config(config)
        .build()
        .unwrap();
    let responders = loopback.responders();
    for r in &responders {
        rt.block_on(orch.resolver().resolve(&r.number)).unwrap();
    }
    (orch, responders)
}

fn alert(artifact: Option<&Arc<Vec<u8>>>) -> Alert {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    Alert {
        id: AlertId::new(format!("bench-{n}")).unwrap(),
        status: AlertStatus::Firing,
        severity: Severity::P1,
        title: Redacted::new("title", "HighErrorRate".to_owned()),
        summary: Redacted::new("summary", "checkout 5xx above 5% for 10 minutes".to_owned()),
        details: Redacted::new(
            "details",
            "pods checkout-7f9 and checkout-a21 restarting".into(),
        ),
        labels: Default::default(),
        starts_at: None,
        ends_at: None,
        source_url: None,
        artifacts: artifact
            .map(|a| {
                vec![Artifact::new(
                    "dump.bin",
                    "application/octet-stream",
                    a.to_vec(),
                )]
            })
            .unwrap_or_default(),
    }
}

/// (backend id, store constructor, optional artifact, parameter id)
type BenchCase<'a> = (
    &'static str,
    fn() -> Stores,
    Option<&'a Arc<Vec<u8>>>,
    &'static str,
);

fn handle_alert(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let classifier = Arc::new(Classifier::default());
    let mib = Arc::new(vec![0x5a_u8; 1 << 20]);
    let mut g = c.benchmark_group("pipeline_alert_x5");
    g.throughput(Throughput::Elements(5));
    g.sample_size(10);
    let cases: [BenchCase<'_>; 6] = [
        ("memory", memory, None, "no_artifact"),
        ("memory", memory, Some(&mib), "1MiB_artifact"),
        ("sqlite", sqlite, None, "no_artifact"),
        ("sqlite", sqlite, Some(&mib), "1MiB_artifact"),
        ("sqlite_normal", sqlite_normal, None, "no_artifact"),
        ("sqlite_normal", sqlite_normal, Some(&mib), "1MiB_artifact"),
    ];
    for (backend, stores, artifact, param) in cases {
        g.bench_function(BenchmarkId::new(backend, param), |b| {
            b.iter_custom(|iters| {
                let (orch, responders) = pipeline(&rt, &classifier, stores());
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let a = alert(artifact);
                    let who = responders.clone();
                    let start = Instant::now();
                    let report = rt.block_on(orch.handle_alert(a, who)).unwrap();
                    total += start.elapsed();
                    assert_eq!(report.deliveries.len(), 5);
                }
                total
            });
        });
    }
    g.finish();
}

criterion_group!(benches, handle_alert);
criterion_main!(benches);
