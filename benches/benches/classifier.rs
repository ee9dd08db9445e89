//! Classifier throughput on ~10 MB of realistic benign logs and on the same kind of logs with
//! 1% of the lines carrying a secret (generated deterministically by
//! `rcsec_policy::synthetic`). One core; `Throughput::Bytes` reports MB/s.
//!
//! The peer, detect-secrets (Python), cannot run inside criterion: write the same file with
//! `RCSEC_BENCH_WRITE=/tmp/classifier-benign.log cargo bench --bench classifier` and time
//! `detect-secrets scan /tmp/classifier-benign.log` against it. Compare CPU time (`time`'s
//! user seconds), not wall time, when the machine is shared: detect-secrets 1.5 took 48.2 s
//! of CPU for the 10.5 MB benign file (0.22 MB/s, and 5,450 findings on text with no secret).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rcsec_policy::Classifier;
use rcsec_policy::synthetic::log;

const SIZE: usize = 10 * 1024 * 1024;

fn classify(c: &mut Criterion) {
    let classifier = Classifier::default();
    let benign = log(SIZE, 1, 0);
    let mixed = log(SIZE, 1, 10);
    if let Some(path) = std::env::var_os("RCSEC_BENCH_WRITE") {
        let _ = std::fs::write(&path, &benign);
        let mut mixed_path = path;
        mixed_path.push(".mixed");
        let _ = std::fs::write(mixed_path, &mixed);
    }
    let mut group = c.benchmark_group("classify");
    group.sample_size(10);
    for (name, text) in [("benign", &benign), ("secrets_1pct", &mixed)] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("rcsec", name), text, |b, text| {
            b.iter(|| black_box(classifier.classify(black_box(text))));
        });
    }
    group.finish();
    // Per line, as the pipeline classifies one alert at a time.
    let lines: Vec<&str> = benign.lines().take(20_000).collect();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    let mut group = c.benchmark_group("classify_lines");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function(BenchmarkId::new("rcsec", "benign_20k_lines"), |b| {
        b.iter(|| {
            for line in &lines {
                black_box(classifier.classify(black_box(line)));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, classify);
criterion_main!(benches);
