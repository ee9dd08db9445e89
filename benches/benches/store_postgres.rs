//! PostgreSQL store throughput: link consume, audit appends (batch 1 and 100), outbox
//! claim + ack. Needs `RCSEC_TEST_POSTGRES_URL`; without it the bench prints why and exits.
//! Every run works in a fresh schema, dropped at the end.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "bench setup fails loudly; criterion macros generate undocumented items"
)]

use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use rcsec::outbox::Outbox as _;
use rcsec::{MessageBody, MessageId, OutboundMessage};
use rcsec_audit::{AuditKey, AuditSink as _, EventKind, PendingEvent, Pseudonymizer};
use rcsec_capability::Route;
use rcsec_core::{AlertId, Msisdn, Redacted, Secret, Timestamp};
use rcsec_link::{BlobId, LinkId, LinkRecord, OsRandom, RecipientPseudonym, TokenStore as _};
use rcsec_store_postgres::testing::{URL_VAR, fresh_database};
use rcsec_store_postgres::{PgAuditSink, PgOutbox, PgTokenStore};

const T0: Timestamp = Timestamp::from_secs(1_800_000_000);

fn events(n: usize) -> Vec<PendingEvent> {
    let p = Pseudonymizer::new(AuditKey::from_bytes(1, &Secret::new([3; 32])));
    let to = Msisdn::parse("+447700900123").unwrap();
    (0..n)
        .map(|i| {
            p.event(EventKind::MessageSent, T0)
                .alert(AlertId::new(format!("alert-{i}")).unwrap())
                .recipient(&to)
                .message(b"disk full on db-1")
                .route("rcs_e2ee")
                .build()
                .unwrap()
        })
        .collect()
}

fn message(n: u64) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::new(format!("bench-{n}")).unwrap(),
        alert: AlertId::new("bench-alert").unwrap(),
        recipient: Msisdn::parse("+447700900123").unwrap(),
        route: Route::SmsLink,
        body: MessageBody::Sms {
            text: Redacted::new("text", format!("P1 alert {n}: https://x.test/l/t")),
        },
        created_at: T0,
        expires_at: T0.saturating_add(Duration::from_secs(3600)),
    }
}

fn bench(c: &mut Criterion, url: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = fresh_database(url);
    rt.block_on(db.migrate()).unwrap();

    // consume: a link with uses to spare, so each iteration is the winning UPDATE … RETURNING.
    let links = PgTokenStore::new(db.clone());
    let mut r = LinkRecord::new(
        LinkId::random(&OsRandom).unwrap(),
        AlertId::new("bench").unwrap(),
        RecipientPseudonym::from_bytes([1; 32]),
        BlobId::random(&OsRandom).unwrap(),
        T0.saturating_add(Duration::from_secs(3600)),
    );
    r.max_uses = u32::MAX;
    rt.block_on(links.insert(r.clone())).unwrap();
    let mut g = c.benchmark_group("store_consume");
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("postgres", "single_connection"), |b| {
        b.iter(|| rt.block_on(links.consume(&r.link_id, T0)).unwrap());
    });
    g.finish();

    let sink = PgAuditSink::new(db.clone());
    let mut g = c.benchmark_group("store_audit_append");
    for batch in [1usize, 100] {
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_with_input(BenchmarkId::new("postgres", batch), &batch, |b, &n| {
            b.iter_batched(
                || events(n),
                |batch| rt.block_on(sink.append(batch)).unwrap(),
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();

    // claim + ack: messages are enqueued outside the timed section.
    let outbox = PgOutbox::new(db.clone());
    let mut next = 0u64;
    let mut g = c.benchmark_group("store_outbox_claim_ack");
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("postgres", "claim1_ack"), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                for _ in 0..iters {
                    outbox.enqueue(&message(next), T0).await.unwrap();
                    next += 1;
                }
                let start = Instant::now();
                for _ in 0..iters {
                    let claim = outbox
                        .claim_due(T0, Duration::from_secs(30), 1)
                        .await
                        .unwrap();
                    let token = claim[0].token();
                    outbox.mark_sent(&token, "bench", "d", T0).await.unwrap();
                }
                start.elapsed()
            })
        });
    });
    g.finish();
    drop((links, sink, outbox));
    rt.block_on(async { drop(db) });
}

fn main() {
    let Ok(url) = std::env::var(URL_VAR) else {
        eprintln!("store_postgres: skipped, {URL_VAR} is not set");
        return;
    };
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &url);
    c.final_summary();
}
