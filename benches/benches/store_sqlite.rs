//! rcsec-store-sqlite: token consume, audit appends (batch 1 and 100) and outbox claim + ack on
//! a WAL database with `synchronous = FULL` (every commit fsynced), the crate's default.
//!
//! Each measured call is a full trait call: async, through the connection pool and
//! `spawn_blocking`, one `BEGIN IMMEDIATE` transaction, one fsync per write commit. The figures
//! are per call (or per event for audit appends), on whatever disk holds the temp directory.

#![allow(clippy::unwrap_used, reason = "benches fail loudly")]
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rcsec::{MessageBody, MessageId, OutboundMessage, Outbox};
use rcsec_audit::{AuditKey, AuditSink, EventKind, PendingEvent, Pseudonymizer};
use rcsec_capability::Route;
use rcsec_core::{AlertId, Msisdn, Redacted, Secret, Timestamp};
use rcsec_link::{BlobId, LinkId, LinkRecord, RecipientPseudonym, TokenStore};
use rcsec_store_sqlite::{SqliteAuditSink, SqliteOutbox, SqliteStore, SqliteTokenStore};

const NOW: Timestamp = Timestamp::from_secs(1_800_000_000);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A unique link or message number across iterations.
fn next() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn record() -> LinkRecord {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&next().to_le_bytes());
    LinkRecord::new(
        LinkId::from_bytes(id),
        AlertId::new("5d41402abc4b2a76").unwrap(),
        RecipientPseudonym::from_bytes([7; 32]),
        BlobId::from_bytes(id),
        NOW.saturating_add(Duration::from_secs(600)),
    )
}

fn consume(c: &mut Criterion) {
    let rt = runtime();
    let store = SqliteStore::open_temporary().unwrap();
    let tokens = SqliteTokenStore::new(store);
    let mut g = c.benchmark_group("store_consume");
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("sqlite", "single_use"), |b| {
        b.iter_batched(
            || {
                let r = record();
                rt.block_on(tokens.insert(r.clone())).unwrap();
                r.link_id
            },
            |link| rt.block_on(tokens.consume(&link, NOW)).unwrap(),
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

fn events(n: u64) -> Vec<PendingEvent> {
    let p = Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([7; 32])));
    let to = Msisdn::parse("+447700900123").unwrap();
    (0..n)
        .map(|i| {
            p.event(
                EventKind::MessageSent,
                Timestamp::from_millis(1_700_000_000_000 + i),
            )
            .alert(AlertId::new("5d41402abc4b2a76").unwrap())
            .recipient(&to)
            .message(&i.to_le_bytes())
            .route("rcs_e2ee")
            .provider("rbm")
            .outcome("sent")
            .build()
            .unwrap()
        })
        .collect()
}

fn audit_append(c: &mut Criterion) {
    let rt = runtime();
    let sink = SqliteAuditSink::open(SqliteStore::open_temporary().unwrap()).unwrap();
    let mut g = c.benchmark_group("store_audit_append");
    for n in [1u64, 100] {
        let batch = events(n);
        g.throughput(Throughput::Elements(n));
        g.bench_function(BenchmarkId::new("sqlite", n), |b| {
            b.iter_batched(
                || batch.clone(),
                |batch| rt.block_on(sink.append(batch)).unwrap(),
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

fn message() -> OutboundMessage {
    OutboundMessage {
        id: MessageId::new(format!("bench-{}", next())).unwrap(),
        alert: AlertId::new("5d41402abc4b2a76").unwrap(),
        recipient: Msisdn::parse("+447700900123").unwrap(),
        route: Route::SmsLink,
        body: MessageBody::Sms {
            text: Redacted::new("text", "P1 alert: https://x.test/l/t".to_owned()),
        },
        created_at: NOW,
        expires_at: NOW.saturating_add(Duration::from_secs(3_600)),
    }
}

fn outbox_claim_ack(c: &mut Criterion) {
    let rt = runtime();
    let outbox = SqliteOutbox::new(SqliteStore::open_temporary().unwrap());
    let mut g = c.benchmark_group("store_outbox_claim_ack");
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("sqlite", "claim_ack"), |b| {
        b.iter_batched(
            || rt.block_on(outbox.enqueue(&message(), NOW)).unwrap(),
            |_| {
                rt.block_on(async {
                    let claims = outbox
                        .claim_due(NOW, Duration::from_secs(30), 1)
                        .await
                        .unwrap();
                    for claim in claims {
                        outbox
                            .mark_sent(&claim.token(), "bench", "d", NOW)
                            .await
                            .unwrap();
                    }
                });
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

criterion_group!(benches, consume, audit_append, outbox_claim_ack);
criterion_main!(benches);
