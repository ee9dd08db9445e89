//! rcsec-audit: appending (chain + Merkle) in memory, verifying, and durable JSONL appends.
//!
//! Goals (issue 7): append >= 1M events/s in memory, verify >= 2M events/s, durable appends in
//! batches of 100 >= 100k events/s (measured with 16 concurrent appenders, `16x100`, whose
//! batches group-commit; `1x100` is one appender alone, bound by one fdatasync per batch). The `sha256_floor` ids hash the same line bytes once with
//! nothing else, the floor any chained log pays; `write_fdatasync_floor` writes and syncs the
//! same bytes per batch with nothing else, the floor any durable log pays on this disk.

#![allow(clippy::unwrap_used, reason = "benches fail loudly")]
#![allow(missing_docs, reason = "criterion macros generate undocumented items")]

use std::hint::black_box;
use std::io::Write as _;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rcsec_audit::{
    AuditKey, ChainState, EventKind, JsonlAuditSink, JsonlOptions, LogWriter, MemoryAuditSink,
    PendingEvent, Pseudonymizer, Verifier,
};
use rcsec_core::{AlertId, Msisdn, Secret, Timestamp};
use sha2::{Digest as _, Sha256};

/// A realistic event: alert, recipient pseudonym, route, provider, message hash (~330 bytes).
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

fn log_of(n: u64) -> Vec<u8> {
    let sink = MemoryAuditSink::new();
    sink.append_now(events(n)).unwrap();
    sink.log_bytes().unwrap()
}

fn append(c: &mut Criterion) {
    const N: u64 = 10_000;
    let mut g = c.benchmark_group("audit_append");
    g.throughput(Throughput::Elements(N));
    let batch = events(N);
    g.bench_function(BenchmarkId::new("log_writer", N), |b| {
        let mut out = Vec::with_capacity(8 << 20);
        b.iter_batched(
            || batch.clone(),
            |batch| {
                let mut writer = LogWriter::new(ChainState::new(), None, None);
                out.clear();
                for pending in batch {
                    black_box(writer.append(pending, &mut out));
                }
                writer.head()
            },
            BatchSize::LargeInput,
        );
    });
    g.bench_function(BenchmarkId::new("memory_sink", N), |b| {
        b.iter_batched(
            || (MemoryAuditSink::new(), batch.clone()),
            |(sink, batch)| sink.append_now(batch).unwrap(),
            BatchSize::LargeInput,
        );
    });
    let log = log_of(N);
    g.bench_function(BenchmarkId::new("sha256_floor", N), |b| {
        b.iter(|| {
            let mut prev = [0u8; 32];
            for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let mut h = Sha256::new();
                h.update(prev);
                h.update(line);
                prev = h.finalize().into();
            }
            prev
        });
    });
    g.finish();
}

fn verify(c: &mut Criterion) {
    const N: u64 = 10_000;
    let mut g = c.benchmark_group("audit_verify");
    g.throughput(Throughput::Elements(N));
    let log = log_of(N);
    g.bench_function(BenchmarkId::new("rcsec", N), |b| {
        b.iter(|| Verifier::new().verify_bytes(black_box(&log)).unwrap());
    });
    g.finish();
}

fn durable(c: &mut Criterion) {
    const BATCH: u64 = 100;
    /// Concurrent appenders sharing the sink: what a busy service looks like, and what group
    /// commit is for.
    const WRITERS: u64 = 16;
    let mut g = c.benchmark_group("audit_jsonl_append");
    g.sample_size(10);
    let dir = tempfile::tempdir().unwrap();
    let sink = JsonlAuditSink::open(dir.path(), JsonlOptions::default()).unwrap();
    let batch = events(BATCH);
    g.throughput(Throughput::Elements(BATCH));
    g.bench_function(BenchmarkId::new("rcsec", "1x100"), |b| {
        b.iter_batched(
            || batch.clone(),
            |batch| sink.append_blocking(batch).unwrap(),
            BatchSize::SmallInput,
        );
    });
    // The floor: the same bytes written and fdatasync'd with nothing else, i.e. the disk.
    let lines = log_of(BATCH);
    let mut file = std::fs::File::create(dir.path().join("floor.jsonl")).unwrap();
    g.bench_function(BenchmarkId::new("write_fdatasync_floor", "1x100"), |b| {
        b.iter(|| {
            file.write_all(&lines).unwrap();
            file.sync_data().unwrap();
        });
    });
    // WRITERS threads each append one batch of 100 per iteration, concurrently; every append
    // returns only once durable. Group commit lets them share fdatasyncs.
    g.throughput(Throughput::Elements(WRITERS * BATCH));
    g.bench_function(
        BenchmarkId::new("rcsec", format!("{WRITERS}x{BATCH}")),
        |b| {
            b.iter_custom(|iters| {
                let start = std::sync::Barrier::new(usize::try_from(WRITERS).unwrap());
                let begun = std::time::Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..WRITERS {
                        s.spawn(|| {
                            start.wait();
                            for _ in 0..iters {
                                sink.append_blocking(batch.clone()).unwrap();
                            }
                        });
                    }
                });
                begun.elapsed()
            });
        },
    );
    g.finish();
}

criterion_group!(benches, append, verify, durable);
criterion_main!(benches);
