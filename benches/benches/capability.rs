//! Capability resolution: a cache hit (goal < 200 ns), a miss answered by an instant provider
//! (single-flight bookkeeping, breaker, timeout, pin lookup, insert with eviction), and the
//! memory one million cached numbers take.
//!
//! The floors beside our hit: a `Mutex<HashMap<String, Capability>>` lookup, the simplest
//! cache anyone would write (no TTL, no bound, no sharding), and one read of the wall clock,
//! which every TTL check needs (slow on some VMs). `cached_manual_clock` is our hit with a
//! clock that costs one atomic load.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "bench setup fails loudly; criterion macros generate undocumented items"
)]

use std::collections::HashMap;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_trait::async_trait;
use criterion::{BatchSize, BenchmarkId, Criterion};
use rcsec_capability::{
    CacheConfig, Capability, CapabilityCache, CapabilityError, CapabilityProvider, Carrier,
    ClientHints, ClientVersion, E2ee, Overrides, PinState, Reach, Resolution, Resolver, Source,
};
use rcsec_core::{Clock, ManualClock, Msisdn, SystemClock, Timestamp};

const MILLION: u64 = 1_000_000;

/// Answers at once, like a provider with its own in-memory roster.
#[derive(Debug)]
struct Instant;

#[async_trait]
impl CapabilityProvider for Instant {
    fn name(&self) -> &str {
        "instant"
    }

    async fn query(&self, _number: &Msisdn) -> Result<Capability, CapabilityError> {
        // Unverified, so the bench does not grow the in-memory pin store without bound.
        Ok(Capability::new(
            Reach::Rcs,
            E2ee::Unverified,
            Source::Provider,
            SystemClock.now(),
        )
        .with_carrier(Carrier::new("acme")))
    }
}

fn number(i: u64) -> Msisdn {
    Msisdn::parse(&format!("+4915{i:09}")).unwrap()
}

fn resolver(capacity: usize) -> Resolver {
    resolver_with(capacity, Arc::new(SystemClock))
}

fn resolver_with(capacity: usize, clock: Arc<dyn Clock>) -> Resolver {
    let cache = CacheConfig::new(Duration::from_secs(900), Duration::from_secs(60), capacity);
    Resolver::builder(clock)
        .provider(Arc::new(Instant), Duration::from_secs(1))
        .cache(cache.unwrap())
        .build()
        .unwrap()
}

/// Polls a future that is expected to be ready at once (the cache-hit path of `resolve`).
fn poll_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("a cache hit must not wait"),
    }
}

fn hit(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let resolver = resolver(100_000);
    let numbers: Vec<Msisdn> = (0..10_000).map(number).collect();
    for n in &numbers {
        runtime.block_on(resolver.resolve(n)).unwrap();
    }
    let one = &numbers[0];

    let mut group = c.benchmark_group("capability_resolve_hit");
    group.bench_function(BenchmarkId::new("rcsec", "cached"), |b| {
        b.iter(|| resolver.cached(black_box(one)).unwrap())
    });
    group.bench_function(BenchmarkId::new("rcsec", "resolve"), |b| {
        b.iter(|| poll_ready(resolver.resolve(black_box(one))).unwrap())
    });
    let mut i = 0;
    group.bench_function(BenchmarkId::new("rcsec", "resolve_10k_numbers"), |b| {
        b.iter(|| {
            i = (i + 1) % numbers.len();
            poll_ready(resolver.resolve(black_box(&numbers[i]))).unwrap()
        })
    });

    // The same hit with a clock that is one atomic load: what the wall clock costs here.
    let manual = resolver_with(100_000, Arc::new(ManualClock::new(SystemClock.now())));
    runtime.block_on(manual.resolve(one)).unwrap();
    group.bench_function(BenchmarkId::new("rcsec", "cached_manual_clock"), |b| {
        b.iter(|| manual.cached(black_box(one)).unwrap())
    });
    group.bench_function(BenchmarkId::new("floor", "system_clock_now"), |b| {
        b.iter(|| SystemClock.now())
    });

    let floor: Mutex<HashMap<String, Capability>> = Mutex::new(
        numbers
            .iter()
            .map(|n| {
                (
                    n.expose_e164().to_owned(),
                    resolver.cached(n).unwrap().capability().clone(),
                )
            })
            .collect(),
    );
    group.bench_function(BenchmarkId::new("std-mutex-hashmap", "cached"), |b| {
        b.iter(|| {
            let map = floor.lock().unwrap();
            map.get(black_box(one.expose_e164())).cloned().unwrap()
        })
    });
    group.finish();
}

fn miss(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    // A small cache, so every insert also pays for an eviction, as a full cache would.
    let resolver = resolver(4_096);
    let mut next = 0u64;
    let mut group = c.benchmark_group("capability_resolve_miss");
    group.bench_function(BenchmarkId::new("rcsec", "instant_provider"), |b| {
        b.iter_batched(
            || {
                next += 1;
                number(next % (900 * MILLION))
            },
            |n| runtime.block_on(resolver.resolve(&n)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// Resident set size in bytes, from `/proc/self/status` (Linux); 0 elsewhere.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Fills a one-million-entry cache and prints bytes per entry: the layout estimate and the
/// measured RSS growth, bare and with per-entry carrier and client hints.
fn memory_report() {
    let now = SystemClock.now();
    for hints in [false, true] {
        let before = rss_bytes();
        // Shards fill unevenly, so leave headroom for all one million numbers to stay cached.
        let config = CacheConfig::new(Duration::from_secs(900), Duration::from_secs(60), 1_100_000);
        let cache = CapabilityCache::new(config.unwrap());
        for i in 0..MILLION {
            let mut cap = Capability::new(Reach::Rcs, E2ee::Verified, Source::Provider, now);
            if hints {
                let version = ClientVersion::parse("20240311.1").unwrap();
                cap = cap
                    .with_carrier(Carrier::new("acme mobile"))
                    .with_client(ClientHints::client("google-messages").with_version(version));
            }
            let pin = PinState::Pinned(rcsec_capability::Pin {
                pinned_at: Timestamp::from_secs(1),
                source: Source::Provider,
            });
            let resolution = Resolution::new(cap, pin, None, Overrides::default());
            cache.insert(&number(i), resolution, now);
        }
        let after = rss_bytes();
        assert_eq!(cache.len(), 1_000_000, "every number stays cached");
        println!(
            "capability cache, 1M numbers{}: {} entries, layout estimate {} B/entry, \
             RSS delta {:.1} MiB = {} B/entry",
            if hints {
                " (carrier + client hints per entry)"
            } else {
                " (no hints)"
            },
            cache.len(),
            CapabilityCache::estimated_bytes_per_entry(),
            after.saturating_sub(before) as f64 / (1024.0 * 1024.0),
            after.saturating_sub(before) / MILLION,
        );
        black_box(&cache);
    }
}

fn main() {
    memory_report();
    let mut criterion = Criterion::default().configure_from_args();
    hit(&mut criterion);
    miss(&mut criterion);
    criterion.final_summary();
}
