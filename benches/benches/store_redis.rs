//! Redis store throughput: link consume (one Lua script per call) and capability-cache
//! get/put. Needs `RCSEC_TEST_REDIS_URL`; without it the bench prints why and exits. Every
//! run works under a fresh key prefix, deleted at the end.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "bench setup fails loudly; criterion macros generate undocumented items"
)]

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use rcsec_capability::{Capability, E2ee, Reach, Source};
use rcsec_core::{AlertId, Msisdn, Secret, Timestamp};
use rcsec_link::{BlobId, LinkId, LinkRecord, OsRandom, RecipientPseudonym, TokenStore as _};
use rcsec_store_redis::testing::{URL_VAR, fresh_connection};
use rcsec_store_redis::{NumberKeyer, RedisCapabilityCache, RedisTokenStore};

const T0: Timestamp = Timestamp::from_secs(1_800_000_000);

fn bench(c: &mut Criterion, url: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let conn = fresh_connection(url);

    let links = RedisTokenStore::new(conn.clone());
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
    g.bench_function(BenchmarkId::new("redis", "single_connection"), |b| {
        b.iter(|| rt.block_on(links.consume(&r.link_id, T0)).unwrap());
    });
    g.finish();

    let cache = RedisCapabilityCache::new(conn.clone(), NumberKeyer::new(&Secret::new([5; 32])));
    let to = Msisdn::parse("+447700900123").unwrap();
    let cap = Capability::new(Reach::Rcs, E2ee::Verified, Source::Provider, T0);
    rt.block_on(cache.put(&to, &cap, Duration::from_secs(600)))
        .unwrap();
    let mut g = c.benchmark_group("store_capability_cache");
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("redis", "get_hit"), |b| {
        b.iter(|| rt.block_on(cache.get(&to)).unwrap());
    });
    g.bench_function(BenchmarkId::new("redis", "put"), |b| {
        b.iter(|| {
            rt.block_on(cache.put(&to, &cap, Duration::from_secs(600)))
                .unwrap()
        });
    });
    g.finish();
    drop((links, cache));
    rt.block_on(async { drop(conn) });
}

fn main() {
    let Ok(url) = std::env::var(URL_VAR) else {
        eprintln!("store_redis: skipped, {URL_VAR} is not set");
        return;
    };
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &url);
    c.final_summary();
}
